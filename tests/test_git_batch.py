"""git.last_commit_times (one git log for every chart) answers what git.last_commit_time answers per chart:
real git in a temp repository, with renamed, untracked, never-committed, modified, deleted and patched charts,
merges, a sub-folder project, a shallow clone and a repository without commits."""

from __future__ import annotations

import subprocess
from pathlib import Path

from chartship.build import cache
from chartship.charts import chart as chartmod
from chartship.config import load
from chartship.tools import git
from tests.helpers.pipeline import GIT
from tests.helpers.pipeline import git as run_git


def commit(root: Path, message: str, when: int) -> None:
    env = {"GIT_AUTHOR_DATE": f"@{when} +0000", "GIT_COMMITTER_DATE": f"@{when} +0000"}
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", message, "--allow-empty", env=env)


def write(root: Path, rel: str, text: str = "x\n") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


GROUPS = {name: [f"charts/{name}", f"patches/{name}"]
          for name in ("a", "b", "c", "renamed", "old", "untracked", "never", "modified", "deleted", "ab")}


def per_chart(root: Path) -> dict[str, int | None]:
    return {name: git.last_commit_time(root, *paths) for name, paths in GROUPS.items()}


def linear_repo(root: Path) -> Path:
    subprocess.run([*GIT, "init", "-q", "-b", "main", str(root)], check=True)
    for name in ("a", "b", "old", "modified", "deleted", "ab"):
        write(root, f"charts/{name}/Chart.yaml")
    commit(root, "first", 1_700_000_000)
    write(root, "charts/a/values.yaml")
    commit(root, "a", 1_700_000_100)
    write(root, "patches/b/fix.patch")
    write(root, "other/file")
    commit(root, "b patch", 1_700_000_200)
    commit(root, "empty", 1_700_000_300)
    run_git(root, "mv", "charts/old", "charts/renamed")
    commit(root, "rename", 1_700_000_400)
    (root / "charts/deleted/Chart.yaml").unlink()
    write(root, "charts/abc/Chart.yaml")  # a prefix of no group: charts/ab must not count it
    commit(root, "delete", 1_700_000_500)
    write(root, "charts/untracked/Chart.yaml")
    write(root, "charts/modified/Chart.yaml", "changed\n")
    return root


def test_a_linear_history_is_answered_by_one_query(tmp_path: Path) -> None:
    root = linear_repo(tmp_path / "repo")
    expected = per_chart(root)
    assert expected["a"] == 1_700_000_100 and expected["b"] == 1_700_000_200 and expected["renamed"] == 1_700_000_400
    assert expected["old"] == 1_700_000_400 and expected["deleted"] == 1_700_000_500 and expected["ab"] == 1_700_000_000
    assert expected["untracked"] is None and expected["never"] is None and expected["modified"] == 1_700_000_000
    assert git.last_commit_times(root, GROUPS) == expected


def test_merges_give_the_per_chart_answers(tmp_path: Path) -> None:
    root = linear_repo(tmp_path / "repo")
    run_git(root, "checkout", "-qb", "side")
    write(root, "charts/a/side.yaml")
    commit(root, "side a", 1_700_000_600)
    run_git(root, "checkout", "-q", "main")
    write(root, "charts/b/main.yaml")
    commit(root, "main b", 1_700_000_700)
    run_git(root, "merge", "-q", "--no-edit", "side", env={"GIT_COMMITTER_DATE": "@1700000800 +0000"})
    run_git(root, "checkout", "-qb", "side2")
    write(root, "unrelated")
    commit(root, "side2", 1_700_000_900)
    run_git(root, "checkout", "-q", "main")
    write(root, "charts/c/Chart.yaml")
    commit(root, "main c", 1_700_001_000)
    run_git(root, "merge", "-q", "--no-edit", "side2", env={"GIT_COMMITTER_DATE": "@1700001100 +0000"})
    assert git.last_commit_times(root, GROUPS) == per_chart(root)
    write(root, "charts/a/after.yaml")
    commit(root, "after the merges", 1_700_001_200)
    assert git.last_commit_times(root, GROUPS) == per_chart(root)
    # both sides change chart b (a merge that differs from each parent), an "evil" merge edits chart c itself,
    # and chart a is changed only on the second parent's side, committed before main's last commit
    run_git(root, "checkout", "-qb", "side3")
    write(root, "charts/b/main.yaml", "side3\n")
    write(root, "charts/a/side3.yaml")
    commit(root, "side3", 1_700_001_300)
    run_git(root, "checkout", "-q", "main")
    write(root, "charts/b/other.yaml", "main\n")
    commit(root, "main b again", 1_700_001_400)
    run_git(root, "merge", "-q", "--no-commit", "side3")
    write(root, "charts/c/evil.yaml")
    commit(root, "evil merge", 1_700_001_500)
    expected = per_chart(root)
    assert expected["b"] == expected["c"] == 1_700_001_500 and expected["a"] == 1_700_001_300  # via the 2nd parent
    assert git.last_commit_times(root, GROUPS) == expected
    run_git(root, "checkout", "-qb", "side4", "HEAD~1")  # main before the evil merge
    write(root, "charts/ab/x")
    commit(root, "side4", 1_700_001_600)
    run_git(root, "checkout", "-q", "main")
    run_git(root, "merge", "-q", "--no-edit", "-s", "ours", "side4", env={"GIT_COMMITTER_DATE": "@1700001700 +0000"})
    assert git.last_commit_times(root, GROUPS) == per_chart(root)  # a merge that keeps one side's tree
    history = git._history(root, ["charts", "patches"]) or {}
    assert next(iter(history)) == run_git(root, "rev-parse", "HEAD")  # answered from the one query, HEAD first
    assert set(history) == set(run_git(root, "rev-list", "HEAD").split())


def test_a_project_in_a_sub_folder_and_a_shallow_clone(tmp_path: Path) -> None:
    top = tmp_path / "top"
    subprocess.run([*GIT, "init", "-q", "-b", "main", str(top)], check=True)
    write(top, "charts/a/Chart.yaml")  # the top's own charts/ is not the project's
    write(top, "project/charts/b/Chart.yaml")
    commit(top, "one", 1_700_000_000)
    write(top, "charts/b/x")
    write(top, "project/charts/a/Chart.yaml")
    commit(top, "two", 1_700_000_100)
    project = top / "project"
    assert git.last_commit_times(project, GROUPS) == {name: git.last_commit_time(project, *p) for name, p in GROUPS.items()}
    assert git.last_commit_times(project, GROUPS)["b"] == 1_700_000_000
    shallow = tmp_path / "shallow"
    subprocess.run([*GIT, "clone", "-q", "--depth", "1", f"file://{top}", str(shallow)], check=True)
    assert git.last_commit_times(shallow, GROUPS) == {name: git.last_commit_time(shallow, *p) for name, p in GROUPS.items()}


def test_no_commits_and_no_repository(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    subprocess.run([*GIT, "init", "-q", "-b", "main", str(root)], check=True)
    write(root, "charts/a/Chart.yaml")
    assert git.last_commit_times(root, GROUPS) == dict.fromkeys(GROUPS)
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git.last_commit_times(plain, {"a": ["charts/a"]}) == {"a": None}


def test_the_build_cache_epochs_equal_the_package_times(tmp_path: Path) -> None:
    """cache.epochs (one query) = package.source_epoch per chart, SOURCE_DATE_EPOCH for the uncommitted."""
    from chartship.build import package

    root = linear_repo(tmp_path / "repo")
    for d in (root / "charts").iterdir():  # uncommitted edits: the times stay those of the commits
        write(root, f"charts/{d.name}/Chart.yaml", f"apiVersion: v2\nname: {d.name}\nversion: 0.1.0\n")
    write(root, "invoke.yaml", "chartship: {}\n")
    cfg = load(root)
    charts = chartmod.discover(cfg)
    names = [c.name for c in charts]
    env = {"SOURCE_DATE_EPOCH": "1234"}
    got = cache.epochs(cfg, charts, names, env)
    assert got == {c.name: package.source_epoch(root, [c.rel, f"patches/{c.name}"], env) for c in charts}
    assert got["untracked"] == 1234 and got["a"] == 1_700_000_100 and len(got) == 8
