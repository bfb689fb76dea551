"""chartship init on in-memory repositories: discovery, the files it writes, never overwriting,
its errors; and this repository being what init would write (tasks.py, hooks, chart sessions)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartship import config as cfgmod
from chartship import configfile
from chartship.adopt import adopt, discover, render, write
from chartship.errors import ChartError, ConfigError
from chartship.tools import registry_server
from tests.helpers import free_port


def chart(folder: Path, version: str = "0.1.0", **files: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {folder.name}\nversion: {version}\n")
    (folder / "values.yaml").write_text("replicaCount: 1\n")
    for name, text in files.items():
        path = folder / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("base", ["charts", "deploy/charts", "helm"])
def test_charts_are_found_wherever_they_are_and_vendored_subcharts_are_not(tmp_path: Path, base: str) -> None:
    chart(tmp_path / base / "web", **{"values-dev.yaml": "", "values-prod.yaml": "", "values-Prod.txt": ""})
    chart(tmp_path / base / "api", **{"ci__small-values.yaml": "", "ci__notes.md": ""})
    chart(tmp_path / base / "web" / "charts" / "redis", "9.9.9")  # vendored subchart: not adopted
    chart(tmp_path / "node_modules" / "x" / "y")  # never a repository's own chart
    found = discover.discover(tmp_path)
    assert found.charts_dir == base
    assert [(c.name, c.rel) for c in found.charts] == [("api", f"{base}/api"), ("web", f"{base}/web")]
    assert found.environments == {"dev": ["values-dev.yaml"], "prod": ["values-prod.yaml"]}
    assert [c.test_values for c in found.charts] == [("ci/small-values.yaml",), ()]
    assert (found.versioning, found.version) == ("lockstep", "0.1.0")


def test_init_writes_a_configuration_chartship_loads_and_changes_no_chart_file(tmp_path: Path) -> None:
    chart(tmp_path / "deploy" / "charts" / "web", "1.2.3", **{"values-dev.yaml": "replicaCount: 2\n"})
    charts_before = tree(tmp_path / "deploy")
    result = adopt.adopt(tmp_path, "0.1.0", port=5123)
    assert [o.status for o in result.outcomes] == [write.WRITTEN] * len(result.outcomes)
    assert tree(tmp_path / "deploy") == charts_before
    cfg = cfgmod.load(tmp_path, environ={})
    assert (cfg.charts_dir, cfg.app_version, dict(cfg.environments)) == ("deploy/charts", "pinned", {"dev": ("values-dev.yaml",)})
    assert cfg.target().url == "oci://127.0.0.1:5123/charts"
    assert (tmp_path / "version").read_text() == "1.2.3\n"
    assert (tmp_path / "requirements-chartship.txt").read_text().endswith("chartship==0.1.0\n")
    written = tree(tmp_path)
    again = adopt.adopt(tmp_path, "0.1.0", port=5123)
    assert {o.status for o in again.outcomes} == {write.UNCHANGED}
    assert tree(tmp_path) == written


def test_an_existing_file_is_kept_and_its_difference_shown_unless_forced(tmp_path: Path) -> None:
    chart(tmp_path / "charts" / "web")
    (tmp_path / ".gitignore").write_text("*.log\n")
    (tmp_path / "tasks.py").write_text("# our tasks\n")
    dry = adopt.adopt(tmp_path, "0.1.0", dry_run=True)
    assert not (tmp_path / "invoke.yaml").exists()
    assert {o.path: o.status for o in dry.outcomes}["invoke.yaml"] == write.WRITTEN
    kept = {o.path: o for o in adopt.adopt(tmp_path, "0.1.0").outcomes}
    assert kept["tasks.py"].status == write.DIFFERS and kept[".gitignore"].status == write.DIFFERS
    assert "-# our tasks" in kept["tasks.py"].diff and "+ns = namespace(" in kept["tasks.py"].diff
    assert (tmp_path / "tasks.py").read_text() == "# our tasks\n"
    forced = {o.path: o.status for o in adopt.adopt(tmp_path, "0.1.0", force=True).outcomes}
    assert forced["tasks.py"] == write.REPLACED and forced["invoke.yaml"] == write.UNCHANGED
    assert (tmp_path / "tasks.py").read_text() == render.template("tasks.py.tmpl")


def test_charts_with_different_versions_get_per_chart_versioning_and_no_version_file(tmp_path: Path) -> None:
    chart(tmp_path / "charts" / "web", "0.1.0")
    chart(tmp_path / "charts" / "api", "0.2.0")
    assert discover.discover(tmp_path).versioning == "per-chart"
    before = tree(tmp_path)
    done = {o.path: o.status for o in adopt.adopt(tmp_path, "0.1.0").outcomes}
    assert "version" not in done and not (tmp_path / "version").exists()
    assert done["invoke.yaml"] == write.WRITTEN
    cfg = cfgmod.load(tmp_path, environ={})
    assert cfg.versioning == "per-chart"
    assert {n: cfg.chart_settings(n).versioning for n in ("web", "api")} == {"web": "own", "api": "own"}
    assert "charts/*/Chart.lock" not in (tmp_path / ".gitignore").read_text()
    assert {k: v for k, v in tree(tmp_path).items() if k.startswith("charts/")} == before  # no chart file changed


def test_charts_with_one_version_get_lockstep_and_a_version_file(tmp_path: Path) -> None:
    chart(tmp_path / "charts" / "web", "0.3.0")
    chart(tmp_path / "charts" / "api", "0.3.0")
    adopt.adopt(tmp_path, "0.1.0")
    assert (tmp_path / "version").read_text() == "0.3.0\n"
    assert cfgmod.load(tmp_path, environ={}).versioning == "lockstep"
    assert "Chart.lock" not in (tmp_path / ".gitignore").read_text()


@pytest.mark.parametrize(("layout", "message"), [
    ((), "no chart found"),
    (("charts/a", "helm/b"), r"charts in 2 folders \(charts/, helm/\)"),
    (("",), "a chart at the top of the repository is not supported"),
])
def test_repositories_init_cannot_adopt_are_one_clear_error(tmp_path: Path, layout: tuple[str, ...], message: str) -> None:
    for rel in filter(None, layout):
        chart(tmp_path / rel)
    if layout == ("",):
        (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: top\nversion: 0.1.0\n")
    with pytest.raises(ChartError, match=message):
        adopt.adopt(tmp_path, "0.1.0")
    assert not (tmp_path / "invoke.yaml").exists()


def test_no_configuration_suggests_init_and_an_empty_charts_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no chartship configuration found in .* run `chartship init`"):
        configfile.find_root(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "invoke.yaml").write_text("chartship:\n  charts:\n    dir: deploy/charts\n")
    assert configfile.find_root(tmp_path / "sub") == tmp_path
    from chartship.charts import chart as chartmod

    cfg = cfgmod.load(tmp_path, environ={})
    with pytest.raises(ConfigError, match=r"chartship.charts.dir: 'deploy/charts' holds no chart"):
        chartmod.discover(cfg)
    assert chartmod.discover(cfgmod.load(tmp_path / "sub", environ={})) == []  # the built-in default may be empty


def test_this_repository_is_what_init_writes(project_root: Path) -> None:
    assert (project_root / "tasks.py").read_text() == render.template("tasks.py.tmpl")
    assert (project_root / ".pre-commit-config.yaml").read_text() == render.template("pre-commit-config.yaml.tmpl")
    ours = {n.name: n for n in ast.parse((project_root / "noxfile.py").read_text()).body if isinstance(n, ast.FunctionDef)}
    template = [n for n in ast.parse(render.template("noxfile.py.tmpl")).body if isinstance(n, ast.FunctionDef)]
    for fn in template:
        if fn.name == "lint":  # ours adds the code checks to the chart checks
            calls = {c.func.id for c in ast.walk(ours["lint"]) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
            assert "chart_checks" in calls
        else:
            assert ast.dump(ours[fn.name]) == ast.dump(fn), fn.name


GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


def _chartship(root: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "GITHUB_", "CI_"))}
    result = subprocess.run([sys.executable, "-m", "chartship", *args], cwd=root, env=env, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, f"chartship {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture
def two_versions(tmp_path: Path, helm_bin: Path) -> Iterator[Path]:
    """A team's repository: two `helm create` charts with versions of their own (web 1.4.0, api 0.7.2), committed."""
    root = tmp_path / "team"
    charts = root / "deploy" / "charts"
    charts.mkdir(parents=True)
    for name, version in (("web", "1.4.0"), ("api", "0.7.2")):
        subprocess.run([str(helm_bin), "create", str(charts / name)], check=True, capture_output=True, timeout=60)
        meta = charts / name / "Chart.yaml"
        meta.write_text(meta.read_text().replace("\nversion: 0.1.0\n", f"\nversion: {version}\n"))
    (charts / "web" / "values-prod.yaml").write_text("replicaCount: 2\n")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*GIT, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(root), "commit", "-qm", "our charts"], check=True)
    yield root
    registry_server.stop(root / ".cache" / "registry")


def test_init_adopts_charts_with_different_versions_through_to_deploy(two_versions: Path) -> None:
    root = two_versions
    charts_before = {k: v for k, v in tree(root).items() if k.startswith("deploy/")}
    port = free_port()
    said = _chartship(root, "init", "--port", str(port))
    assert "versioning: per-chart (the charts have different versions: each Chart.yaml keeps its own" in said
    assert not (root / "version").exists()
    assert "versioning: per-chart" in (root / "invoke.yaml").read_text()
    assert "Chart.lock" not in (root / ".gitignore").read_text()
    checked = _chartship(root, "version.check")
    assert "each chart's own version, 2 chart(s) in step" in checked, checked
    assert _chartship(root, "version.show", "--chart", "api").strip() == "0.7.2"
    _chartship(root, "helm.lint", "--all")
    _chartship(root, "helm.build")
    assert sorted(p.name for p in (root / "dist" / "charts").glob("*.tgz")) == ["api-0.7.2.tgz", "web-1.4.0.tgz"]
    deployed = json.loads(_chartship(root, "helm.deploy", "--latest", "--json"))
    assert deployed["ok"], deployed
    statuses = {(r["chart"], r["ref"].rsplit(":", 1)[1]): r["status"] for r in deployed["results"]}
    assert statuses == {("api", "0.7.2"): "pushed", ("api", "latest"): "aliased",
                        ("web", "1.4.0"): "pushed", ("web", "latest"): "aliased"}
    assert registry_server.answering("127.0.0.1", port)  # the embedded registry, started on demand
    assert {k: v for k, v in tree(root).items() if k.startswith("deploy/")} == charts_before  # no chart file changed
