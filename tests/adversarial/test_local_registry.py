"""The local registry is ours or nothing: chartship recognises the registry of its own data folder (a
token in the data folder, carried in every answer); `helm.deploy` to the `local` target refuses a port
held by anything else -- a foreign HTTP server, another checkout's registry -- and pushes nothing
there; `registry.status` says ours, foreign or free; CHARTSHIP_LOCAL_REGISTRY_PORT picks another port."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chartship.tools import registry_server
from tests.adversarial.conftest import invoke, project, refused, tags, tree
from tests.helpers import free_port
from tests.helpers.registry import Registry, start_registry


def _local(port: int) -> str:
    return (f"  default_target: local\n  targets:\n    local:\n      url: oci://127.0.0.1:{port}/charts\n"
            "      plain_http: true\n")


class Impostor:
    """An HTTP server that says yes to everything, like a registry would (200 on /v2/, 202 on uploads)."""

    def __init__(self, port: int) -> None:
        self.requests: list[tuple[str, str]] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                seen.append((self.command, self.path))
                self.send_response(200)
                self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
                self.send_header("Content-Length", "2")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(b"{}")

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def impostor() -> Iterator[tuple[Impostor, int]]:
    port = free_port()
    server = Impostor(port)
    yield server, port
    server.close()


def _status(root: Path, env: dict[str, str] | None = None) -> tuple[str, dict[str, object]]:
    text = invoke(root, "registry.status", env=env)
    data = invoke(root, "registry.status", "--json", env=env)
    assert text.returncode == 0 and data.returncode == 0, text.stderr + data.stderr
    return text.stdout.strip(), json.loads(data.stdout)


@pytest.mark.parametrize("args", [("helm.deploy", "--latest"), ("helm.deploy", "--latest", "--dry-run"), ("registry.up",)])
def test_a_foreign_http_server_on_the_port_is_refused_and_gets_nothing(tmp_path: Path, impostor: tuple[Impostor, int],
                                                                        args: tuple[str, ...]) -> None:
    server, port = impostor
    root = project(tmp_path / "p", _local(port))
    before = tree(root / "charts")
    line = refused(invoke(root, *args), f"port {port} on 127.0.0.1 answers but is not this repository's registry",
                   f"CHARTSHIP_LOCAL_REGISTRY_PORT={port + 1}")
    assert "Traceback" not in line
    assert not [r for r in server.requests if r[0] in ("PUT", "POST", "PATCH")]  # nothing pushed there
    assert tree(root / "charts") == before
    text, data = _status(root)
    assert text == (f"local registry: foreign: port {port} answers but is not this repository's registry; "
                    "choose another port with CHARTSHIP_LOCAL_REGISTRY_PORT")
    assert data["owner"] == "foreign" and data["answering"] is False


def test_a_non_http_program_on_the_port_is_foreign(tmp_path: Path) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        root = project(tmp_path / "p", _local(port))
        assert registry_server.ownership(root / ".cache" / "registry", "127.0.0.1", port, timeout=0.5) == "foreign"


def test_another_checkouts_registry_is_refused(tmp_path: Path) -> None:
    other = start_registry(tmp_path / "other-checkout")  # its own data folder, its own token
    try:
        root = project(tmp_path / "p", _local(other.port))
        refused(invoke(root, "helm.deploy", "--latest"), f"port {other.port} on 127.0.0.1 answers but is not this "
                "repository's registry", "CHARTSHIP_LOCAL_REGISTRY_PORT")
        assert tags(other) == {}  # nothing was pushed into the other checkout's registry
        text, data = _status(root)
        assert text.startswith(f"local registry: foreign: port {other.port}") and data["owner"] == "foreign"
        assert (root / ".cache" / "registry").exists() is False  # and nothing of ours was started or written
    finally:
        registry_server.stop(other.state)


def test_ours_is_recognised_and_reused(tmp_path: Path) -> None:
    port = free_port()
    root = project(tmp_path / "p", _local(port))
    text, data = _status(root)
    assert text == f"local registry: free: nothing listens on port {port} (data folder .cache/registry/data)"
    assert data["owner"] == "free"
    try:
        first = invoke(root, "helm.deploy", "--latest")
        assert first.returncode == 0, first.stderr
        assert "local registry: started" in first.stdout
        text, data = _status(root)
        assert text.startswith(f"local registry: ours, up at http://127.0.0.1:{port} (port {port}, data folder "
                               ".cache/registry/data, pid ")
        assert data["owner"] == "ours" and data["running"] is True
        token = (root / ".cache" / "registry" / "data" / "chartship-registry.token")
        assert token.stat().st_mode & 0o777 == 0o600 and len(token.read_text().strip()) == 32
        pid = data["pid"]
        again = invoke(root, "helm.deploy", "--latest")
        assert again.returncode == 0, again.stderr
        assert "local registry: running" in again.stdout and "up to date" in again.stdout
        assert _status(root)[1]["pid"] == pid  # reused, not restarted
        reg = Registry(f"127.0.0.1:{port}", root / ".cache" / "registry", port, None)
        assert tags(reg) == {"charts/web": ["0.1.0", "latest"]}
    finally:
        registry_server.stop(root / ".cache" / "registry")


def test_the_port_variable_moves_the_local_registry(tmp_path: Path, impostor: tuple[Impostor, int]) -> None:
    server, taken = impostor
    root = project(tmp_path / "p", _local(taken))
    port = free_port()
    env = {"CHARTSHIP_LOCAL_REGISTRY_PORT": str(port)}
    try:
        result = invoke(root, "helm.deploy", "--latest", env=env)
        assert result.returncode == 0, result.stderr
        assert f"deploy 0.1.0 to oci://127.0.0.1:{port}/charts" in result.stdout
        assert server.requests == []  # the configured port was never asked
        text, data = _status(root, env)
        assert text.startswith(f"local registry: ours, up at http://127.0.0.1:{port}") and data["port"] == port
        assert _status(root)[1]["owner"] == "foreign"  # without the variable: the configured port, still foreign
    finally:
        registry_server.stop(root / ".cache" / "registry")
    for bad in ("0", "70000", "abc"):
        refused(invoke(root, "registry.status", env={"CHARTSHIP_LOCAL_REGISTRY_PORT": bad}),
                "CHARTSHIP_LOCAL_REGISTRY_PORT", "expected a port number 1-65535")
