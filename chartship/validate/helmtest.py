"""helm.test: for each chart x environment, ``helm template`` and then a client-side
``helm install --dry-run``, on a temporary copy with dependencies built. No cluster needed
with helm 4; helm 3's install dry-run still asks a cluster for its version, so without one
that step is reported as skipped (template rendering still ran)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship.build import workspace
from chartship.charts import chart as chartmod
from chartship.charts import values
from chartship.config import Config
from chartship.outcome import FAILED as FAIL
from chartship.outcome import OK
from chartship.outcome import SKIPPED as SKIP
from chartship.tools.helm import ClusterUnreachable, HelmError
from chartship.validate import render

NAMESPACE = "chartship-test"


@dataclass
class Case:
    chart: str
    env: str
    files: tuple[str, ...]
    template: str = SKIP
    dry_run: str = SKIP
    message: str = ""

    @property
    def ok(self) -> bool:
        return FAIL not in (self.template, self.dry_run)

    def as_dict(self) -> dict[str, Any]:
        return {"chart": self.chart, "env": self.env, "values": list(self.files), "template": self.template,
                "dry_run": self.dry_run, "message": self.message}


def message(exc: HelmError, tmp: Path, rel: str) -> str:
    """helm's reason (one line, from the summariser) with the temporary copy's path shown as the chart's own."""
    return exc.reason.replace(str(tmp), rel)


def _run_case(cfg: Config, renderer: render.Renderer, c: chartmod.Chart, rel: str, case: Case,
              environ: Mapping[str, str] | None) -> Case:
    files = tuple(c.path / f for f in case.files)
    try:
        renderer.template(c.name, c.path, files, NAMESPACE)
    except HelmError as exc:
        case.template, case.message = FAIL, message(exc, c.path, rel)
        return case
    case.template = OK
    try:
        cfg.helm.install_dry_run(c.name, c.path, files, NAMESPACE, env=environ)
        case.dry_run = OK
    except ClusterUnreachable as exc:
        if cfg.helm.major >= 4:
            case.dry_run, case.message = FAIL, message(exc, c.path, rel)
        else:
            case.dry_run = SKIP
            case.message = "helm 3 install --dry-run needs a reachable cluster (helm 4 runs it client-side); template ok"
    except HelmError as exc:
        case.dry_run, case.message = FAIL, message(exc, c.path, rel)
    return case


def run(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], jobs: int,
        target: str | None = None, environ: Mapping[str, str] | None = None) -> list[Case]:
    cases: list[Case] = []
    _ = cfg.helm  # located before any work: a missing or too old helm is one error, not a failed case each
    with workspace.prepare(cfg, all_charts, names, jobs, target, environ) as ws:
        work = []
        for name in names:
            c, rel = ws.chart(name), ws.source[name].rel
            problem = ws.problem(name)
            if problem is not None:
                cases.append(Case(name, "-", (), FAIL, SKIP, str(problem)))
                continue
            for vs in values.values_sets(cfg, c.path):
                work.append((c, rel, Case(name, vs.name, vs.files)))
        renderer = render.prefetch(cfg.helm, [(c.name, c.path, tuple(c.path / f for f in case.files), NAMESPACE, ())
                                              for c, _rel, case in work], jobs)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            cases += list(pool.map(lambda w: _run_case(cfg, renderer, w[0], w[1], w[2], environ), work))
    return cases
