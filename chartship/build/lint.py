"""helm.lint: per chart, Chart.yaml rules, patches + dependencies, ``helm lint --strict``
per environment, yamllint and values.schema.json per environment. Charts (and
their environments) run in parallel on a temporary copy of the charts folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship import yamllimits
from chartship.build import lintbatch, workspace
from chartship.charts import chart as chartmod
from chartship.charts import values
from chartship.config import Config
from chartship.errors import ChartshipError
from chartship.outcome import SKIPPED, Outcome
from chartship.tools import yamllint as yamllintmod
from chartship.tools.helm import LintFailed
from chartship.version import semver

CHECKS = ("chart.yaml", "prepare", "helm-lint", "yamllint", "schema")
CHART_TYPES = ("application", "library")


@dataclass
class Report:
    charts: dict[str, dict[str, Outcome]]

    @property
    def ok(self) -> bool:
        return all(o.ok for checks in self.charts.values() for o in checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "charts": {name: {check: o.as_dict() for check, o in checks.items()}
                                          for name, checks in self.charts.items()}}


def chart_yaml_problems(c: chartmod.Chart) -> list[str]:
    """apiVersion v2, name = folder, semver version, type application|library (absent = application)."""
    data, where, problems = c.data, c.where, []
    if data.get("apiVersion") != "v2":
        problems.append(f"{where}: apiVersion is {data.get('apiVersion')!r}; Helm 3 charts need `apiVersion: v2`")
    if data.get("name") != c.name:
        problems.append(f"{where}: name is {data.get('name')!r} but the folder is {c.name!r}; make them equal")
    try:
        semver.parse(c.version, f"{where}: version")
    except ChartshipError as exc:
        problems.append(str(exc))
    kind = data.get("type", "application")
    if kind not in CHART_TYPES:
        problems.append(f"{where}: type is {kind!r}; use application or library")
    return problems


def _helm_lint(cfg: Config, c: chartmod.Chart, source_rel: str, vs: values.ValuesSet) -> list[str]:
    files = tuple(c.path / f for f in vs.files)
    try:
        cfg.helm.lint(c.path, files, strict=True)
        return []
    except LintFailed as exc:
        failed = exc
    tmp_prefix = str(c.path)
    lines = [ln.replace(tmp_prefix, source_rel) for ln in (*failed.errors, *failed.warnings)]
    if not lines:
        lines = [ln.strip().replace(tmp_prefix, source_rel) for ln in failed.output.splitlines() if ln.strip()][-3:]
    return [f"{source_rel} [{vs.label}]: {ln}" for ln in lines]


def _yamllint(cfg: Config, ws: workspace.Workspace, names: Sequence[str], report: Report) -> None:
    """yamllint in the repository root over the working-tree files the copy holds (tracked, allowed by the
    content policy), named by their repository paths, so the config's ignore patterns match as in yamllint."""
    owners: dict[str, str] = {}
    refused: set[str] = set()
    for name in names:
        c = ws.chart(name)
        for f in yamllintmod.chart_files(c.path):
            rel = f"{ws.source[name].rel}/{f.relative_to(c.path).as_posix()}"
            if not (cfg.root / rel).is_file():  # a file only a patch creates has no working-tree path to lint
                continue
            problem = yamllimits.file_problem(cfg.root / rel, rel)  # yamllint takes seconds to parse deep nesting
            if problem is None:
                owners[rel] = name
            else:
                report.charts[name]["yamllint"].fail(problem)
                refused.add(name)
    for name in names:
        if name not in owners.values() and name not in refused:
            report.charts[name]["yamllint"] = Outcome(status=SKIPPED, messages=["no YAML files"])
    for prob in yamllintmod.run(cfg.root, [Path(rel) for rel in owners]):
        rel = prob.file.as_posix()
        name = owners.get(rel, "")
        if not name:
            continue
        outcome = report.charts[name]["yamllint"]
        text = f"{rel}:{prob.line}:{prob.col}: [{prob.level}] {prob.message}"
        if prob.level == "error":
            outcome.fail(text)
        else:
            outcome.messages.append(text)


def _schema(ws: workspace.Workspace, name: str, sets: Sequence[values.ValuesSet]) -> Outcome:
    c, rel = ws.chart(name), ws.source[name].rel
    outcome = Outcome()
    loaded: dict[str, Any] = {}
    for vs in sets:
        problems = values.validate(c.path, rel, vs, loaded)
        if problems is None:
            return Outcome(status=SKIPPED, messages=[f"no {values.SCHEMA_FILE}"])
        for p in problems:
            if p not in outcome.messages:
                outcome.fail(p)
    return outcome


def run(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], jobs: int,
        target: str | None = None, environ: Mapping[str, str] | None = None,
        ws: workspace.Workspace | None = None) -> Report:
    """Lint ``names``; uses ``ws`` when given (helm.build), else prepares its own temp copy."""
    if ws is None:
        with workspace.prepare(cfg, all_charts, names, jobs, target, environ) as own:
            return run(cfg, all_charts, names, jobs, target, environ, own)
    report = Report({n: {check: Outcome() for check in CHECKS} for n in names})
    tasks: list[tuple[str, str, Future[Any]]] = []
    # yamllint is one process of its own over every file: it starts first, beside the helm lints, instead of
    # waiting for a worker of the pool and then running alone at the end
    side = ThreadPoolExecutor(max_workers=1)
    yaml_done = side.submit(_yamllint, cfg, ws, names, report)
    side.shutdown(wait=False)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        def submit(name: str, check: str, fn: Callable[..., Any], *args: Any) -> None:
            tasks.append((name, check, pool.submit(fn, *args)))

        lint_jobs: list[lintbatch.Job] = []
        sets_of: dict[str, list[values.ValuesSet]] = {}
        for name in names:
            c = ws.chart(name)
            for problem in chart_yaml_problems(c):
                report.charts[name]["chart.yaml"].fail(problem)
            report.charts[name]["chart.yaml"].messages.extend(
                f"warning: {w}" for w in values.unmatched(cfg, c.path, ws.source[name].rel))
            sets_of[name] = values.values_sets(cfg, c.path)
            failure = ws.problem(name)
            if failure is not None:
                report.charts[name]["prepare"].fail(str(failure))
                report.charts[name]["helm-lint"] = Outcome(status=SKIPPED, messages=["prepare failed"])
            else:
                report.charts[name]["helm-lint"].messages.append(
                    f"values sets: {', '.join(s.name for s in sets_of[name])}")
                lint_jobs += [(c, vs) for vs in sets_of[name]]
        # batched helm lints first (the long ones), then the rest beside them
        plan, lint_chunk = lintbatch.choose(cfg.helm, lint_jobs, jobs)
        batches = [pool.submit(lint_chunk, cfg.helm, chunk) for chunk in plan]
        batched = {(c.name, vs.name) for chunk in plan for c, vs in chunk}
        for name in names:
            submit(name, "schema", _schema, ws, name, sets_of[name])
        single = {(c.name, vs.name): pool.submit(_helm_lint, cfg, c, ws.source[c.name].rel, vs)
                  for c, vs in lint_jobs if (c.name, vs.name) not in batched}
        passed = set().union(*(b.result() for b in batches))
        for c, vs in lint_jobs:  # what a batch did not pass: linted alone, for helm's own words
            if (c.name, vs.name) not in single and (c.name, vs.name) not in passed:
                single[(c.name, vs.name)] = pool.submit(_helm_lint, cfg, c, ws.source[c.name].rel, vs)
        yaml_done.result()
        for name, check, future in tasks:
            result = future.result()
            if check == "schema":
                report.charts[name]["schema"] = result
        for c, vs in lint_jobs:
            if (c.name, vs.name) in single:
                for line in single[(c.name, vs.name)].result():
                    report.charts[c.name]["helm-lint"].fail(line)
    return report
