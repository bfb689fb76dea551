"""The hooks through real `pre-commit install` and real `git commit`, in temp repositories.

The repository's own .pre-commit-config.yaml (repo: local) runs the console scripts in
.venv; pre-commit's home is a temp folder, and nothing is downloaded. A recording helm
(HELM_BIN) shows which helm calls each commit made.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import INVOKE, run_invoke
from tests.helpers.hooks import GIT, clean_env, copy_lint_calls, git, init_git, lint_calls, recording_helm, write_repo

# Any download attempt (pip, git over http) fails: the hooks must need none.
DEAD_PROXY = "http://127.0.0.1:9"
OFFLINE = {"PIP_NO_INDEX": "1", "http_proxy": DEAD_PROXY, "https_proxy": DEAD_PROXY, "HTTP_PROXY": DEAD_PROXY,
           "HTTPS_PROXY": DEAD_PROXY, "ALL_PROXY": DEAD_PROXY, "NO_PROXY": ""}


class Repo:
    def __init__(self, root: Path, env: dict[str, str], calls: Path) -> None:
        self.root, self.env, self.calls = root, env, calls

    def invoke(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_invoke(self.root, *args, env=self.env)

    def commit(self, message: str) -> tuple[int, str]:
        git(self.root, "add", "-A", env=self.env)
        result = subprocess.run([*GIT, "commit", "-m", message], cwd=self.root, env=self.env, capture_output=True,
                                text=True, check=False)
        return result.returncode, result.stdout + result.stderr

    def commits(self) -> int:
        return int(git(self.root, "rev-list", "--count", "HEAD").stdout)

    def edit(self, rel: str, append: str) -> None:
        path = self.root / rel
        path.write_text(path.read_text() + append)


@pytest.fixture
def repo(tmp_path: Path, project_root: Path, helm_bin: Path) -> Repo:
    root = write_repo(tmp_path / "repo", project_root)
    (root / ".venv").symlink_to(project_root / ".venv")  # what ci/bootstrap leaves in a checkout
    (root / ".gitignore").write_text(".venv\n")
    init_git(root)
    fake, calls = recording_helm(tmp_path, helm_bin)
    env = clean_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), HELM_BIN=str(fake), REAL_HELM=str(helm_bin),
                    HELM_CALLS=str(calls), CHARTSHIP_HELM_BATCH="0", **OFFLINE)  # record the helm CLI's calls
    r = Repo(root, env, calls)
    installed = r.invoke("hooks.install")
    assert installed.returncode == 0, installed.stderr
    assert "pre-commit installed at .git/hooks/pre-commit" in installed.stdout
    assert (root / ".git/hooks/pre-commit").is_file()
    return r


def test_template_change_without_bump_is_rejected(repo: Repo) -> None:
    repo.edit("charts/web/templates/deployment.yaml", "# a change\n")
    code, out = repo.commit("change the web template")
    assert code != 0 and repo.commits() == 1
    assert "changed charts come with a version bump" in out and "Failed" in out
    assert ("error: charts/web changed (charts/web/templates/deployment.yaml) but version 0.1.0 is the same as 0.1.0 "
            "at HEAD") in out
    assert "`invoke version.bump --part patch`" in out


def test_version_bump_without_sync_is_rejected_then_accepted_after_sync(repo: Repo) -> None:
    (repo.root / "version").write_text("0.2.0\n")
    code, out = repo.commit("bump only the version file")
    assert code != 0 and repo.commits() == 1
    assert "error: charts/web/Chart.yaml: version is 0.1.0 but the version file says 0.2.0" in out
    assert "run `invoke version.sync`" in out

    synced = repo.invoke("version.sync")
    assert synced.returncode == 0, synced.stderr
    # the generated READMEs show the chart version: version.sync rewrote them too
    assert "wrote charts/web/README.md" in synced.stdout
    code, out = repo.commit("bump and sync")
    assert code == 0, out
    assert repo.commits() == 2
    web, worker = repo.root / "charts/web", repo.root / "charts/worker"
    assert sorted(set(copy_lint_calls(repo.calls, repo.root))) == sorted([
        f"lint {web} --strict", f"lint {web} --strict --values {web}/values-dev.yaml", f"lint {worker} --strict"])


def test_commit_that_touches_no_chart_never_starts_helm(repo: Repo) -> None:
    repo.edit("README.md", "More words.\n")
    repo.edit("invoke.yaml", "# a comment\n")
    code, out = repo.commit("docs only")
    assert code == 0, out
    assert repo.commits() == 2
    assert not repo.calls.exists(), repo.calls.read_text()
    assert re.search(r"helm lint --strict on changed charts\.+Passed", out), out


def test_hooks_run_and_setup_dev(repo: Repo) -> None:
    shutil.rmtree(repo.root / ".git/hooks")
    (repo.root / ".git/hooks").mkdir()
    setup = repo.invoke("setup-dev")
    assert setup.returncode == 0, setup.stderr
    assert (repo.root / ".git/hooks/pre-commit").is_file()
    assert "no chart has dependencies" in setup.stdout
    ran = repo.invoke("hooks.run")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    for name in ("versions agree", "version bump", "helm lint", "yamllint", "READMEs"):
        assert re.search(name + r".*\.+Passed", ran.stdout), ran.stdout
    assert len(lint_calls(repo.calls)) == 3  # every chart once per values stack
    (repo.root / "charts/worker/values.yaml").write_text("replicaCount: [1\n")
    failed = repo.invoke("hooks.run")
    assert failed.returncode == 1
    assert "charts/worker/values.yaml:2:1: invalid YAML" in failed.stdout


def test_hooks_install_failures_are_one_line(tmp_path: Path, project_root: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    shutil.copy2(project_root / "tasks.py", root / "tasks.py")
    env = clean_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), **OFFLINE)

    def install() -> str:
        result = subprocess.run([INVOKE, "hooks.install"], cwd=root, env=env, capture_output=True, text=True)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        [line] = result.stderr.strip().splitlines()
        return line

    assert install().startswith(f"error: {root} is not a git checkout")
    init_git(root, commit=False)
    assert install() == f"error: .pre-commit-config.yaml: file not found in {root}; the hooks are declared there"
    shutil.copy2(project_root / ".pre-commit-config.yaml", root / ".pre-commit-config.yaml")
    git(root, "config", "core.hooksPath", str(tmp_path / "elsewhere"))
    assert install().startswith("error: pre-commit install failed: [ERROR] Cowardly refusing to install hooks with "
                                "`core.hooksPath` set. hint: `git config --unset-all core.hooksPath`")


# ------------------------------------------------------------------ helm-lint on the prepared copy (umbrellas)

SUITE_CHART = """\
apiVersion: v2
name: suite
description: The umbrella
type: application
version: 0.1.0
appVersion: "0.1.0"
dependencies:
  - name: web
    version: 0.1.0
    repository: file://../web
"""
WEB_SCHEMA = '{"type": "object", "properties": {"replicaCount": {"type": "integer", "maximum": 3}}}\n'


def add_umbrella(repo: Repo) -> None:
    """charts/suite uses charts/web through file:// (committed as the starting point, hooks skipped: a new chart
    at the current version asks for a bump); `invoke helm.deps` leaves web-0.1.0.tgz in its charts/ (ignored by
    git, as in most repositories)."""
    suite = repo.root / "charts/suite"
    (suite / "templates").mkdir(parents=True)
    (suite / "Chart.yaml").write_text(SUITE_CHART)
    (suite / "values.yaml").write_text("# -- Values for the web subchart\nweb:\n  replicaCount: 5\n")
    (suite / "templates/cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n")
    (repo.root / ".gitignore").write_text(".venv\ncharts/*/charts/\n")
    assert repo.invoke("helm.docs").returncode == 0
    git(repo.root, "add", "-A", env=repo.env)
    added = git(repo.root, "commit", "-qm", "add the umbrella", "--no-verify", env=repo.env)
    assert added.returncode == 0, added.stderr
    deps = repo.invoke("helm.deps")
    assert deps.returncode == 0, deps.stdout + deps.stderr
    assert (suite / "charts/web-0.1.0.tgz").is_file()


def bump(repo: Repo, part: str = "patch") -> None:
    bumped = repo.invoke("version.bump", "--part", part)
    assert bumped.returncode == 0, bumped.stdout + bumped.stderr


@pytest.mark.parametrize("archives", ["none", "stale"], ids=["fresh-clone", "stale-archive"])
def test_umbrella_subchart_bump_passes_without_helm_deps(repo: Repo, archives: str) -> None:
    add_umbrella(repo)
    if archives == "none":  # a fresh clone: nobody ran `invoke helm.deps`
        shutil.rmtree(repo.root / "charts/suite/charts")
    bump(repo, "minor")  # web 0.2.0 and suite's dependency on it 0.2.0
    assert 'version: 0.2.0\n    repository: file://../web' in (repo.root / "charts/suite/Chart.yaml").read_text()
    code, out = repo.commit("minor release")
    assert code == 0, out
    assert re.search(r"helm lint --strict on changed charts\.+Passed", out), out
    suite = [ln for ln in copy_lint_calls(repo.calls, repo.root) if ln.startswith(f"lint {repo.root}/charts/suite ")]
    assert suite, lint_calls(repo.calls)
    left = sorted(p.name for p in (repo.root / "charts/suite").rglob("*.tgz"))
    assert left == ([] if archives == "none" else ["web-0.1.0.tgz"])  # the working tree is left as it was


def test_stale_subchart_archive_does_not_decide(repo: Repo) -> None:
    add_umbrella(repo)
    # web's new schema rejects the umbrella's value; the archive in suite/charts predates it
    (repo.root / "charts/web/values.schema.json").write_text(WEB_SCHEMA)
    bump(repo)
    code, out = repo.commit("web allows at most 3 replicas")
    assert code != 0 and repo.commits() == 2, out
    assert re.search(r"helm lint --strict on changed charts\.+Failed", out), out
    [line] = [ln for ln in out.splitlines() if ln.startswith("error: charts/suite [defaults]: ")]
    assert "web:" in line and "replicaCount" in line, line


def test_renamed_subchart_breaks_the_umbrella_and_is_refused(repo: Repo) -> None:
    add_umbrella(repo)
    git(repo.root, "mv", "charts/web", "charts/site", env=repo.env)
    chart_yaml = repo.root / "charts/site/Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("name: web", "name: site"))
    assert repo.invoke("helm.docs").returncode == 0
    bump(repo)
    code, out = repo.commit("rename web to site")
    assert code != 0 and repo.commits() == 2, out
    assert re.search(r"helm lint --strict on changed charts\.+Failed", out), out
    errors = [ln for ln in out.splitlines() if ln.startswith("error: charts/suite")]
    assert errors and "'web'" in errors[0] and "file://../web" in errors[0], out


def test_helm_lint_hook_from_a_subdirectory(repo: Repo) -> None:
    sub = repo.root / "charts/web"
    ok = subprocess.run(["chartship-helm-lint", "values.yaml", "templates/deployment.yaml"], cwd=sub, env=repo.env,
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "helm lint: 1 chart(s), 2 run(s), ok" in ok.stdout
    (sub / "values-dev.yaml").write_text("replicaCount: 1\nimage: broken\n")
    git(repo.root, "add", "-A", env=repo.env)
    bad = subprocess.run(["chartship-helm-lint", "values-dev.yaml"], cwd=sub, env=repo.env, capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert [ln for ln in bad.stderr.splitlines() if ln.startswith("error: ")], bad.stderr
    assert all(ln.startswith("error: charts/web [dev: values-dev.yaml]: ")
               for ln in bad.stderr.splitlines() if ln.startswith("error: ")), bad.stderr
    # git commit started in the subdirectory: pre-commit's hook finds the same repository and refuses
    bump(repo)
    result = subprocess.run([*GIT, "commit", "-m", "broken dev values"], cwd=sub, env=repo.env, capture_output=True,
                            text=True, check=False)
    assert result.returncode != 0 and repo.commits() == 1
    assert "error: charts/web [dev: values-dev.yaml]: " in result.stdout + result.stderr
