"""Branch builds: `helm.build --dev` / `helm.deploy --dev` package VERSION-<branch>.<run> into dist/charts
without changing a file of the working tree, reproducibly, and publish it without moving latest."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from chartship.registry import oci
from tests.helpers.pipeline import GIT, commit, git, invoke, new_repo, one_error_line, scaffold, sha256, snapshot, umbrella
from tests.helpers.registry import Registry

DEV = "0.1.0-feature-x.42"
CI = {"GITHUB_REF_NAME": "feature/x", "GITHUB_RUN_NUMBER": "42"}


@pytest.fixture
def origin(tmp_path: Path, helm_bin: Path, registry: Registry) -> Path:
    config = ("  app_version: follow\n"  # the dev version goes into appVersion too (the default is pinned)
              f"  default_target: reg\n  targets:\n    reg:\n      url: oci://{registry.host}/charts\n"
              "      plain_http: true\n")
    root = new_repo(tmp_path / "origin", config=config)
    scaffold(root, helm_bin, "web")
    umbrella(root, "suite", ["web"])
    (root / "tag-templates" / "dev-latest-tag-template").write_text("{BRANCH}-latest\n")
    commit(root, "init", when=1_700_000_000)
    return root


def clone(origin: Path, dest: Path) -> Path:
    subprocess.run([*GIT, "clone", "-q", str(origin), str(dest)], check=True)
    return dest


def chart_yaml(package: Path, member: str) -> dict[str, object]:
    with tarfile.open(package) as tar:
        f = tar.extractfile(member)
        assert f is not None
        data: dict[str, object] = yaml.safe_load(f.read())
        return data


def test_dev_build_packages_the_branch_version_and_leaves_the_tree_alone(origin: Path) -> None:
    before = snapshot(origin)
    proc = invoke(origin, "helm.build", "--dev", "--branch", "feature/x", "--run", "42", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["version"] == DEV
    assert sorted(p["file"] for p in data["packages"]) == [f"suite-{DEV}.tgz", f"web-{DEV}.tgz"]
    assert git(origin, "status", "--porcelain") == ""
    assert snapshot(origin) == before
    dist = origin / "dist" / "charts"
    web = chart_yaml(dist / f"web-{DEV}.tgz", "web/Chart.yaml")
    assert web["version"] == DEV and web["appVersion"] == DEV
    suite = chart_yaml(dist / f"suite-{DEV}.tgz", "suite/Chart.yaml")
    assert suite["version"] == DEV
    assert [d["version"] for d in suite["dependencies"]] == [DEV]  # type: ignore[attr-defined,index]
    assert chart_yaml(dist / f"suite-{DEV}.tgz", "suite/charts/web/Chart.yaml")["version"] == DEV  # the subchart too
    assert (origin / "version").read_text() == "0.1.0\n"


def test_branch_and_run_come_from_the_ci_environment(origin: Path) -> None:
    proc = invoke(origin, "helm.build", "--dev", "--chart", "web", "--json", env={"GITHUB_REF_NAME": "main",
                                                                                 "GITHUB_RUN_NUMBER": "7"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["version"] == "0.1.0-main.7"
    from_git = invoke(origin, "helm.build", "--dev", "--run", "8", "--chart", "web", "--json")
    assert from_git.returncode == 0, from_git.stderr
    assert json.loads(from_git.stdout)["version"] == "0.1.0-main.8"  # the branch git has checked out


def test_dev_build_mistakes_are_one_line(origin: Path) -> None:
    one_error_line(invoke(origin, "helm.build", "--dev", "--branch", "x"), "--dev needs a run number")
    one_error_line(invoke(origin, "helm.build", "--dev", "--latest", env=CI), "never moves the latest alias")
    one_error_line(invoke(origin, "helm.build", "--run", "3"), "--branch and --run only apply to a branch build")
    assert not (origin / "dist").exists()


def test_two_clones_give_identical_dev_packages(origin: Path, tmp_path: Path) -> None:
    sums = []
    for name in ("one", "two"):
        root = clone(origin, tmp_path / name)
        proc = invoke(root, "helm.build", "--dev", env=CI)
        assert proc.returncode == 0, proc.stderr
        sums.append((root / "dist/charts/SHA256SUMS").read_text())
        assert git(root, "status", "--porcelain") == ""
    assert sums[0] == sums[1] and sums[0].count("\n") == 2


def test_dev_deploy_publishes_without_moving_latest(origin: Path, tmp_path: Path, registry: Registry) -> None:
    one = clone(origin, tmp_path / "one")
    first = invoke(one, "helm.deploy", "--dev", "--json", env=CI)
    assert first.returncode == 0, first.stdout + first.stderr
    status = {(r["chart"], r["ref"].rsplit(":", 1)[1]): r["status"] for r in json.loads(first.stdout)["results"]}
    assert status == {("web", DEV): "pushed", ("suite", DEV): "pushed",
                      ("web", "feature-x-latest"): "aliased", ("suite", "feature-x-latest"): "aliased"}
    client = oci.Client(registry.host, plain_http=True)
    assert sorted(client.tags("charts/web")) == sorted([DEV, "feature-x-latest"])  # no latest, no 0.1.0
    assert git(one, "status", "--porcelain") == ""
    two = clone(origin, tmp_path / "two")
    uploads = registry.uploads()
    second = invoke(two, "helm.deploy", "--dev", "--json", env=CI)
    assert second.returncode == 0, second.stderr
    assert {r["status"] for r in json.loads(second.stdout)["results"]} == {"skipped"}  # same digests from a clone
    assert registry.uploads() == uploads and git(two, "status", "--porcelain") == ""
    for chart in ("web", "suite"):
        published = client.manifest(f"charts/{chart}", DEV)
        assert published is not None and published.layer_digest() == "sha256:" + sha256(
            two / "dist/charts" / f"{chart}-{DEV}.tgz")

    newer = invoke(two, "helm.deploy", "--dev", "--json", env={**CI, "GITHUB_RUN_NUMBER": "43"})
    assert newer.returncode == 0, newer.stderr
    alias = client.manifest("charts/web", "feature-x-latest")
    run43 = client.manifest("charts/web", "0.1.0-feature-x.43")
    assert alias is not None and run43 is not None and alias.digest == run43.digest
    older = invoke(two, "helm.deploy", "--dev", "--json", env=CI)
    assert older.returncode == 1
    refused = [r for r in json.loads(older.stdout)["results"] if r["status"] == "refused"]
    assert len(refused) == 2 and "feature-x-latest points at 0.1.0-feature-x.43" in refused[0]["message"]
    alias_after = client.manifest("charts/web", "feature-x-latest")
    assert alias_after is not None and alias_after.digest == run43.digest


def test_dev_notes_name_the_exact_reference_digest_and_install_command(origin: Path, registry: Registry) -> None:
    proc = invoke(origin, "helm.deploy", "--dev", env=CI)
    assert proc.returncode == 0, proc.stderr
    notes = invoke(origin, "helm.notes", env=CI)
    assert notes.returncode == 0, notes.stderr
    text = (origin / "dist" / "RELEASE_NOTES.md").read_text()
    digest = oci.Client(registry.host, plain_http=True).manifest("charts/web", DEV)
    assert digest is not None
    assert f"## web {DEV}" in text and f"`oci://{registry.host}/charts/web:{DEV}`" in text
    assert f"- Digest: `{digest.digest}`" in text
    assert f"helm install web oci://{registry.host}/charts/web --version {DEV} --plain-http" in text
    assert "- Alias tags: `feature-x-latest`" in text and "`latest`" not in text
    assert git(origin, "status", "--porcelain") == ""


def test_a_dev_build_is_not_pushed_as_the_release(origin: Path, registry: Registry) -> None:
    assert invoke(origin, "helm.build", "--dev", env=CI).returncode == 0
    one_error_line(invoke(origin, "helm.push", "--latest"), f"{DEV}, not 0.1.0; publish a branch build with --dev")
    one_error_line(invoke(origin, "helm.push", "--dev", env={**CI, "GITHUB_RUN_NUMBER": "41"}),
                   f"{DEV}, not 0.1.0-feature-x.41; run `invoke helm.build --dev`")
    assert oci.Client(registry.host, plain_http=True).tags("charts/web") == []
