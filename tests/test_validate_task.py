"""`invoke helm.validate` end to end, through the real invoke and helm, on a temp copy of this
repository: the repository's charts and argocd/ are clean; a `helm create` scaffold (root, no
limits), typos in templates and in argocd/ are findings naming chart, env, object and field."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_invoke

COPIED = ("tasks.py", "invoke.yaml", "version", "tag-templates", ".yamllint.yaml", "charts", "argocd")
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def repo(tmp_path: Path, project_root: Path) -> Path:
    root = tmp_path / "repo"
    for name in COPIED:
        src, dest = project_root / name, root / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.tgz", "tmpcharts"))
        else:
            shutil.copy2(src, dest)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(root)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    return root


@pytest.fixture
def inv(repo: Path) -> Run:
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "GITHUB_"))}
        # files a test writes are staged: chartship validates the files git would check out
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
        return run_invoke(repo, *args, env={**clean, **(env or {})}, timeout=600)
    return run


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in result.stderr, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def texts(data: dict[str, Any], rule: str | None = None) -> list[str]:
    return [f["text"] for f in data["findings"] if rule is None or f["rule"] == rule]


def test_the_repository_charts_and_argocd_are_clean(inv: Run, helm_bin: Path) -> None:
    result = inv("helm.validate", "--json")
    data = as_json(result)
    assert result.returncode == 0, texts(data)
    assert data["ok"] is True and data["findings"] == []
    assert data["kubernetes_versions"] == ["1.30.0", "1.37.0"]
    major = subprocess.run([str(helm_bin), "version", "--template", "{{.Version}}"], capture_output=True, text=True,
                           check=True).stdout.split(".")[0]
    assert data["helm"].startswith(major + ".")
    renders = {(r["chart"], r["env"]): r for r in data["renders"]}
    for chart in ("core-pipeline", "platform"):
        assert {env for c, env in renders if c == chart} == {"defaults", "dev", "staging", "prod", "test"}
        assert renders[(chart, "test")]["values"] == ["values-test.yaml"]
    assert {env for c, env in renders if c == "redis"} == {"defaults"}
    assert all(r["objects"] > 0 for (c, _e), r in renders.items() if c != "argocd")
    argocd = {env: r["objects"] for (c, env), r in renders.items() if c == "argocd"}
    assert argocd["argocd/applicationset.yaml"] == 1 and argocd["argocd/projects/prod.yaml"] == 1
    assert argocd["argocd/kustomization.yaml"] == 0  # a kustomize build file, not a cluster object


def test_a_helm_create_scaffold_is_reported_with_chart_env_object_and_field(repo: Path, inv: Run, helm_bin: Path) -> None:
    subprocess.run([str(helm_bin), "create", "demo"], cwd=repo / "charts", check=True, capture_output=True)
    result = inv("helm.validate", "--chart", "demo", "--json")
    assert result.returncode == 1
    data = as_json(result)
    assert data["ok"] is False
    assert [(r["chart"], r["env"]) for r in data["renders"]] == [("demo", "defaults")]  # --chart: no argocd/
    found = texts(data)
    base = "demo [defaults] Deployment/rel-demo: spec.template.spec.containers[demo]"
    for line in (f"{base}.securityContext.runAsNonRoot must be true (here or in spec.template.spec.securityContext) "
                 "(rule run-as-non-root)",
                 f"{base}.securityContext.readOnlyRootFilesystem must be true (rule read-only-root)",
                 f"{base}.resources.limits.memory must be set (rule resources)",
                 f"{base}.resources.requests.cpu must be set (rule resources)",
                 "demo [defaults] Pod/rel-demo-test-connection: spec.containers[wget].securityContext.allowPrivilegeEscalation "
                 "must be false (rule no-privilege-escalation)"):
        assert line in found, "\n".join(found)
    first = next(f for f in data["findings"] if f["rule"] == "run-as-non-root")
    assert (first["chart"], first["env"], first["kind"], first["name"], first["container"], first["source"]) == (
        "demo", "defaults", "Deployment", "rel-demo", "demo", "demo/templates/deployment.yaml")
    assert not texts(data, "k8s-schema")  # the scaffold is valid Kubernetes, just unsafe

    table = inv("helm.validate", "--chart", "demo")
    assert table.returncode == 1 and "Traceback" not in table.stderr
    assert table.stderr.strip().splitlines() == [f"error: helm.validate: {len(found)} finding(s)"]
    assert "rel-demo" in table.stdout and "run-as-non-root" in table.stdout


ALLOW = """\
- rule: read-only-root
  kind: Deployment
  name: "*-demo"
  container: demo
  reason: the scaffold's nginx writes to /var/cache
- rule: probes
  kind: Deployment
  name: rel-demo
  reason: stale on purpose, the scaffold has probes
"""


def test_allowlist_entries_suppress_findings_and_stale_ones_are_reported(repo: Path, inv: Run, helm_bin: Path) -> None:
    subprocess.run([str(helm_bin), "create", "demo"], cwd=repo / "charts", check=True, capture_output=True)
    before = texts(as_json(inv("helm.validate", "--chart", "demo", "--json")))
    (repo / "charts" / "demo" / ".chartship-allow.yaml").write_text(ALLOW)
    result = inv("helm.validate", "--chart", "demo", "--json")
    assert result.returncode == 1
    data = as_json(result)
    after = texts(data)
    suppressed = [t for t in before if t not in after]
    assert suppressed == [t for t in before if "Deployment/rel-demo" in t and "rule read-only-root" in t] and suppressed
    assert [a["reason"] for a in data["allowed"]] == ["the scaffold's nginx writes to /var/cache"]
    assert data["allowed"][0]["allowed_by"] == "charts/demo/.chartship-allow.yaml:1"
    assert texts(data, "stale-allowlist") == [
        "demo [*] Deployment/rel-demo: charts/demo/.chartship-allow.yaml:6 allowlist entry (rule probes, "
        "Deployment/rel-demo) matches no finding; remove it (rule stale-allowlist)"]


@pytest.mark.needs_helm  # runs helm through the invoke task
def test_a_malformed_allowlist_fails_cleanly(repo: Path, inv: Run) -> None:
    (repo / "charts" / "redis" / ".chartship-allow.yaml").write_text("- rule: probes\n  kind: StatefulSet\n  name: x\n")
    result = inv("helm.validate", "--chart", "redis")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: charts/redis/.chartship-allow.yaml:1: reason is missing (say why the exception is safe)"]


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.needs_helm  # runs helm through the invoke task
def test_typos_in_templates_crds_and_argocd_are_findings(repo: Path, inv: Run) -> None:
    chart = repo / "charts" / "core-pipeline"
    # an extra environment renders the Traefik objects (Middleware, ServersTransport)
    prod = "    prod: [values-prod.yaml]\n"
    replace_in(repo / "invoke.yaml", prod, prod + "    edge: [values-edge.yaml]\n")
    (chart / "values-edge.yaml").write_text(
        "ingress:\n  enabled: true\n  className: traefik\n  rateLimit:\n    enabled: true\n  cors:\n    enabled: true\n")
    clean = as_json(inv("helm.validate", "--chart", "core-pipeline", "--json"))
    assert clean["ok"], texts(clean)
    edge = next(r for r in clean["renders"] if r["env"] == "edge")
    assert edge["objects"] > next(r for r in clean["renders"] if r["env"] == "defaults")["objects"]

    replace_in(chart / "templates" / "traefik.yaml", "maxRequestBodyBytes:", "maxRequestBodyByte:")
    replace_in(chart / "templates" / "deployment.yaml", "readinessProbe:", "readinesProbe:")
    replace_in(repo / "argocd" / "applicationset.yaml", "CreateNamespace=true", "CreateNamespce=true")
    result = inv("helm.validate", "--json")
    assert result.returncode == 1
    data = as_json(result)
    crd = [f for f in data["findings"] if f["rule"] == "crd-schema"]
    assert [(f["chart"], f["env"], f["kind"], f["field"]) for f in crd] == [
        ("core-pipeline", "edge", "Middleware", "spec.buffering"),
        ("argocd", "argocd/applicationset.yaml", "ApplicationSet", "spec.template.spec.syncPolicy.syncOptions[0]")]
    assert "'maxRequestBodyByte' was unexpected" in crd[0]["message"]
    k8s = [f for f in data["findings"] if f["rule"] == "k8s-schema"]
    envs = {f["env"] for f in k8s if f["chart"] == "core-pipeline"}
    assert envs == {"defaults", "dev", "staging", "prod", "test", "edge"}
    assert {(f["kind"], f["field"]) for f in k8s if f["chart"] == "core-pipeline"} == {
        ("Deployment", "spec.template.spec.containers[core-pipeline]")}
    assert {f["chart"] for f in k8s} == {"core-pipeline", "platform"}  # the umbrella renders the same template
    probes = [f["field"] for f in data["findings"] if f["rule"] == "probes"]
    assert probes and set(probes) == {"spec.template.spec.containers[core-pipeline].readinessProbe"}


def test_kubernetes_versions_outside_the_schemas_fail_cleanly(inv: Run) -> None:
    result = inv("helm.validate", "--chart", "redis", env={"CHARTSHIP_KUBERNETES_VERSIONS": "1.24.0"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: kubernetes_versions: 1.24.0 is not covered by kubernetes-validate (it has 1.25.0 to 1.37.0); "
        "pick versions in that range"]


def test_without_kubernetes_validate_installed_the_task_says_how_to_install_it(inv: Run, tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "kubernetes_validate"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('simulated: not installed')\n")
    path = os.pathsep.join([str(shadow.parent), os.environ.get("PYTHONPATH", "")])
    result = inv("helm.validate", "--chart", "redis", env={"PYTHONPATH": path})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: kubernetes-validate is not installed: it comes with chartship; reinstall chartship into the environment "
        "it runs from (`python -m pip install --force-reinstall chartship`)"]
