"""invoke helm.unittest: the charts' helm-unittest suites, with the pinned plugin."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import config, edge
from chartship.tasks.reports import JUNIT_HELP, publish


@task(iterable=["chart", "file"], help={
    "chart": "only this chart (repeatable; default: every chart)",
    "file": "suite glob relative to the chart (repeatable; default: unittest.globs / CHARTSHIP_UNITTEST_GLOBS / "
            "tests/*_test.yaml and unittests/*_test.yaml)",
    "update_snapshot": "pass --update-snapshot to helm-unittest and keep the new __snapshot__ files",
    "json": "print the results as JSON",
    "junit": JUNIT_HELP,
    "jobs": "parallel jobs (default: config jobs / CHARTSHIP_JOBS / number of cores)",
    "target": "registry target whose OCI dependencies need a login (default: default_target)"})
@edge
def unittest(c: Context, chart: list[str] | None = None, file: list[str] | None = None, update_snapshot: bool = False,
             json: bool = False, junit: str = "", jobs: int = 0, target: str = "") -> None:
    """Run the helm-unittest suites of every chart (per chart, suite and test); charts without suites say so."""
    from chartship import report, settings
    from chartship.charts import chart as chartmod
    from chartship.ci_report import checks
    from chartship.errors import CheckFailed
    from chartship.validate import unittest as unittestmod

    cfg = config(c, jobs=jobs or None)
    charts = chartmod.discover(cfg)
    names = [ch.name for ch in chartmod.select(cfg, charts, chart or [])]
    globs = settings.unittest_globs(cfg.root, file)
    result = unittestmod.run(cfg, charts, names, cfg.jobs, globs, update_snapshot, target or None)
    if json:
        report.emit_json(result.as_dict())
    else:
        rows = [(r.chart, s.name, s.file, s.status, sum(t.status == "ok" for t in s.tests),
                 sum(t.status == "failed" for t in s.tests), "") for r in result.charts for s in r.suites]
        rows += [(r.chart, "-", "-", r.status, 0, 0, r.message) for r in result.charts if not r.suites]
        report.table(f"helm.unittest (helm {result.helm_version})", ["chart", "suite", "file", "result", "passed",
                                                                      "failed", "note"], rows)
        for r in result.charts:
            for s in r.suites:
                for t in s.tests:
                    if t.status == "failed":
                        report.out(f"{r.chart} {s.name} / {t.name}: {t.message}")
    publish(cfg.root, "helm.unittest", checks.unittest(result), junit)
    if not result.ok:
        bad = [r.chart for r in result.charts if r.status == "failed"]
        raise CheckFailed("" if json else f"helm.unittest failed for {', '.join(bad)}")
