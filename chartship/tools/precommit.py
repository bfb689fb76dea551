"""The only module that runs ``pre-commit`` (installing and running the git hooks).

Which pre-commit: the one next to this Python (it is one of chartship's dependencies, so it is
installed wherever chartship is), else ``pre-commit`` on PATH.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from chartship import proc
from chartship.errors import ToolError
from chartship.tools.summary import summarise

CONFIG_FILE = ".pre-commit-config.yaml"
HOOK_TYPES = ("pre-commit",)


def find() -> Path:
    beside = Path(sys.executable).parent / "pre-commit"
    if beside.is_file():
        return beside
    found = shutil.which("pre-commit")
    if found is None:
        raise ToolError("pre-commit not found beside chartship's Python or on PATH: it comes with chartship; reinstall "
                        "chartship into the environment it runs from (`python -m pip install --force-reinstall chartship`)")
    return Path(found)


def _run(root: Path, args: Sequence[str], timeout: float | None = None) -> proc.Result:
    if not (root / CONFIG_FILE).is_file():
        raise ToolError(f"{CONFIG_FILE}: file not found in {root}; the hooks are declared there")
    exe = find()
    try:
        return proc.run([str(exe), *args], cwd=root, timeout=timeout)
    except OSError as exc:
        raise ToolError(f"{exe}: cannot run pre-commit ({exc.strerror or exc})") from None


def _why(result: proc.Result) -> str:
    """pre-commit's own explanation of a failure, on one line."""
    text = result.stdout + "\n" + result.stderr
    lines = [ln.strip() for ln in text.splitlines()
             if ln.strip().startswith(("[ERROR]", "An error has occurred", "hint:"))]
    return " ".join(lines) if lines else summarise(text)


def install(root: Path, hook_types: Sequence[str] = HOOK_TYPES) -> proc.Result:
    """``pre-commit install`` for each hook type; a failure is a ToolError naming pre-commit's reason."""
    from chartship.tools import git

    if not git.is_work_tree(root):
        raise ToolError(f"{root} is not a git checkout: clone the repository (or `git init`) before installing hooks")
    args = ["install", "--overwrite"]
    for kind in hook_types:
        args += ["--hook-type", kind]
    result = _run(root, args, timeout=300)
    if not result.ok:
        raise ToolError(f"pre-commit install failed: {_why(result)}")
    return result


def run_all(root: Path, hook: str | None = None) -> proc.Result:
    """``pre-commit run --all-files`` (one hook id, or all); the result holds pre-commit's report."""
    args = ["run", "--all-files", "--color", "never"]
    if hook:
        args.insert(1, hook)
    return _run(root, args)
