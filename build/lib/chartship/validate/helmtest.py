"""helm.test: for each chart x environment, ``helm template`` and then a client-side
``helm install --dry-run``, on a temporary copy with dependencies built. No cluster needed
with helm 4; helm 3's install dry-run still asks a cluster for its version, so without one
that step is reported as skipped (template rendering still ran)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship import proc
from chartship.build import workspace
from chartship.charts import chart as chartmod
from chartship.charts import values
from chartship.config import Config
from chartship.tools import helm

OK, FAIL, SKIP = "ok", "FAIL", "skip"
NAMESPACE = "chartship-test"
_TEMPLATE_ERR = re.compile(r"template: (\S+?:\d+(?::\d+)?)")


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


def _message(result: proc.Result, tmp: Path, rel: str) -> str:
    """helm's error, on one line: from the first ``Error:`` line to the blank line after it
    (helm 4 spreads a template error over several lines)."""
    text = (result.stderr or result.stdout).replace(str(tmp), rel)
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.lower().startswith("error")), None)
    if start is None:
        picked = [ln.strip() for ln in lines if ln.strip()][-1:] or ["helm failed without a message"]
    else:
        picked = []
        for ln in lines[start:]:
            if not ln.strip():
                break
            picked.append(ln.strip())
    line = " ".join(picked)
    return line if len(line) <= 600 else line[:597] + "..."


def _run_case(cfg: Config, c: chartmod.Chart, rel: str, case: Case, environ: Mapping[str, str] | None) -> Case:
    files = tuple(c.path / f for f in case.files)
    rendered = helm.template(cfg.root, c.name, c.path, files, NAMESPACE)
    if not rendered.ok:
        case.template, case.message = FAIL, _message(rendered, c.path, rel)
        return case
    case.template = OK
    result = helm.install_dry_run(cfg.root, c.name, c.path, files, NAMESPACE, env=environ)
    if result.ok:
        case.dry_run = OK
    elif helm.CLUSTER_UNREACHABLE in result.stderr and helm.find(cfg.root).major < 4:
        case.dry_run = SKIP
        case.message = "helm 3 install --dry-run needs a reachable cluster (helm 4 runs it client-side); template ok"
    else:
        case.dry_run, case.message = FAIL, _message(result, c.path, rel)
    return case


def run(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], jobs: int,
        target: str | None = None, environ: Mapping[str, str] | None = None) -> list[Case]:
    cases: list[Case] = []
    with workspace.prepare(cfg, all_charts, names, jobs, target, environ) as ws:
        work = []
        for name in names:
            c, rel = ws.chart(name), ws.source[name].rel
            problem = ws.problem(name)
            if problem is not None:
                cases.append(Case(name, "-", (), FAIL, SKIP, str(problem)))
                continue
            for stack in values.stacks(cfg, c.path):
                work.append((c, rel, Case(name, stack.env, stack.files)))
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            cases += list(pool.map(lambda w: _run_case(cfg, w[0], w[1], w[2], environ), work))
    return cases
