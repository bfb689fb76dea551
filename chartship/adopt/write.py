"""Write the files of ``chartship init``: a missing file is written, an identical one left alone,
a different one reported with its difference and kept (``--force`` replaces it)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chartship.version.versionfile import write_atomic

WRITTEN, UNCHANGED, DIFFERS, REPLACED = "written", "unchanged", "exists, differs (kept)", "replaced (--force)"


@dataclass(frozen=True)
class Outcome:
    path: str
    status: str
    diff: str = ""  # unified diff existing -> chartship's, for files that differ

    @property
    def changed(self) -> bool:
        return self.status in (WRITTEN, REPLACED)


def _diff(path: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"{path} (yours)", tofile=f"{path} (chartship init)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def apply(root: Path, files: Mapping[str, str], force: bool = False, dry_run: bool = False) -> list[Outcome]:
    """Compare and (unless ``dry_run``) write every file; the outcomes come in ``files`` order."""
    outcomes = []
    for rel, text in files.items():
        path = root / rel
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        if old == text:
            outcomes.append(Outcome(rel, UNCHANGED))
            continue
        if old is not None and not force:
            outcomes.append(Outcome(rel, DIFFERS, _diff(rel, old, text)))
            continue
        if not dry_run:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
        outcomes.append(Outcome(rel, WRITTEN if old is None else REPLACED))
    return outcomes
