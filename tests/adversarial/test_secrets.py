"""Secrets: never accepted in a URL, never printed in any form, the temporary registry login lives in a
0700 folder that is removed on SIGINT/SIGTERM and, after SIGKILL, at the next start."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.adversarial import faultproxy as fp
from tests.adversarial.conftest import INVOKE, invoke, project, refused, target, tree
from tests.helpers.registry import Registry, make_dist, start_registry

PASSWORD = "Pw-9x"  # short on purpose: every length is redacted
USER = "alice"
PAIR64 = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def _clean(result: subprocess.CompletedProcess[str]) -> None:
    out = result.stdout + result.stderr
    for form in (PASSWORD, PAIR64, base64.b64encode(PASSWORD.encode()).decode()):
        assert form not in out, out


@pytest.mark.parametrize(("args", "env", "needle"), [
    (("helm.push", "--registry", f"oci://{USER}:{PASSWORD}@127.0.0.1:9/charts"), {}, "--registry"),
    (("helm.push",), {"CHARTSHIP_REGISTRY": f"oci://{USER}:{PASSWORD}@127.0.0.1:9/charts"}, "CHARTSHIP_REGISTRY"),
    (("helm.push", "--registry", f"oci://{PASSWORD}@127.0.0.1:9/charts"), {}, "--registry"),
    (("helm.resolve", f"oci://{USER}:{PASSWORD}@127.0.0.1:9/charts/web", "latest"), {}, "the chart reference"),
    (("helm.pull", f"oci://{USER}:{PASSWORD}@127.0.0.1:9/charts/web", "0.1.0"), {}, "the chart reference"),
    (("helm.deploy", "--registry", f"oci://{USER}:{PASSWORD}@127.0.0.1:9/charts"), {}, "--registry"),
])
def test_url_with_user_info_is_refused_and_never_printed(tmp_path: Path, args: tuple[str, ...], env: dict[str, str],
                                                         needle: str) -> None:
    repo = project(tmp_path / "repo")
    before = tree(repo)
    result = invoke(repo, *args, env=env)
    refused(result, needle, "user name or password", "CHARTSHIP_REGISTRY_USERNAME" if "chart reference" not in needle
            else "--target")
    _clean(result)
    assert tree(repo) == before


def test_user_info_in_invoke_yaml_is_refused_and_never_printed(tmp_path: Path) -> None:
    config = f"  default_target: t\n  targets:\n    t:\n      url: oci://{USER}:{PASSWORD}@127.0.0.1:9/charts\n"
    repo = project(tmp_path / "repo", config=config)
    result = invoke(repo, "helm.lint", "--all")
    refused(result, "invoke.yaml:", "chartship.targets.t.url", "user name or password")
    _clean(result)


def test_user_info_in_a_dependency_repository_is_refused(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    chart_yaml = repo / "charts/web/Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text() + f"dependencies:\n  - name: x\n    version: 1.0.0\n"
                          f"    repository: oci://{USER}:{PASSWORD}@127.0.0.1:9/charts\n")
    result = invoke(repo, "helm.lint", "--all")
    refused(result, "charts/web/Chart.yaml: dependencies[0].repository", "user name or password")
    _clean(result)


@pytest.fixture
def auth_reg(tmp_path: Path) -> Iterator[Registry]:
    from chartship.tools import registry_server

    (tmp_path / "areg").mkdir()
    reg = start_registry(tmp_path / "areg", {USER: PASSWORD + "-right"})
    yield reg
    registry_server.stop(reg.state)


def test_wrong_short_password_is_not_printed(tmp_path: Path, auth_reg: Registry, helm_bin: Path) -> None:
    repo = project(tmp_path / "repo", config=target(auth_reg, "basic"))
    make_dist(repo, helm_bin, "web")
    result = invoke(repo, "helm.push", env={"CHARTSHIP_REGISTRY_USERNAME": USER, "CHARTSHIP_REGISTRY_PASSWORD": PASSWORD})
    refused(result, auth_reg.host)
    _clean(result)


class _Echo(BaseHTTPRequestHandler):
    """A hostile registry: answers every request with the Authorization header it received."""

    def _answer(self) -> None:
        body = f"denied; you sent {self.headers.get('Authorization', '')}\n".encode()
        self.send_response(401 if not self.headers.get("Authorization") else 400)
        self.send_header("WWW-Authenticate", 'Basic realm="echo"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_registry_echoing_the_authorization_header_does_not_leak_it(tmp_path: Path, helm_bin: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host = f"127.0.0.1:{server.server_address[1]}"
        config = f"  default_target: t\n  targets:\n    t:\n      url: oci://{host}/charts\n      auth: basic\n" \
                 "      plain_http: true\n"
        repo = project(tmp_path / "repo", config=config)
        make_dist(repo, helm_bin, "web")
        result = invoke(repo, "helm.push", env={"CHARTSHIP_REGISTRY_USERNAME": USER,
                                                "CHARTSHIP_REGISTRY_PASSWORD": PASSWORD})
        refused(result, host)
        _clean(result)
    finally:
        server.shutdown()
        server.server_close()


def _stalled_push(tmp_path: Path, helm_bin: Path, auth_reg: Registry) -> tuple[subprocess.Popen[str], Path, fp.FaultProxy]:
    """helm.push through a proxy that holds the blob upload, with a private TMPDIR to watch."""
    release = threading.Event()

    def hold(seen: fp.Seen) -> fp.Action | None:
        return fp.call(lambda: release.wait(60)) if "/blobs/uploads/" in seen.path else None

    proxy = fp.FaultProxy(auth_reg.host, hold)
    proxy.release = release  # type: ignore[attr-defined]
    repo = project(tmp_path / "repo", config=target(Registry(proxy.host, auth_reg.state, 0, None), "basic"))
    make_dist(repo, helm_bin, "web")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "AWS_"))}
    env.update({"TMPDIR": str(tmp), "CHARTSHIP_REGISTRY_USERNAME": USER, "CHARTSHIP_REGISTRY_PASSWORD": PASSWORD + "-right",
                "CHARTSHIP_RETRIES": "1"})
    proc = subprocess.Popen([INVOKE, "helm.push"], cwd=repo, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    return proc, tmp, proxy


def _login_folder(tmp: Path, proc: subprocess.Popen[str]) -> Path:
    for _ in range(600):
        found = [p for p in tmp.glob("chartship-auth-*") if (p / "config.json").exists()]
        if found:
            return found[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("the push never logged in")


def _children_argv(pid: int) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (OSError, IndexError):
            continue
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_push_removes_the_login(tmp_path: Path, helm_bin: Path, auth_reg: Registry, signum: int) -> None:
    proc, tmp, proxy = _stalled_push(tmp_path, helm_bin, auth_reg)
    try:
        folder = _login_folder(tmp, proc)
        assert folder.stat().st_mode & 0o777 == 0o700
        argv: list[str] = []
        for _ in range(600):  # sample helm's argv while it pushes
            argv = _children_argv(proc.pid)
            if any(" push " in a for a in argv):
                break
            time.sleep(0.1)
        assert any(" push " in a for a in argv) and all(PASSWORD not in a for a in argv), argv
        os.kill(proc.pid, signum)
        proxy.release.set()  # type: ignore[attr-defined]
        out, err = proc.communicate(timeout=120)
    finally:
        proxy.release.set()  # type: ignore[attr-defined]
        if proc.poll() is None:
            proc.kill()
        proxy.close()
    assert proc.returncode != 0
    assert "Traceback" not in out + err
    assert not folder.exists(), "the login folder must be gone"
    assert [ln for ln in err.splitlines() if ln.startswith("error: ")], err
    assert PASSWORD not in out + err
    assert not any(m == "PUT" and "/manifests/" in p for m, p, _s in proxy.log), "no tag was written"


def test_killed_run_leaves_a_login_that_the_next_run_removes(tmp_path: Path, helm_bin: Path, auth_reg: Registry) -> None:
    proc, tmp, proxy = _stalled_push(tmp_path, helm_bin, auth_reg)
    try:
        folder = _login_folder(tmp, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        proxy.release.set()  # type: ignore[attr-defined]
        proxy.close()
    assert folder.exists(), "SIGKILL cannot be caught: the folder is left behind"
    repo = tmp_path / "repo"
    result = invoke(repo, "helm.push", "--registry", "oci://127.0.0.1:9/charts",
                    env={"TMPDIR": str(tmp), "CHARTSHIP_REGISTRY_AUTH": "basic", "CHARTSHIP_REGISTRY_USERNAME": USER,
                         "CHARTSHIP_REGISTRY_PASSWORD": PASSWORD, "CHARTSHIP_PLAIN_HTTP": "1"})
    refused(result, "127.0.0.1:9")
    _clean(result)
    assert not folder.exists(), "the next run removes the stale login"
    assert not list(tmp.glob("chartship-auth-*"))
