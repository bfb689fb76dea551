"""Changed-chart selection in real temp git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from chartship import config
from chartship.charts import changes, chart
from chartship.errors import ChartshipError
from tests.helpers.charts import write_charts
from tests.helpers.pipeline import GIT, commit, git, invoke, new_repo, one_error_line


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main with app, cache and umbrella (file:// -> app, cache), plus a feature branch checked out."""
    root = new_repo(tmp_path / "repo")
    write_charts(root)
    (root / "charts/solo/templates").mkdir(parents=True)
    (root / "charts/solo/Chart.yaml").write_text("apiVersion: v2\nname: solo\nversion: 0.9.0\n")
    commit(root, "init")
    git(root, "checkout", "-q", "-b", "feature")
    return root


def changed(root: Path, ref: str | None = None) -> changes.Changes:
    cfg = config.load(root, environ={})
    return changes.changed(cfg, chart.discover(cfg), ref)


def test_nothing_changed(repo: Path) -> None:
    found = changed(repo)
    assert found.charts == () and found.ref == "main"


def test_committed_change_in_subchart_marks_umbrella(repo: Path) -> None:
    (repo / "charts/app/values.yaml").write_text("replicaCount: 2\n")
    commit(repo)
    found = changed(repo)
    assert found.charts == ("app", "umbrella")
    assert found.reasons == {"app": "charts/app/values.yaml changed", "umbrella": "file:// dependency app changed"}


def test_staged_unstaged_and_untracked_count(repo: Path) -> None:
    (repo / "charts/cache/values.yaml").write_text("replicaCount: 3\n")  # unstaged
    assert changed(repo).charts == ("cache", "umbrella")
    git(repo, "add", "charts/cache/values.yaml")  # staged
    assert changed(repo).charts == ("cache", "umbrella")
    git(repo, "reset", "-q", "--hard")
    (repo / "charts/solo/templates/new.yaml").write_text("kind: ConfigMap\n")  # untracked
    assert changed(repo).charts == ("solo",)
    (repo / "charts/solo/templates/new.yaml").unlink()
    (repo / ".gitignore").write_text("dist/\n*.tmp\n")
    commit(repo)
    (repo / "charts/app/scratch.tmp").write_text("ignored\n")
    assert changed(repo).charts == (), "ignored files do not count"


def test_deleted_and_renamed_files(repo: Path) -> None:
    git(repo, "mv", "charts/solo/Chart.yaml", "charts/solo/Chart.yml")
    git(repo, "mv", "charts/solo/Chart.yml", "charts/solo/Chart.yaml")
    (repo / "charts/app/values.yaml").unlink()
    assert changed(repo).charts == ("app", "umbrella")


def test_changes_on_main_after_branching_do_not_count(repo: Path) -> None:
    git(repo, "checkout", "-q", "main")
    (repo / "charts/solo/values.yaml").write_text("a: 1\n")
    commit(repo, "main moves on")
    git(repo, "checkout", "-q", "feature")
    (repo / "charts/cache/values.yaml").write_text("b: 2\n")
    commit(repo, "feature work")
    assert changed(repo).charts == ("cache", "umbrella")  # diff against the merge-base, not main's tip


def test_patch_series_change_marks_chart(repo: Path) -> None:
    (repo / "patches/cache").mkdir(parents=True)
    (repo / "patches/cache/0001-x.patch").write_text("")
    assert changed(repo).charts == ("cache", "umbrella")


def test_other_files_and_explicit_ref(repo: Path) -> None:
    (repo / "README.md").write_text("docs\n")
    commit(repo)
    assert changed(repo).charts == ()
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    (repo / "charts/solo/values.yaml").write_text("a: 1\n")
    commit(repo)
    assert changed(repo, first).charts == ("solo",)
    assert changed(repo, "HEAD").charts == ()


def test_unknown_ref_and_not_a_repo(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(ChartshipError, match=r"unknown git ref 'nope'.*`git fetch origin \+nope:refs/remotes/origin/nope`"):
        changed(repo, "nope")
    plain = tmp_path / "plain"
    write_charts(plain)
    (plain / "version").write_text("0.9.0\n")
    with pytest.raises(ChartshipError, match="not a git checkout: select charts with --chart NAME or --all"):
        changed(plain)


def test_unrelated_history(repo: Path) -> None:
    git(repo, "checkout", "-q", "--orphan", "other")
    commit(repo, "orphan")
    with pytest.raises(ChartshipError, match="no common history"):
        changed(repo, "main")


def test_base_branch_from_origin(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run([*GIT, "clone", "-q", "--branch", "feature", str(repo), str(clone)], check=True)
    # no local main in the clone, only origin/main
    (clone / "charts/solo/values.yaml").write_text("a: 1\n")
    assert changed(clone).charts == ("solo",)


def test_shallow_clone_names_unshallow(repo: Path, tmp_path: Path) -> None:
    (repo / "charts/app/values.yaml").write_text("replicaCount: 5\n")
    commit(repo, "feature 1")
    (repo / "charts/app/values.yaml").write_text("replicaCount: 6\n")
    commit(repo, "feature 2")
    clone = tmp_path / "shallow"
    subprocess.run([*GIT, "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{repo}", str(clone)], check=True)
    subprocess.run([*GIT, "-C", str(clone), "checkout", "-q", "feature"], check=True)
    with pytest.raises(ChartshipError, match=r"shallow clone; run `git fetch --unshallow`"):
        changed(clone)
    result = invoke(clone, "helm.lint")
    one_error_line(result, "git fetch --unshallow")
    subprocess.run([*GIT, "-C", str(clone), "fetch", "-q", "--unshallow"], check=True)
    assert changed(clone).charts == ("app", "umbrella")
