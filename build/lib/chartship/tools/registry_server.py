"""The embedded local OCI registry: the Debian ``docker-registry`` binary (CNCF
distribution 2.8) on 127.0.0.1. The only module that runs it.

State lives in one folder (default ``.cache/registry``): ``config.yml``,
``data/``, ``registry.pid`` and ``registry.log``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from chartship.errors import RegistryError

BINARIES = ("docker-registry", "registry")


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    url: str
    answering: bool
    state_dir: Path

    def as_dict(self) -> dict[str, object]:
        return {"running": self.running, "pid": self.pid, "url": self.url, "answering": self.answering,
                "state_dir": str(self.state_dir)}


def binary() -> Path:
    for name in BINARIES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise RegistryError(
        "no local registry binary: install the Debian package docker-registry (apt-get install docker-registry) "
        "or put CNCF distribution's `registry` on PATH"
    )


def answering(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something speaks the registry API (200 or 401 on /v2/) at host:port."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/v2/", timeout=timeout) as resp:
            return int(resp.status) == 200
    except urllib.error.HTTPError as exc:
        return exc.code == 401
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


def _config(state_dir: Path, host: str, port: int, htpasswd: Path | None) -> str:
    lines = [
        "version: 0.1",
        "log:",
        "  level: info",
        "  accesslog:",
        "    disabled: false",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {state_dir / 'data'}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: {host}:{port}",
        f"  secret: {secrets.token_hex(16)}",
    ]
    if htpasswd is not None:
        lines += ["auth:", "  htpasswd:", "    realm: chartship", f"    path: {htpasswd}"]
    return "\n".join(lines) + "\n"


def _pid(state_dir: Path) -> int | None:
    try:
        pid = int((state_dir / "registry.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def start(state_dir: Path, port: int, host: str = "127.0.0.1", htpasswd: Path | None = None,
          wait: float = 15.0) -> Status:
    """Start a registry in the background (idempotent when it already runs)."""
    current = status(state_dir, port, host)
    if current.running and current.answering:
        return current
    if answering(host, port):
        raise RegistryError(
            f"{host}:{port} is already served by another registry process; stop it or use another port in the target url"
        )
    exe = binary()
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "data").mkdir(exist_ok=True)
    config = state_dir / "config.yml"
    config.write_text(_config(state_dir, host, port, htpasswd))
    config.chmod(0o600)
    with (state_dir / "registry.log").open("ab") as log:
        proc = subprocess.Popen(
            [str(exe), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=state_dir,
        )
    (state_dir / "registry.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (state_dir / "registry.log").read_text(errors="replace").strip().splitlines()[-1:]
            raise RegistryError(f"local registry exited at start ({' '.join(tail) or 'no output'}); see {state_dir}/registry.log")
        if answering(host, port):
            return status(state_dir, port, host)
        time.sleep(0.05)
    stop(state_dir)
    raise RegistryError(f"local registry did not answer on {host}:{port} within {wait:.0f}s; see {state_dir}/registry.log")


def stop(state_dir: Path, wait: float = 10.0) -> bool:
    """Stop the registry started from ``state_dir``; False when none was running."""
    pid = _pid(state_dir)
    (state_dir / "registry.pid").unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished == pid:
                return True
        except ChildProcessError:
            pass
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True


def kill(state_dir: Path) -> None:
    """SIGKILL the registry (fault injection in tests)."""
    pid = _pid(state_dir)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def status(state_dir: Path, port: int, host: str = "127.0.0.1") -> Status:
    pid = _pid(state_dir)
    return Status(running=pid is not None, pid=pid, url=f"http://{host}:{port}",
                  answering=answering(host, port) if pid is not None else False, state_dir=state_dir)
