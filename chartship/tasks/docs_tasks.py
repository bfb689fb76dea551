"""invoke helm.docs: chart READMEs generated from Chart.yaml and values.yaml comments."""

from __future__ import annotations

from pathlib import Path

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import config, edge, root


@task(iterable=["chart"], help={"check": "exit 1 if a README it manages is out of date; write nothing",
                                "chart": "only this chart (repeatable)"})
@edge
def docs(c: Context, check: bool = False, chart: list[str] | None = None) -> None:
    """Generate each chart's README.md from Chart.yaml and values.yaml comments (helm-docs conventions).

    Only READMEs chartship generated (marker on the first line), missing ones, and charts with
    charts.settings.NAME.docs: generate are written; a hand-written README is left alone."""
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.charts import docs as docsmod
    from chartship.charts import docsrecord
    from chartship.errors import CheckFailed

    record_key = docsrecord.key(root(c))  # before the configuration is read: what the record is valid for
    cfg = config(c)
    dirs = [ch.path for ch in chartmod.discover(cfg, chart or [])]
    modes = docsmod.modes_of(cfg, dirs)
    for d in dirs:
        reason = docsmod.skip_reason(d, modes[d.name])
        if reason:
            report.note(f"{(d / docsmod.README).relative_to(cfg.root)}: {reason}")
    managed = docsmod.managed(dirs, modes)
    target = cfg.target()
    current: dict[Path, str] = {}
    if check:
        stale = docsmod.stale_readmes(managed, target, cfg.environments, modes, record=current)
        docsrecord.remember(cfg, record_key, current)
        for path in stale:
            report.error(f"{path.relative_to(cfg.root)} is out of date with its chart; run `invoke helm.docs`")
        if stale:
            raise CheckFailed("")
        report.out(f"ok: {len(managed)} chart README(s) up to date"
                   + (f", {len(dirs) - len(managed)} not managed" if len(managed) < len(dirs) else ""))
        return
    changed = docsmod.write_readmes(managed, target, cfg.environments, modes, record=current)
    docsrecord.remember(cfg, record_key, current)
    for path in changed:
        report.out(f"wrote {path.relative_to(cfg.root)}")
    if not changed:
        report.out(f"{len(managed)} chart README(s) already up to date")
