"""helm.unittest with the real helm-unittest plugin (built from its Go module at the pinned
version) and real helm (HELM_BIN: 3 or 4): our charts' suites pass, a failing assertion fails
the chart with the test named, a chart without suites says so, JUnit and GitHub reports."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chartship.errors import ToolError
from chartship.tools import peers, plugins
from tests.helpers.registry import invoke

FAILING_SUITE = """suite: deliberately wrong
templates:
  - templates/statefulset.yaml
tests:
  - it: claims two replicas
    asserts:
      - equal:
          path: spec.replicas
          value: 2
"""


@pytest.fixture(scope="module")
def plugin(project_root: Path) -> Path:
    """The pinned plugin in the project's private folder (built once per machine, then cached)."""
    try:
        peers.plugin_env(project_root, "helm-unittest")
    except ToolError:
        peers.install(project_root, ["helm-unittest"])
    return project_root / plugins.PLUGINS_DIR


@pytest.fixture
def project(tmp_path: Path, project_root: Path, plugin: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("tasks.py", "version", "tag-templates", "invoke.yaml", ".yamllint.yaml"):
        src = project_root / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / name)
    shutil.copytree(project_root / "charts", root / "charts", ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"))
    (root / ".tools").mkdir()
    (root / ".tools" / "helm-plugins").symlink_to(plugin)
    return root


def test_our_charts_suites_pass_with_results_per_suite(project: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = invoke(project, "helm.unittest", "--json", "--junit", "reports/unittest.xml",
                    env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true"})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"]
    by_chart = {c["chart"]: c for c in data["charts"]}
    assert {c: r["status"] for c, r in by_chart.items()} == {"core-pipeline": "ok", "platform": "ok", "redis": "ok"}
    files = {s["file"] for s in by_chart["core-pipeline"]["suites"]}
    assert files == {f"charts/core-pipeline/tests/{n}_test.yaml" for n in ("deployment", "hpa", "ingress", "pdb")}
    assert {s["file"] for s in by_chart["platform"]["suites"]} == {"charts/platform/tests/umbrella_test.yaml"}
    assert all(t["status"] == "ok" for c in data["charts"] for s in c["suites"] for t in s["tests"])
    tests = sum(len(s["tests"]) for c in data["charts"] for s in c["suites"])
    suites = ET.parse(project / "reports/unittest.xml").getroot()
    assert suites.get("tests") == str(tests) and suites.get("failures") == "0"
    assert "✅ chartship helm.unittest" in summary.read_text()
    assert "::error" not in result.stderr


def test_a_failing_assertion_fails_the_chart_and_is_annotated(project: Path, tmp_path: Path) -> None:
    (project / "charts/redis/tests/wrong_test.yaml").write_text(FAILING_SUITE)
    summary = tmp_path / "summary.md"
    result = invoke(project, "helm.unittest", "--chart", "redis", "--junit", "u.xml",
                    env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true"})
    assert result.returncode == 1
    assert "error: helm.unittest failed for redis" in result.stderr
    assert "Traceback" not in result.stderr
    assert "redis deliberately wrong / claims two replicas:" in result.stdout
    annotations = [ln for ln in result.stderr.splitlines() if ln.startswith("::error ")]
    assert len(annotations) == 1
    assert annotations[0].startswith("::error file=charts/redis/tests/wrong_test.yaml,title=redis deliberately wrong x "
                                     "claims two replicas::")
    case = ET.parse(project / "u.xml").getroot().find(".//testcase[failure]")
    assert case is not None and case.get("name") == "deliberately wrong x claims two replicas"
    assert "❌ chartship helm.unittest: 7 passed, 1 failed" in summary.read_text()


def test_a_chart_without_suites_is_reported_as_such_not_as_a_pass(project: Path) -> None:
    shutil.rmtree(project / "charts/redis/tests")
    result = invoke(project, "helm.unittest", "--chart", "redis", "--json", "--junit", "u.xml")
    assert result.returncode == 0, result.stderr
    (run,) = json.loads(result.stdout)["charts"]
    assert (run["status"], run["suites"]) == ("no suites", [])
    assert run["message"] == "no file matches tests/*_test.yaml, unittests/*_test.yaml"
    root = ET.parse(project / "u.xml").getroot()
    assert (root.get("tests"), root.get("skipped"), root.get("failures")) == ("1", "1", "0")


def test_globs_are_configurable_and_update_snapshot_writes_back(project: Path) -> None:
    suites = project / "charts/redis/tests"
    moved = project / "charts/redis/checks"
    suites.rename(moved)
    (moved / "snap_test.yaml").write_text(
        "suite: snapshot\ntemplates:\n  - templates/service.yaml\ntests:\n  - it: matches\n    asserts:\n"
        "      - matchSnapshot: {}\n")
    none = invoke(project, "helm.unittest", "--chart", "redis", "--json")
    assert json.loads(none.stdout)["charts"][0]["status"] == "no suites"
    updated = invoke(project, "helm.unittest", "--chart", "redis", "--file", "checks/*_test.yaml", "--update-snapshot",
                     "--json")
    assert updated.returncode == 0, updated.stderr
    assert len(json.loads(updated.stdout)["charts"][0]["suites"]) == 3
    snapshot = moved / "__snapshot__" / "snap_test.yaml.snap"
    assert snapshot.is_file() and "kind: Service" in snapshot.read_text()
    again = invoke(project, "helm.unittest", "--chart", "redis", "--json", env={"CHARTSHIP_UNITTEST_GLOBS": "checks/*_test.yaml"})
    assert again.returncode == 0, again.stderr


def test_packages_leave_the_suites_out_but_keep_helm_test_hooks(project_root: Path, helm_bin: Path, tmp_path: Path) -> None:
    subprocess.run([str(helm_bin), "package", str(project_root / "charts/core-pipeline"), "-d", str(tmp_path)],
                   check=True, capture_output=True)
    (archive,) = tmp_path.glob("*.tgz")
    names = subprocess.run(["tar", "tzf", str(archive)], capture_output=True, text=True, check=True).stdout.split()
    assert "core-pipeline/templates/tests/test-connection.yaml" in names
    assert not [n for n in names if n.startswith("core-pipeline/tests/")]


def test_the_plugin_is_missing_until_installed(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"helm plugin unittest is not installed; run `invoke tools.install --peers`"):
        peers.plugin_env(tmp_path, "helm-unittest")
