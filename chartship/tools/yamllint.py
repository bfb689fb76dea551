"""yamllint over chart YAML files (templates/ and vendored charts/ excluded), in one process.

The repository's ``.yamllint`` / ``.yamllint.yaml`` / ``.yamllint.yml`` is used when
present; otherwise :data:`BUILTIN_CONFIG`. yamllint runs with the working directory at the
repository root and the files named relative to it, as ``yamllint charts/`` run there would: the
config's ``ignore:`` patterns, ``ignore-from-file:`` and per-rule ``ignore:`` paths match as in
yamllint itself, and every problem names the repository path.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chartship import proc
from chartship.errors import ToolError
from chartship.tools.summary import summarise

CONFIG_NAMES = (".yamllint", ".yamllint.yaml", ".yamllint.yml")
BUILTIN_CONFIG = """\
extends: default
rules:
  document-start: disable
  line-length: {max: 160, level: warning}
  comments: {min-spaces-from-content: 1}
  comments-indentation: disable
  truthy: {allowed-values: ["true", "false"], check-keys: false}
  indentation: {spaces: consistent, indent-sequences: whatever}
"""
_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): \[(?P<level>error|warning)\] (?P<msg>.*)$")
SKIP_DIRS = {"templates", "charts"}


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    col: int
    level: str
    message: str


def chart_files(chart_dir: Path) -> list[Path]:
    """YAML files of a chart, outside templates/ and charts/ (vendored subcharts)."""
    found = []
    for p in sorted(chart_dir.rglob("*")):
        rel = p.relative_to(chart_dir).parts
        if p.is_file() and p.suffix in {".yaml", ".yml"} and not (len(rel) > 1 and rel[0] in SKIP_DIRS):
            found.append(p)
    return found


def config_args(root: Path) -> tuple[list[str], str]:
    """yamllint arguments selecting the config, and a description of it."""
    for name in CONFIG_NAMES:
        if (root / name).is_file():
            return ["-c", str(root / name)], name
    return ["-d", BUILTIN_CONFIG], "built-in config"


def _relative(root: Path, path: Path) -> str:
    if not path.is_absolute():
        return path.as_posix()
    if not path.is_relative_to(root):
        raise ValueError(f"{path} is not inside {root}")  # a caller's mistake, not a user's
    return path.relative_to(root).as_posix()


def run(root: Path, files: Sequence[Path]) -> list[Problem]:
    """yamllint (this Python's module, one process) over ``files`` (inside ``root``, absolute or relative to it),
    run in ``root``; problems in file order, each ``file`` relative to ``root``."""
    if not files:
        return []
    args, _desc = config_args(root)
    names = [_relative(root, f) for f in files]
    try:
        result = proc.run([sys.executable, "-m", "yamllint", "-f", "parsable", *args, "--", *names], cwd=root,
                          timeout=600)
    except OSError as exc:
        raise ToolError(f"cannot run yamllint ({exc}); reinstall chartship's requirements") from None
    problems = []
    for line in result.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            problems.append(Problem(Path(m["file"]), int(m["line"]), int(m["col"]), m["level"], m["msg"]))
    if result.returncode not in (0, 1) or (result.returncode == 1 and not problems):
        raise ToolError(f"yamllint failed: {summarise(result.stderr or result.stdout)}; "
                        "check the yamllint config (or `pip install -r requirements.txt`)")
    return problems
