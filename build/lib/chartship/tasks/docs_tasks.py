"""invoke helm.docs: chart READMEs generated from Chart.yaml and values.yaml comments."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import config, edge


@task(iterable=["chart"], help={"check": "exit 1 if a README is out of date; write nothing",
                                "chart": "only this chart (repeatable)"})
@edge
def docs(c: Context, check: bool = False, chart: list[str] | None = None) -> None:
    """Generate each chart's README.md from Chart.yaml and `# --` comments in values.yaml."""
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.charts import docs as docsmod
    from chartship.errors import CheckFailed

    cfg = config(c)
    dirs = [ch.path for ch in chartmod.discover(cfg, chart or [])]
    base = cfg.target().url
    if check:
        stale = docsmod.stale_readmes(dirs, base)
        for path in stale:
            report.error(f"{path.relative_to(cfg.root)} is out of date with its values.yaml; run `invoke helm.docs`")
        if stale:
            raise CheckFailed("")
        report.out(f"ok: {len(dirs)} chart README(s) up to date")
        return
    changed = docsmod.write_readmes(dirs, base)
    for path in changed:
        report.out(f"wrote {path.relative_to(cfg.root)}")
    if not changed:
        report.out(f"{len(dirs)} chart README(s) already up to date")
