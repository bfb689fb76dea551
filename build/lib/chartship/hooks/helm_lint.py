"""Hook ``helm-lint``: ``helm lint --strict`` on the charts the passed files belong to.

Each chart is linted once per values stack -- its defaults, then each configured
environment that has values files in the chart -- however many of its files were
passed; charts with no passed file are not linted, so a commit that touches no
chart never starts helm.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from chartship.hooks import common

if TYPE_CHECKING:
    from chartship.charts.values import Stack
    from chartship.config import Config

MISSING_DEPS = "missing these dependencies"
SUMMARY_PREFIX = "Error: "  # helm's closing "Error: 1 chart(s) linted, 1 chart(s) failed"


def _lint(cfg: Config, chart_dir: Path, stack: Stack) -> list[str]:
    """The problems of one helm lint run (empty when it passed)."""
    from chartship.tools import helm

    result = helm.lint(cfg.root, chart_dir, tuple(chart_dir / f for f in stack.files), strict=True)
    if result.ok:
        return []
    where = common.rel(cfg, chart_dir)
    lines = [ln.replace(str(chart_dir), where) for ln in (*result.errors, *result.warnings)]
    specific = [ln for ln in lines if not ln.startswith(SUMMARY_PREFIX)]
    return specific or lines or [ln.strip() for ln in result.output.splitlines() if ln.strip()][-3:]


def _label(stack: Stack) -> str:
    return stack.env if not stack.files else f"{stack.env}: {', '.join(stack.files)}"


def check(root: Path, files: Sequence[str]) -> int:
    from chartship import config as cfgmod
    from chartship import report
    from chartship.charts import values
    from chartship.tools import helm

    cfg = cfgmod.load(root)
    charts = common.files_by_chart(cfg, files)
    if not charts:
        return 0
    helm.find(root)  # a missing or too old helm is one error, before any work starts
    runs = [(d, stack) for d in charts for stack in values.stacks(cfg, d)]
    with ThreadPoolExecutor(max_workers=max(1, min(cfg.jobs, len(runs)))) as pool:
        results = list(pool.map(lambda run: _lint(cfg, *run), runs))
    # one line per chart and problem, naming every values stack that shows it
    seen: dict[tuple[Path, str], list[str]] = {}
    for (chart_dir, stack), lines in zip(runs, results, strict=True):
        for line in lines:
            seen.setdefault((chart_dir, line), []).append(_label(stack))
    for (chart_dir, line), labels in seen.items():
        report.error(f"{common.rel(cfg, chart_dir)} [{'; '.join(labels)}]: {line}")
    for chart_dir in dict.fromkeys(d for d, line in seen if MISSING_DEPS in line):
        report.note(f"{common.rel(cfg, chart_dir)}: run `invoke helm.deps` (or `invoke setup-dev`) to build its dependencies")
    if seen:
        return 1
    report.out(f"helm lint: {len(charts)} chart(s), {len(runs)} run(s), ok")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chartship-helm-lint", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="changed files; their charts are linted")
    args = parser.parse_args(argv)
    root = common.root()
    return common.edge(lambda: check(root, args.files))
