"""helm.build and helm.deps through the real `invoke` in temp git repos, with the helm in use."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers.pipeline import commit, git, helm, invoke, new_repo, one_error_line, scaffold, snapshot, umbrella


@pytest.fixture
def repo(tmp_path: Path, helm_bin: Path) -> Path:
    root = new_repo(tmp_path / "repo", config='  package_name: "{name}-helm-{TAG}.tgz"\n')
    scaffold(root, helm_bin, "web")
    scaffold(root, helm_bin, "api")
    umbrella(root, "suite", ["web", "api"])
    commit(root, "init")
    return root


def test_build_latest_writes_packages_sums_and_manifest(repo: Path, helm_bin: Path) -> None:
    (repo / "tag-templates/version-tag-template").write_text("v{VERSION}\n")
    before = snapshot(repo)
    result = invoke(repo, "helm.build", "--latest", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert snapshot(repo) == before, "build writes only dist/"
    dist = repo / "dist/charts"
    files = sorted(p.name for p in dist.iterdir())
    assert files == ["SHA256SUMS", "api-helm-latest.tgz", "api-helm-v0.1.0.tgz", "manifest.json", "suite-helm-latest.tgz",
                     "suite-helm-v0.1.0.tgz", "web-helm-latest.tgz", "web-helm-v0.1.0.tgz"]
    manifest = json.loads((dist / "manifest.json").read_text())["packages"]
    web = [e for e in manifest if e["chart"] == "web"]
    assert {(e["file"], e["version"], e["tag"], e["kind"], e["path"]) for e in web} == {
        ("web-helm-v0.1.0.tgz", "0.1.0", "v0.1.0", "version", "dist/charts/web-helm-v0.1.0.tgz"),
        ("web-helm-latest.tgz", "0.1.0", "latest", "latest", "dist/charts/web-helm-latest.tgz"),
    }
    sums = (dist / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == 6 and all(len(line.split("  ")[0]) == 64 for line in sums)
    assert {line.split("  ")[1]: line.split("  ")[0] for line in sums} == {e["file"]: e["sha256"] for e in manifest}
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    assert "web-helm-v0.1.0.tgz" in result.stdout and "sha256sum -c SHA256SUMS" in result.stdout
    # the package is a normal chart archive: helm reads name and real version from it
    shown = helm(helm_bin, "show", "chart", str(dist / "suite-helm-latest.tgz"))
    assert "name: suite" in shown and "version: 0.1.0" in shown


def test_build_selected_chart_replaces_dist(repo: Path) -> None:
    assert invoke(repo, "helm.build").returncode == 0
    result = invoke(repo, "helm.build", "--chart", "web", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [p["file"] for p in data["packages"]] == ["web-helm-0.1.0.tgz"]
    assert sorted(p.name for p in (repo / "dist/charts").iterdir()) == ["SHA256SUMS", "manifest.json", "web-helm-0.1.0.tgz"]


def test_build_refuses_when_versions_disagree(repo: Path) -> None:
    (repo / "version").write_text("0.2.0\n")
    result = invoke(repo, "helm.build")
    one_error_line(result, "version file says 0.2.0 but charts/api/Chart.yaml version is '0.1.0'")
    assert "run `invoke version.sync`" in result.stderr
    assert not (repo / "dist").exists()


def test_lint_failure_leaves_dist_untouched(repo: Path) -> None:
    assert invoke(repo, "helm.build").returncode == 0
    before = {p.name: p.read_bytes() for p in (repo / "dist/charts").iterdir()}
    (repo / "charts/api/values-prod.yaml").write_text("replicaCount: 0\n")
    result = invoke(repo, "helm.build")
    assert result.returncode == 1
    one_error_line(result, "lint failed for api; nothing was packaged")
    assert "charts/api values-prod.yaml: $.replicaCount: 0 is less than the minimum of 1" in result.stdout
    assert {p.name: p.read_bytes() for p in (repo / "dist/charts").iterdir()} == before
    assert not list((repo / "dist").glob(".charts-staging-*"))
    # --no-lint packages anyway (helm package itself does not validate the prod values)
    assert invoke(repo, "helm.build", "--no-lint").returncode == 0


def test_template_error_fails_build(repo: Path) -> None:
    (repo / "charts/web/templates/bad.yaml").write_text("{{ if }}\n")
    git(repo, "add", "charts/web/templates/bad.yaml")  # the build uses the files git would check out
    result = invoke(repo, "helm.build", "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["lint"]["charts"]["web"]["helm-lint"]["status"] == "failed"
    assert not (repo / "dist").exists()


def test_deps_writes_only_archives_and_respects_lock(repo: Path, helm_bin: Path) -> None:
    before = snapshot(repo)
    result = invoke(repo, "helm.deps")
    assert result.returncode == 0, result.stderr
    assert "charts/suite/charts: api-0.1.0.tgz, web-0.1.0.tgz" in result.stdout
    after = snapshot(repo)
    assert sorted(set(after) - set(before)) == ["charts/suite/charts/api-0.1.0.tgz", "charts/suite/charts/web-0.1.0.tgz"]
    assert all(after[k] == v for k, v in before.items())
    # with a committed Chart.lock: kept as it is
    helm(helm_bin, "dependency", "update", str(repo / "charts/suite"))
    lock = (repo / "charts/suite/Chart.lock").read_bytes()
    commit(repo, "lock")
    assert invoke(repo, "helm.deps", "--chart", "suite").returncode == 0
    assert (repo / "charts/suite/Chart.lock").read_bytes() == lock
    # Chart.yaml changed but the lock did not
    chart = repo / "charts/suite/Chart.yaml"
    chart.write_text(chart.read_text().replace("name: api\n", "name: api\n    alias: backend\n"))
    for task in ("helm.deps", "helm.build"):
        one_error_line(invoke(repo, task), "charts/suite/Chart.lock is out of date with charts/suite/Chart.yaml: "
                                           "run `helm dependency update charts/suite`")


def test_missing_dependency_and_missing_helm(repo: Path) -> None:
    chart = repo / "charts/suite/Chart.yaml"
    chart.write_text(chart.read_text() + "  - name: gone\n    version: 0.1.0\n    repository: file://../gone\n")
    one_error_line(invoke(repo, "helm.deps"), "charts/suite/Chart.yaml: dependency 'gone' points to file://../gone, "
                                              "which has no Chart.yaml")
    lint = invoke(repo, "helm.lint", "--chart", "suite", "--json")
    assert lint.returncode == 1
    assert json.loads(lint.stdout)["charts"]["suite"]["prepare"]["status"] == "failed"
    one_error_line(invoke(repo, "helm.build", "--chart", "web", env={"HELM_BIN": "/nonexistent/helm"}),
                   "HELM_BIN=/nonexistent/helm: no such file")
    one_error_line(invoke(repo, "helm.build", "--chart", "nope"), "unknown chart 'nope'")


def test_unreachable_oci_dependency(repo: Path) -> None:
    chart = repo / "charts/suite/Chart.yaml"
    chart.write_text(chart.read_text() + "  - name: remote\n    version: 1.0.0\n    repository: oci://127.0.0.1:9/charts\n")
    result = invoke(repo, "helm.deps")
    one_error_line(result, "charts/suite: dependency remote 1.0.0 from oci://127.0.0.1:9/charts: not under "
                           "charts/suite/charts/; and helm could not fetch it (could not download")
