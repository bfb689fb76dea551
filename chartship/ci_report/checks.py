"""The results of lint, validate, unittest, helm.test and cluster.test as :class:`Check` rows,
with the chart file and line a finding points at where it is known: the template file (and
line) of a lint or render error, the values file (and the key's line) of a schema error."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chartship.ci_report import FAIL, OK, SKIP, Check

_TEMPLATE_AT = re.compile(r"(?:template: )?([\w.-]+(?:/charts/[\w.-]+)*/templates/[\w./-]+?)(?::(\d+))?(?::\d+)?[:\s)]")
_REL_FILE_AT = re.compile(r"((?:[\w.-]+/)+[\w.-]+\.(?:ya?ml|tpl|json|txt)):(\d+)")
_LINT_FILE = re.compile(r"\[(?:ERROR|WARNING)\] ((?:templates/)?[\w./-]+\.(?:ya?ml|tpl|json|txt))")
_SCHEMA = re.compile(r"^(\S+) (\S+\.ya?ml): (\$\S*): ")
_LABEL = re.compile(r"^\S+ \[([^\]\s]+)")


def template_location(message: str, chart: str, chart_rel: str) -> tuple[str, int]:
    """``core-pipeline/templates/x.yaml:12`` in a helm error -> (charts/core-pipeline/templates/x.yaml, 12)."""
    m = _TEMPLATE_AT.search(message + " ")
    if m:
        parts = m.group(1).split("/")
        if parts[0] == chart:
            return f"{chart_rel}/{'/'.join(parts[1:])}", int(m.group(2) or 0)
        base = chart_rel.rsplit("/", 1)[0]
        return f"{base}/{'/'.join(parts)}", int(m.group(2) or 0)  # a subchart of the same charts folder
    m = _REL_FILE_AT.search(message)
    if m and m.group(1).startswith(chart_rel + "/"):
        return m.group(1), int(m.group(2))
    m = _LINT_FILE.search(message)
    if m:
        return f"{chart_rel}/{m.group(1)}", 0
    return "", 0


def key_line(root: Path, rel_file: str, json_path: str) -> int:
    """The line of ``$.a.b[0]`` in a YAML file (the deepest part that exists), 0 when unknown."""
    from chartship import yamlio
    from chartship.errors import ChartError

    try:
        _text, data = yamlio.load_file(root / rel_file, rel_file, ChartError)
    except ChartError:
        return 0
    parts = [p for p in re.split(r"\.|\[(\d+)\]", json_path.removeprefix("$")) if p]
    node: Any = data
    line = 0
    for part in parts:
        if isinstance(node, dict) and part in node:
            line = yamlio.key_line(node, part)
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            break
    return line


def schema_location(root: Path, message: str) -> tuple[str, int]:
    m = _SCHEMA.match(message)
    if not m:
        return "", 0
    rel_file = f"{m.group(1)}/{m.group(2)}"
    return rel_file, key_line(root, rel_file, m.group(3))


def lint(root: Path, report: Any, rel_of: dict[str, str], stacks_of: Mapping[str, Sequence[str]]) -> list[Check]:
    """helm.lint: chart x check, and chart x values set for helm-lint."""
    checks: list[Check] = []
    for chart, outcomes in report.charts.items():
        rel = rel_of.get(chart, chart)
        for check, outcome in outcomes.items():
            status = {OK: OK, FAIL: FAIL, "FAIL": FAIL}.get(outcome.status, SKIP)
            if check == "helm-lint" and status != SKIP:
                for env in stacks_of.get(chart, ()):
                    mine = [m for m in outcome.messages if (_LABEL.match(m) or [None, ""])[1] == env]
                    checks += _messages(chart, f"{env} x helm-lint", mine, rel, root, OK if not mine else FAIL)
                continue
            if status == FAIL:
                checks += _messages(chart, check, outcome.messages, rel, root, FAIL)
            else:
                checks.append(Check(chart, check, status, "; ".join(outcome.messages) if status == SKIP else ""))
    return checks


def _messages(chart: str, name: str, messages: Sequence[str], rel: str, root: Path, status: str) -> list[Check]:
    if status != FAIL:
        return [Check(chart, name, status)]
    out = []
    for i, msg in enumerate(messages):
        file, line = schema_location(root, msg)
        if not file:
            file, line = template_location(msg, chart, rel)
        out.append(Check(chart, name if len(messages) == 1 else f"{name} #{i + 1}", FAIL, msg, file or f"{rel}/Chart.yaml",
                         line))
    return out


def validate(root: Path, result: Any, rel_of: dict[str, str]) -> list[Check]:
    """helm.validate: chart x values set x (objects checked), one failing row per finding."""
    checks: list[Check] = []
    by_render: dict[tuple[str, str], list[Any]] = {}
    for f in result.findings:
        by_render.setdefault((f.chart, f.env), []).append(f)
    for r in result.renders:
        if (r.chart, r.env) not in by_render:
            checks.append(Check(r.chart, f"{r.env} x schemas+security", OK))
    for (chart, env), found in by_render.items():
        rel = rel_of.get(chart, chart)
        for i, f in enumerate(found):
            file, line = template_location(f.source + ":", chart, rel) if f.source else ("", 0)
            if f.rule == "render":
                file, line = template_location(f.message, chart, rel)
            if chart == "argocd":
                file = f.source or env
            checks.append(Check(chart, f"{env} x {f.rule} #{i + 1}", FAIL, f.text(), file, line))
    return checks


def helm_test(root: Path, cases: Sequence[Any], rel_of: dict[str, str]) -> list[Check]:
    """helm.test: chart x values set x (template, dry-run)."""
    checks = []
    for case in cases:
        rel = rel_of.get(case.chart, case.chart)
        for step, status in (("template", case.template), ("dry-run", case.dry_run)):
            st = {OK: OK, FAIL: FAIL, "FAIL": FAIL}.get(status, SKIP)
            file, line = template_location(case.message, case.chart, rel) if st == FAIL else ("", 0)
            checks.append(Check(case.chart, f"{case.env} x {step}", st, case.message if st != OK else "",
                                file or (f"{rel}/Chart.yaml" if st == FAIL else ""), line))
    return checks


def unittest(result: Any) -> list[Check]:
    """helm.unittest: chart x suite x test; a chart without suites is one skipped row."""
    checks = []
    for run in result.charts:
        if run.status == "no suites":
            checks.append(Check(run.chart, "unit tests", SKIP, run.message))
            continue
        if not run.suites:
            checks.append(Check(run.chart, "unit tests", FAIL, run.message, f"{run.rel}/Chart.yaml"))
        for suite in run.suites:
            for t in suite.tests:
                st = {OK: OK, FAIL: FAIL, "FAIL": FAIL}.get(t.status, SKIP)
                checks.append(Check(run.chart, f"{suite.name} x {t.name}", st, t.message, suite.file if st == FAIL else ""))
    return checks


def cluster(steps: Sequence[Any], rel_of: dict[str, str]) -> list[Check]:
    """cluster.test: chart x step."""
    status = {"ok": OK, "failed": FAIL}
    return [Check(s.chart, s.step, status.get(s.status, SKIP), s.message,
                  f"{rel_of.get(s.chart, s.chart)}/Chart.yaml" if s.status == "failed" else "") for s in steps]
