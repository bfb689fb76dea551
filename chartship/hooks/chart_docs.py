"""Hook ``chart-docs``: the README.md of every chart the passed files belong to is what
``invoke helm.docs`` would write from its Chart.yaml and values.yaml -- for the READMEs helm.docs
manages (generated ones, missing ones, ``docs: generate``); a hand-written README always passes."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from chartship.hooks import common


def check(root: Path, files: Sequence[str]) -> int:
    from chartship import config as cfgmod
    from chartship import report
    from chartship.charts import docs

    cfg = cfgmod.load(root)
    charts = common.files_by_chart(cfg, files)
    if not charts:
        return 0
    modes = docs.modes_of(cfg, charts)
    stale = docs.stale_readmes(charts, cfg.target(), cfg.environments, modes)
    for path in stale:
        report.error(f"{common.rel(cfg, path)} is out of date with its chart; run `invoke helm.docs` and stage it")
    return 1 if stale else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chartship-chart-docs", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="changed files; the READMEs of their charts are checked")
    args = parser.parse_args(argv)
    root = common.root()
    return common.edge(lambda: check(root, args.files))
