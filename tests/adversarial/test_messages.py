"""Accurate messages: what a failed publish did change, which subchart is broken, and a fetch hint whose
command really makes the missing ref available."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.adversarial import faultproxy as fp
from tests.adversarial.conftest import chart, commit, git, invoke, project, refused, tags, target, tree
from tests.helpers.pipeline import GIT
from tests.helpers.registry import Registry, make_dist


def test_only_latest_failed_says_the_version_was_pushed(tmp_path: Path, registry: Registry, helm_bin: Path) -> None:
    proxy = fp.FaultProxy(registry.host, fp.when("PUT", "/manifests/latest", fp.status(500)))
    try:
        repo = project(tmp_path / "repo", config=target(Registry(proxy.host, registry.state, 0, None)))
        make_dist(repo, helm_bin, "web")
        line = refused(invoke(repo, "helm.push", "--latest"), "1 of 2 publish step(s)",
                       f"oci://{proxy.host}/charts/web:0.1.0 was pushed", f"not done: oci://{proxy.host}/charts/web:latest",
                       "run it again")
    finally:
        proxy.close()
    assert "nothing else was changed" not in line and "was not changed" not in line
    assert tags(registry) == {"charts/web": ["0.1.0"]}


def test_refused_publish_says_the_registry_was_not_changed(tmp_path: Path, registry: Registry, helm_bin: Path) -> None:
    repo = project(tmp_path / "repo", config=target(registry))
    make_dist(repo, helm_bin, "web", description="first")
    assert invoke(repo, "helm.push").returncode == 0
    make_dist(repo, helm_bin, "web", description="second")
    before = tags(registry)
    refused(invoke(repo, "helm.push", "--latest"), "the registry was not changed for those charts")
    assert tags(registry) == before


def _umbrella(repo: Path, name: str, subs: list[str]) -> None:
    deps = "".join(f"  - name: {s}\n    version: 0.1.0\n    repository: file://../{s}\n" for s in subs)
    chart(repo, name, extra=f"dependencies:\n{deps}")


@pytest.mark.parametrize("task", [("helm.build", "--chart", "top"), ("helm.lint", "--chart", "top")])
def test_broken_subchart_is_named_not_the_umbrella(tmp_path: Path, task: tuple[str, ...]) -> None:
    repo = project(tmp_path / "repo", charts=("sub",))
    _umbrella(repo, "top", ["sub"])
    (repo / "charts/sub/values.yaml").write_text("greeting: [unclosed\n")
    commit(repo)
    before = tree(repo)
    line = refused(invoke(repo, *task), "charts/sub:", "values.yaml", "dependencies of charts/top", "fix charts/sub")
    assert not line.split(": ", 1)[1].startswith("charts/top: dependency build failed")
    assert tree(repo) == before


def test_broken_grandchild_is_named_through_the_chain(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo", charts=("leaf",))
    _umbrella(repo, "mid", ["leaf"])
    _umbrella(repo, "top", ["mid"])
    (repo / "charts/leaf/values.yaml").write_text("greeting: [unclosed\n")
    commit(repo)
    refused(invoke(repo, "helm.build", "--chart", "top"), "charts/top: not prepared because its subchart charts/mid failed",
            "charts/leaf:", "fix charts/leaf")


def test_untracked_subchart_is_named(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo", charts=())
    _umbrella(repo, "top", ["sub"])
    commit(repo)
    chart(repo, "sub")  # never added
    refused(invoke(repo, "helm.build", "--chart", "top"), "subchart charts/sub failed", "charts/sub: not tracked by git",
            "git add charts/sub")


def _single_branch_clone(tmp_path: Path) -> Path:
    origin = project(tmp_path / "origin")
    git(origin, "checkout", "-qb", "feature")
    (origin / "charts/web/values.yaml").write_text("greeting: changed\n")
    commit(origin, "feature")
    clone = tmp_path / "clone"
    subprocess.run([*GIT, "clone", "-q", "--depth", "1", "--single-branch", "--branch", "feature",
                    f"file://{origin}", str(clone)], check=True)
    return clone


def test_fetch_hint_in_a_shallow_single_branch_clone_creates_the_ref(tmp_path: Path) -> None:
    clone = _single_branch_clone(tmp_path)
    line = refused(invoke(clone, "helm.lint"), "unknown git ref 'main' in this shallow clone", "fetch it with `")
    command = line.split("fetch it with `", 1)[1].split("`", 1)[0]
    assert command.startswith("git fetch ")
    plain = subprocess.run(["git", "fetch", "-q", "origin", "main"], cwd=clone, capture_output=True, text=True)
    assert plain.returncode == 0 and invoke(clone, "helm.lint").returncode != 0, "a plain fetch does not create the ref"
    subprocess.run(command.split(), cwd=clone, check=True, capture_output=True)
    after = invoke(clone, "helm.lint")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "web" in after.stdout


def test_bump_required_fetch_hint_creates_the_ref(tmp_path: Path) -> None:
    clone = _single_branch_clone(tmp_path)
    hook = [str(Path(__file__).resolve().parents[2] / ".venv/bin/python"), "-c",
            "import sys; from chartship.hooks.bump_required import main; sys.exit(main(sys.argv[1:]))", "--base", "main"]
    result = subprocess.run(hook, cwd=clone, capture_output=True, text=True, timeout=300)
    line = refused(result, "--base main: no such branch", "`git fetch ")
    command = line.split("(`", 1)[1].split("`", 1)[0]
    subprocess.run(command.split(), cwd=clone, check=True, capture_output=True)
    again = subprocess.run(hook, cwd=clone, capture_output=True, text=True, timeout=300)
    assert "no such branch" not in again.stderr, again.stderr
