"""tools.install against real HTTP and a real pip, served from 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from chartship.errors import ToolError
from chartship.tools import install

BINARIES = {
    "helm3": b"#!/bin/sh\necho v3.99.1\n",
    "helm4": b"#!/bin/sh\necho v4.99.1\n",
    "kubectl": b"#!/bin/sh\necho kubectl\n",
}


class Files:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}


@pytest.fixture
def server() -> Iterator[tuple[str, Files]]:
    files = Files()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            files.hits[path] = files.hits.get(path, 0) + 1
            body = files.files.get(path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "text/html" if path.endswith("/") else "application/octet-stream")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    httpd.shutdown()
    httpd.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tarball(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def layer_wheel() -> bytes:
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as z:
        z.writestr("helm/helm", BINARIES["helm4"])
        z.writestr("helm3/helm", BINARIES["helm3"])
        z.writestr("kubectl/kubectl", BINARIES["kubectl"])
    jsii = tarball("package/lib/layer.zip", layer.getvalue())
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("fake_layer/_jsii/fake-layer@1.0.0.jsii.tgz", jsii)
        z.writestr("fake_layer-1.0.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: fake-layer\nVersion: 1.0.0\n")
        z.writestr("fake_layer-1.0.0.dist-info/WHEEL",
                   "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("fake_layer-1.0.0.dist-info/RECORD", "")
    return wheel.getvalue()


def make_root(tmp_path: Path, wheel_sha: str, corrupt: str | None = None) -> Path:
    root = tmp_path / "repo"
    root.mkdir(parents=True)
    lines = []
    for name, data in BINARIES.items():
        digest = "0" * 64 if name == corrupt else sha(data)
        member = "" if name == "kubectl" else "linux-amd64/helm"
        wheel_member = {"helm3": "helm3/helm", "helm4": "helm/helm", "kubectl": "kubectl/kubectl"}[name]
        lines += [f"[{name}]", 'version = "9.9.9"', f'sha256 = "{digest}"',
                  f'url = "https://downloads.example.invalid/{name}.bin"', f'member = "{member}"',
                  'wheel = "fake-layer==1.0.0"', f'wheel_sha256 = "{wheel_sha}"', f'wheel_member = "{wheel_member}"', ""]
    (root / "tools.lock.toml").write_text("\n".join(lines))
    return root


def run_install(root: Path, *args: Any, **kwargs: Any) -> list[install.Installed]:
    """install.install with the test lock ``make_root`` wrote instead of chartship's own."""
    return install.install(root, *args, lock=root / "tools.lock.toml", **kwargs)


def publish(files: Files) -> str:
    for name, data in BINARIES.items():
        files.files[f"/downloads.example.invalid/{name}.bin"] = data if name == "kubectl" else tarball(
            "linux-amd64/helm", data)
    wheel = layer_wheel()
    files.files["/files/fake_layer-1.0.0-py3-none-any.whl"] = wheel
    files.files["/simple/fake-layer/"] = (
        f'<html><body><a href="/files/fake_layer-1.0.0-py3-none-any.whl#sha256={sha(wheel)}">'
        "fake_layer-1.0.0-py3-none-any.whl</a></body></html>").encode()
    return sha(wheel)


@pytest.fixture
def pip_index(monkeypatch: pytest.MonkeyPatch, server: tuple[str, Files]) -> str:
    url, _files = server
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", f"{url}/simple/")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    return url


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_official_download_then_up_to_date_then_cache(tmp_path: Path, server: tuple[str, Files]) -> None:
    url, files = server
    root = make_root(tmp_path, publish(files))
    env = {"CHARTSHIP_CACHE_DIR": str(tmp_path / "cache"), "CHARTSHIP_TOOLS_MIRROR": url}
    first = run_install(root, "official", environ=env)
    assert [(i.name, i.how) for i in first] == [("helm3", "official"), ("helm4", "official"), ("kubectl", "official")]
    bindir = root / ".tools" / "bin"
    for name, data in BINARIES.items():
        assert (bindir / name).read_bytes() == data
        assert os.access(bindir / name, os.X_OK)
    assert os.readlink(bindir / "helm") == "helm4"
    assert {i.how for i in run_install(root, "official", environ=env)} == {"up to date"}
    other = make_root(tmp_path / "clone2", sha(layer_wheel()))
    hits = sum(files.hits.values())
    assert {i.how for i in run_install(other, "official", environ=env)} == {"cache"}
    assert sum(files.hits.values()) == hits  # the second clone did not touch the network


def test_auto_falls_back_to_pypi_wheel(tmp_path: Path, server: tuple[str, Files], pip_index: str) -> None:
    _url, files = server
    root = make_root(tmp_path, publish(files))
    notes: list[str] = []
    env = {"CHARTSHIP_CACHE_DIR": str(tmp_path / "cache"), "CHARTSHIP_TOOLS_MIRROR": f"http://127.0.0.1:{closed_port()}"}
    done = run_install(root, "auto", environ=env, log=notes.append)
    assert {i.how for i in done} == {"pypi"}
    assert any("unreachable" in n for n in notes)
    for name, data in BINARIES.items():
        assert (root / ".tools" / "bin" / name).read_bytes() == data
    assert files.hits["/files/fake_layer-1.0.0-py3-none-any.whl"] == 1  # one wheel serves all three tools


def test_official_only_fails_clearly_when_unreachable(tmp_path: Path) -> None:
    root = make_root(tmp_path, "0" * 64)
    env = {"CHARTSHIP_CACHE_DIR": str(tmp_path / "cache"), "CHARTSHIP_TOOLS_MIRROR": f"http://127.0.0.1:{closed_port()}"}
    with pytest.raises(ToolError, match="helm3: official download failed .* try --source pypi"):
        run_install(root, "official", environ=env)


def test_checksum_mismatch_installs_nothing(tmp_path: Path, server: tuple[str, Files]) -> None:
    url, files = server
    root = make_root(tmp_path, publish(files), corrupt="helm4")
    env = {"CHARTSHIP_CACHE_DIR": str(tmp_path / "cache"), "CHARTSHIP_TOOLS_MIRROR": url}
    with pytest.raises(ToolError, match="helm4: binary from .* has sha256 .* says 0000"):
        run_install(root, "official", names=["helm4"], environ=env)
    assert not (root / ".tools" / "bin" / "helm4").exists()
    assert not list((tmp_path / "cache").rglob("helm4"))


def test_wheel_checksum_mismatch_is_refused(tmp_path: Path, server: tuple[str, Files], pip_index: str) -> None:
    _url, files = server
    publish(files)
    root = make_root(tmp_path, "f" * 64)
    with pytest.raises(ToolError, match="fake-layer==1.0.0 has sha256 .* the lock says ffff"):
        run_install(root, "pypi", names=["helm3"], environ={"CHARTSHIP_CACHE_DIR": str(tmp_path / "cache")})
    assert not (root / ".tools" / "bin" / "helm3").exists()


@pytest.mark.needs_helm  # .tools/bin/helm3 and helm4 themselves
def test_real_lock_matches_installed_tools(project_root: Path) -> None:
    """The project's own .tools/bin holds exactly the binaries the lock pins."""
    pins = install.read_lock()
    for name, pin in pins.items():
        assert install.sha256_file(project_root / ".tools" / "bin" / name) == pin.sha256, name


@pytest.mark.needs_helm  # runs .tools/bin/helm*
def test_doctor_reports_pinned_versions(project_root: Path) -> None:
    proc = subprocess.run([str(Path(sys.executable).parent / "invoke"), "tools.doctor", "--json"], cwd=project_root,
                          capture_output=True, text=True, check=False, env={**os.environ, "HELM_BIN": ""})
    assert proc.returncode == 0, proc.stderr
    rows = {r["tool"]: r for r in json.loads(proc.stdout)}
    assert rows["helm"]["status"] == "ok" and rows["helm"]["source"] == ".tools/bin"
    assert rows["helm3"]["version"] == "v3.17.2" and rows["helm4"]["version"] == "v4.3.1"
    assert rows["kubectl"]["version"] == "1.37.1"
    from chartship.cluster import providers

    built = providers.why_unusable(project_root, "kwok") is None
    assert rows["kwok cluster"]["status"] == ("ok" if built else "missing")
    assert ("kubernetes 1.36.3" in str(rows["kwok cluster"]["version"])) is built
