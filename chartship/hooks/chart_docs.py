"""Hook ``chart-docs``: the README.md of every chart the passed files belong to is what
``invoke helm.docs`` would write from its Chart.yaml and values.yaml -- for the READMEs helm.docs
manages (generated ones, missing ones, ``docs: generate``); a hand-written README always passes.

A chart whose README inputs and README are byte for byte those that ``invoke helm.docs`` or an earlier
full check recorded as current (:mod:`chartship.charts.docsrecord`, kept in the git folder) passes
after hashing; every other chart -- no record, a corrupt one, any difference -- is rendered and compared."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from chartship.charts import docsrecord
from chartship.hooks import common


def check(root: Path, files: Sequence[str], record_key: str | None = None) -> int:
    """The full check of the charts of ``files``; the charts found current go into the record under
    ``record_key`` (taken before the configuration is read; None: now)."""
    from chartship import config as cfgmod
    from chartship import report
    from chartship.charts import docs

    record_key = docsrecord.key(root) if record_key is None else record_key
    cfg = cfgmod.load(root)
    charts = common.files_by_chart(cfg, files)
    if not charts:
        return 0
    modes = docs.modes_of(cfg, charts)
    current: dict[Path, str] = {}
    stale = docs.stale_readmes(charts, cfg.target(), cfg.environments, modes, record=current)
    docsrecord.remember(cfg, record_key, current)
    for path in stale:
        report.error(f"{common.rel(cfg, path)} is out of date with its chart; run `invoke helm.docs` and stage it")
    return 1 if stale else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chartship-chart-docs", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="changed files; the READMEs of their charts are checked")
    args = parser.parse_args(argv)
    root = common.root()
    record_key = docsrecord.key(root, os.environ)
    rest = docsrecord.unproven(root, args.files, os.environ, record_key)
    if rest == []:
        return 0
    return common.edge(lambda: check(root, args.files if rest is None else rest, record_key))
