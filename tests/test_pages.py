"""A `type: pages` target with real git and real helm (HELM_BIN: 3 or 4): helm.push / helm.deploy commit the
packages and the merged index.yaml to a branch and push it to a bare remote; a re-run commits nothing; a second
version merges; the user's working tree, index and branch are untouched; changed content is refused with the
branch unchanged; a checkout of the branch served on 127.0.0.1 is a chart repository helm pulls from."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from chartship import configfile
from chartship.errors import ConfigError
from chartship.pagestarget import PagesTarget
from tests.helpers import free_port
from tests.helpers.chartrepo import PASSPHRASE, SIGNER, demo_chart, demo_repo, gpg_keys, helm, helm_repo_env, serve
from tests.helpers.pipeline import git, invoke, one_error_line, sha256


def _config(port: int, remote: bool = True) -> str:
    return ("  default_target: site\n  targets:\n    site:\n      type: pages\n"
            f"      url: http://127.0.0.1:{port}/charts\n      path: charts\n" + ("      remote: origin\n" if remote else ""))


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path, int]:
    """A project whose default target is a pages target pushed to a bare remote `origin`."""
    port = free_port()
    root = demo_repo(tmp_path / "repo", _config(port))
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "origin", "main")
    return root, bare, port


def _state(root: Path) -> tuple[str, str, str, str]:
    """The user's side: branch, HEAD, status (working tree and index), the staged diff."""
    return (git(root, "rev-parse", "--abbrev-ref", "HEAD"), git(root, "rev-parse", "HEAD"),
            git(root, "status", "--porcelain", "--untracked-files=all"), git(root, "diff", "--cached"))


def _push(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    r = invoke(root, "helm.push", "--json", *args)
    return r, json.loads(r.stdout)["results"] if r.stdout.strip().startswith("{") else []


def _entries(text: str) -> dict[str, dict[str, Any]]:
    return {e["version"]: e for e in YAML(typ="safe").load(text)["entries"]["demo"]}


def test_pages_target_config_is_checked_with_one_line_per_mistake() -> None:
    where = configfile.Where("invoke.yaml").under({}, ("targets", "site"))
    target = configfile.parse_target("site", {"type": "pages", "url": "https://example.org/charts/"}, where)
    assert isinstance(target, PagesTarget)
    assert (target.url, target.branch, target.remote, target.path) == ("https://example.org/charts", "gh-pages", None, "")
    for node, message in [({"type": "pages"}, "targets.site.url: missing"),
                          ({"type": "pages", "url": "oci://h/x"}, "must be an http"),
                          ({"type": "pages", "url": "https://u:p@h/x"}, "holds a user name or password"),
                          ({"type": "pages", "url": "https://h", "auth": "basic"}, "targets.site.auth: unknown key"),
                          ({"type": "pages", "url": "https://h", "branch": "-x"}, "not a usable branch name"),
                          ({"type": "pages", "url": "https://h", "path": "../up"}, "must be a folder inside the branch"),
                          ({"type": "pages", "url": "https://h", "remote": "a b"}, "name of a git remote"),
                          ({"type": "s3", "url": "https://h"}, "expected one of oci, pages")]:
        with pytest.raises(ConfigError, match=message):
            configfile.parse_target("site", node, where)


def test_pages_publish_is_idempotent_merges_and_leaves_the_user_alone(project: tuple[Path, Path, int], tmp_path: Path,
                                                                      helm_bin: Path) -> None:
    root, bare, port = project
    assert invoke(root, "helm.build").returncode == 0
    user = _state(root)
    first, results = _push(root, "--latest")
    assert first.returncode == 0, first.stderr
    assert [(r["status"], r["ref"]) for r in results] == [
        ("pushed", f"http://127.0.0.1:{port}/charts/demo-0.1.0.tgz"), ("skipped", f"http://127.0.0.1:{port}/charts (latest)")]
    assert "no tags" in results[1]["message"]
    tip = git(bare, "rev-parse", "refs/heads/gh-pages")
    assert git(root, "rev-parse", "refs/heads/gh-pages") == tip
    assert git(bare, "log", "-1", "--format=%s", "gh-pages") == "chartship: add demo 0.1.0 to the chart repository"
    assert git(bare, "ls-tree", "-r", "--name-only", "gh-pages").split() == ["charts/demo-0.1.0.tgz", "charts/index.yaml"]
    assert _state(root) == user

    again, results = _push(root, "--latest")
    assert again.returncode == 0, again.stderr
    assert [r["status"] for r in results] == ["skipped", "skipped"]
    assert git(bare, "rev-parse", "refs/heads/gh-pages") == tip

    v1 = _entries(git(bare, "show", "gh-pages:charts/index.yaml"))["0.1.0"]
    demo_chart(root, "0.2.0")
    git(root, "commit", "-qam", "0.2.0")
    user = _state(root)
    deployed = invoke(root, "helm.deploy", "--latest", "--json")
    assert deployed.returncode == 0, deployed.stderr
    assert [r["status"] for r in json.loads(deployed.stdout)["results"]] == ["pushed", "skipped"]
    assert git(bare, "rev-parse", "gh-pages~1") == tip
    both = _entries(git(bare, "show", "gh-pages:charts/index.yaml"))
    assert sorted(both) == ["0.1.0", "0.2.0"] and both["0.1.0"] == v1
    assert both["0.2.0"]["urls"] == [f"http://127.0.0.1:{port}/charts/demo-0.2.0.tgz"]
    assert both["0.2.0"]["digest"] == sha256(root / "dist/charts/demo-0.2.0.tgz")
    assert _state(root) == user
    assert "helm repo add site" in (root / "dist/RELEASE_NOTES.md").read_text()

    tip = git(bare, "rev-parse", "refs/heads/gh-pages")
    demo_chart(root, "0.2.0", greeting="other bytes")
    assert invoke(root, "helm.build").returncode == 0
    refused, results = _push(root)
    one_error_line(refused, "1 of 1 publish step(s) refused")
    assert [r["status"] for r in results] == ["refused"]
    assert "demo 0.2.0 is already in the index with digest sha256:" + both["0.2.0"]["digest"] in results[0]["message"]
    assert git(bare, "rev-parse", "refs/heads/gh-pages") == tip == git(root, "rev-parse", "refs/heads/gh-pages")

    site = tmp_path / "site"
    subprocess.run(["git", "clone", "-q", "--branch", "gh-pages", str(bare), str(site)], check=True)
    env = helm_repo_env(tmp_path / "helm")
    (tmp_path / "pulled").mkdir()
    with serve(site, port):
        assert helm(helm_bin, env, "repo", "add", "site", f"http://127.0.0.1:{port}/charts").returncode == 0
        pulled = [helm(helm_bin, env, "pull", "site/demo", "--version", v, "--destination", str(tmp_path / "pulled"))
                  for v in ("0.1.0", "0.2.0")]
        rendered = helm(helm_bin, env, "template", "rel", "site/demo")
    assert [p.returncode for p in pulled] == [0, 0], [p.stderr for p in pulled]
    assert sha256(tmp_path / "pulled/demo-0.2.0.tgz") == both["0.2.0"]["digest"]
    assert rendered.returncode == 0 and 'greeting: "hello"' in rendered.stdout


def test_without_a_remote_only_the_local_branch_moves(tmp_path: Path, helm_bin: Path) -> None:
    root = demo_repo(tmp_path / "repo", _config(free_port(), remote=False))
    assert invoke(root, "helm.build").returncode == 0
    dry, results = _push(root, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert [r["status"] for r in results] == ["planned"]
    assert subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "refs/heads/gh-pages"],
                          capture_output=True, check=False).returncode == 1
    user = _state(root)
    done, results = _push(root)
    assert done.returncode == 0, done.stderr
    assert "local branch; no remote configured" in results[0]["message"]
    assert git(root, "ls-tree", "-r", "--name-only", "gh-pages").split() == ["charts/demo-0.1.0.tgz", "charts/index.yaml"]
    assert _state(root) == user

    git(root, "worktree", "add", "-q", str(tmp_path / "pages-checkout"), "gh-pages")
    busy = invoke(root, "helm.push")
    one_error_line(busy, "branch gh-pages is checked out in a worktree")


def test_a_different_file_already_on_the_branch_is_refused(project: tuple[Path, Path, int], tmp_path: Path) -> None:
    root, bare, _port = project
    other = tmp_path / "other"
    (other / "charts").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "gh-pages", str(other)], check=True)
    (other / "charts" / "demo-0.1.0.tgz").write_bytes(b"not the package chartship built")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "by hand")
    git(other, "push", "-q", str(bare), "gh-pages")
    tip = git(bare, "rev-parse", "gh-pages")
    assert invoke(root, "helm.build").returncode == 0
    refused, results = _push(root)
    assert refused.returncode == 1
    assert [r["status"] for r in results] == ["refused"]
    assert "gh-pages already holds charts/demo-0.1.0.tgz with other content" in results[0]["message"]
    assert git(bare, "rev-parse", "gh-pages") == tip


def test_signed_packages_carry_their_provenance_to_the_branch(project: tuple[Path, Path, int], tmp_path: Path,
                                                              helm_bin: Path) -> None:
    root, bare, port = project
    with gpg_keys(tmp_path / "keys") as (secret, public):
        (root / "invoke.yaml").write_text((root / "invoke.yaml").read_text()
                                          + f"  signing:\n    key: {SIGNER}\n    keyring: {secret}\n")
        git(root, "commit", "-qam", "signing")
        built = invoke(root, "helm.build", "--sign", env={"CHARTSHIP_SIGN_PASSPHRASE": PASSPHRASE})
        assert built.returncode == 0, built.stderr
        pushed, results = _push(root)
        assert pushed.returncode == 0, pushed.stderr
        assert [r["status"] for r in results] == ["pushed"]
        assert git(bare, "ls-tree", "-r", "--name-only", "gh-pages").split() == [
            "charts/demo-0.1.0.tgz", "charts/demo-0.1.0.tgz.prov", "charts/index.yaml"]
        site = tmp_path / "site"
        subprocess.run(["git", "clone", "-q", "--branch", "gh-pages", str(bare), str(site)], check=True)
        env = helm_repo_env(tmp_path / "helm")
        (tmp_path / "pulled").mkdir()
        with serve(site, port):
            assert helm(helm_bin, env, "repo", "add", "site", f"http://127.0.0.1:{port}/charts").returncode == 0
            verified = helm(helm_bin, env, "pull", "site/demo", "--version", "0.1.0", "--verify", "--keyring", str(public),
                            "--destination", str(tmp_path / "pulled"))
        assert verified.returncode == 0, verified.stderr
        assert (tmp_path / "pulled/demo-0.1.0.tgz.prov").is_file()
        assert PASSPHRASE not in built.stdout + built.stderr + pushed.stdout + pushed.stderr

    wrong_source = invoke(root, "helm.install", "--source", "oci")
    one_error_line(wrong_source, "target site is a classic chart repository (type: pages)")
