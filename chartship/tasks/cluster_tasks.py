"""invoke cluster.test: install, upgrade, helm test, roll back and uninstall each chart in a real cluster."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import SHARD_HELP, config, edge, shard_names
from chartship.tasks.reports import JUNIT_HELP, publish, rel_of


@task(iterable=["chart"], help={
    "provider": "kind (needs docker), kwok (no docker), or existing (current kube context, allow-listed); "
                "default: kind where docker and kind exist, else kwok",
    "keep": "keep the created cluster afterwards (its KUBECONFIG is printed)",
    "chart": "only this chart (repeatable; default: every chart)",
    "target": "where to look for the previous published version (default: default_target)",
    "timeout": "how long each install, upgrade, helm test and rollback may take (a duration such as 90s or 5m; "
               "default 3m)",
    "json": "print the steps as JSON", "junit": JUNIT_HELP, "shard": SHARD_HELP})
@edge
def test(c: Context, provider: str = "", keep: bool = False, chart: list[str] | None = None, target: str = "",
         timeout: str = "3m", json: bool = False, junit: str = "", shard: str = "") -> None:
    """Per chart and values set in a fresh namespace: install previous version, upgrade, helm test, rollback."""
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.cluster import clustertest, providers
    from chartship.config import release_target
    from chartship.errors import CheckFailed
    from chartship.tools.helm import seconds

    seconds(timeout)  # a malformed duration is refused before a cluster is started
    cfg = config(c, default_target=target or None)
    charts = chartmod.discover(cfg, chart or [])
    if shard:
        kept = set(shard_names(chartmod.discover(cfg), [ch.name for ch in charts], shard))
        charts = [ch for ch in charts if ch.name in kept]
    chosen = provider or providers.default_provider(cfg.root)
    steps: list[clustertest.Step] = []
    if charts:  # an empty shard starts no cluster
        report.note(f"cluster test with provider {chosen}: {', '.join(ch.name for ch in charts)}")
        with providers.provide(cfg, chosen, keep, log=report.note) as cl:
            steps = clustertest.run(cfg, charts, cl, release_target(cfg), report.note, timeout)
    if json:
        report.emit_json({"provider": chosen, "ok": all(s.ok for s in steps),
                          "steps": [s.as_dict() for s in steps]})
    else:
        report.table(f"cluster test ({chosen})", ["chart", "values", "step", "result", "seconds", "note"],
                     [(s.chart, s.values, s.step, s.status, f"{s.seconds:.1f}", s.message) for s in steps])
    from chartship.ci_report import checks

    publish(cfg.root, "cluster.test", checks.cluster(steps, rel_of(charts)), junit)
    if not all(s.ok for s in steps):
        raise CheckFailed("" if json else "cluster test failed (events, pod status and logs are above)")
