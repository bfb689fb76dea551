"""The --junit flag and GitHub reports, shared by the check tasks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chartship.ci_report import Check

JUNIT_HELP = "also write a JUnit XML report to this path (one testcase per chart x values set x check)"


def publish(root: Path, task: str, checks: Sequence[Check], junit: str, notes: Sequence[str] = ()) -> None:
    from chartship import ci_report

    ci_report.publish(task, checks, junit, root, notes=notes)


def rel_of(charts: Sequence[object]) -> dict[str, str]:
    return {getattr(c, "name"): getattr(c, "rel") for c in charts}  # noqa: B009
