"""Hook ``version-sync``: the version file equals the Chart.yaml ``version`` of every chart in
the lockstep set and the ``version`` of their file:// dependencies on each other; an
``appVersion`` configured to follow equals its chart's version. ``--fix`` writes them (like ``invoke version.sync``).

The check first asks :mod:`chartship.quickcheck`, which needs no YAML library and
answers within a few milliseconds of the interpreter's start-up; only when it cannot
prove that everything is in step does the full check (ruamel.yaml) run and report.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from chartship.hooks import common, fastpath


def check(root: Path, fix: bool) -> int:
    """The full check (or sync with ``fix``) through chartship.version; 0 when in step."""
    from chartship import config as cfgmod
    from chartship import report
    from chartship.charts import chart
    from chartship.version import sync as syncmod
    from chartship.version import versioning

    cfg = cfgmod.load(root)
    charts = chart.discover(cfg)
    v = versioning.lockstep_version(cfg, charts)
    if fix:
        changes = syncmod.sync(cfg, v, charts)
        for f in changes:
            report.out(f"wrote {f.file}: {f.field} {f.found or '(missing)'} -> {f.expected}")
        for line in syncmod.warnings(cfg, changes, charts):
            report.note(f"warning: {line}")
        return 0
    mismatches = syncmod.check(cfg, v, charts)
    for f in mismatches:
        truth = "the version file says" if versioning.in_lockstep(cfg, f.chart) else "the chart's own version is"
        report.error(f"{f.file}: {f.field} is {f.found or '(missing)'} but {truth} {f.expected}")
    if mismatches:
        report.note("run `invoke version.sync` (or `chartship-version-sync --fix`) and stage the Chart.yaml files")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chartship-version-sync", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--fix", action="store_true", help="write the version into every Chart.yaml that differs")
    parser.add_argument("files", nargs="*", help="ignored: every chart is checked")
    args = parser.parse_args(argv)
    root = common.root()
    if not args.fix and fastpath.in_step(root, os.environ):
        return 0
    return common.edge(lambda: check(root, args.fix))
