"""The embedded local OCI registry: the Debian ``docker-registry`` binary (CNCF
distribution 2.8) on 127.0.0.1. The only module that runs it.

State lives in one folder (default ``.cache/registry``): ``config.yml``,
``data/``, ``registry.pid`` and ``registry.log``.

**Ours or nothing.** The data folder holds a marker, ``data/chartship-registry.token``: a random
token made when the folder is first used (0600). The registry is started with that token in a
response header (``X-Chartship-Registry``, distribution's ``http.headers``), so every answer of ours
carries it -- 401s included. :func:`ownership` connects to the port and compares: the same token is
*ours* (this data folder), anything else that accepts the connection -- another program, another
checkout's registry with its own token -- is *foreign*, a refused connection is *free*. Nothing is
ever started on, or pushed to, a foreign port.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from chartship import proc
from chartship.errors import RegistryError

BINARIES = ("docker-registry", "registry")
TOKEN_FILE = "chartship-registry.token"  # noqa: S105 - a file name, in the data folder
HEADER = "X-Chartship-Registry"
OURS, FOREIGN, FREE = "ours", "foreign", "free"
PORT_ENV = "CHARTSHIP_LOCAL_REGISTRY_PORT"


@dataclass(frozen=True)
class Status:
    running: bool  # our pid file names a live process
    pid: int | None
    url: str
    answering: bool  # the port answers as OUR registry
    state_dir: Path
    owner: str = FREE  # ours | foreign | free: who holds the port
    port: int = 0

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    def as_dict(self) -> dict[str, object]:
        return {"running": self.running, "pid": self.pid, "url": self.url, "answering": self.answering,
                "state_dir": str(self.state_dir), "owner": self.owner, "port": self.port,
                "data_dir": str(self.data_dir)}


class ForeignPort(RegistryError):
    """The port of the embedded registry is held by a program that is not this data folder's registry."""


def foreign_port(state_dir: Path, host: str, port: int) -> ForeignPort:
    return ForeignPort(f"port {port} on {host} answers but is not this repository's registry (data folder "
                       f"{state_dir / 'data'}); stop that program, or choose another port: {PORT_ENV}={port + 1}")


def token(state_dir: Path, create: bool = False) -> str | None:
    """The data folder's ownership token (made when ``create`` and missing); None when there is none."""
    path = state_dir / "data" / TOKEN_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        text = ""
    if text or not create:
        return text or None
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(text + "\n")
    return text


def _held(host: str, port: int, timeout: float) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ownership(state_dir: Path, host: str, port: int, timeout: float = 2.0) -> str:
    """Who holds ``host:port``: OURS (answers with this data folder's token), FOREIGN (anything else that
    accepts a connection), FREE (nothing listens)."""
    if not _held(host, port, timeout):
        return FREE
    mine = token(state_dir)
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/v2/", timeout=timeout) as resp:
            seen = resp.headers.get(HEADER)
    except urllib.error.HTTPError as exc:
        seen = exc.headers.get(HEADER)
    except (urllib.error.URLError, OSError, TimeoutError, ValueError, http.client.HTTPException):
        seen = None
    return OURS if mine is not None and seen == mine else FOREIGN


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


def _config(state_dir: Path, host: str, port: int, htpasswd: Path | None, owner_token: str) -> str:
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
        "  headers:",
        f"    {HEADER}: [{owner_token}]",
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
    """Start this data folder's registry in the background; when it already answers on ``port`` it is
    reused. A port held by anything else raises :class:`ForeignPort` (nothing is started)."""
    current = status(state_dir, port, host)
    if current.owner == OURS:
        return current
    if current.owner == FOREIGN:
        raise foreign_port(state_dir, host, port)
    exe = binary()
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "data").mkdir(exist_ok=True)
    owner_token = token(state_dir, create=True)
    assert owner_token is not None
    config = state_dir / "config.yml"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(_config(state_dir, host, port, htpasswd, owner_token))
    log = state_dir / "registry.log"
    try:
        started = proc.start([str(exe), "serve", str(config)], log, lambda: ownership(state_dir, host, port) == OURS,
                             wait, cwd=state_dir)
    except proc.StartFailed as exc:
        if exc.returncode is None:
            raise RegistryError(f"local registry did not answer on {host}:{port} within {wait:.0f}s; "
                                f"see {state_dir}/registry.log") from None
        tail = log.read_text(errors="replace").strip().splitlines()[-1:]
        raise RegistryError(f"local registry exited at start ({' '.join(tail) or 'no output'}); "
                            f"see {state_dir}/registry.log") from None
    (state_dir / "registry.pid").write_text(f"{started.pid}\n")
    return status(state_dir, port, host)


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
    """The truth about ``host:port``: our registry (this data folder's token), a foreign program, or free."""
    pid = _pid(state_dir)
    owner = ownership(state_dir, host, port)
    return Status(running=pid is not None, pid=pid, url=f"http://{host}:{port}", answering=owner == OURS,
                  state_dir=state_dir, owner=owner, port=port)
