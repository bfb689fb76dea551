"""A synthetic chartship repository for the benchmarks: a real git repository with this
repository's tasks.py, invoke.yaml, version, tag-templates and .yamllint.yaml, this
repository's charts (core-pipeline, redis, platform) and `helm create` scaffolds up to N charts.

Every scaffold gets the version file's version (appVersion follows it), a small
values.schema.json and two environment files (values-dev.yaml, values-prod.yaml), so
helm.lint runs `helm lint --strict` three times per scaffold, as for a real service chart.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
OUR_CHARTS = ("core-pipeline", "redis", "platform")
PROJECT_FILES = ("tasks.py", "invoke.yaml", "version", ".yamllint.yaml")
LOCAL_URL = re.compile(r"oci://127\.0\.0\.1:\d+/charts")
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "init.defaultBranch=main",
       "-c", "commit.gpgsign=false"]
SCHEMA = """{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "replicaCount": {"type": "integer", "minimum": 1},
    "image": {"type": "object", "properties": {"tag": {"type": "string"}}}
  }
}
"""


def _git(root: Path, *args: str) -> None:
    subprocess.run([*GIT, "-C", str(root), *args], check=True, capture_output=True, text=True)


def _ignore_built(folder: str, names: list[str]) -> set[str]:
    """Leave out what is never committed: vendored dependency archives and Chart.lock of file:// deps."""
    skip = {n for n in names if n in {"tmpcharts", ".git"}}
    if Path(folder).name == "charts" and (Path(folder).parent / "Chart.yaml").is_file():
        skip |= {n for n in names if n.endswith(".tgz")}
    return skip


def _scaffold(helm: Path, charts: Path, name: str, version: str) -> None:
    subprocess.run([str(helm), "create", name], cwd=charts, check=True, capture_output=True)
    d = charts / name
    text = (d / "Chart.yaml").read_text()
    text = re.sub(r"(?m)^version: .*$", f"version: {version}", text)
    text = re.sub(r"(?m)^appVersion: .*$", f'appVersion: "{version}"', text)
    (d / "Chart.yaml").write_text(text)
    (d / "values.schema.json").write_text(SCHEMA)
    (d / "values-dev.yaml").write_text("replicaCount: 1\n")
    (d / "values-prod.yaml").write_text("replicaCount: 3\n")


def make(root: Path, charts: int, helm: Path, registry_port: int = 5000) -> Path:
    """Create the repository at ``root`` with ``charts`` charts in total (at least our 3) and commit it."""
    if charts < len(OUR_CHARTS):
        raise ValueError(f"--charts must be at least {len(OUR_CHARTS)} (the repository's own charts)")
    root.mkdir(parents=True)
    for name in PROJECT_FILES:
        if (PROJECT / name).is_file():
            shutil.copy2(PROJECT / name, root / name)
    shutil.copytree(PROJECT / "tag-templates", root / "tag-templates")
    (root / ".gitignore").write_text("dist/\n.cache/\ncharts/*/charts/*.tgz\n")
    set_registry_port(root, registry_port)
    version = (root / "version").read_text().strip()
    chart_dir = root / "charts"
    chart_dir.mkdir()
    for name in OUR_CHARTS:
        shutil.copytree(PROJECT / "charts" / name, chart_dir / name, ignore=_ignore_built)
    names = [f"svc-{i:03d}" for i in range(1, charts - len(OUR_CHARTS) + 1)]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        list(pool.map(lambda n: _scaffold(helm, chart_dir, n, version), names))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "synthetic repository")
    return root


def set_registry_port(root: Path, port: int) -> None:
    """Point the `local` target (oci://127.0.0.1:PORT/charts, plain_http) at ``port``."""
    path = root / "invoke.yaml"
    text, n = LOCAL_URL.subn(f"oci://127.0.0.1:{port}/charts", path.read_text())
    if n != 1:
        raise ValueError(f"{path}: expected one local target url oci://127.0.0.1:PORT/charts, found {n}")
    path.write_text(text)


def chart_names(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / "charts").glob("*/Chart.yaml"))


def empty_tasks_project(root: Path) -> Path:
    """A folder with an empty tasks.py: the baseline for `invoke --list`."""
    root.mkdir(parents=True)
    (root / "tasks.py").write_text("")
    return root
