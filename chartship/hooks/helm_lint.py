"""Hook ``helm-lint``: ``helm lint --strict`` on the charts the passed files belong to, on exactly what
``invoke helm.lint`` lints: the prepared temporary copy (:func:`chartship.build.workspace.prepare`: the
tracked files, patches applied, dependencies built in the copy -- file:// subcharts from the working tree).

So a subchart version bump in an umbrella passes without running ``invoke helm.deps`` first, archives
lying in an umbrella's ``charts/`` folder never decide (the copy leaves the declared ones out and builds
them again), and an umbrella whose ``file://`` dependency no longer resolves (a renamed or moved chart)
is refused. Linted: the charts with passed files, the umbrellas that use them through file://, and every
umbrella whose file:// dependency points nowhere. Each chart is linted once per values set
(:func:`chartship.charts.values.values_sets`), however many of its files were passed; a commit that
touches no chart never starts helm. The repository root is found from the working directory (pre-commit
may be started in a subdirectory); passed paths are relative to the working directory.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from chartship.hooks import common

if TYPE_CHECKING:
    from chartship.charts.chart import Chart
    from chartship.charts.values import ValuesSet
    from chartship.config import Config

SUMMARY_PREFIX = "Error: "  # helm's closing "Error: 1 chart(s) linted, 1 chart(s) failed"
PROJECT_MARKERS = ("invoke.yaml",)


def find_root(start: Path) -> Path:
    """The chartship project ``start`` is in: the nearest folder up with invoke.yaml, else the git work tree's
    top, else ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if any((folder / name).is_file() for name in PROJECT_MARKERS):
            return folder
        if (folder / ".git").exists():
            return folder
    return start


def _lint(cfg: Config, copy: Path, rel: str, stack: ValuesSet) -> list[str]:
    """The problems of one helm lint run on the prepared copy (empty when it passed), named by ``rel``."""
    from chartship.tools.helm import LintFailed

    try:
        cfg.helm.lint(copy, tuple(copy / f for f in stack.files), strict=True)
        return []
    except LintFailed as exc:
        failed = exc
    lines = [ln.replace(str(copy), rel) for ln in (*failed.errors, *failed.warnings)]
    specific = [ln for ln in lines if not ln.startswith(SUMMARY_PREFIX)]
    return specific or lines or [ln.strip().replace(str(copy), rel) for ln in failed.output.splitlines()
                                 if ln.strip()][-3:]


def _label(stack: ValuesSet) -> str:
    return stack.name if not stack.files else f"{stack.name}: {', '.join(stack.files)}"


def selected(cfg: Config, charts: Sequence[Chart], files: Sequence[str]) -> list[str]:
    """Names of the charts to lint for ``files`` (paths relative to ``cfg.root``), in discovery order."""
    changed = {d.resolve() for d in common.files_by_chart(cfg, files)}
    if not changed:
        return []
    passed = [Path(os.path.normpath(cfg.root / f)).resolve() for f in files]
    names = []
    for c in charts:
        wanted = c.path.resolve() in changed
        for dep in c.dependencies:
            if wanted or dep.local_path is None:
                continue
            sub = (c.path / dep.local_path).resolve()
            wanted = not (sub / "Chart.yaml").is_file() or sub in changed or any(p.is_relative_to(sub) for p in passed)
        if wanted:
            names.append(c.name)
    return names


def check(root: Path, files: Sequence[str]) -> int:
    from chartship import config as cfgmod
    from chartship import report
    from chartship.build import workspace
    from chartship.charts import chart as chartmod
    from chartship.charts import values

    cfg = cfgmod.load(root)
    all_charts = chartmod.discover(cfg)
    names = selected(cfg, all_charts, files)
    if not names:
        return 0
    _ = cfg.helm  # located once, before any work starts: a missing or too old helm is one error
    source = {c.name: c for c in all_charts}
    failed = False
    with workspace.prepare(cfg, all_charts, names, cfg.jobs) as ws:
        runs: list[tuple[str, ValuesSet]] = []
        for name in names:
            problem = ws.problem(name)
            if problem is not None:
                report.error(f"{source[name].rel}: {problem}" if not str(problem).startswith(source[name].rel)
                             else str(problem))
                failed = True
                continue
            runs += [(name, stack) for stack in values.values_sets(cfg, ws.chart(name).path)]
        with ThreadPoolExecutor(max_workers=max(1, min(cfg.jobs, len(runs) or 1))) as pool:
            results = list(pool.map(lambda run: _lint(cfg, ws.chart(run[0]).path, source[run[0]].rel, run[1]), runs))
    # one line per chart and problem, naming every values set that shows it
    seen: dict[tuple[str, str], list[str]] = {}
    for (name, stack), lines in zip(runs, results, strict=True):
        for line in lines:
            seen.setdefault((name, line), []).append(_label(stack))
    for (name, line), labels in seen.items():
        report.error(f"{source[name].rel} [{'; '.join(labels)}]: {line}")
    if seen or failed:
        return 1
    report.out(f"helm lint: {len(names)} chart(s), {len(runs)} run(s), ok")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chartship-helm-lint", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="changed files (relative to the working directory); their charts "
                                                 "are linted")
    args = parser.parse_args(argv)
    cwd = Path.cwd()
    root = find_root(cwd)
    files = [os.path.relpath(os.path.normpath(cwd / f), root) for f in args.files]
    return common.edge(lambda: check(root, files))
