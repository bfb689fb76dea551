"""Release operations and the cluster test against a real kube-apiserver (kwok provider).

Skipped, with the reason, where the cluster binaries are not built (`invoke tools.install --cluster`);
ci/bootstrap builds them, so CI runs these."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from chartship import config
from chartship.charts import values
from chartship.cluster import providers
from chartship.errors import ToolError
from chartship.tools import kwok
from tests.helpers.registry import invoke

ROOT = Path(__file__).resolve().parent.parent
UNUSABLE = providers.why_unusable(ROOT, "kwok")
F = TypeVar("F", bound=Callable[..., None])


def needs_kwok(test: F) -> F:
    """A kwok cluster, started by the test's fixture or by `cluster.test`: needs_cluster, skipped where kwok is unusable."""
    skip = pytest.mark.skipif(UNUSABLE is not None, reason=f"kwok provider unusable here: {UNUSABLE}")
    marked: F = pytest.mark.needs_cluster(skip(test))
    return marked


def repo_copy(tmp_path: Path, project_root: Path, charts: tuple[str, ...] = ("core-pipeline", "redis", "platform")) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("tasks.py", "version", "invoke.yaml", "tag-templates", ".yamllint.yaml"):
        src = project_root / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / name)
    for chart in charts:
        shutil.copytree(project_root / "charts" / chart, root / "charts" / chart,
                        ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"))
    # the cluster binaries and kubectl of this checkout (locks, kwok files and CRDs are package data)
    (root / ".tools").symlink_to(project_root / ".tools")
    return root


def test_existing_provider_refuses_unlisted_contexts() -> None:
    patterns = ("kind-*", "kwok-*")
    assert providers.check_context("kind-ci", patterns) == "kind-ci"
    with pytest.raises(ToolError, match="context 'prod-eu-1' matches none of cluster_contexts"):
        providers.check_context("prod-eu-1", patterns)
    with pytest.raises(ToolError, match="no current context"):
        providers.check_context(None, patterns)


def test_unusable_provider_says_what_to_install(tmp_path: Path, project_root: Path) -> None:
    root = repo_copy(tmp_path, project_root)
    if shutil.which("kind") is None:
        proc = invoke(root, "cluster.test", "--provider", "kind")
        assert proc.returncode != 0 and "kind is not installed" in proc.stderr and "Traceback" not in proc.stderr
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts:\n- name: prod\n  context:\n"
                          "    cluster: prod\n    user: prod\nclusters:\n- name: prod\n  cluster:\n    server: https://192.0.2.1\n"
                          "users:\n- name: prod\n  user: {}\n")
    proc = invoke(root, "cluster.test", "--provider", "existing", env={"KUBECONFIG": str(kubeconfig)})
    assert proc.returncode != 0 and "context 'prod' matches none of cluster_contexts" in proc.stderr


@needs_kwok
@pytest.mark.needs_helm  # cluster.test installs with helm
def test_cluster_test_flow_on_kwok(tmp_path: Path, project_root: Path) -> None:
    root = repo_copy(tmp_path, project_root)
    proc = invoke(root, "cluster.test", "--provider", "kwok", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    assert data["provider"] == "kwok" and data["ok"]
    cfg = config.load(root, environ={})
    cycle = {"install previous": "skipped", "install": "ok", "upgrade": "ok", "helm test": "ok", "rollback": "ok",
             "uninstall": "ok"}
    for chart in ("core-pipeline", "redis", "platform"):
        ran = [s for s in data["steps"] if s["chart"] == chart]
        steps = {s["step"]: s["status"] for s in ran if s["step"] in cycle}
        assert steps == cycle, (chart, steps)
        sets = [vs.name for vs in values.values_sets(cfg, root / "charts" / chart)]
        primary = values.TEST if values.TEST in sets else values.DEFAULTS
        assert {s["values"] for s in ran if s["step"] in cycle} == {primary}
        others = {(s["values"], s["step"]): s["status"] for s in ran if s["step"] not in cycle}
        assert others == {(name, f"{step} [{name}]"): "ok" for name in sets if name != primary
                          for step in ("install", "helm test", "uninstall")}, (chart, others)


@needs_kwok
def test_release_operations_and_immutable_selector(kwok_cluster: kwok.Cluster, tmp_path: Path, project_root: Path,
                                                   helm_bin: Path) -> None:
    root = repo_copy(tmp_path, project_root, ())
    (root / "charts").mkdir()
    subprocess.run([str(helm_bin), "create", str(root / "charts" / "web")], check=True, capture_output=True)
    chart_yaml = root / "charts/web/Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("version: 0.1.0", "version: " + (root / "version").read_text().strip()))
    (root / "invoke.yaml").write_text("chartship:\n  charts:\n    settings:\n      web: {app_version: pinned}\n")
    env = {"KUBECONFIG": str(kwok_cluster.kubeconfig)}
    common = ("--chart", "web", "--namespace", "ops", "--timeout", "2m")
    first = invoke(root, "helm.install", *common, "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["revision"] == 1
    status = json.loads(invoke(root, "helm.status", "--chart", "web", "--namespace", "ops", "--json", env=env).stdout)
    assert status["info"]["status"] == "deployed"
    # an upgrade that only the API server can reject: a Deployment's selector is immutable
    helpers = root / "charts/web/templates/_helpers.tpl"
    helpers.write_text(helpers.read_text().replace('app.kubernetes.io/instance: {{ .Release.Name }}',
                                                   'app.kubernetes.io/instance: {{ .Release.Name }}\ntier: web', 1))
    failed = invoke(root, "helm.upgrade", *common, env=env)
    assert failed.returncode == 1
    assert "field is immutable" in failed.stderr and "rolled back" in failed.stderr and "Traceback" not in failed.stderr
    history = json.loads(invoke(root, "helm.history", "--chart", "web", "--namespace", "ops", "--json", env=env).stdout)
    assert history[-1]["status"] == "deployed" and history[-1]["revision"] >= 3
    assert any(h["status"] == "failed" for h in history)
    rolled = invoke(root, "helm.rollback", "--chart", "web", "--namespace", "ops", "--revision", "1", env=env)
    assert rolled.returncode == 0 and "rolled back" in rolled.stdout, rolled.stderr
    gone = invoke(root, "helm.uninstall", "--chart", "web", "--namespace", "ops", env=env)
    assert gone.returncode == 0, gone.stderr
    after = invoke(root, "helm.status", "--chart", "web", "--namespace", "ops", env=env)
    assert after.returncode != 0 and "not found" in after.stderr


@needs_kwok
@pytest.mark.needs_helm
@pytest.mark.needs_registry  # helm.deploy publishes the previous version first
def test_cluster_test_upgrades_from_the_previous_published_version(tmp_path: Path, project_root: Path) -> None:
    from tests.helpers import free_port

    root = repo_copy(tmp_path, project_root)
    port = free_port()
    config = (root / "invoke.yaml").read_text().replace("127.0.0.1:5000", f"127.0.0.1:{port}")
    (root / "invoke.yaml").write_text(config)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(root)]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "0.1.0"], check=True)
    try:
        published = invoke(root, "helm.deploy", "--chart", "core-pipeline")
        assert published.returncode == 0, published.stderr
        assert invoke(root, "version.set", "0.1.1").returncode == 0
        proc = invoke(root, "cluster.test", "--provider", "kwok", "--chart", "core-pipeline", "--json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        steps = {s["step"]: s for s in json.loads(proc.stdout)["steps"]}
        assert steps["install previous"]["status"] == "ok" and "core-pipeline 0.1.0" in steps["install previous"]["message"]
        assert steps["upgrade"]["status"] == "ok" and "core-pipeline 0.1.1, revision 2" in steps["upgrade"]["message"]
        assert steps["rollback"]["status"] == "ok" and "revision 3" in steps["rollback"]["message"]
        assert steps["helm test"]["status"] == "ok" and steps["uninstall"]["status"] == "ok"
    finally:
        invoke(root, "registry.down")
