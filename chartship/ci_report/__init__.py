"""CI-native reports of a check task: JUnit XML (``--junit PATH``), a Markdown summary appended to
``$GITHUB_STEP_SUMMARY`` and ``::error``/``::warning`` annotations when ``GITHUB_ACTIONS=true``.

Tasks turn their results into :class:`Check` rows (one per chart x values set x check) and call
:func:`publish`. Every text goes through :func:`chartship.secrets.redact`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chartship.outcome import FAILED, OK, SKIPPED

FAIL, SKIP = FAILED, SKIPPED  # the one vocabulary of chartship.outcome
__all__ = ["FAIL", "OK", "SKIP", "Check", "publish"]


@dataclass(frozen=True)
class Check:
    group: str  # the chart (a JUnit testsuite)
    name: str  # "values set x check", unique within the group
    status: str  # OK, FAIL or SKIP
    message: str = ""
    file: str = ""  # repository-relative file the finding points at, when known
    line: int = 0
    level: str = "error"  # annotation level of a failure: error or warning


def publish(task: str, checks: Sequence[Check], junit: str = "", root: Path | None = None,
            environ: Mapping[str, str] | None = None, notes: Sequence[str] = ()) -> None:
    """Write the JUnit file (when asked), the step summary and the annotations (when on GitHub)."""
    from chartship.ci_report import github
    from chartship.ci_report import junit as junitmod

    env = os.environ if environ is None else environ
    if junit:
        path = Path(junit)
        junitmod.write(path if path.is_absolute() or root is None else root / path, task, checks)
    github.summary(task, checks, env, notes)
    github.annotate(checks, env)
