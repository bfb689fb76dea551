"""Charts: discover them, read Chart.yaml, and their file:// dependency graph."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship import content_policy, secrets, yamlio
from chartship.config import CONFIG_FILE, Config
from chartship.configfile import require_charts
from chartship.errors import ChartError


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str | None
    repository: str
    index: int

    @property
    def local_path(self) -> str | None:
        return self.repository.removeprefix("file://") if self.repository.startswith("file://") else None


@dataclass(frozen=True)
class Chart:
    """One chart folder, its Chart.yaml text (edits re-read it with positions) and its data (plain dicts and lists)."""

    name: str
    path: Path
    rel: str
    text: str
    data: Any

    @property
    def chart_yaml(self) -> Path:
        return self.path / "Chart.yaml"

    @property
    def where(self) -> str:
        return f"{self.rel}/Chart.yaml"

    @property
    def version(self) -> str:
        return str(self.data["version"])

    @property
    def app_version(self) -> str | None:
        value = self.data.get("appVersion")
        return None if value is None else str(value)

    @property
    def dependencies(self) -> list[Dependency]:
        deps = self.data.get("dependencies") or []
        return [
            Dependency(str(d.get("name")), None if d.get("version") is None else str(d["version"]),
                       str(d.get("repository", "")), i)
            for i, d in enumerate(deps)
        ]


NAME_MAX = 63  # a Kubernetes DNS label; OCI repository path components are lower case as well
_NAME = re.compile(r"^[a-z0-9]+(?:[._-]+[a-z0-9]+)*$")


def check_name(name: str, where: str) -> None:
    """A chart name chartship can build paths, tags and OCI references from."""
    if len(name) > NAME_MAX:
        raise ChartError(f"{where}: the chart name is {len(name)} characters long; Kubernetes and OCI registries allow "
                         f"at most {NAME_MAX}: rename the folder (and `name:` in Chart.yaml)")
    if not _NAME.match(name):
        raise ChartError(f"{where}: the chart name {name[:NAME_MAX]!r} is not valid: use lower-case letters and digits, "
                         "separated by '-', '.' or '_' (rename the folder and `name:` in Chart.yaml)")


def read_chart(path: Path, root: Path | None = None) -> Chart:
    """Parse ``path/Chart.yaml``; every way it can be broken is a one-line ChartError naming the file
    relative to ``root`` (by its full path without one)."""
    rel = path.relative_to(root).as_posix() if root is not None and path.is_relative_to(root) else str(path)
    where = f"{rel}/Chart.yaml"
    check_name(path.name, rel)
    text, data = yamlio.read_file(path / "Chart.yaml", where, ChartError)
    if not isinstance(data, dict):
        raise ChartError(f"{where}: must be a mapping of keys (apiVersion, name, version, ...), got {type(data).__name__}")
    if "version" not in data or data["version"] in (None, ""):
        raise ChartError(f"{where}: has no 'version' key; add `version: <semver>` (invoke version.sync can fill it)")
    if isinstance(data["version"], (dict, list)):
        line = yamlio.key_line(yamlio.loads(text, where, ChartError), "version")  # positions: the round-trip reader
        raise ChartError(f"{where}:{line}: 'version' must be a string")
    deps = data.get("dependencies")
    if deps is not None and (not isinstance(deps, list) or not all(isinstance(d, dict) for d in deps)):
        raise ChartError(f"{where}: 'dependencies' must be a list of mappings")
    for i, dep in enumerate(deps or []):
        secrets.refuse_userinfo(str(dep.get("repository", "")), f"{where}: dependencies[{i}].repository", ChartError)
    return Chart(name=path.name, path=path, rel=rel, text=text, data=data)


def chart_dirs(cfg: Config) -> list[Path]:
    """The configured chart folders: ``charts.only`` or every folder with a Chart.yaml."""
    base = cfg.root / cfg.charts_dir
    if cfg.chart_names is not None:
        dirs = []
        for name in cfg.chart_names:
            d = base / name
            if not (d / "Chart.yaml").is_file():
                raise ChartError(
                    f"{CONFIG_FILE}: chartship.charts.only names {name!r}, but {cfg.charts_dir}/{name}/Chart.yaml "
                    "does not exist; fix the list"
                )
            dirs.append(d)
        return dirs
    found = sorted(d for d in base.iterdir() if d.is_dir() and (d / "Chart.yaml").is_file()) if base.is_dir() else []
    require_charts(cfg, len(found))
    return found


def discover(cfg: Config, names: Sequence[str] = ()) -> list[Chart]:
    """Read the configured charts, or just ``names`` (each must be a known chart)."""
    dirs = chart_dirs(cfg)
    known = {d.name: d for d in dirs}
    for chart in cfg.chart_overrides:
        if chart not in known:
            hint = (f" (the content policy for every chart goes under chartship.charts.{content_policy.KEY})"
                    if chart in content_policy.SPELLINGS else "")
            raise ChartError(
                f"{CONFIG_FILE}: chartship.charts.settings.{chart}: no chart {chart!r} under {cfg.charts_dir}/; "
                f"fix the name or remove the entry{hint}"
            )
    if names:
        _check_names(cfg, names, known)
        dirs = [known[n] for n in dict.fromkeys(names)]
    return [read_chart(d, cfg.root) for d in dirs]


def _check_names(cfg: Config, names: Sequence[str], known: Mapping[str, object]) -> None:
    missing = [n for n in names if n not in known]
    if missing:
        raise ChartError(f"unknown chart {missing[0]!r}; known charts under {cfg.charts_dir}/: "
                         f"{', '.join(sorted(known)) or 'none'}")


def select(cfg: Config, charts: Sequence[Chart], names: Sequence[str]) -> list[Chart]:
    """``names`` (each must be one of the already read ``charts``), or all of them when empty."""
    if not names:
        return list(charts)
    by_name = {c.name: c for c in charts}
    _check_names(cfg, names, by_name)
    return [by_name[n] for n in dict.fromkeys(names)]


def local_dependencies(chart: Chart, charts: Iterable[Chart]) -> list[tuple[Dependency, Chart]]:
    """The file:// dependencies of ``chart`` that are charts of this repository."""
    if not any(dep.local_path is not None for dep in chart.dependencies):
        return []  # most charts: no need to resolve every chart's path (build_order calls this per chart)
    by_path = {c.path.resolve(): c for c in charts}
    found = []
    for dep in chart.dependencies:
        if dep.local_path is None:
            continue
        target = by_path.get((chart.path / dep.local_path).resolve())
        if target is not None:
            found.append((dep, target))
    return found


def build_order(charts: Sequence[Chart]) -> list[Chart]:
    """Charts sorted so file:// subcharts come before the umbrellas that use them."""
    order: list[Chart] = []
    state: dict[str, int] = {}

    def visit(c: Chart, trail: tuple[str, ...]) -> None:
        if state.get(c.name) == 2:
            return
        if state.get(c.name) == 1:
            raise ChartError(f"file:// dependency cycle: {' -> '.join((*trail, c.name))}; break the cycle")
        state[c.name] = 1
        for _dep, sub in local_dependencies(c, charts):
            visit(sub, (*trail, c.name))
        state[c.name] = 2
        order.append(c)

    for c in sorted(charts, key=lambda c: c.name):
        visit(c, ())
    return order
