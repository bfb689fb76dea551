"""Per-chart exceptions to the security rules: ``charts/<chart>/.chartship-allow.yaml``.

A list of entries ``{rule, kind, name, container?, env?, reason}``; ``name`` may be an
fnmatch pattern (``*-redis``), ``env`` one environment or a list, ``reason`` is required.
An entry that suppresses nothing in a run is stale and reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TypeVar

from chartship import yamlio
from chartship.errors import ChartError
from chartship.validate import security

FILE = ".chartship-allow.yaml"
KEYS = {"rule", "kind", "name", "container", "env", "reason"}
REQUIRED = ("rule", "kind", "name", "reason")
# the security rules, and the schema checks' rules (a kind the schemas do not know, a field they refuse)
SCHEMA_RULES = ("k8s-schema", "crd-schema")
RULES = (*security.RULES, *SCHEMA_RULES)
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    rule: str
    kind: str
    name: str
    container: str | None
    envs: tuple[str, ...] | None
    reason: str
    where: str  # file:line

    def describe(self) -> str:
        target = f"{self.kind}/{self.name}" + (f" container {self.container}" if self.container else "")
        scope = f" env {', '.join(self.envs)}" if self.envs else ""
        return f"rule {self.rule}, {target}{scope}"

    def matches(self, env: str, problem: security.Problem) -> bool:
        return (problem.rule == self.rule and problem.kind == self.kind and fnmatchcase(problem.name, self.name)
                and (self.container is None or problem.container == self.container)
                and (self.envs is None or env in self.envs))


def _text(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ChartError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value.strip()


def _entry(item: Any, where: str) -> Entry:
    if not isinstance(item, dict):
        raise ChartError(f"{where}: each entry must be a mapping with rule, kind, name and reason")
    unknown = sorted(set(map(str, item)) - KEYS)
    if unknown:
        raise ChartError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(KEYS))}")
    for key in REQUIRED:
        if key not in item:
            hint = " (say why the exception is safe)" if key == "reason" else ""
            raise ChartError(f"{where}: {key} is missing{hint}")
    rule = _text(item["rule"], where, "rule")
    if rule not in RULES:
        raise ChartError(f"{where}: unknown rule {rule!r}; known rules: {', '.join(RULES)}")
    envs_raw = item.get("env")
    envs: tuple[str, ...] | None = None
    if envs_raw is not None:
        listed = envs_raw if isinstance(envs_raw, list) else [envs_raw]
        envs = tuple(_text(e, where, "env") for e in listed)
        if not envs:
            raise ChartError(f"{where}: env must name at least one environment (leave it out for all)")
    container = item.get("container")
    return Entry(rule=rule, kind=_text(item["kind"], where, "kind"), name=_text(item["name"], where, "name"),
                 container=None if container is None else _text(container, where, "container"), envs=envs,
                 reason=_text(item["reason"], where, "reason"), where=where)


def load(chart_dir: Path, rel: str) -> list[Entry]:
    """The chart's allowlist ([] without the file); a malformed file raises ChartError naming file:line."""
    path = chart_dir / FILE
    if not path.is_file():
        return []
    where = f"{rel}/{FILE}"
    _raw, data = yamlio.load_file(path, where, ChartError)
    if data is None:
        return []
    if not isinstance(data, list):
        raise ChartError(f"{where}: the top level must be a list of {{rule, kind, name, container, env, reason}} entries")
    entries = []
    for index, item in enumerate(data):
        line = data.lc.item(index)[0] + 1 if hasattr(data, "lc") else index + 1
        entries.append(_entry(item, f"{where}:{line}"))
    return entries


def apply(entries: Sequence[Entry], found: Iterable[tuple[str, security.Problem, T]]
          ) -> tuple[list[tuple[str, security.Problem, T]], list[tuple[str, security.Problem, T, Entry]], list[Entry]]:
    """Split ``(env, problem, extra)`` triples into (kept, allowed with the first entry that allowed them,
    stale entries: those that allowed nothing)."""
    kept: list[tuple[str, security.Problem, T]] = []
    allowed: list[tuple[str, security.Problem, T, Entry]] = []
    used: set[int] = set()
    for env, problem, extra in found:
        hits = [i for i, e in enumerate(entries) if e.matches(env, problem)]
        if not hits:
            kept.append((env, problem, extra))
        else:
            used.update(hits)
            allowed.append((env, problem, extra, entries[hits[0]]))
    stale = [e for i, e in enumerate(entries) if i not in used]
    return kept, allowed, stale
