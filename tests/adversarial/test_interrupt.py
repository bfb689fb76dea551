"""Interruption and a full disk during ``helm.deploy --latest`` against a real registry with htpasswd auth.

SIGINT, SIGTERM and SIGKILL at three points: while helm packages (a helm shim holds ``helm package``),
while helm pushes (the fault proxy holds the blob upload) and between the version tag and ``latest`` (the
proxy holds the lookup of ``latest``). After each: exit != 0 (one ``error:`` line, no traceback, for the
signals chartship can handle), the registry holds nothing new or a complete version (never ``latest``
without its version), no login folder is left (a SIGKILL leaves one; the next run removes it), and
dist/charts is absent or whole. The full disk is a real 64 KiB tmpfs mounted on dist/ in a private mount
namespace (``unshare -rm``); where the machine does not allow that, the case is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chartship.registry import oci
from chartship.tools import registry_server
from tests.adversarial import faultproxy as fp
from tests.adversarial.conftest import INVOKE, project
from tests.helpers.registry import Registry, start_registry

USER, PASSWORD = "alice", "Interrupt-Pw-1"
AUTH = {"CHARTSHIP_REGISTRY_USERNAME": USER, "CHARTSHIP_REGISTRY_PASSWORD": PASSWORD}
POINTS = ("package", "push", "before-latest")
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


def _target(host: str) -> str:
    return (f"  default_target: test\n  targets:\n    test:\n      url: oci://{host}/charts\n      auth: basic\n"
            "      plain_http: true\n")


@pytest.fixture
def auth_registry(tmp_path: Path) -> Iterator[Registry]:
    (tmp_path / "reg").mkdir()
    reg = start_registry(tmp_path / "reg", {USER: PASSWORD})
    yield reg
    registry_server.stop(reg.state)


@dataclass
class Run:
    root: Path
    tmp: Path  # the run's TMPDIR: login folders live here
    mark: Path  # written when the run reached the point
    release: threading.Event = field(default_factory=threading.Event)
    held_pids: list[int] = field(default_factory=list)


def _shim(tmp_path: Path, mark: Path) -> Path:
    """A HELM_BIN that marks the start of ``helm package`` (with its pid) and then waits before packaging."""
    real = os.environ.get("HELM_BIN") or str(Path(__file__).resolve().parents[2] / ".tools" / "bin" / "helm")
    shim = tmp_path / "helm-shim"
    shim.write_text(f'#!/bin/sh\nif [ "$1" = "package" ]; then echo $$ > {mark}\n'
                    f'  for i in $(seq 300); do sleep 0.1; done\nfi\nexec {real} "$@"\n')
    shim.chmod(0o755)
    return shim


@contextlib.contextmanager
def _sigint(disposition: object) -> Iterator[None]:
    """Children started in the block inherit SIGINT ignored (``SIG_IGN``) or at its default (any handler: a
    handled signal is reset at exec), whatever pytest has (a shell's background job starts it with SIGINT ignored)."""
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.SIG_IGN if disposition == signal.SIG_IGN else signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _start(tmp_path: Path, reg: Registry, point: str, sigint: object = signal.SIG_DFL, group: bool = False,
           ) -> tuple[subprocess.Popen[str], Run, fp.FaultProxy]:
    run = Run(project(tmp_path / "p", ""), tmp_path / "tmp", tmp_path / "reached")
    run.tmp.mkdir()

    def hold(seen: fp.Seen) -> fp.Action | None:
        wanted = {"push": ("PUT", "/blobs/uploads/"), "before-latest": ("GET", "/manifests/latest")}.get(point)
        if wanted and seen.method == wanted[0] and wanted[1] in seen.path and not run.release.is_set():
            run.mark.write_text("proxy\n")
            return fp.call(lambda: run.release.wait(60))
        return None

    proxy = fp.FaultProxy(reg.host, hold)
    (run.root / "invoke.yaml").write_text("chartship:\n  base_branch: main\n" + _target(proxy.host))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "GITHUB_", "AWS_"))}
    env.update({**AUTH, "TMPDIR": str(run.tmp), "CHARTSHIP_RETRIES": "1"})
    if point == "package":  # the helm CLI packages (the batch helper would not run the shim)
        env.update({"HELM_BIN": str(_shim(tmp_path, run.mark)), "CHARTSHIP_HELM_BATCH": "0"})
    with _sigint(sigint):
        child = subprocess.Popen([INVOKE, "helm.deploy", "--latest"], cwd=run.root, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=group)
    for _ in range(1200):
        if run.mark.exists() and run.mark.read_text().strip():
            break
        if child.poll() is not None:
            pytest.fail("the deploy ended before the point: " + "".join(child.communicate()))
        time.sleep(0.1)
    else:
        child.kill()
        pytest.fail(f"the deploy never reached {point}")
    if point == "package":
        run.held_pids.append(int(run.mark.read_text().strip()))
    return child, run, proxy


def _logins(run: Run) -> list[Path]:
    return sorted(run.tmp.glob("chartship-auth-*"))


def _dist_whole(root: Path) -> None:
    """dist/charts is absent, or every package manifest.json lists is there with its sha256 (and SHA256SUMS agrees)."""
    dist = root / "dist" / "charts"
    if not dist.exists():
        return
    manifest = json.loads((dist / "manifest.json").read_text())
    sums = (dist / "SHA256SUMS").read_text()
    for entry in manifest["packages"]:
        digest = hashlib.sha256((dist / entry["file"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"] and f"{digest}  {entry['file']}" in sums


def tags(reg: Registry) -> dict[str, list[str]]:
    """The tags of charts/web (the only chart), through the registry's API with the login."""
    found = oci.Client(reg.host, plain_http=True, username=USER, password=PASSWORD).tags("charts/web")
    return {"charts/web": sorted(found)} if found else {}


def _registry_whole(reg: Registry) -> None:
    """Nothing new, or a complete 0.1.0 (manifest and blobs readable); latest only with its version, same digest."""
    found = tags(reg)
    if not found:
        return
    assert set(found) == {"charts/web"}, found
    assert "0.1.0" in found["charts/web"], found  # never latest without its version
    client = oci.Client(reg.host, plain_http=True, username=USER, password=PASSWORD)
    version = client.manifest("charts/web", "0.1.0")
    assert version is not None and version.config_digest is not None
    client.blob("charts/web", version.config_digest)  # raises unless complete
    if "latest" in found["charts/web"]:
        latest = client.manifest("charts/web", "latest")
        assert latest is not None and latest.digest == version.digest


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("name", list(SIGNALS))
def test_a_signal_leaves_no_half_release_and_no_login(tmp_path: Path, auth_registry: Registry, point: str,
                                                     name: str) -> None:
    child, run, proxy = _start(tmp_path, auth_registry, point)
    try:
        child.send_signal(SIGNALS[name])
        out, err = child.communicate(timeout=120)
    finally:
        run.release.set()
        proxy.close()
        for pid in run.held_pids:  # the shim's sh (ours), if it still waits
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert child.returncode != 0, out + err
    assert "Traceback" not in out + err and PASSWORD not in out + err
    if name != "SIGKILL":
        errors = [ln for ln in err.splitlines() if ln.startswith("error: ")]
        assert len(errors) == 1, err
        assert errors[0] in ("error: interrupted", f"error: stopped by {name}; temporary registry logins were removed")
    _registry_whole(auth_registry)
    _dist_whole(run.root)
    left = _logins(run)
    if name != "SIGKILL" or point == "package":  # before the push there is no login yet
        assert left == [], left
        return
    assert len(left) == 1 and (left[0] / "config.json").exists()  # SIGKILL: nothing could remove it ...
    (run.root / "invoke.yaml").write_text("chartship:\n  base_branch: main\n" + _target(auth_registry.host))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "GITHUB_", "AWS_"))}
    again = subprocess.run([INVOKE, "helm.deploy", "--latest"], cwd=run.root, capture_output=True, text=True,
                           env={**env, **AUTH, "TMPDIR": str(run.tmp)}, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    assert not left[0].exists() and _logins(run) == []  # ... the next start removed it
    assert tags(auth_registry) == {"charts/web": ["0.1.0", "latest"]}
    _registry_whole(auth_registry)


@pytest.mark.parametrize("point", ["package", "push"])
def test_ctrl_c_to_the_whole_process_group_is_one_interrupted_line(tmp_path: Path, auth_registry: Registry,
                                                                  point: str) -> None:
    """A terminal's Ctrl-C reaches helm (or the helm shim) itself as well as chartship: helm dying of SIGINT
    is an interruption, never "helm failed"."""
    child, run, proxy = _start(tmp_path, auth_registry, point, group=True)
    try:
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        run.release.set()
        proxy.close()
        for pid in run.held_pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert child.returncode != 0, out + err
    assert "Traceback" not in out + err
    errors = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert errors in (["error: interrupted"], ["error: stopped by SIGINT; temporary registry logins were removed"]), err
    _registry_whole(auth_registry)
    _dist_whole(run.root)
    assert _logins(run) == []


def test_a_run_started_with_sigint_ignored_ignores_it(tmp_path: Path, auth_registry: Registry) -> None:
    """Started with SIGINT ignored (nohup-like, a shell's background job), a SIGINT during the push neither stops
    helm nor removes the login: the deploy finishes, whole."""
    child, run, proxy = _start(tmp_path, auth_registry, "push", sigint=signal.SIG_IGN)
    try:
        child.send_signal(signal.SIGINT)
        time.sleep(0.5)  # let a handler, if there were one, act before the push goes on (not a timed assertion)
        run.release.set()
        out, err = child.communicate(timeout=300)
    finally:
        run.release.set()
        proxy.close()
    assert child.returncode == 0, out + err
    assert [ln for ln in err.splitlines() if ln.startswith("error: ")] == []
    assert tags(auth_registry) == {"charts/web": ["0.1.0", "latest"]}
    _registry_whole(auth_registry)
    _dist_whole(run.root)
    assert _logins(run) == []


def _unshare() -> str | None:
    """None when a private mount namespace with a tmpfs works here, else why not."""
    exe = shutil.which("unshare")
    if exe is None:
        return "no unshare(1) on this machine"
    probe = subprocess.run([exe, "-rm", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt && echo ok"],
                           capture_output=True, text=True, check=False)
    return None if probe.stdout.strip() == "ok" else f"cannot mount a tmpfs in a user namespace: {probe.stderr.strip()}"


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path: Path, auth_registry: Registry) -> None:
    why = _unshare()
    if why is not None:
        pytest.skip(why)
    root = project(tmp_path / "p", _target(auth_registry.host))
    (root / "dist").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    script = (f'mount -t tmpfs -o size=64k none {root}/dist && head -c 1048576 /dev/zero > {root}/dist/filler; '
              f'{INVOKE} helm.deploy --latest > {out}/stdout 2> {out}/stderr; echo $? > {out}/rc; '
              f'rm -f {root}/dist/filler; find {root}/dist -mindepth 1 > {out}/left')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "GITHUB_", "AWS_"))}
    subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=root, env={**env, **AUTH}, timeout=300, check=True)
    stdout, stderr = (out / "stdout").read_text(), (out / "stderr").read_text()
    assert int((out / "rc").read_text()) != 0, stdout + stderr
    assert "Traceback" not in stdout + stderr
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and "no space left on device" in errors[0].lower() and f"{root}/dist" in errors[0], stderr
    assert (out / "left").read_text() == ""  # dist/ as it was: empty, no staging folder, no half package
    assert tags(auth_registry) == {}  # nothing was pushed


STOP_SCRIPT = """
import signal, sys, threading, time
from chartship import proc
seen = []
def work():
    for argv in (["sleep", "60"], ["true"]):
        try:
            proc.run(argv, timeout=120)
            seen.append("ran")
        except proc.Interrupted:
            seen.append("interrupted")
worker = threading.Thread(target=work)
worker.start()
while proc.signal_children(0) == 0:  # signal 0: is the sleep running yet
    time.sleep(0.01)
proc.stop(signal.SIGTERM)
worker.join(30)
seen.append("main ran" if proc.run(["true"], timeout=30).ok else "main failed")
print(" ".join(seen))
"""


def test_after_a_stop_a_worker_is_interrupted_and_starts_nothing_but_clean_up_runs(tmp_path: Path) -> None:
    """proc.stop (what the signal handler calls): the program a worker waits for is signalled and ends as an
    interruption (not "sleep failed"), the worker's next program is not started, the main thread's still runs."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", STOP_SCRIPT], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)}, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["interrupted", "interrupted", "main", "ran"], done.stdout + done.stderr
