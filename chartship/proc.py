"""The one runner for child processes: argv lists, never a shell.

Modules that own an external program (``helm``, ``git``, ``tools``) call
:func:`run`; tests can swap :data:`runner`. Text passed as ``stdin`` (a secret,
for example) never appears in argv or in the printed command. Every call has a
timeout (:data:`DEFAULT_TIMEOUT` unless given); running over it is a one-line
ToolError naming the program and the limit. A long-running program (the local
registry) is started with :func:`start`: the same argv and environment rules,
and a deadline for it to become ready.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chartship.errors import ToolError


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


_children: set[subprocess.Popen[str]] = set()
_children_lock = threading.Lock()
_stopping: int | None = None  # the signal this run stops for (set by :func:`stop`); no worker starts a program after it


class Interrupted(KeyboardInterrupt):
    """A program was stopped by SIGINT, or the run is stopping for a signal: an interruption (the error edge
    says so), never a tool failure. Not an Exception, so ``except ChartshipError`` fallbacks let it through."""


def stop(signum: int) -> int:
    """The run stops for ``signum`` (its signal handler calls this): every running program gets ``signum``,
    and from now on :func:`run` on a worker thread raises :class:`Interrupted` instead of starting one or
    returning its result (a helm killed by the forwarded signal is an interruption, not a failure, and a worker
    does not go on to the next push). Returns how many were signalled."""
    global _stopping
    with _children_lock:
        _stopping = signum
    return signal_children(signum)


def _stopping_here() -> int | None:
    """The signal the run stops for, seen from a worker thread; None in the main thread, where the signal's
    KeyboardInterrupt already unwinds and the clean-up it runs (``finally``) may still need programs."""
    return None if threading.current_thread() is threading.main_thread() else _stopping


def _check_stopping() -> None:
    signum = _stopping_here()
    if signum is not None:
        raise Interrupted(f"stopped by {signal.Signals(signum).name}")


def signal_children(signum: int, only: Callable[[Sequence[str]], bool] | None = None) -> int:
    """Pass ``signum`` on to every program :func:`run` is waiting for (a signal handler calls this, so that
    an interrupted run does not leave, say, a helm push going on without it); with ``only``, just to those
    whose argv it accepts. Returns how many were signalled."""
    with _children_lock:
        live = [c for c in _children
                if only is None or (isinstance(c.args, list) and only(tuple(str(a) for a in c.args)))]
    for child in live:
        with contextlib.suppress(OSError):  # it ended meanwhile
            child.send_signal(signum)
    return len(live)


def _default_runner(
    argv: Sequence[str], cwd: Path | None, env: Mapping[str, str] | None, stdin: str | None, timeout: float | None
) -> Result:
    full_env = None if env is None else {**os.environ, **env}
    child = subprocess.Popen(  # an argv list, never a shell
        list(argv), cwd=cwd, env=full_env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    with _children_lock:
        _children.add(child)
        late = _stopping_here()  # stop() ran between Popen and here: it could not signal this one
    if late is not None:
        with contextlib.suppress(OSError):
            child.send_signal(late)
    try:
        out, err = child.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    finally:
        with _children_lock:
            _children.discard(child)
    proc = subprocess.CompletedProcess(child.args, child.returncode, out, err)
    return Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


class Timeout(ToolError):
    """A program ran over its time limit (and was stopped)."""


TimeoutExpired = Timeout  # what :func:`run` raises when ``timeout`` passes

Runner = Callable[[Sequence[str], "Path | None", "Mapping[str, str] | None", "str | None", "float | None"], Result]
runner: Runner = _default_runner
DEFAULT_TIMEOUT = 600.0  # seconds; callers pass their own for longer work (builds, installs)
TIMEOUT_ENV = "CHARTSHIP_TOOL_TIMEOUT"  # seconds; when set, the limit for every call


def effective_timeout(timeout: float | None) -> float:
    """The limit a call with ``timeout`` really gets (CHARTSHIP_TOOL_TIMEOUT caps every call)."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else 0.0
    except ValueError:
        value = 0.0
    given = DEFAULT_TIMEOUT if timeout is None else timeout
    return min(value, given) if value > 0 else given


def run(
    argv: Sequence[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float | None = None,
) -> Result:
    """Run ``argv``; raises FileNotFoundError when the program does not exist, ToolError on a timeout,
    :class:`Interrupted` when the run is stopping for a signal or the program died of SIGINT."""
    limit = effective_timeout(timeout)
    _check_stopping()
    try:
        result = runner(argv, cwd, env, stdin, limit)
    except subprocess.TimeoutExpired:
        program = Path(argv[0]).name if argv else "?"
        sub = f" {argv[1]}" if len(argv) > 1 and not argv[1].startswith("-") else ""
        raise Timeout(f"`{program}{sub}` did not finish within {limit:g}s and was stopped; check that {program} "
                        "(and the service it talks to) responds, then run again") from None
    _check_stopping()
    if result.returncode == -signal.SIGINT:  # Ctrl-C reached it (the terminal signals the whole group)
        raise Interrupted(f"{Path(argv[0]).name if argv else '?'} was interrupted")
    return result


@dataclass(frozen=True)
class Started:
    """A long-running child started by :func:`start`; it runs in its own session and outlives this process."""

    argv: tuple[str, ...]
    pid: int
    _popen: subprocess.Popen[bytes]

    def exit_code(self) -> int | None:
        """None while it runs."""
        return self._popen.poll()


class StartFailed(Exception):
    """The program exited before it was ready (``returncode``) or was not ready in time (``returncode`` None;
    it was stopped)."""

    def __init__(self, argv: Sequence[str], returncode: int | None) -> None:
        self.returncode = returncode
        super().__init__(f"{argv[0]} exited with {returncode}" if returncode is not None else f"{argv[0]} not ready in time")


def start(
    argv: Sequence[str],
    log: Path,
    ready: Callable[[], bool],
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Started:
    """Start ``argv`` in the background (its own session, stdin closed, stdout and stderr appended to
    ``log``) and wait until ``ready()`` is true. Raises FileNotFoundError when the program does not exist,
    :class:`StartFailed` when it exits first or is not ready within ``timeout`` seconds (then it is stopped)."""
    full_env = None if env is None else {**os.environ, **env}
    with log.open("ab") as out:
        child = subprocess.Popen(  # an argv list, never a shell
            list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, env=full_env,
            start_new_session=True,
        )
    started = Started(tuple(argv), child.pid, child)
    deadline = time.monotonic() + timeout
    while True:
        code = child.poll()
        if code is not None:
            raise StartFailed(argv, code)
        if ready():
            return started
        if time.monotonic() >= deadline:
            child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            raise StartFailed(argv, None)
        time.sleep(0.05)

