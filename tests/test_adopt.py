"""chartship init on in-memory repositories: discovery, the files it writes, never overwriting,
its errors; and this repository being what init would write (tasks.py, hooks, chart sessions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from chartship import config as cfgmod
from chartship import configfile
from chartship.adopt import adopt, discover, render, write
from chartship.errors import ChartError, ConfigError


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


def test_charts_with_different_versions_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    chart(tmp_path / "charts" / "web", "0.1.0")
    chart(tmp_path / "charts" / "api", "0.2.0")
    assert discover.discover(tmp_path).versioning == "per-chart"
    before = tree(tmp_path)
    with pytest.raises(ChartError, match=r"different versions \(api 0.2.0, web 0.1.0\).*lockstep"):
        adopt.adopt(tmp_path, "0.1.0")
    assert tree(tmp_path) == before


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
