"""charts/core-pipeline rendered with real helm: the spec's numbers, security, schema, lint, Kubernetes schemas.

Each environment is rendered once per module (``rendered``); the tests read the parsed manifests.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "charts" / "core-pipeline"
RELEASE = "rel"
NAMESPACE = "ns"
FULLNAME = "rel-core-pipeline"
ENVS = ["default", "dev", "staging", "prod", "test"]
K8S_VERSIONS = ["1.30.0", "1.37.0"]  # oldest supported by our kubeVersion range we pin for CI, and the newest shipped
CRD_KINDS = {"ServiceMonitor", "PrometheusRule", "ExternalSecret", "Middleware", "ServersTransport"}
POD_KINDS = {"Deployment", "StatefulSet", "Job", "Pod"}

# The spec's numbers per environment.
EXPECT: dict[str, dict[str, Any]] = {
    "default": {
        "replicas": 2,
        "pull": "IfNotPresent",
        "req": ("250m", "256Mi"),
        "lim": ("500m", "512Mi"),
        "hpa": None,
        "log": "info",
        "node": "production",
    },
    "dev": {
        "replicas": 1,
        "pull": "Always",
        "req": ("100m", "128Mi"),
        "lim": ("200m", "256Mi"),
        "hpa": None,
        "log": "debug",
        "node": "development",
    },
    "staging": {
        "replicas": 2,
        "pull": "IfNotPresent",
        "req": ("250m", "256Mi"),
        "lim": ("500m", "512Mi"),
        "hpa": (2, 10),
        "log": "info",
        "node": "staging",
    },
    "prod": {
        "replicas": 3,
        "pull": "IfNotPresent",
        "req": ("500m", "512Mi"),
        "lim": ("1000m", "1Gi"),
        "hpa": (3, 20),
        "log": "warn",
        "node": "production",
    },
    "test": {
        "replicas": 1,
        "pull": "IfNotPresent",
        "req": ("10m", "32Mi"),
        "lim": ("100m", "128Mi"),
        "hpa": (1, 2),
        "log": "debug",
        "node": "test",
    },
}


def values_args(env: str) -> list[str]:
    return [] if env == "default" else ["-f", str(CHART / f"values-{env}.yaml")]


def load_all(text: str) -> list[dict[str, Any]]:
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d]


@pytest.fixture(scope="module")
def template(run_helm: Any) -> Any:
    def render(*args: str, chart: Path = CHART) -> list[dict[str, Any]]:
        proc = run_helm("template", RELEASE, str(chart), "--namespace", NAMESPACE, *args)
        assert proc.returncode == 0, proc.stderr
        return load_all(proc.stdout)

    return render


@pytest.fixture(scope="module")
def rendered(template: Any) -> dict[str, list[dict[str, Any]]]:
    return {env: template(*values_args(env)) for env in ENVS}


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: list[dict[str, Any]], kind: str, name: str = FULLNAME) -> dict[str, Any]:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
    return spec


def app_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    containers = pod_spec(one(docs, "Deployment"))["containers"]
    assert [c["name"] for c in containers] == ["core-pipeline"]
    return dict(containers[0])


def iter_containers(docs: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    for doc in docs:
        if doc["kind"] in POD_KINDS:
            spec = pod_spec(doc)
            for c in [*spec.get("initContainers", []), *spec["containers"]]:
                yield doc, spec, c


# --------------------------------------------------------------------------- spec numbers


@pytest.mark.parametrize("env", ENVS)
def test_replicas_and_pull_policy(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    docs = rendered[env]
    assert one(docs, "Deployment")["spec"]["replicas"] == EXPECT[env]["replicas"]
    assert app_container(docs)["imagePullPolicy"] == EXPECT[env]["pull"]
    assert one(docs, "Deployment")["spec"]["strategy"]["type"] == "RollingUpdate"


@pytest.mark.parametrize("env", ENVS)
def test_resources(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    res = app_container(rendered[env])["resources"]
    assert (res["requests"]["cpu"], res["requests"]["memory"]) == EXPECT[env]["req"]
    assert (res["limits"]["cpu"], res["limits"]["memory"]) == EXPECT[env]["lim"]


@pytest.mark.parametrize("env", ENVS)
def test_hpa(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    hpas = find(rendered[env], "HorizontalPodAutoscaler")
    if EXPECT[env]["hpa"] is None:
        assert hpas == []
        return
    (hpa,) = hpas
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == EXPECT[env]["hpa"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": FULLNAME}
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in hpa["spec"]["metrics"]}
    assert targets == {
        "cpu": {"type": "Utilization", "averageUtilization": 80},
        "memory": {"type": "Utilization", "averageUtilization": 80},
    }


@pytest.mark.parametrize("env", ENVS)
def test_log_level_and_node_env_come_from_the_configmap(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    docs = rendered[env]
    data = one(docs, "ConfigMap")["data"]
    assert data["LOG_LEVEL"] == EXPECT[env]["log"]
    assert data["NODE_ENV"] == EXPECT[env]["node"]
    assert data["PORT"] == "3000"
    assert data["OTEL_SERVICE_NAME"] == "core-pipeline"
    env_vars = {e["name"]: e for e in app_container(docs)["env"]}
    for key in data:
        assert env_vars[key]["valueFrom"]["configMapKeyRef"] == {"name": FULLNAME, "key": key}
    for key in ("POSTGRES_USER", "POSTGRES_PASSWORD", "REDIS_PASSWORD"):
        assert "secretKeyRef" in env_vars[key]["valueFrom"], key
        assert key not in data, f"{key} must not be in the ConfigMap"


@pytest.mark.parametrize("env", ENVS)
def test_probes_service_and_scrape_annotations(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    docs = rendered[env]
    c = app_container(docs)
    assert c["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert c["livenessProbe"] == {
        "httpGet": {"path": "/health", "port": "http"},
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    assert c["readinessProbe"] == {
        "httpGet": {"path": "/ok", "port": "http"},
        "initialDelaySeconds": 10,
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }
    svc = one(docs, "Service")
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 3000, "protocol": "TCP"}]
    assert svc["spec"]["selector"] == one(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    annotations = one(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == "3000"


def test_image_tag_defaults_to_app_version(rendered: dict[str, list[dict[str, Any]]], template: Any) -> None:
    app_version = str(YAML(typ="safe", pure=True).load(CHART / "Chart.yaml")["appVersion"])
    assert app_version == "1.0.0"
    assert app_container(rendered["default"])["image"] == f"ghcr.io/example/core-pipeline:{app_version}"
    docs = template("--set", "image.tag=2.3.4", "--set", "global.imageRegistry=mirror.example.com")
    assert app_container(docs)["image"] == "mirror.example.com/example/core-pipeline:2.3.4"


# --------------------------------------------------------------------------- security, labels


@pytest.mark.parametrize("env", ENVS)
def test_every_pod_is_hardened(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    seen = 0
    for doc, spec, c in iter_containers(rendered[env]):
        seen += 1
        where = f"{doc['kind']}/{doc['metadata']['name']}/{c['name']}"
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["runAsUser"] >= 1000 and psc["fsGroup"] >= 1000, where
        assert psc["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert spec["automountServiceAccountToken"] is False, where
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True, where
        assert sc["allowPrivilegeEscalation"] is False, where
        assert sc["capabilities"]["drop"] == ["ALL"], where
        assert sc.get("runAsUser", psc["runAsUser"]) >= 1000, where
        for part in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][part]), f"{where}: {part}"
        image = c["image"]
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), f"{where}: unpinned image {image}"
        tmp_mounts = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert tmp_mounts, f"{where}: no writable /tmp"
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes[tmp_mounts[0]["name"]], where
    assert seen >= 1


@pytest.mark.parametrize("env", ENVS)
def test_recommended_labels_everywhere(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    required = {f"app.kubernetes.io/{k}" for k in ("name", "instance", "version", "component", "managed-by", "part-of")}
    required.add("helm.sh/chart")
    for doc in rendered[env]:
        labels = doc["metadata"].get("labels", {})
        assert required <= set(labels), f"{doc['kind']}/{doc['metadata']['name']} lacks {required - set(labels)}"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        if env != "default":
            assert labels["chartship.io/environment"] == env
        if doc["kind"] in POD_KINDS and doc["kind"] != "Pod":
            assert required <= set(doc["spec"]["template"]["metadata"]["labels"])


def test_service_account(rendered: dict[str, list[dict[str, Any]]], template: Any) -> None:
    sa = one(rendered["default"], "ServiceAccount")
    assert sa["automountServiceAccountToken"] is False
    assert pod_spec(one(rendered["default"], "Deployment"))["serviceAccountName"] == FULLNAME
    docs = template("--set", "serviceAccount.automount=true")
    assert pod_spec(one(docs, "Deployment"))["automountServiceAccountToken"] is True


# --------------------------------------------------------------------------- config and secrets


def test_chart_managed_secret_uses_string_data(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["test"]
    secret = one(docs, "Secret")
    assert secret["stringData"]["POSTGRES_PASSWORD"] == "test-password"
    assert secret["stringData"]["PAYMENTS_API_KEY"] == "test-api-key"
    assert "data" not in secret
    env_vars = {e["name"]: e for e in app_container(docs)["env"]}
    assert env_vars["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": FULLNAME, "key": "POSTGRES_PASSWORD"}
    assert env_vars["PAYMENTS_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": FULLNAME, "key": "PAYMENTS_API_KEY"}
    assert one(docs, "ConfigMap")["data"]["FEATURE_NEW_PIPELINE"] == "true"


def test_existing_secret_is_referenced_not_created(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["staging"]
    assert find(docs, "Secret") == [] and find(docs, "ExternalSecret") == []
    env_vars = {e["name"]: e for e in app_container(docs)["env"]}
    assert env_vars["POSTGRES_USER"]["valueFrom"]["secretKeyRef"]["name"] == "core-pipeline-credentials"
    migrate = one(docs, "Job", f"{FULLNAME}-migrate")
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in pod_spec(migrate)["containers"][0]["env"] if "valueFrom" in e}
    assert refs == {"core-pipeline-credentials"}


def test_external_secret_in_prod(rendered: dict[str, list[dict[str, Any]]], template: Any) -> None:
    docs = rendered["prod"]
    assert find(docs, "Secret") == []
    es = one(docs, "ExternalSecret")
    assert es["apiVersion"] == "external-secrets.io/v1"
    assert es["spec"]["secretStoreRef"] == {"name": "vault", "kind": "ClusterSecretStore"}
    assert es["spec"]["target"]["name"] == FULLNAME
    assert {d["secretKey"] for d in es["spec"]["data"]} == {"POSTGRES_USER", "POSTGRES_PASSWORD", "REDIS_PASSWORD"}
    env_vars = {e["name"]: e for e in app_container(docs)["env"]}
    assert env_vars["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == es["spec"]["target"]["name"]
    beta = template(*values_args("prod"), "--set", "secrets.externalSecret.apiVersion=external-secrets.io/v1beta1")
    assert one(beta, "ExternalSecret")["apiVersion"] == "external-secrets.io/v1beta1"


# --------------------------------------------------------------------------- ingress


def test_no_ingress_by_default(rendered: dict[str, list[dict[str, Any]]]) -> None:
    assert find(rendered["default"], "Ingress") == []


def test_prod_ingress_nginx_tls_rate_limit(rendered: dict[str, list[dict[str, Any]]]) -> None:
    ing = one(rendered["prod"], "Ingress")
    ann = ing["metadata"]["annotations"]
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ann["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    assert ann["nginx.ingress.kubernetes.io/limit-rps"] == "20"
    assert ann["nginx.ingress.kubernetes.io/enable-cors"] == "true"
    assert ann["nginx.ingress.kubernetes.io/proxy-body-size"] == "10m"
    assert ann["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "60"
    hosts = ["core-pipeline.example.com", "api.example.com"]
    assert [r["host"] for r in ing["spec"]["rules"]] == hosts
    assert ing["spec"]["tls"] == [{"hosts": hosts, "secretName": f"{FULLNAME}-tls"}]
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": FULLNAME, "port": {"name": "http"}}


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_rate_limit_only_in_prod(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    ing = one(rendered[env], "Ingress")
    assert not [k for k in ing["metadata"]["annotations"] if "limit-" in k]
    expected_host = {"dev": "core-pipeline-dev.example.com", "staging": "core-pipeline-staging.example.com"}[env]
    assert ing["spec"]["rules"][0]["host"] == expected_host
    assert ("tls" in ing["spec"]) is (env == "staging")


def test_traefik_uses_middlewares_not_nginx_annotations(template: Any) -> None:
    docs = template(*values_args("prod"), "--set", "ingress.className=traefik")
    ing = one(docs, "Ingress")
    ann = ing["metadata"]["annotations"]
    assert ing["spec"]["ingressClassName"] == "traefik"
    assert not [k for k in ann if k.startswith("nginx.ingress.kubernetes.io/")]
    assert ann["traefik.ingress.kubernetes.io/router.tls"] == "true"
    referenced = ann["traefik.ingress.kubernetes.io/router.middlewares"].split(",")
    middlewares = {m["metadata"]["name"]: m for m in find(docs, "Middleware")}
    assert all(m["apiVersion"] == "traefik.io/v1alpha1" for m in middlewares.values())
    assert sorted(referenced) == sorted(f"{NAMESPACE}-{name}@kubernetescrd" for name in middlewares)
    specs = {next(iter(m["spec"])): m["spec"] for m in middlewares.values()}
    assert specs["rateLimit"]["rateLimit"] == {"average": 20, "burst": 40, "period": "1s"}
    assert specs["buffering"]["buffering"]["maxRequestBodyBytes"] == 10 * 1024 * 1024
    assert specs["headers"]["headers"]["accessControlAllowOriginList"] == ["https://app.example.com"]
    transport = one(docs, "ServersTransport")
    assert transport["spec"]["forwardingTimeouts"] == {"dialTimeout": "5s", "responseHeaderTimeout": "60s"}
    svc_ann = one(docs, "Service")["metadata"]["annotations"]
    assert svc_ann["traefik.ingress.kubernetes.io/service.serverstransport"] == f"{NAMESPACE}-{FULLNAME}@kubernetescrd"


# --------------------------------------------------------------------------- availability, monitoring, network


@pytest.mark.parametrize("env", ENVS)
def test_pdb_affinity_and_zone_spread(rendered: dict[str, list[dict[str, Any]]], env: str) -> None:
    docs = rendered[env]
    selector = one(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    pdbs = find(docs, "PodDisruptionBudget")
    if env == "dev":
        assert pdbs == []
    else:
        (pdb,) = pdbs
        assert pdb["spec"]["selector"]["matchLabels"] == selector
        if env == "prod":
            assert pdb["spec"]["minAvailable"] == 2 and "maxUnavailable" not in pdb["spec"]
        else:
            assert pdb["spec"]["maxUnavailable"] == 1 and "minAvailable" not in pdb["spec"]
    spec = pod_spec(one(docs, "Deployment"))
    term = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == selector
    (spread,) = spec["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["labelSelector"]["matchLabels"] == selector


def test_hard_anti_affinity(template: Any) -> None:
    spec = pod_spec(one(template("--set", "podAntiAffinity.type=hard"), "Deployment"))
    assert spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"] == (
        "kubernetes.io/hostname"
    )


def test_servicemonitor_only_with_the_api_or_force(rendered: dict[str, list[dict[str, Any]]], template: Any) -> None:
    assert find(rendered["default"], "ServiceMonitor") == []
    assert find(rendered["prod"], "ServiceMonitor") == []
    with_api = template("--api-versions", "monitoring.coreos.com/v1")
    forced = template("--set", "serviceMonitor.force=true")
    for docs in (with_api, forced, rendered["test"]):
        sm = one(docs, "ServiceMonitor")
        assert sm["spec"]["endpoints"][0]["port"] == "http"
        assert sm["spec"]["endpoints"][0]["path"] == "/metrics"
        assert sm["spec"]["selector"]["matchLabels"] == one(docs, "Service")["spec"]["selector"]
    disabled = template("--api-versions", "monitoring.coreos.com/v1", "--set", "serviceMonitor.enabled=false")
    assert find(disabled, "ServiceMonitor") == []
    prod_with_api = template(*values_args("prod"), "--api-versions", "monitoring.coreos.com/v1")
    assert one(prod_with_api, "ServiceMonitor")["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert one(prod_with_api, "PrometheusRule")["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_prometheus_rule_and_dashboard(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["test"]
    rule = one(docs, "PrometheusRule")
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    assert {"CorePipelineDown", "CorePipelineHighErrorRate", "CorePipelineHighLatency"} <= set(alerts)
    assert all(r["labels"]["severity"] in {"critical", "warning"} for r in alerts.values())
    dash = one(docs, "ConfigMap", f"{FULLNAME}-dashboard")
    assert dash["metadata"]["labels"]["grafana_dashboard"] == "1"
    board = json.loads(dash["data"]["core-pipeline.json"])
    assert board["uid"] == "core-pipeline" and board["panels"]
    assert find(rendered["default"], "PrometheusRule") == []


def test_network_policy(rendered: dict[str, list[dict[str, Any]]]) -> None:
    assert find(rendered["default"], "NetworkPolicy") == []
    docs = rendered["test"]
    np = one(docs, "NetworkPolicy")
    assert np["spec"]["podSelector"]["matchLabels"] == one(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    sources = [peer for rule in np["spec"]["ingress"] for peer in rule["from"]]
    namespaces = {
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in sources if "namespaceSelector" in p
    }
    assert namespaces == {"ingress-nginx", "monitoring"}
    same_app = [p["podSelector"]["matchLabels"] for p in sources if "podSelector" in p]
    assert same_app == [{"app.kubernetes.io/name": "core-pipeline", "app.kubernetes.io/instance": RELEASE}]
    egress_ports = {(p["port"], p["protocol"]) for rule in np["spec"]["egress"] for p in rule["ports"]}
    # DNS, Kafka, PostgreSQL, Redis, OTLP gRPC + HTTP
    assert {(53, "UDP"), (53, "TCP"), (9092, "TCP"), (5432, "TCP"), (6379, "TCP"), (4317, "TCP"), (4318, "TCP")} <= egress_ports


# --------------------------------------------------------------------------- hooks and tests


def test_hooks(rendered: dict[str, list[dict[str, Any]]]) -> None:
    assert find(rendered["default"], "Job") == []
    docs = rendered["test"]
    jobs = {j["metadata"]["name"].removeprefix(f"{FULLNAME}-"): j["metadata"]["annotations"] for j in find(docs, "Job")}
    assert {k: (v["helm.sh/hook"], int(v["helm.sh/hook-weight"])) for k, v in jobs.items()} == {
        "migrate": ("pre-install,pre-upgrade", 0),
        "backup": ("pre-upgrade", -5),
        "smoke": ("post-install", 5),
        "verify": ("post-upgrade", 5),
    }
    assert all(v["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded" for v in jobs.values())
    # pre-install hooks run before the release's Secret exists: they read a hook-scoped copy created first.
    hook_secret = one(docs, "Secret", f"{FULLNAME}-hooks")
    ann = hook_secret["metadata"]["annotations"]
    assert ann["helm.sh/hook"] == "pre-install,pre-upgrade" and int(ann["helm.sh/hook-weight"]) < -5
    migrate_env = pod_spec(one(docs, "Job", f"{FULLNAME}-migrate"))["containers"][0]["env"]
    assert {e["valueFrom"]["secretKeyRef"]["name"] for e in migrate_env if "valueFrom" in e} == {f"{FULLNAME}-hooks"}
    test_pod = one(docs, "Pod", f"{FULLNAME}-test")
    assert test_pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    urls = [a for a in test_pod["spec"]["containers"][0]["command"] if a.startswith("http://")]
    assert urls == [f"http://{FULLNAME}:80/health", f"http://{FULLNAME}:80/ok", f"http://{FULLNAME}:80/metrics"]
    # hook and test pods are not behind the Service
    selector = one(docs, "Service")["spec"]["selector"]
    assert test_pod["metadata"]["labels"]["app.kubernetes.io/component"] != selector["app.kubernetes.io/component"]


def test_hooks_toggle_individually(template: Any) -> None:
    docs = template("--set", "hooks.smokeTest.enabled=true", "--set", "tests.enabled=false")
    assert [j["metadata"]["name"] for j in find(docs, "Job")] == [f"{FULLNAME}-smoke"]
    assert find(docs, "Pod") == []
    assert find(docs, "Secret", f"{FULLNAME}-hooks") == []


def test_notes_show_how_to_reach_the_service(run_helm: Any, tmp_path: Path) -> None:
    # `helm template` does not render NOTES.txt and helm 3 `install --dry-run` needs a cluster:
    # render the same file through `tpl` from a copy of the chart.
    chart = tmp_path / "core-pipeline"
    shutil.copytree(CHART, chart)
    shutil.copy(chart / "templates" / "NOTES.txt", chart / "notes-under-test.txt")
    (chart / "templates" / "notes-under-test.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
        'data:\n  notes: {{ tpl (.Files.Get "notes-under-test.txt") . | quote }}\n'
    )

    def notes(*args: str) -> str:
        proc = run_helm(
            "template", RELEASE, str(chart), "--namespace", NAMESPACE, "--show-only", "templates/notes-under-test.yaml", *args
        )
        assert proc.returncode == 0, proc.stderr
        return str(load_all(proc.stdout)[0]["data"]["notes"])

    default = notes()
    assert f"kubectl --namespace {NAMESPACE} port-forward service/{FULLNAME} 8080:80" in default
    prod = notes("-f", str(chart / "values-prod.yaml"))
    assert "https://core-pipeline.example.com/" in prod and "https://api.example.com/" in prod
    assert "port-forward" not in prod
    assert "http://core-pipeline-dev.example.com/" in notes("-f", str(chart / "values-dev.yaml"))


# --------------------------------------------------------------------------- lint, schema, Kubernetes schemas


@pytest.mark.parametrize("env", ENVS)
def test_lint_strict_is_clean(run_helm: Any, env: str) -> None:
    proc = run_helm("lint", "--strict", str(CHART), *values_args(env))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "[WARNING]" not in out and "[ERROR]" not in out, out
    assert "0 chart(s) failed" in out, out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--set", "replicaCount=-1"], "replicaCount"),
        (["--set-string", "replicaCount=three"], "replicaCount"),
        (["--set", "image.pullPolicy=Sometimes"], "pullPolicy"),
        (["--set", "ingress.className=haproxy"], "className"),
        (["--set", "resources.limits.memory=lots"], "memory"),
        (["--set", "autoscaling.maxReplicas=0"], "maxReplicas"),
        (["--set", "podSecurityContext.runAsUser=0"], "runAsUser"),
        (["--set", "hooks.httpImage.tag=latest"], "tag"),
    ],
    ids=[
        "replicas-negative",
        "replicas-string",
        "pull-policy",
        "ingress-class",
        "memory-quantity",
        "hpa-max-0",
        "root",
        "latest",
    ],
)
def test_schema_rejects(run_helm: Any, args: list[str], field: str) -> None:
    for command in (["template", RELEASE], ["lint", "--strict"]):
        proc = run_helm(*command, str(CHART), *args)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, f"{command[0]} accepted {args}"
        assert "schema" in out and field in out, out


def test_min_replicas_above_max_fails_in_template(run_helm: Any) -> None:
    proc = run_helm("template", RELEASE, str(CHART), *values_args("staging"), "--set", "autoscaling.minReplicas=12")
    assert proc.returncode != 0
    assert "autoscaling.minReplicas (12) must not be greater than autoscaling.maxReplicas (10)" in proc.stderr


def test_schema_explains_the_cross_field_rule() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "minReplicas <= maxReplicas" in schema["properties"]["autoscaling"]["$comment"]


@pytest.mark.parametrize("k8s", K8S_VERSIONS)
@pytest.mark.parametrize("env", ENVS)
def test_kubernetes_schemas(rendered: dict[str, list[dict[str, Any]]], env: str, k8s: str) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    validated = set()
    for doc in rendered[env]:
        if doc["kind"] in CRD_KINDS:
            # No schema offline: checked structurally in the tests above.
            assert doc["apiVersion"].split("/")[0] in {"monitoring.coreos.com", "external-secrets.io", "traefik.io"}
            assert doc["metadata"]["name"] and doc["spec"]
            continue
        try:
            kubernetes_validate.validate(doc, k8s, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(
                f"{env}: {doc['kind']}/{doc['metadata']['name']} invalid for Kubernetes {k8s}: {exc.message} at {list(exc.path)}"
            )
        validated.add(doc["kind"])
    assert {"Deployment", "Service", "ConfigMap", "ServiceAccount"} <= validated
