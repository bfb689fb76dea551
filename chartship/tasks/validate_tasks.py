"""invoke helm.validate: rendered manifests against Kubernetes/CRD schemas and the security rules."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import SHARD_HELP, config, edge, shard_names
from chartship.tasks.reports import JUNIT_HELP, publish, rel_of


@task(iterable=["chart"], help={
    "chart": "only this chart (repeatable; default: every chart, plus the manifests in argocd/)",
    "json": "print renders, findings and allowed exceptions as JSON",
    "jobs": "parallel jobs (default: config jobs / CHARTSHIP_JOBS / number of cores)",
    "target": "registry target whose OCI dependencies need a login (default: default_target)",
    "junit": JUNIT_HELP, "shard": SHARD_HELP + " (argocd/ goes with shard 1)"})
@edge
def validate(c: Context, chart: list[str] | None = None, json: bool = False, jobs: int = 0, target: str = "",
             junit: str = "", shard: str = "") -> None:
    """Render every chart x environment and check schemas (Kubernetes, CRDs) and security rules; exit 1 on findings."""
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.charts import shard as shardmod
    from chartship.errors import CheckFailed
    from chartship.validate import validate as validatemod

    cfg = config(c, jobs=jobs or None)
    charts = chartmod.discover(cfg)
    names = shard_names(charts, [ch.name for ch in chartmod.select(cfg, charts, chart or [])], shard)
    spec = shardmod.parse(shard)
    argocd = not chart and (spec is None or spec.index == 1)
    result = validatemod.run(cfg, charts, names, cfg.jobs, argocd=argocd, target=target or None)
    if json:
        report.emit_json(result.as_dict())
    else:
        _print(result)
    from chartship.ci_report import checks

    publish(cfg.root, "helm.validate", checks.validate(cfg.root, result, rel_of(charts)), junit)
    if not result.ok:
        raise CheckFailed("" if json else f"helm.validate: {len(result.findings)} finding(s)")


def _print(result: object) -> None:
    from chartship import report
    from chartship.validate import validate as validatemod

    assert isinstance(result, validatemod.Result)
    versions = ", ".join(result.kubernetes_versions)
    report.table(f"helm.validate (helm {result.helm_version}, Kubernetes {versions})",
                 ["chart", "env", "values", "objects", "findings"],
                 [(r.chart, r.env, "-" if r.chart == validatemod.ARGOCD_DIR else ", ".join(("values.yaml", *r.files)),
                   r.objects, r.findings) for r in result.renders])
    if result.findings:
        report.table("Findings", ["chart", "env", "object", "field", "problem", "rule"],
                     [(f.chart, f.env, f"{f.kind}/{f.name}", f.field, f.message, f.rule) for f in result.findings])
    allowed: dict[str, tuple[str, int]] = {}
    for _finding, entry in result.allowed:
        allowed[entry.where] = (entry.reason, allowed.get(entry.where, ("", 0))[1] + 1)
    for where, (reason, count) in allowed.items():
        report.note(f"allowed by {where}: {count} finding(s) ({reason})")
    if result.ok:
        argocd = sum(1 for r in result.renders if r.chart == validatemod.ARGOCD_DIR)
        report.out(f"ok: {len(result.renders) - argocd} chart render(s), {argocd} file(s) in argocd/, no findings")
