"""Chart content policy: a chart may hold only regular files and folders inside it, from the files git
would check out. Every case runs the real `invoke` in a temp project and checks it ends cleanly."""

from __future__ import annotations

import os
import socket
import tarfile
from pathlib import Path

import pytest

from tests.adversarial.conftest import commit, git, invoke, project, refused, tags, target, tree
from tests.helpers.registry import Registry

ENTRY = ("helm.build", "helm.lint", "helm.validate")
ARGS = {"helm.build": ("helm.build",), "helm.lint": ("helm.lint", "--all"), "helm.validate": ("helm.validate", "--json")}
BIG = 5 * 1024 * 1024 + 1


def _link(repo: Path, rel: str, to: str, add: bool = True) -> None:
    path = repo / "charts/web" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(to, path)
    if add:
        commit(repo)


def _check(repo: Path, args: tuple[str, ...], *needles: str, env: dict[str, str] | None = None) -> str:
    before = tree(repo)
    line = refused(invoke(repo, *args, env=env), *needles)
    assert tree(repo) == before, "nothing written or changed in the project"
    assert not (repo / "dist").exists()
    return line


@pytest.mark.parametrize("task", ENTRY)
def test_link_to_process_environment_is_refused(tmp_path: Path, task: str) -> None:
    repo = project(tmp_path / "repo")
    _link(repo, "env.txt", "/proc/self/environ")
    line = _check(repo, ARGS[task], "charts/web/env.txt",
                  "symbolic link to /proc/self/environ", "outside the chart", env={"CHARTSHIP_REGISTRY_PASSWORD": "pw-x"})
    assert "pw-x" not in line


@pytest.mark.parametrize(("rel", "to", "needle"), [
    ("host.txt", "/etc/hostname", "outside the chart"),
    ("repo.txt", "../../invoke.yaml", "outside the chart"),
    ("templates/ext", "/etc", "outside the chart"),
    ("templates/dev.txt", "/dev/zero", "outside the chart"),
    ("sibling.yaml", "../api/values.yaml", "outside the chart"),
    ("inside.yaml", "values.yaml", "symlinks: inside"),
])
def test_links_are_refused_by_default(tmp_path: Path, rel: str, to: str, needle: str) -> None:
    repo = project(tmp_path / "repo", charts=("web", "api"))
    _link(repo, rel, to)
    _check(repo, ("helm.build", "--chart", "web"), f"charts/web/{rel}", needle)


INSIDE = "  charts:\n    content_policy:\n      symlinks: inside\n"


@pytest.mark.parametrize(("rel", "to", "needle"), [
    ("escape.txt", "/etc/passwd", "outside the chart"),
    ("chain.txt", "hop.txt", "outside the chart"),  # hop.txt -> /etc/passwd
    ("folder", "templates", "not a regular file"),
    ("dangling.txt", "missing.txt", "does not exist"),
    ("up.txt", "../../version", "outside the chart"),
])
def test_inside_policy_still_refuses_what_is_not_a_file_of_the_chart(tmp_path: Path, rel: str, to: str,
                                                                     needle: str) -> None:
    repo = project(tmp_path / "repo", config=INSIDE)
    if rel == "chain.txt":
        _link(repo, "hop.txt", "/etc/passwd", add=False)
    _link(repo, rel, to)
    _check(repo, ("helm.build",), "charts/web/", needle)


def test_inside_policy_packages_the_file_not_the_link(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo", config=INSIDE)
    _link(repo, "templates/copy.yaml", "configmap.yaml")
    result = invoke(repo, "helm.build")
    assert result.returncode == 0, result.stderr
    with tarfile.open(repo / "dist/charts/web-0.1.0.tgz") as tar:
        member = tar.getmember("web/templates/copy.yaml")
        assert member.isfile() and not member.issym()
        assert tar.extractfile(member).read() == (repo / "charts/web/templates/configmap.yaml").read_bytes()  # type: ignore[union-attr]


def test_link_made_by_a_patch_is_refused(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    patch = repo / "patches/web/0001-add-link.patch"
    patch.parent.mkdir(parents=True)
    patch.write_text("diff --git a/env.txt b/env.txt\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n"
                     "+++ b/env.txt\n@@ -0,0 +1 @@\n+/proc/self/environ\n\\ No newline at end of file\n")
    commit(repo)
    _check(repo, ("helm.build",), "charts/web/env.txt", "after patches/web/", "symbolic link to /proc/self/environ")


def test_oversized_file_made_by_a_patch_is_refused(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo", config="  charts:\n    content_policy:\n      max_file_size: 1KiB\n")
    body = "".join(f"+line {i:04d} of a generated file that is far too large\n" for i in range(60))
    patch = repo / "patches/web/0001-big.patch"
    patch.parent.mkdir(parents=True)
    patch.write_text(f"diff --git a/big.txt b/big.txt\nnew file mode 100644\n--- /dev/null\n+++ b/big.txt\n"
                     f"@@ -0,0 +1,60 @@\n{body}")
    commit(repo)
    _check(repo, ("helm.build",), "charts/web/big.txt", "after patches/web/", "above the 1 KiB limit")


@pytest.mark.parametrize("task", ENTRY)
def test_fifo_in_place_of_a_tracked_file_is_refused(tmp_path: Path, task: str) -> None:
    repo = project(tmp_path / "repo")
    (repo / "charts/web/notes.txt").write_text("x\n")
    commit(repo)
    (repo / "charts/web/notes.txt").unlink()
    os.mkfifo(repo / "charts/web/notes.txt")
    _check(repo, ARGS[task], "charts/web/notes.txt", "a FIFO",
           "remove it")


def test_fifo_outside_git_is_refused(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo", use_git=False)
    os.mkfifo(repo / "charts/web/pipe")
    _check(repo, ("helm.build",), "charts/web/pipe", "a FIFO")


def test_socket_outside_git_is_refused(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo", use_git=False)
    sock = socket.socket(socket.AF_UNIX)
    try:
        os.chdir(repo / "charts/web")
        sock.bind("s.sock")
        _check(repo, ("helm.build",), "charts/web/s.sock", "a socket")
    finally:
        sock.close()
        os.chdir(tmp_path)


def test_device_file_is_refused(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo", use_git=False)
    try:
        os.mknod(repo / "charts/web/null", 0o600 | 0o020000, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("this machine does not allow creating device files (mknod needs CAP_MKNOD)")
    _check(repo, ("helm.build",), "charts/web/null", "a character device")


def test_link_outside_git_is_refused(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo", use_git=False)
    os.symlink("/proc/self/environ", repo / "charts/web/env.txt")
    _check(repo, ("helm.build",), "charts/web/env.txt", "outside the chart")


def test_chart_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo", charts=("api",))
    project(tmp_path / "elsewhere", charts=("web",), use_git=False)
    os.symlink(tmp_path / "elsewhere/charts/web", repo / "charts/web")
    commit(repo)
    _check(repo, ("helm.build",), "charts/web", "symbolic link")


@pytest.mark.parametrize(("config", "size", "needle"), [
    ("", BIG, "above the 5 MiB limit"),
    ("  charts:\n    content_policy:\n      max_file_size: 2KiB\n", 4096, "above the 2 KiB limit"),
    ("  charts:\n    settings:\n      web:\n        content_policy:\n          max_file_size: 500\n", 600,
     "above the 500 bytes limit"),
])
def test_file_above_the_size_limit_is_refused(tmp_path: Path, config: str, size: int, needle: str) -> None:
    repo = project(tmp_path / "repo", config=config)
    (repo / "charts/web/blob.bin").write_bytes(b"\1" * size)
    commit(repo)
    line = _check(repo, ("helm.build",), "charts/web/blob.bin", needle, "max_file_size")
    assert "chartship.charts.settings.web.content_policy.max_file_size" in line


def test_untracked_chart_is_refused(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    project(repo, charts=("fresh",), use_git=False)  # a second chart, never added
    _check(repo, ("helm.build", "--chart", "fresh"), "charts/fresh: not tracked by git", "git add charts/fresh")


def test_untracked_and_ignored_files_stay_out_of_the_package(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    (repo / ".gitignore").write_text("dist/\n*.secret\n")
    commit(repo)
    (repo / "charts/web/token.secret").write_text("ignored\n")
    (repo / "charts/web/templates/new.yaml").write_text("# not added yet\n")
    result = invoke(repo, "helm.build")
    assert result.returncode == 0, result.stderr
    assert "templates/new.yaml" in result.stderr and "not tracked by git" in result.stderr
    with tarfile.open(repo / "dist/charts/web-0.1.0.tgz") as tar:
        names = tar.getnames()
    assert "web/templates/configmap.yaml" in names
    assert "web/token.secret" not in names and "web/templates/new.yaml" not in names


@pytest.mark.parametrize(("policy", "needle"), [
    ("      symlinks: sometimes\n", "symlinks: expected one of refuse, inside"),
    ("      max_file_size: huge\n", "max_file_size: expected a size"),
    ("      follow: true\n", "follow: unknown key"),
])
def test_bad_content_policy_setting_is_refused(tmp_path: Path, policy: str, needle: str) -> None:
    repo = project(tmp_path / "repo", config="  charts:\n    content_policy:\n" + policy)
    _check(repo, ("helm.build",), "invoke.yaml:", needle)


def test_deploy_of_a_chart_with_a_host_file_link_pushes_nothing(tmp_path: Path, registry: Registry) -> None:
    repo = project(tmp_path / "repo", config=target(registry))
    _link(repo, "env.txt", "/proc/self/environ")
    before = tags(registry)
    _check(repo, ("helm.deploy", "--latest"), "charts/web/env.txt", env={"AWS_SECRET_ACCESS_KEY": "aws-secret-x"})
    assert tags(registry) == before
    git(repo, "status", "--short")
