"""The one runner for child processes: argv lists, never a shell.

Modules that own an external program (``helm``, ``git``, ``tools``) call
:func:`run`; tests can swap :data:`runner`. Text passed as ``stdin`` (a secret,
for example) never appears in argv or in the printed command. Every call has a
timeout (:data:`DEFAULT_TIMEOUT` unless given); running over it is a one-line
ToolError naming the program and the limit.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _default_runner(
    argv: Sequence[str], cwd: Path | None, env: Mapping[str, str] | None, stdin: str | None, timeout: float | None
) -> Result:
    full_env = None if env is None else {**os.environ, **env}
    proc = subprocess.run(
        list(argv), cwd=cwd, env=full_env, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


Runner = Callable[[Sequence[str], "Path | None", "Mapping[str, str] | None", "str | None", "float | None"], Result]
runner: Runner = _default_runner
DEFAULT_TIMEOUT = 600.0  # seconds; callers pass their own for longer work (builds, installs)
TIMEOUT_ENV = "CHARTSHIP_TOOL_TIMEOUT"  # seconds; when set, the limit for every call


def _limit(timeout: float | None) -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else 0.0
    except ValueError:
        value = 0.0
    if value > 0:
        return value
    return DEFAULT_TIMEOUT if timeout is None else timeout


def run(
    argv: Sequence[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float | None = None,
) -> Result:
    """Run ``argv``; raises FileNotFoundError when the program does not exist, ToolError on a timeout."""
    limit = _limit(timeout)
    try:
        return runner(argv, cwd, env, stdin, limit)
    except subprocess.TimeoutExpired:
        from chartship.errors import ToolError

        program = Path(argv[0]).name if argv else "?"
        sub = f" {argv[1]}" if len(argv) > 1 and not argv[1].startswith("-") else ""
        raise ToolError(f"`{program}{sub}` did not finish within {limit:g}s and was stopped; check that {program} "
                        "(and the service it talks to) responds, then run again") from None


def first_line(text: str, limit: int = 300) -> str:
    """The last non-empty line of tool output that says what went wrong, shortened."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.lower().startswith("error")]
    line = (errors or lines or [""])[-1]
    return line if len(line) <= limit else line[: limit - 3] + "..."
