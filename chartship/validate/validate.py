"""helm.validate: render every chart x environment on a temporary copy (dependencies built),
then check each object against the Kubernetes schemas (strict, offline, for the pinned
``kubernetes_versions``), custom resources against the CRD schemas (``chartship.validate.schemas``), and every pod spec
against the security rules, minus the chart's justified exceptions (``.chartship-allow.yaml``).
The Argo CD manifests in ``argocd/`` are checked the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chartship.build import workspace
from chartship.charts import chart as chartmod
from chartship.charts import values
from chartship.config import Config
from chartship.errors import ChartshipError
from chartship.tools.helm import HelmError
from chartship.validate import allowlist, helmtest, render, security
from chartship.validate.schemas import Checker

RELEASE = "rel"
NAMESPACE = "validate"
ARGOCD_DIR = "argocd"
# build-tool files that live next to cluster objects but are never applied
NOT_OBJECTS = {("kustomize.config.k8s.io", "Kustomization"), ("kustomize.config.k8s.io", "Component")}
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)
_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)
# Render as a cluster with the Prometheus operator would, so ServiceMonitor/PrometheusRule get checked in every env
CLUSTER_APIS = ("monitoring.coreos.com/v1",)


@dataclass(frozen=True)
class Finding:
    chart: str
    env: str
    kind: str
    name: str
    field: str
    message: str
    rule: str
    container: str | None = None
    source: str = ""

    def text(self) -> str:
        return f"{self.chart} [{self.env}] {self.kind}/{self.name}: {self.field} {self.message} (rule {self.rule})"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "text": self.text()}


@dataclass
class Render:
    chart: str
    env: str
    files: tuple[str, ...]
    objects: int = 0
    findings: int = 0


@dataclass
class Result:
    helm_version: str
    kubernetes_versions: tuple[str, ...]
    renders: list[Render] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    allowed: list[tuple[Finding, allowlist.Entry]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "helm": self.helm_version, "kubernetes_versions": list(self.kubernetes_versions),
            "renders": [{"chart": r.chart, "env": r.env, "values": list(r.files), "objects": r.objects,
                         "findings": r.findings} for r in self.renders],
            "findings": [f.as_dict() for f in self.findings],
            "allowed": [{**f.as_dict(), "reason": e.reason, "allowed_by": e.where} for f, e in self.allowed],
        }


def parse_manifests(text: str, where: str) -> list[tuple[str, Any]]:
    """(source template, object) for each YAML document of ``helm template`` output (empty documents dropped)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = []
    for chunk in _SEPARATOR.split(text):
        source = _SOURCE.search(chunk)
        try:
            data = yaml.load(chunk, Loader=loader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            raise ChartshipError(f"{source[1] if source else where}: invalid YAML ({str(exc).splitlines()[0]})"
                                 ) from None
        if data is not None:
            docs.append((source[1] if source else where, data))
    return docs


def check_objects(checker: Checker, docs: Iterable[tuple[str, Any]]) -> tuple[list[tuple[str, security.Problem]], int]:
    """(source, problem) for schema and security problems of ``docs``, and how many objects were checked."""
    found: list[tuple[str, security.Problem]] = []
    count = 0
    for source, doc in docs:
        if isinstance(doc, Mapping):
            group = str(doc.get("apiVersion", "")).rpartition("/")[0]
            if (group, doc.get("kind")) in NOT_OBJECTS:
                continue
        count += 1
        found += [(source, p) for p in checker.check(doc)]
        if isinstance(doc, Mapping):
            found += [(source, p) for p in security.check(doc)]
    return found, count


def _render(renderer: render.Renderer, checker: Checker, c: chartmod.Chart, rel: str, render: Render
            ) -> list[tuple[str, str, security.Problem]]:
    """(env, source, problem) of one chart x environment."""
    files = tuple(c.path / f for f in render.files)
    try:
        result = renderer.template(RELEASE, c.path, files, NAMESPACE, CLUSTER_APIS)
    except HelmError as exc:
        message = helmtest.message(exc, c.path, rel)
        return [(render.env, "", security.Problem("Chart", c.name, "templates", f"do not render: {message}", "render"))]
    try:
        docs = parse_manifests(result.stdout, rel)
    except ChartshipError as exc:
        return [(render.env, "", security.Problem("Chart", c.name, "templates", str(exc), "render"))]
    found, render.objects = check_objects(checker, docs)
    return [(render.env, source, p) for source, p in found]


def _chart(cfg: Config, checker: Checker, ws: workspace.Workspace, name: str, pool: ThreadPoolExecutor,
           result: Result, renderer: render.Renderer) -> None:
    c, rel = ws.chart(name), ws.source[name].rel
    problem = ws.problem(name)
    if problem is not None:
        result.findings.append(Finding(name, "-", "Chart", name, "dependencies", f"cannot be prepared: {problem}", "prepare"))
        return
    entries = allowlist.load(c.path, rel)
    renders = [Render(name, s.name, s.files) for s in values.values_sets(cfg, c.path)]
    result.renders += renders
    found = [x for batch in pool.map(lambda r: _render(renderer, checker, c, rel, r), renders) for x in batch]
    rules = [(env, p, src) for env, src, p in found if p.rule in allowlist.RULES]
    others = [(env, p, src) for env, src, p in found if p.rule not in allowlist.RULES]
    kept, allowed, stale = allowlist.apply(entries, rules)

    def finding(env: str, p: security.Problem, source: str) -> Finding:
        return Finding(name, env, p.kind, p.name, p.field, p.message, p.rule, p.container, source)

    new = [finding(env, p, src) for env, p, src in (*others, *kept)]
    result.allowed += [(finding(env, p, src), entry) for env, p, src, entry in allowed]
    new += [Finding(name, ",".join(e.envs) if e.envs else "*", e.kind, e.name, e.where,
                    f"allowlist entry ({e.describe()}) matches no finding; remove it", "stale-allowlist", e.container)
            for e in stale]
    counts: dict[str, int] = {}
    for f in new:
        counts[f.env] = counts.get(f.env, 0) + 1
    for r in renders:
        r.findings = counts.get(r.env, 0)
    result.findings += new


def argocd_findings(root: Path, checker: Checker, renders: list[Render] | None = None) -> list[Finding]:
    """Schema (and, for workloads, security) problems of every manifest under argocd/; one Render per file."""
    folder = root / ARGOCD_DIR
    findings: list[Finding] = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml")) if folder.is_dir() else []:
        rel = path.relative_to(root).as_posix()
        try:
            docs = parse_manifests(path.read_text(encoding="utf-8"), rel)
        except (ChartshipError, UnicodeDecodeError) as exc:
            findings.append(Finding(ARGOCD_DIR, rel, "File", path.name, rel, f"cannot be read: {exc}", "yaml"))
            continue
        found, count = check_objects(checker, [(rel, doc) for _source, doc in docs])
        findings += [Finding(ARGOCD_DIR, rel, p.kind, p.name, p.field, p.message, p.rule, p.container, rel)
                     for _s, p in found]
        if renders is not None:
            renders.append(Render(ARGOCD_DIR, rel, (), count, len(found)))
    return findings


def run(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], jobs: int, argocd: bool = True,
        target: str | None = None, environ: Mapping[str, str] | None = None) -> Result:
    """Validate ``names`` (and argocd/ when ``argocd``)."""
    checker = Checker(cfg.root, cfg.kubernetes_versions, cfg.crd_schemas)
    result = Result(cfg.helm.version, checker.versions)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        if names:
            with workspace.prepare(cfg, all_charts, names, jobs, target, environ) as ws:
                ready = [ws.chart(n) for n in names if ws.problem(n) is None]
                renderer = render.prefetch(cfg.helm, [(RELEASE, c.path, tuple(c.path / f for f in s.files), NAMESPACE,
                                                       CLUSTER_APIS) for c in ready for s in values.values_sets(cfg, c.path)],
                                           jobs)
                for name in names:
                    _chart(cfg, checker, ws, name, pool, result, renderer)
    if argocd:
        result.findings += argocd_findings(cfg.root, checker, result.renders)
    return result
