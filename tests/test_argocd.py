"""argocd/: AppProjects per environment and the ApplicationSet that deploys charts/platform."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
ARGOCD = ROOT / "argocd"
ENVS = ["dev", "staging", "prod"]
REPO_URL = "https://github.com/example/chartship.git"


def load_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in YAML(typ="safe", pure=True).load_all(path.read_text(encoding="utf-8")) if d]


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(ARGOCD.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += load_docs(path)
    return docs


@pytest.fixture(scope="module")
def projects(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in manifests if d["kind"] == "AppProject"}


@pytest.fixture(scope="module")
def appset(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = [d for d in manifests if d["kind"] == "ApplicationSet"]
    return found


def expand(node: Any, element: dict[str, Any]) -> Any:
    """Apply the ApplicationSet go template `{{ .key }}` substitutions (missingkey=error)."""
    if isinstance(node, dict):
        return {k: expand(v, element) for k, v in node.items()}
    if isinstance(node, list):
        return [expand(v, element) for v in node]
    if isinstance(node, str):

        def sub(match: re.Match[str]) -> str:
            key = match.group(1)
            assert key in element, f"template uses .{key}, element {element} has no such key"
            return str(element[key])

        rest = re.sub(r"\{\{\s*\.(\w+)\s*\}\}", sub, node)
        assert "{{" not in rest, f"unsupported template expression in {node!r}"
        return rest
    return node


@pytest.fixture(scope="module")
def applications(appset: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert appset["spec"]["goTemplate"] is True
    assert "missingkey=error" in appset["spec"]["goTemplateOptions"]
    (generator,) = appset["spec"]["generators"]
    elements = generator["list"]["elements"]
    apps = [expand(appset["spec"]["template"], e) | {"element": e} for e in elements]
    return {a["element"]["env"]: a for a in apps}


def test_kustomization_lists_every_manifest() -> None:
    kustomization = YAML(typ="safe", pure=True).load(ARGOCD / "kustomization.yaml")
    listed = sorted(kustomization["resources"])
    on_disk = sorted(p.relative_to(ARGOCD).as_posix() for p in ARGOCD.rglob("*.yaml") if p.name != "kustomization.yaml")
    assert listed == on_disk


def test_one_application_per_environment(applications: dict[str, dict[str, Any]]) -> None:
    assert sorted(applications) == sorted(ENVS)
    names = [a["metadata"]["name"] for a in applications.values()]
    assert sorted(names) == sorted(f"platform-{e}" for e in ENVS)


@pytest.mark.parametrize("env", ENVS)
def test_every_referenced_path_exists(applications: dict[str, dict[str, Any]], env: str) -> None:
    source = applications[env]["spec"]["source"]
    assert source["repoURL"] == REPO_URL
    chart_dir = ROOT / source["path"]
    assert (chart_dir / "Chart.yaml").is_file(), source["path"]
    value_files = source["helm"]["valueFiles"]
    assert value_files == ["values.yaml", f"values-{env}.yaml"]
    for name in value_files:
        assert (chart_dir / name).is_file(), f"{source['path']}/{name} does not exist"


@pytest.mark.parametrize("env", ENVS)
def test_each_environment_has_its_app_project(
    applications: dict[str, dict[str, Any]], projects: dict[str, dict[str, Any]], env: str
) -> None:
    app = applications[env]
    project = projects[app["spec"]["project"]]
    assert project["metadata"]["name"] == f"platform-{env}"
    assert project["metadata"]["namespace"] == "argocd"
    assert REPO_URL in project["spec"]["sourceRepos"]
    destination = app["spec"]["destination"]
    assert {"server": destination["server"], "namespace": destination["namespace"]} in project["spec"]["destinations"]
    assert destination["namespace"] == f"platform-{env}"
    # CreateNamespace=true needs Namespace in the cluster whitelist, and nothing else cluster-wide.
    assert project["spec"]["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]


@pytest.mark.parametrize("env", ENVS)
def test_rbac_roles(projects: dict[str, dict[str, Any]], env: str) -> None:
    name = f"platform-{env}"
    roles = {r["name"]: r for r in projects[name]["spec"]["roles"]}
    assert {"read-only", "deployer"} <= set(roles)
    for role_name, role in roles.items():
        assert role["groups"], f"{name}/{role_name} has no groups"
        for policy in role["policies"]:
            parts = [p.strip() for p in policy.split(",")]
            assert len(parts) == 6 and parts[0] == "p", policy
            assert parts[1] == f"proj:{name}:{role_name}", policy
            assert parts[4].startswith(f"{name}/"), f"{policy}: must stay inside its project"
            assert parts[5] == "allow"
    read_only_actions = {p.split(",")[3].strip() for p in roles["read-only"]["policies"]}
    assert read_only_actions == {"get"}
    deployer_actions = {p.split(",")[3].strip() for p in roles["deployer"]["policies"]}
    assert "sync" in deployer_actions and not deployer_actions & {"create", "delete", "update", "*"}


@pytest.mark.parametrize("env", ENVS)
def test_sync_policy(applications: dict[str, dict[str, Any]], env: str) -> None:
    spec = applications[env]["spec"]
    policy = spec["syncPolicy"]
    assert policy["automated"] == {"prune": True, "selfHeal": True}
    assert {"CreateNamespace=true", "ServerSideApply=true", "RespectIgnoreDifferences=true"} <= set(policy["syncOptions"])
    backoff = policy["retry"]["backoff"]
    assert policy["retry"]["limit"] > 0 and backoff["factor"] > 1
    assert re.fullmatch(r"\d+[sm]", backoff["duration"]) and re.fullmatch(r"\d+[sm]", backoff["maxDuration"])
    assert {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]} in spec["ignoreDifferences"]
    assert spec["source"]["helm"]["releaseName"] == "platform"


# --------------------------------------------------------------------------- the projects allow what the chart renders


@pytest.fixture(scope="module")
def platform_chart(tmp_path_factory: pytest.TempPathFactory, helm_bin: Path,
                   helm_env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    env = helm_env
    charts = tmp_path_factory.mktemp("charts") / "charts"
    shutil.copytree(ROOT / "charts", charts, ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"))
    proc = subprocess.run(
        [str(helm_bin), "dependency", "build", str(charts / "platform"), "--skip-refresh"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return charts / "platform", env


@pytest.mark.parametrize("env", ENVS)
def test_projects_allow_every_kind_the_chart_renders(
    platform_chart: tuple[Path, dict[str, str]],
    helm_bin: Path,
    applications: dict[str, dict[str, Any]],
    projects: dict[str, dict[str, Any]],
    env: str,
) -> None:
    chart, helm_env = platform_chart
    source = applications[env]["spec"]["source"]
    args = [str(helm_bin), "template", source["helm"]["releaseName"], str(chart), "--namespace", f"platform-{env}"]
    for name in source["helm"]["valueFiles"]:
        args += ["-f", str(chart / name)]
    # with the Prometheus Operator API present, as in the target clusters
    proc = subprocess.run(
        [*args, "--api-versions", "monitoring.coreos.com/v1"], capture_output=True, text=True, env=helm_env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    rendered = [d for d in YAML(typ="safe", pure=True).load_all(proc.stdout) if d]
    allowed = {
        (w["group"], w["kind"]) for w in projects[applications[env]["spec"]["project"]]["spec"]["namespaceResourceWhitelist"]
    }
    for doc in rendered:
        group = doc["apiVersion"].rsplit("/", 1)[0] if "/" in doc["apiVersion"] else ""
        assert (group, doc["kind"]) in allowed, f"AppProject platform-{env} does not allow {group}/{doc['kind']}"
        assert doc["metadata"].get("namespace", f"platform-{env}") == f"platform-{env}"
