"""``patches/<chart>/NNNN-*.patch``: a patch series applied, in name order, to the
temporary copy of a (vendored) chart before it is linted or packaged. The
working tree is never patched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from chartship.errors import ChartError
from chartship.tools import git

PATCHES_DIR = "patches"
_NAME = re.compile(r"^\d{4}-.+\.patch$")
_FILE = re.compile(r"^\+\+\+ (?:b/)?(\S+)")
_OLD_FILE = re.compile(r"^--- (?:a/)?(\S+)")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_FAILED_AT = re.compile(r"patch failed: (.+):(\d+)\s*$")
_MISSING = re.compile(r"error: (.+): (?:No such file or directory|does not exist in index)\s*$")
_CORRUPT = re.compile(r"corrupt patch at line (\d+)")


@dataclass(frozen=True)
class Hunk:
    file: str
    number: int  # 1-based within its file
    old_start: int
    header: str

    def describe(self) -> str:
        return f"hunk {self.number} ({self.header} {self.file})"


def series(root: Path, chart: str) -> list[Path]:
    """The patch files for ``chart``, sorted by name; other files in the folder are an error."""
    folder = root / PATCHES_DIR / chart
    if not folder.is_dir():
        return []
    found = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.name.lower() in {"readme.md", "readme"}:
            continue
        if not p.is_file() or not _NAME.match(p.name):
            raise ChartError(
                f"{PATCHES_DIR}/{chart}/{p.name}: not a patch of the series; name patches NNNN-description.patch "
                "(e.g. 0001-fix-service.patch) or move the file elsewhere"
            )
        found.append(p)
    return found


def hunks(text: str) -> list[Hunk]:
    """The hunks of a unified diff, numbered per file."""
    result: list[Hunk] = []
    current = ""
    count = 0
    old = ""
    for line in text.splitlines():
        if m := _OLD_FILE.match(line):
            old = m[1]
            continue
        if m := _FILE.match(line):
            current = old if m[1] == "/dev/null" else m[1]
            count = 0
            continue
        if m := _HUNK.match(line):
            count += 1
            header = line[: line.index("@@", 2) + 2]
            result.append(Hunk(current, count, int(m[1]), header))
    return result


def _failure(rel: str, text: str, stderr: str) -> str:
    found = hunks(text)
    for line in stderr.splitlines():
        if m := _FAILED_AT.search(line):
            file, start = m[1], int(m[2])
            for h in found:
                if h.file == file and h.old_start == start:
                    return f"{rel}: {h.describe()} does not apply"
            return f"{rel}: the hunk at {file}:{start} does not apply"
        if m := _MISSING.search(line):
            return f"{rel}: {m[1]} does not exist in the chart, so the patch does not apply"
        if m := _CORRUPT.search(line):
            return f"{rel}: not a valid patch (corrupt at line {m[1]}); regenerate it with `git diff` or `diff -u`"
    if not found:
        return f"{rel}: not a valid patch (no hunks found); regenerate it with `git diff` or `diff -u`"
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return f"{rel}: does not apply ({lines[-1] if lines else 'git apply failed'})"


def apply_series(root: Path, chart: str, chart_dir: Path) -> list[str]:
    """Apply the series for ``chart`` to ``chart_dir`` (a temporary copy); returns the applied patch paths."""
    applied = []
    for patch in series(root, chart):
        rel = f"{PATCHES_DIR}/{chart}/{patch.name}"
        text = patch.read_text(encoding="utf-8", errors="replace")
        result = git.apply_patch(chart_dir, patch)
        if not result.ok:
            raise ChartError(_failure(rel, text, result.stderr) + "; fix or regenerate the patch")
        applied.append(rel)
    return applied
