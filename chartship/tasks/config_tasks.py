"""invoke config.*: what chartship resolved from flags, environment, invoke.yaml and defaults."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import config, edge


@task(help={"json": "print as JSON"})
@edge
def show(c: Context, json: bool = False) -> None:
    """Show the effective configuration and where each setting came from."""
    from dataclasses import asdict

    from chartship import report
    from chartship.charts import chart
    from chartship.config import environment

    cfg = config(c)
    charts = chart.discover(cfg)
    settings = {name: {"value": getattr(cfg, name), "from": origin} for name, origin in cfg.origins.items()}
    data = {
        "root": str(cfg.root),
        "settings": settings,
        "charts": {
            ch.name: {"path": ch.rel, **asdict(cfg.chart_settings(ch.name))} for ch in charts
        },
        "targets": {name: asdict(t) for name, t in cfg.targets.items()},
        "environments": {name: list(files) for name, files in cfg.environments.items()},
        "environment_variables": {var: {"value": value or None, "default": default, "help": text}
                                  for var, value, default, text in environment()},
    }
    if json:
        report.emit_json(data)
        return
    report.table("Settings", ["setting", "value", "from"],
                 [(k, v["value"], v["from"]) for k, v in settings.items()])
    report.table("Charts", ["chart", "path", "version from", "appVersion", "package name"],
                 [(ch.name, ch.rel, "version file" if cfg.chart_settings(ch.name).versioning == "lockstep" else "Chart.yaml",
                   cfg.chart_settings(ch.name).app_version, cfg.chart_settings(ch.name).package_name) for ch in charts])
    report.table("Targets", ["name", "url", "auth", "region", "plain_http", "create_repository"],
                 [(t.name + (" (default)" if t.name == cfg.default_target else ""), t.url, t.auth, t.region,
                   t.plain_http, t.create_repository) for t in cfg.targets.values()])
    report.table("Environments", ["env", "values files (after values.yaml)"],
                 [(k, ", ".join(v)) for k, v in cfg.environments.items()])
    report.table("Environment variables (secrets show as (set))", ["variable", "value", "default", "meaning"],
                 environment())
