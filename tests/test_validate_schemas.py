"""Schema checks: our CRD schemas (valid objects pass, typos fail), the strict Kubernetes
schemas for the pinned versions, manifest parsing and the environments a chart renders."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from chartship import config as cfgmod
from chartship.charts import values
from chartship.errors import ChartshipError, ConfigError
from chartship.validate import schemas, validate
from chartship.validate.schemas import Checker, CrdSchemas, field_path

META = {"name": "rel-app", "namespace": "prod", "labels": {"app.kubernetes.io/name": "app"}}

VALID: dict[str, dict[str, Any]] = {
    "ServiceMonitor": {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": META,
        "spec": {"selector": {"matchLabels": {"app": "x"}}, "namespaceSelector": {"matchNames": ["prod"]},
                 "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s",
                                "relabelings": [{"sourceLabels": ["__meta_pod"], "action": "replace",
                                                 "targetLabel": "pod"}]}]}},
    "PrometheusRule": {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": META,
        "spec": {"groups": [{"name": "app.rules", "rules": [
            {"alert": "AppDown", "expr": "up == 0", "for": "5m", "labels": {"severity": "critical"},
             "annotations": {"summary": "down"}},
            {"record": "job:errors:rate5m", "expr": "sum(rate(errors[5m]))"}]}]}},
    "ExternalSecret": {
        "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": META,
        "spec": {"refreshInterval": "1h", "secretStoreRef": {"name": "vault", "kind": "ClusterSecretStore"},
                 "target": {"name": "rel-app", "creationPolicy": "Owner",
                            "template": {"metadata": {"labels": {"a": "b"}}}},
                 "data": [{"secretKey": "PASSWORD", "remoteRef": {"key": "app/db", "property": "password"}}]}},
    "Middleware": {
        "apiVersion": "traefik.io/v1alpha1", "kind": "Middleware", "metadata": META,
        "spec": {"rateLimit": {"average": 20, "burst": 40, "period": "1s"}}},
    "ServersTransport": {
        "apiVersion": "traefik.io/v1alpha1", "kind": "ServersTransport", "metadata": META,
        "spec": {"forwardingTimeouts": {"dialTimeout": "5s", "responseHeaderTimeout": 60}}},
    "Application": {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "app", "namespace": "argocd"},
        "spec": {"project": "default", "destination": {"server": "https://kubernetes.default.svc", "namespace": "prod"},
                 "source": {"repoURL": "https://example.com/repo.git", "path": "charts/app", "targetRevision": "main",
                            "helm": {"valueFiles": ["values.yaml", "values-prod.yaml"]}},
                 "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                                "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"]}}},
}


@pytest.fixture(scope="module")
def crds(project_root: Path) -> CrdSchemas:
    return CrdSchemas(project_root)


@pytest.fixture(scope="module")
def checker(project_root: Path) -> Checker:
    return Checker(project_root, cfgmod.KUBERNETES_VERSIONS)


def test_the_repository_keeps_a_schema_for_every_crd_kind_the_charts_and_argocd_use(crds: CrdSchemas) -> None:
    assert crds.kinds() == [
        ("argoproj.io", "AppProject"), ("argoproj.io", "Application"), ("argoproj.io", "ApplicationSet"),
        ("external-secrets.io", "ExternalSecret"), ("monitoring.coreos.com", "PrometheusRule"),
        ("monitoring.coreos.com", "ServiceMonitor"), ("traefik.io", "Middleware"), ("traefik.io", "ServersTransport")]


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_custom_objects_pass(crds: CrdSchemas, kind: str) -> None:
    assert crds.check(VALID[kind]) == []


def with_change(kind: str, path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(VALID[kind])
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize(("kind", "path", "value", "field", "words"), [
    ("ServiceMonitor", ["spec", "endpoints", 0, "intervall"], "30s", "spec.endpoints[0]", "'intervall' was unexpected"),
    ("ServiceMonitor", ["spec", "endpoints", 0, "interval"], "30 seconds", "spec.endpoints[0].interval", "does not match"),
    ("ServiceMonitor", ["spec", "endpoints", 0, "relabelings", 0, "action"], "rename",
     "spec.endpoints[0].relabelings[0].action", "is not one of"),
    ("PrometheusRule", ["spec", "groups", 0, "rules", 1, "alert"], "Both", "spec.groups[app.rules].rules[1]", "valid under"),
    ("PrometheusRule", ["spec", "groups", 0, "rules", 0, "labels", "severity"], 3,
     "spec.groups[app.rules].rules[0].labels.severity", "is not of type 'string'"),
    ("ExternalSecret", ["spec", "secretStoreRef", "kind"], "ClusterStore", "spec.secretStoreRef.kind", "is not one of"),
    ("ExternalSecret", ["spec", "target", "creationPolicy"], "Owned", "spec.target.creationPolicy", "is not one of"),
    ("ExternalSecret", ["apiVersion"], "external-secrets.io/v2", "apiVersion", "is not one of"),
    ("Middleware", ["spec", "ratelimit"], {"average": 1}, "spec", "'ratelimit' was unexpected"),
    ("ServersTransport", ["spec", "forwardingTimeouts", "dialTimeout"], "5 seconds",
     "spec.forwardingTimeouts.dialTimeout", "is not valid"),
    ("Application", ["spec", "syncPolicy", "syncOptions", 0], "CreateNamespce=true", "spec.syncPolicy.syncOptions[0]",
     "does not match"),
    ("Application", ["metadata", "lables"], {"a": "b"}, "metadata", "'lables' was unexpected"),
])
def test_a_typo_in_a_custom_object_is_a_finding_at_its_field(crds: CrdSchemas, kind: str, path: list[Any], value: Any,
                                                             field: str, words: str) -> None:
    problems = crds.check(with_change(kind, path, value))
    assert problems, "the schema accepted a broken object"
    assert any(p.field == field and words in p.message for p in problems), [(p.field, p.message) for p in problems]
    assert all(p.rule == "crd-schema" and p.kind == kind and p.name for p in problems)
    assert f"chartship/data/crd-schemas/{VALID[kind]['apiVersion'].split('/')[0]}/{kind}.json" in problems[0].message


def test_the_repository_argocd_manifests_pass_and_a_typo_in_them_fails(project_root: Path, checker: Checker) -> None:
    assert validate.argocd_findings(project_root, checker) == []
    docs = [d for p in sorted((project_root / "argocd").rglob("*.yaml")) for d in yaml.safe_load_all(p.read_text())]
    appset = next(d for d in docs if d["kind"] == "ApplicationSet")
    project = next(d for d in docs if d["kind"] == "AppProject")
    broken = copy.deepcopy(appset)
    broken["spec"]["generators"][0]["lists"] = broken["spec"]["generators"][0].pop("list")
    assert [p.field for p in checker.check(broken)] == ["spec.generators[0]"]
    broken = copy.deepcopy(appset)
    broken["spec"]["template"]["spec"]["destination"]["namspace"] = "x"
    assert [p.field for p in checker.check(broken)] == ["spec.template.spec.destination"]
    broken = copy.deepcopy(project)
    broken["spec"]["roles"][0]["policies"][0] = "p, proj:x:read-only, applications, get"
    assert [p.field for p in checker.check(broken)] == [f"spec.roles[{project['spec']['roles'][0]['name']}].policies[0]"]


def deployment() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}}


def test_builtin_kinds_use_the_strict_kubernetes_schemas_of_every_pinned_version(checker: Checker) -> None:
    assert checker.versions == ("1.30.0", "1.37.0")
    assert checker.check(deployment()) == []
    doc = deployment()
    doc["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"tcpSocket": {"port": 80}}
    problems = checker.check(doc)
    assert [(p.field, p.rule) for p in problems] == [("spec.template.spec.containers[app]", "k8s-schema")]
    assert "'readinesProbe' was unexpected" in problems[0].message
    assert "(Kubernetes 1.30.0, 1.37.0)" in problems[0].message
    doc = deployment()
    doc["spec"]["replicas"] = "two"
    assert [p.field for p in checker.check(doc)] == ["spec.replicas"]


def test_an_api_no_longer_served_or_an_unknown_crd_is_a_finding(checker: Checker) -> None:
    pdb = {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "x"},
           "spec": {"maxUnavailable": 1}}
    problems = checker.check(pdb)
    assert [(p.field, p.rule) for p in problems] == [("apiVersion", "k8s-schema")]
    assert "not a built-in kind" in problems[0].message and "1.30.0, 1.37.0" in problems[0].message
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}}
    assert "chartship/data/crd-schemas/example.com/Widget.json does not exist" in checker.check(unknown)[0].message
    assert [p.field for p in checker.check({"kind": "Widget"})] == ["apiVersion"]
    assert [p.message for p in checker.check(["not", "an", "object"])] == ["must be a mapping (a Kubernetes object)"]


def test_every_crd_schema_chartship_ships_is_a_valid_schema() -> None:
    from jsonschema import validators

    paths = sorted(schemas.CRD_DIR.rglob("*.json"))
    assert len(paths) == 9  # CrdSchemas trusts these without checking them on every run
    for path in paths:
        validators.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_versions_outside_kubernetes_validate_are_refused(project_root: Path) -> None:
    with pytest.raises(ConfigError, match="1.24.0 is not covered by kubernetes-validate"):
        Checker(project_root, ["1.24.0"])


def test_a_broken_crd_schema_file_is_one_clear_error(tmp_path: Path, project_root: Path) -> None:
    shutil.copytree(schemas.CRD_DIR, tmp_path / "own" / "crds")
    target = tmp_path / "own" / "crds" / "traefik.io" / "Middleware.json"
    target.write_text("{not json")
    with pytest.raises(ConfigError, match="own/crds/traefik.io/Middleware.json: not valid JSON"):
        CrdSchemas(tmp_path, ["own/crds"])
    target.write_text(json.dumps({"$id": "urn:x", "type": 12}))
    with pytest.raises(ConfigError, match="Middleware.json: not a valid JSON schema"):
        CrdSchemas(tmp_path, ["own/crds"])


def test_kubernetes_versions_setting(tmp_path: Path) -> None:
    assert cfgmod.load(tmp_path, environ={}).kubernetes_versions == ("1.30.0", "1.37.0")
    env = {"CHARTSHIP_KUBERNETES_VERSIONS": "1.31.0, 1.33.2"}
    assert cfgmod.load(tmp_path, environ=env).kubernetes_versions == ("1.31.0", "1.33.2")
    (tmp_path / "invoke.yaml").write_text("chartship:\n  kubernetes_versions: [1.29.0]\n")
    assert cfgmod.load(tmp_path, environ={}).kubernetes_versions == ("1.29.0",)
    (tmp_path / "invoke.yaml").write_text("chartship:\n  kubernetes_versions: [v1.29]\n")
    with pytest.raises(ConfigError, match=r"invoke.yaml:2: chartship.kubernetes_versions: 'v1.29' is not a Kubernetes"):
        cfgmod.load(tmp_path, environ={})


def test_field_paths_name_list_items_by_name() -> None:
    doc = deployment()
    assert field_path(doc, ["spec", "template", "spec", "containers", 0, "image"]) == \
        "spec.template.spec.containers[app].image"
    assert field_path({"a": [1, 2]}, ["a", 1]) == "a[1]"
    assert field_path(doc, []) == "(object)"


def test_parse_manifests_keeps_the_source_template_and_drops_empty_documents() -> None:
    text = ("---\n# Source: app/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
            "data:\n  doc: |\n    ---\n    inner\n---\n# Source: app/templates/empty.yaml\n---\n"
            "# Source: app/templates/b.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n")
    docs = validate.parse_manifests(text, "charts/app")
    assert [(src, d["kind"], d["metadata"]["name"]) for src, d in docs] == [
        ("app/templates/a.yaml", "ConfigMap", "a"), ("app/templates/b.yaml", "Secret", "b")]
    assert docs[0][1]["data"]["doc"] == "---\ninner\n"
    with pytest.raises(ChartshipError, match="app/templates/c.yaml: invalid YAML"):
        validate.parse_manifests("# Source: app/templates/c.yaml\nkind: [\n", "charts/app")


def test_values_sets_add_values_test_yaml_when_present(tmp_path: Path) -> None:
    cfg = cfgmod.load(tmp_path, environ={})
    chart = tmp_path / "app"
    chart.mkdir()
    (chart / "values-prod.yaml").write_text("{}\n")
    assert [(s.name, s.files) for s in values.values_sets(cfg, chart)] == [("defaults", ()), ("prod", ("values-prod.yaml",))]
    (chart / "values-test.yaml").write_text("{}\n")
    assert [s.name for s in values.values_sets(cfg, chart)] == ["defaults", "prod", "test"]
