"""chartship as a user installs it: the wheel built from this checkout, installed into a fresh
venv outside it, run in a new git repository with its own `helm create` charts under
deploy/charts/ and no ci/ folder -- `chartship init`, lint, validate, build, deploy to the
embedded registry, hooks and a real commit, doctor; then the same through a tasks.py.

The wheel is built once per session, offline (--no-build-isolation); the venv sees the
dependencies of the running environment through a .pth line, so nothing is downloaded."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chartship.tools import registry_server
from tests.helpers.registry import free_port

# HELM_BIN only runs `helm create`: inside the team repository chartship uses the helm 4 that `chartship
# tools.install` pins, whichever helm session runs this file, so the helm 3 session would repeat it unchanged.
pytestmark = pytest.mark.one_helm
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
SECURE_VALUES = """\
replicaCount: 1
image: {repository: nginx, pullPolicy: IfNotPresent, tag: "1.27.3"}
serviceAccount: {create: true, automount: false, annotations: {}, name: ""}
podAnnotations: {}
podLabels: {}
podSecurityContext: {runAsNonRoot: true, runAsUser: 10001}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
  capabilities: {drop: [ALL]}
service: {type: ClusterIP, port: 80}
ingress: {enabled: false, className: "", annotations: {}, hosts: [], tls: []}
httpRoute: {enabled: false}
resources:
  limits: {cpu: 100m, memory: 128Mi}
  requests: {cpu: 100m, memory: 128Mi}
livenessProbe: {httpGet: {path: /, port: http}}
readinessProbe: {httpGet: {path: /, port: http}}
autoscaling: {enabled: false, minReplicas: 1, maxReplicas: 2, targetCPUUtilizationPercentage: 80}
volumes: []
volumeMounts: []
nodeSelector: {}
tolerations: []
affinity: {}
"""


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, project_root: Path) -> Installed:
    out = tmp_path_factory.mktemp("wheel")
    src = tmp_path_factory.mktemp("src")  # setuptools writes build/ and *.egg-info beside the sources: not in the checkout
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(project_root / name, src / name)
    shutil.copytree(project_root / "chartship", src / "chartship", ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                            "--no-index", "-q", "-w", str(out)], capture_output=True, text=True, timeout=600, check=False,
                           cwd=out)
    assert build.returncode == 0, build.stderr
    (wheel,) = out.glob("chartship-*.whl")
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # pip must not see this checkout's chartship
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                           "--no-index", "--force-reinstall", "-q", str(wheel)], capture_output=True, text=True, timeout=300,
                          check=False, env=env)
    assert inst.returncode == 0, inst.stderr
    # then the running environment's packages (invoke, ruamel.yaml, pre-commit, ...); its chartship stays
    # hidden behind the installed one (and its editable finder is not loaded from a .pth-added folder)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "deps-from-test-env.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return Installed(venv, wheel)


def make_repo(root: Path, helm: Path) -> Path:
    """A team's repository: two `helm create` charts under deploy/charts/ with versions of their own
    (api 0.2.0, web 0.1.0), one with environments, one with chart-testing values; committed; no
    chartship file, no ci/ folder."""
    charts = root / "deploy" / "charts"
    charts.mkdir(parents=True)
    for name in ("web", "api"):
        subprocess.run([str(helm), "create", str(charts / name)], check=True, capture_output=True, timeout=60)
        (charts / name / "values.yaml").write_text(SECURE_VALUES)
        shutil.rmtree(charts / name / "templates" / "tests")  # helm create's busybox test pod has no pinned tag
    (charts / "web" / "values-dev.yaml").write_text("replicaCount: 1\n")
    (charts / "web" / "values-prod.yaml").write_text("replicaCount: 3\n")
    api = charts / "api" / "Chart.yaml"
    api.write_text(api.read_text().replace("\nversion: 0.1.0\n", "\nversion: 0.2.0\n"))
    (charts / "api" / "ci").mkdir()
    (charts / "api" / "ci" / "small-values.yaml").write_text("replicaCount: 2\n")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*GIT, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(root), "commit", "-qm", "our charts"], check=True)
    return root


def chart_tree(root: Path) -> dict[str, str]:
    base = root / "deploy" / "charts"
    return {p.relative_to(base).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(base.rglob("*")) if p.is_file()}


class User:
    """Runs commands in the repository the way a user's shell with the venv active does."""

    def __init__(self, installed: Installed, root: Path, home: Path, project_root: Path) -> None:
        self.root = root
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "GIT_", "PRE_COMMIT", "PYTHONPATH",
                                                                         "HELM_BIN", "VIRTUAL_ENV"))}
        # pre-commit comes with chartship's dependencies: from the test environment's bin, last on PATH
        path = [str(installed.bin), str(root / ".tools" / "bin"), "/usr/bin", "/bin", str(Path(sys.executable).parent)]
        self.env = {**keep, "PATH": os.pathsep.join(path), "PRE_COMMIT_HOME": str(home / "pre-commit"),
                    "CHARTSHIP_CACHE_DIR": os.environ.get("CHARTSHIP_CACHE_DIR", str(Path.home() / ".cache" / "chartship"))}
        self.bin = installed.bin

    def run(self, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), cwd=cwd or self.root, env=self.env, capture_output=True, text=True, timeout=900,
                              check=False)

    def chartship(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.bin / "chartship"), *args, cwd=cwd)

    def ok(self, *args: str) -> str:
        result = self.chartship(*args)
        assert result.returncode == 0, f"chartship {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result.stdout


@pytest.fixture
def user(installed: Installed, tmp_path: Path, project_root: Path, helm_bin: Path) -> Iterator[User]:
    u = User(installed, make_repo(tmp_path / "team-repo", helm_bin), tmp_path, project_root)
    yield u
    registry_server.stop(u.root / ".cache" / "registry")


def test_the_wheel_carries_everything_chartship_reads_at_run_time(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for member in ("chartship/data/tools.lock.toml", "chartship/data/cluster.lock.toml",
                   "chartship/data/cluster/kube/go.mod", "chartship/data/cluster/kube/go.sum",
                   "chartship/data/cluster/etcd/main.go", "chartship/data/kwok/stages.yaml", "chartship/data/crds/",
                   "chartship/data/crd-schemas/monitoring.coreos.com/ServiceMonitor.json",
                   "chartship/data/templates/tasks.py.tmpl", "chartship/data/templates/workflows/pr.yml.tmpl",
                   "chartship/py.typed"):
        assert member in names or any(n.startswith(member) for n in names), member
    entry = zipfile.ZipFile(installed.wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "chartship = chartship.cli:main" in entry


def test_chartship_in_a_team_repository_from_init_to_deploy_and_a_commit(user: User, project_root: Path) -> None:
    before = chart_tree(user.root)
    where = user.run(str(user.bin / "python"), "-c", "import chartship, sys; print(chartship.__file__)")
    assert where.stdout.startswith(str(user.bin.parent)), where  # the installed copy, not this checkout

    port = free_port()
    first = user.ok("init", "--port", str(port))
    assert "charts in deploy/charts/: api 0.2.0, web 0.1.0" in first
    assert "environments: dev, prod" in first and "api/ci/small-values.yaml" in first
    assert first.rstrip().splitlines()[-4:] == ["next:", "  chartship tools.install", "  chartship setup-dev",
                                                "  chartship helm.lint --all"]
    assert not (user.root / "version").exists()  # different versions: per-chart, each Chart.yaml rules itself
    assert "Chart.lock" not in (user.root / ".gitignore").read_text()
    for rel in ("invoke.yaml", "tasks.py", "noxfile.py", ".pre-commit-config.yaml", "tag-templates",
                ".github/workflows/pr.yml", ".github/workflows/release.yml", "requirements-chartship.txt"):
        assert (user.root / rel).exists(), rel
    assert not (user.root / "ci").exists()

    listed = user.ok("--list")
    assert "helm.deploy" in listed and "init" in listed
    assert user.run(str(user.bin / "python"), "-m", "chartship", "--list").stdout == listed
    assert "--latest" in user.ok("--help", "helm.deploy")

    assert "helm4" in user.ok("tools.install")  # pinned, checksummed, from ~/.cache/chartship
    assert "2 chart(s) in step" in user.ok("version.check")
    user.ok("helm.lint", "--all")
    user.ok("helm.validate")
    built = user.ok("helm.build")
    assert sorted(p.name for p in (user.root / "dist" / "charts").glob("*.tgz")) == ["api-0.2.0.tgz", "web-0.1.0.tgz"]
    deployed = json.loads(user.ok("helm.deploy", "--latest", "--json"))
    assert deployed["ok"], (built, deployed)
    statuses = {(r["chart"], r["ref"].rsplit(":", 1)[1]): r["status"] for r in deployed["results"]}
    assert statuses == {("api", "0.2.0"): "pushed", ("api", "latest"): "aliased",
                        ("web", "0.1.0"): "pushed", ("web", "latest"): "aliased"}
    assert registry_server.answering("127.0.0.1", port)  # the embedded registry, started on demand

    installed_hooks = user.ok("hooks.install")
    assert "pre-commit installed" in installed_hooks
    add = user.run("git", "add", "-A")
    assert add.returncode == 0, add.stderr
    commit = user.run(*GIT, "commit", "-m", "adopt chartship")
    assert commit.returncode == 0, commit.stdout + commit.stderr
    hooks_ran = commit.stdout + commit.stderr
    assert "version file and Chart.yaml versions agree" in hooks_ran and "Passed" in hooks_ran and "Failed" not in hooks_ran

    doctor = json.loads(user.ok("tools.doctor", "--json"))
    assert {r["tool"]: r["status"] for r in doctor}["helm"] == "ok"

    assert chart_tree(user.root) == before  # no chart file changed
    status = user.run("git", "status", "--porcelain")
    second = user.ok("init", "--port", str(port))
    assert "written" not in second and "differs" not in second
    assert user.run("git", "status", "--porcelain").stdout == status.stdout == ""


def test_a_tasks_py_with_its_own_task_next_to_chartship(user: User) -> None:
    user.ok("init", "--port", str(free_port()))
    user.ok("tools.install")
    own = ('\n\nfrom invoke import task\n\n\n@task\ndef hello(c):\n    """Our own task."""\n'
           "    print('hello from the team')\n\n\nns.add_task(hello)\n")
    (user.root / "tasks.py").write_text((user.root / "tasks.py").read_text() + own)
    invoke = [str(user.bin / "python"), "-m", "invoke"]
    listed = user.run(*invoke, "--list")
    assert listed.returncode == 0, listed.stderr
    assert "hello" in listed.stdout and "helm.lint" in listed.stdout
    assert user.run(*invoke, "hello").stdout == "hello from the team\n"
    lint = user.run(*invoke, "helm.lint", "--all")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    again = user.ok("init")
    assert "tasks.py: exists, differs (kept)" in again and "+ns.add_task(hello)" not in again


def test_outside_a_chartship_repository_the_errors_say_what_to_do(user: User) -> None:
    result = user.chartship("helm.lint", "--all")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: no chartship configuration found in {user.root} or above (a invoke.yaml with a 'chartship:' section); "
        "run `chartship init` in the repository to adopt its charts"]
    (user.root / "invoke.yaml").write_text("chartship:\n  charts:\n    dir: charts\n")
    result = user.chartship("helm.lint", "--all")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "error: invoke.yaml: chartship.charts.dir: 'charts' holds no chart (no charts/<name>/Chart.yaml)")
