"""What an existing repository holds: its charts, the environments its values files name,
chart-testing's test values, and whether the charts already share one version."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from chartship.charts.chart import read_chart
from chartship.errors import ChartError

# folders that never hold a repository's own charts
SKIP_DIRS = {".git", ".tools", ".venv", "venv", ".cache", "dist", "node_modules", "__pycache__", ".tox", ".nox"}
ENV_VALUES = re.compile(r"values-([A-Za-z0-9][A-Za-z0-9_-]*)\.ya?ml")
TEST_VALUES = re.compile(r".+-values\.ya?ml")
LOCKSTEP, PER_CHART = "lockstep", "per-chart"


@dataclass(frozen=True)
class FoundChart:
    name: str
    rel: str  # folder, relative to the repository
    version: str
    env_files: dict[str, str]  # environment -> values file name
    test_values: tuple[str, ...]  # chart-testing values files, relative to the chart (ci/x-values.yaml)


@dataclass(frozen=True)
class Findings:
    root: Path
    charts_dir: str
    charts: tuple[FoundChart, ...]

    @property
    def environments(self) -> dict[str, list[str]]:
        """Every environment any chart has a values file for, with the file names seen for it."""
        found: dict[str, list[str]] = {}
        for c in self.charts:
            for env, name in c.env_files.items():
                found.setdefault(env, [])
                if name not in found[env]:
                    found[env].append(name)
        return {env: sorted(found[env]) for env in sorted(found)}

    @property
    def versioning(self) -> str:
        return LOCKSTEP if len({c.version for c in self.charts}) == 1 else PER_CHART

    @property
    def version(self) -> str:
        return self.charts[0].version


def chart_folders(root: Path) -> list[Path]:
    """Folders with a Chart.yaml, except vendored subcharts (anything under a chart's charts/ or tmpcharts/)."""
    found: list[Path] = []
    for here, dirs, files in os.walk(root):
        folder = Path(here)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        if "Chart.yaml" in files:
            found.append(folder)
            dirs[:] = [d for d in dirs if d not in ("charts", "tmpcharts")]
    return found


def _chart(root: Path, folder: Path) -> FoundChart:
    chart = read_chart(folder, root)
    envs: dict[str, str] = {}
    for entry in sorted(folder.iterdir()):
        m = ENV_VALUES.fullmatch(entry.name)
        if m and entry.is_file():
            envs.setdefault(m.group(1), entry.name)
    ci = folder / "ci"
    tests = tuple(f"ci/{p.name}" for p in sorted(ci.iterdir()) if p.is_file() and TEST_VALUES.fullmatch(p.name)) \
        if ci.is_dir() else ()
    return FoundChart(chart.name, chart.rel, chart.version, envs, tests)


def discover(root: Path) -> Findings:
    """The repository's charts; they must sit side by side in one folder (chartship.charts.dir)."""
    folders = chart_folders(root)
    if not folders:
        raise ChartError(f"{root}: no chart found (no folder with a Chart.yaml); run `chartship init` in a repository "
                         "with Helm charts, or create one with `helm create`")
    if root.resolve() in {f.resolve() for f in folders}:
        raise ChartError(f"{root}/Chart.yaml: a chart at the top of the repository is not supported; move it into a "
                         "folder such as charts/<name>/ and run `chartship init` again")
    parents = sorted({f.parent.relative_to(root).as_posix() for f in folders})
    if len(parents) > 1:
        raise ChartError(f"charts in {len(parents)} folders ({', '.join(p + '/' for p in parents)}): chartship reads one "
                         "charts folder (chartship.charts.dir); move them side by side and run `chartship init` again")
    return Findings(root, parents[0], tuple(_chart(root, f) for f in folders))
