"""Real registry processes for publish tests: docker-registry with htpasswd,
a fault-injecting HTTP proxy in front of it, and temp projects with built packages.
The fixtures that start registries (``registries``, ``auth_registry``) are in tests/plugins/registry.py."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bcrypt

from chartship.tools import registry_server
from tests.helpers import free_port, run_invoke


@dataclass
class Registry:
    host: str
    state: Path
    port: int
    htpasswd: Path | None

    def restart(self) -> None:
        registry_server.stop(self.state)
        registry_server.start(self.state, self.port, htpasswd=self.htpasswd)

    def uploads(self) -> int:
        """Blob upload sessions started, counted from the registry's access log."""
        log = (self.state / "registry.log").read_text(errors="replace")
        return sum(1 for line in log.splitlines() if '"POST /v2/' in line and "/blobs/uploads/" in line)


StartRegistry = Callable[[dict[str, str] | None], Registry]  # the ``registries`` fixture


def start_registry(tmp: Path, users: dict[str, str] | None = None) -> Registry:
    htpasswd = None
    if users:
        htpasswd = tmp / "htpasswd"
        htpasswd.write_text("".join(f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
                                    for u, p in users.items()))
    port = free_port()
    registry_server.start(tmp / "registry", port, htpasswd=htpasswd)
    return Registry(f"127.0.0.1:{port}", tmp / "registry", port, htpasswd)


Fault = Callable[[str, str, int], "int | str | None"]


class FaultProxy:
    """Forwards HTTP to an upstream registry; ``fault(method, path, n)`` may answer a status
    instead, or return "kill" to run ``on_kill`` (e.g. kill the registry) before forwarding."""

    def __init__(self, upstream: str, fault: Fault, on_kill: Callable[[], None] = lambda: None) -> None:
        self.upstream = upstream
        self.fault = fault
        self.on_kill = on_kill
        self.count = 0
        self.log: list[tuple[str, str, int]] = []
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                body = self._body()
                with lock:
                    proxy.count += 1
                    n = proxy.count
                action = proxy.fault(self.command, self.path, n)
                if action == "kill":
                    proxy.on_kill()
                elif isinstance(action, int):
                    proxy.log.append((self.command, self.path, action))
                    self.send_response(action)
                    self.send_header("Content-Length", "0")
                    if action == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                try:
                    conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "transfer-encoding")}
                    headers["Content-Length"] = str(len(body))
                    conn.request(self.command, self.path, body=body if body or self.command in ("PUT", "POST", "PATCH") else None,
                                 headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError:
                    proxy.log.append((self.command, self.path, 502))
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                proxy.log.append((self.command, self.path, resp.status))
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                        self.send_header(k, v.replace(f"http://{proxy.upstream}", f"http://{proxy.host}"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def make_project(tmp: Path, project_root: Path, targets: str, default: str = "local") -> Path:
    root = tmp / "repo"
    root.mkdir()
    shutil.copy2(project_root / "tasks.py", root / "tasks.py")
    shutil.copytree(project_root / "tag-templates", root / "tag-templates")
    (root / "version").write_text("0.1.0\n")
    (root / "invoke.yaml").write_text(f"chartship:\n  default_target: {default}\n  targets:\n{targets}")
    return root


def make_dist(root: Path, helm_bin: Path, chart: str = "demo", version: str = "0.1.0", description: str = "demo") -> Path:
    """Package a `helm create` chart into dist/charts under a non-helm file name, with manifest.json."""
    src = root / "charts" / chart
    if not src.exists():
        src.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(helm_bin), "create", str(src)], check=True, capture_output=True)
    text = (src / "Chart.yaml").read_text().splitlines()
    out = [f"version: {version}" if ln.startswith("version:") else
           f"description: {description}" if ln.startswith("description:") else ln for ln in text]
    (src / "Chart.yaml").write_text("\n".join(out) + "\n")
    dist = root / "dist" / "charts"
    dist.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(helm_bin), "package", str(src), "-d", str(dist)], check=True, capture_output=True)
    file = f"{chart}-release-{version}.tgz"
    (dist / f"{chart}-{version}.tgz").rename(dist / file)
    sha = hashlib.sha256((dist / file).read_bytes()).hexdigest()
    manifest = dist / "manifest.json"
    entries = json.loads(manifest.read_text())["packages"] if manifest.exists() else []
    entries = [e for e in entries if e["chart"] != chart]
    entries.append({"file": file, "chart": chart, "version": version, "tag": version, "kind": "version",
                    "sha256": sha, "path": f"dist/charts/{file}"})
    manifest.write_text(json.dumps({"packages": entries}))
    return dist / file


def invoke(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "AWS_"))}
    base = {"CHARTSHIP_RETRY_BACKOFF": "0.01", "CHARTSHIP_RETRIES": "3"}
    return run_invoke(root, *args, env={**clean, **base, **(env or {})})
