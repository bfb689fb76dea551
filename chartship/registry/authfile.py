"""Private folders for registry login files (helm's ``HELM_REGISTRY_CONFIG``).

A login file holds base64 credentials, so its folder is:

- created 0700 (owner only) in the temp folder, with an ``owner`` file naming this
  process (pid and start time);
- removed when the run ends, also on SIGINT, SIGTERM and SIGHUP (the handlers stop every
  running program (no worker thread starts a new one), remove every live folder, then do what the signal
  did before). A signal this process was started with ignored (``nohup``, a shell's
  background job) stays ignored: no handler, so it neither stops helm nor removes a login;
- removed at the next start when the run that made it was killed (SIGKILL, power
  loss): :func:`remove_stale` deletes folders whose owner process is gone.

Use :func:`private_dir` (a context manager), or :func:`create` and :func:`remove`.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

PREFIX = "chartship-auth-"
OWNER_FILE = "owner"
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_live: set[Path] = set()
_lock = threading.Lock()
_installed = False


def _start_time(pid: int) -> str:
    """The start time of ``pid`` (clock ticks since boot) on Linux; '' elsewhere or when unknown."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat_line.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not started or _start_time(pid) in ("", started)


def base() -> Path:
    return Path(tempfile.gettempdir())


def remove_stale(folder: Path | None = None) -> list[Path]:
    """Remove login folders (ours: this user, our prefix) whose owner process no longer runs."""
    removed = []
    where = folder or base()
    try:
        candidates = [p for p in where.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return []
    for path in candidates:
        try:
            info = path.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                continue
            pid_text, _, started = (path / OWNER_FILE).read_text().strip().partition(" ")
            pid = int(pid_text)
        except (OSError, ValueError):
            continue  # being created right now, or not one of ours
        if pid != os.getpid() and not _alive(pid, started):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _handler(signum: int, frame: FrameType | None, previous: object) -> None:
    with _lock:
        live = list(_live)
        _live.clear()
    from chartship import proc

    proc.stop(signum)  # helm must not go on pushing with the login we remove, nor a new one start
    for path in live:
        shutil.rmtree(path, ignore_errors=True)
    if callable(previous):
        previous(signum, frame)  # SIGINT: KeyboardInterrupt, which the error edge turns into "interrupted"
        return
    sys.stderr.write(f"error: stopped by {signal.Signals(signum).name}; temporary registry logins were removed\n")
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)  # die of the signal, as the process would have without us
    os.kill(os.getpid(), signum)


def protect() -> None:
    """Install the signal handlers (once, from the main thread; elsewhere this does nothing). A signal that
    is ignored stays so: a handler would also give helm the default action (handlers end at exec), and the
    signal would then kill helm while this run, asked to ignore it, went on and reported helm's failure."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        previous = signal.getsignal(signum)
        if previous != signal.SIG_IGN:
            signal.signal(signum, _chained(previous))
    _installed = True


def _chained(previous: object) -> Callable[[int, FrameType | None], None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        _handler(signum, frame, previous)

    return handle


def create() -> Path:
    """A new 0700 folder for one login file; remove it with :func:`remove`."""
    protect()
    remove_stale()
    path = Path(tempfile.mkdtemp(prefix=PREFIX))
    os.chmod(path, 0o700)
    with _lock:
        _live.add(path)
    (path / OWNER_FILE).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
    return path


def remove(path: Path) -> None:
    with _lock:
        _live.discard(path)
    shutil.rmtree(path, ignore_errors=True)


@contextmanager
def private_dir() -> Iterator[Path]:
    path = create()
    try:
        yield path
    finally:
        remove(path)
