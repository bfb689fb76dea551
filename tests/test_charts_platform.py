"""charts/platform (umbrella) and charts/redis, rendered with real helm.

The file:// dependencies are vendored with `helm dependency build` into a temporary
copy of charts/, so the repository never gets charts/platform/charts/*.tgz or a Chart.lock.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
CHARTS = ROOT / "charts"
RELEASE = "platform"
NAMESPACE = "platform-ns"
ENVS = ["default", "dev", "staging", "prod", "test"]
SUBCHARTS = ["core-pipeline", "redis"]
CP = "platform-core-pipeline"
REDIS = "platform-redis"


def load_all(text: str) -> list[dict[str, Any]]:
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d]


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path)


@pytest.fixture(scope="module")
def charts_copy(tmp_path_factory: pytest.TempPathFactory, run_helm: Any) -> Path:
    """A temporary copy of charts/ with the umbrella's dependencies built."""
    dest = tmp_path_factory.mktemp("charts") / "charts"
    shutil.copytree(CHARTS, dest, ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"))
    proc = run_helm("dependency", "build", str(dest / "platform"), "--skip-refresh")
    assert proc.returncode == 0, proc.stderr
    vendored = sorted(p.name for p in (dest / "platform" / "charts").glob("*.tgz"))
    assert vendored == ["core-pipeline-0.1.0.tgz", "redis-0.1.0.tgz"]
    return dest


def env_args(chart: Path, env: str) -> list[str]:
    return [] if env == "default" else ["-f", str(chart / f"values-{env}.yaml")]


@pytest.fixture(scope="module")
def template(run_helm: Any, charts_copy: Path) -> Any:
    def render(*args: str, chart: str = "platform", release: str = RELEASE) -> list[dict[str, Any]]:
        proc = run_helm("template", release, str(charts_copy / chart), "--namespace", NAMESPACE, *args)
        assert proc.returncode == 0, proc.stderr
        return load_all(proc.stdout)

    return render


@pytest.fixture(scope="module")
def rendered(template: Any, charts_copy: Path) -> dict[str, list[dict[str, Any]]]:
    return {env: template(*env_args(charts_copy / "platform", env)) for env in ENVS}


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
    return spec


def pods(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] in {"Deployment", "StatefulSet", "Job", "Pod"}]


def chart_of(doc: dict[str, Any]) -> str:
    return str(doc["metadata"]["labels"]["helm.sh/chart"]).rsplit("-", 1)[0]


# --------------------------------------------------------------------------- Chart.yaml


def test_dependencies_are_pinned_to_the_subcharts_versions() -> None:
    umbrella = load(CHARTS / "platform" / "Chart.yaml")
    assert umbrella["apiVersion"] == "v2" and umbrella["version"] == "0.1.0" and str(umbrella["appVersion"]) == "0.1.0"
    deps = {d["name"]: d for d in umbrella["dependencies"]}
    assert sorted(deps) == SUBCHARTS
    for name, dep in deps.items():
        sub = load(CHARTS / name / "Chart.yaml")
        assert dep["version"] == sub["version"], f"{name}: dependency {dep['version']} != chart {sub['version']}"
        assert dep["repository"] == f"file://../{name}"
        assert dep["condition"] == f"{name}.enabled"
    assert str(load(CHARTS / "redis" / "Chart.yaml")["appVersion"]) == "7.4.2"


def test_repository_holds_no_vendored_dependencies(charts_copy: Path) -> None:
    assert (charts_copy / "platform" / "charts").is_dir()  # built in the copy ...
    tracked = subprocess.run(
        ["git", "ls-files", "charts/platform/charts", "charts/platform/Chart.lock"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tracked.stdout.strip() == ""  # ... never committed


# --------------------------------------------------------------------------- globals and conditions


def test_globals_reach_both_subcharts(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["test"]
    charts_seen = set()
    for doc in pods(docs):
        spec = pod_spec(doc)
        charts_seen.add(chart_of(doc))
        for c in spec["containers"]:
            assert c["image"].startswith("registry.test.local:5000/"), f"{doc['metadata']['name']}: {c['image']}"
        assert {"name": "test-registry-credentials"} in spec.get("imagePullSecrets", []), doc["metadata"]["name"]
    assert charts_seen == set(SUBCHARTS)
    assert one(docs, "StatefulSet", REDIS)["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "registry.test.local:5000/library/redis:7.4.2"
    )
    assert one(docs, "ConfigMap", CP)["data"]["APP_ENVIRONMENT"] == "test"


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "test"])
def test_global_environment_labels_every_object(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    docs = rendered[env]
    assert {chart_of(d) for d in docs} == set(SUBCHARTS)
    for doc in docs:
        assert doc["metadata"]["labels"]["chartship.io/environment"] == env, f"{doc['kind']}/{doc['metadata']['name']}"
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "platform"


def test_without_globals_images_keep_their_registry(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["default"]
    assert pod_spec(one(docs, "Deployment", CP))["containers"][0]["image"] == "ghcr.io/example/core-pipeline:1.0.0"
    assert pod_spec(one(docs, "StatefulSet", REDIS))["containers"][0]["image"] == "docker.io/library/redis:7.4.2"
    assert all("imagePullSecrets" not in pod_spec(d) for d in pods(docs))


@pytest.mark.parametrize("sub", SUBCHARTS)
def test_conditions_disable_a_subchart(template: Any, sub: str) -> None:
    docs = template("--set", f"{sub}.enabled=false")
    assert {chart_of(d) for d in docs} == set(SUBCHARTS) - {sub}


def test_redis_host_points_at_the_redis_subchart(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for env in ENVS:
        docs = rendered[env]
        assert one(docs, "ConfigMap", CP)["data"]["REDIS_HOST"] == REDIS
        assert one(docs, "Service", REDIS)["spec"]["ports"][0]["port"] == 6379


def test_redis_password_is_shared(rendered: dict[str, list[dict[str, Any]]]) -> None:
    expected = {"dev": (REDIS, "redis-password"), "test": (REDIS, "redis-password"),
                "staging": ("core-pipeline-credentials", "REDIS_PASSWORD"), "prod": (CP, "REDIS_PASSWORD")}  # fmt: skip
    for env, ref in expected.items():
        docs = rendered[env]
        app_env = {e["name"]: e for e in pod_spec(one(docs, "Deployment", CP))["containers"][0]["env"]}
        redis_env = {e["name"]: e for e in pod_spec(one(docs, "StatefulSet", REDIS))["containers"][0]["env"]}
        app_ref = app_env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]
        redis_ref = redis_env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert (app_ref["name"], app_ref["key"]) == ref == (redis_ref["name"], redis_ref["key"]), env
    assert one(rendered["dev"], "Secret", REDIS)["stringData"] == {"redis-password": "dev-only-redis-password"}


# --------------------------------------------------------------------------- the umbrella mirrors the chart's env files


def standalone_view(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    deploy = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
    container = pod_spec(deploy)["containers"][0]
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name)["data"]
    hpa = [(d["spec"]["minReplicas"], d["spec"]["maxReplicas"]) for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    return {
        "replicas": deploy["spec"]["replicas"],
        "pullPolicy": container["imagePullPolicy"],
        "resources": container["resources"],
        "hpa": hpa,
        "NODE_ENV": config["NODE_ENV"],
        "LOG_LEVEL": config["LOG_LEVEL"],
        "POSTGRES_HOST": config["POSTGRES_HOST"],
        "KAFKA_BROKERS": config["KAFKA_BROKERS"],
        "pdb": [d["spec"] for d in docs if d["kind"] == "PodDisruptionBudget" and chart_of(d) == "core-pipeline"],
        "ingress_hosts": [r["host"] for d in docs if d["kind"] == "Ingress" for r in d["spec"]["rules"]],
        "kinds": sorted({d["kind"] for d in docs if chart_of(d) == "core-pipeline"}),
    }


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "test"])
def test_umbrella_env_matches_core_pipeline_env(
    rendered: dict[str, list[dict[str, Any]]], template: Any, charts_copy: Path, env: str
) -> None:
    alone = template(*env_args(charts_copy / "core-pipeline", env), chart="core-pipeline", release=RELEASE)
    umbrella = standalone_view(rendered[env], CP)
    expected = standalone_view(alone, CP)
    for view in (umbrella, expected):
        for pdb in view["pdb"]:
            pdb.pop("selector")
    assert umbrella == expected


# --------------------------------------------------------------------------- redis


def test_redis_persistence(rendered: dict[str, list[dict[str, Any]]]) -> None:
    prod = one(rendered["prod"], "StatefulSet", REDIS)
    (claim,) = prod["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "16Gi"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    dev = one(rendered["dev"], "StatefulSet", REDIS)
    assert "volumeClaimTemplates" not in dev["spec"]
    volumes = {v["name"]: v for v in pod_spec(dev)["volumes"]}
    assert "emptyDir" in volumes["data"]


def test_redis_services_and_hardening(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["prod"]
    sts = one(docs, "StatefulSet", REDIS)
    headless = one(docs, "Service", f"{REDIS}-headless")
    client = one(docs, "Service", REDIS)
    assert headless["spec"]["clusterIP"] == "None"
    assert sts["spec"]["serviceName"] == headless["metadata"]["name"]
    assert client["spec"]["type"] == "ClusterIP"
    assert client["spec"]["selector"] == sts["spec"]["selector"]["matchLabels"]
    spec = pod_spec(sts)
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] >= 1000
    assert spec["automountServiceAccountToken"] is False
    (c,) = spec["containers"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert set(c["resources"]) == {"requests", "limits"}
    assert "--requirepass" in c["args"]
    np = one(docs, "NetworkPolicy", REDIS)
    assert np["spec"]["ingress"][0]["from"][0] == {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": RELEASE}}}


def test_redis_requires_a_password_with_auth(run_helm: Any, charts_copy: Path) -> None:
    for command in (["template", "r"], ["lint", "--strict"]):
        proc = run_helm(*command, str(charts_copy / "redis"), "--set", "auth.enabled=true")
        assert proc.returncode != 0
        assert "password" in proc.stdout + proc.stderr


# --------------------------------------------------------------------------- lint, schema, Kubernetes schemas


@pytest.mark.parametrize("chart_env", ["platform:" + e for e in ENVS] + ["redis:default"])
def test_lint_strict_is_clean(run_helm: Any, charts_copy: Path, chart_env: str) -> None:
    chart, env = chart_env.split(":")
    proc = run_helm("lint", "--strict", str(charts_copy / chart), *env_args(charts_copy / chart, env))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "[WARNING]" not in out and "[ERROR]" not in out, out
    assert "0 chart(s) failed" in out, out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--set", "global.environment=qa"], "environment"),
        (["--set", "global.imageRegistry=https://registry.example.com"], "imageRegistry"),
        (["--set", "redis.enabled=maybe"], "enabled"),
        (["--set", "core-pipeline.replicaCount=-1"], "replicaCount"),
        (["--set", "redis.image.pullPolicy=Sometimes"], "pullPolicy"),
    ],
    ids=["environment", "registry-scheme", "condition-type", "subchart-replicas", "subchart-pull-policy"],
)
def test_schema_rejects(run_helm: Any, charts_copy: Path, args: list[str], field: str) -> None:
    proc = run_helm("template", RELEASE, str(charts_copy / "platform"), *args)
    assert proc.returncode != 0, f"accepted {args}"
    assert "schema" in proc.stderr and field in proc.stderr, proc.stderr


@pytest.mark.parametrize("env", ENVS)
def test_kubernetes_schemas(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for doc in rendered[env]:
        if doc["apiVersion"].split("/")[0] in {"monitoring.coreos.com", "external-secrets.io", "traefik.io"}:
            continue  # CRDs: no offline schema; covered by tests/test_charts_core_pipeline.py
        for k8s in ("1.30.0", "1.37.0"):
            try:
                kubernetes_validate.validate(doc, k8s, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(
                    f"{env}: {doc['kind']}/{doc['metadata']['name']} invalid for {k8s}: {exc.message} at {list(exc.path)}"
                )
