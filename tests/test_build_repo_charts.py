"""The pipeline on this repository's own charts (core-pipeline, redis, platform), copied into a temp git repo.

Runs once the charts exist (they are written by the charts work); uses the real files, no mocks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.helpers.pipeline import commit, copy_repo_charts, invoke, new_repo, snapshot

if not all((ROOT / "charts" / n / "Chart.yaml").is_file() for n in ("core-pipeline", "redis", "platform")):
    pytest.skip("this repository's charts are not there yet", allow_module_level=True)
pytestmark = pytest.mark.needs_helm  # every test lints or builds through invoke


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = new_repo(tmp_path_factory.mktemp("repo-charts") / "repo")
    assert copy_repo_charts(root)
    shutil.copy2(ROOT / "invoke.yaml", root / "invoke.yaml")
    commit(root)
    return root


def test_lint_all_passes(repo: Path) -> None:
    result = invoke(repo, "helm.lint", "--all", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    charts = json.loads(result.stdout)["charts"]
    assert set(charts) == {"core-pipeline", "redis", "platform"}
    for name, checks in charts.items():
        assert checks["helm-lint"]["status"] == "ok", (name, checks)
        assert checks["chart.yaml"]["status"] == "ok", (name, checks)


def test_build_and_dry_run(repo: Path) -> None:
    before = snapshot(repo)
    built = invoke(repo, "helm.build", "--latest", "--json")
    assert built.returncode == 0, built.stderr
    assert snapshot(repo) == before
    files = {p["file"] for p in json.loads(built.stdout)["packages"]}
    version = (repo / "version").read_text().strip()
    assert {f"platform-{version}.tgz", "platform-latest.tgz", f"core-pipeline-{version}.tgz", f"redis-{version}.tgz"} <= files
    tested = invoke(repo, "helm.test", "--json")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    envs = {(c["chart"], c["env"]) for c in json.loads(tested.stdout)["cases"]}
    assert {("core-pipeline", "prod"), ("platform", "staging"), ("redis", "defaults")} <= envs


def test_schema_violation_in_prod_values(repo: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(repo, work)
    prod = work / "charts/core-pipeline/values-prod.yaml"
    text = prod.read_text()
    assert "\nreplicaCount: " in text
    prod.write_text("".join("replicaCount: -1\n" if ln.startswith("replicaCount:") else ln
                            for ln in text.splitlines(keepends=True)))
    result = invoke(work, "helm.lint", "--chart", "core-pipeline", "--json")
    assert result.returncode == 1
    schema = json.loads(result.stdout)["charts"]["core-pipeline"]["schema"]
    assert schema["status"] == "failed"
    assert any(m.startswith("charts/core-pipeline values-prod.yaml: $.replicaCount: -1 ") for m in schema["messages"]), schema
