"""The strict Kubernetes schemas loaded once (validate/kubeschemas.py) give the verdicts and messages
kubernetes_validate.validate gives when it loads them for each object; identical objects share one check
but each keeps its own source."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from chartship.validate import validate
from chartship.validate.kubeschemas import KubeSchemas
from chartship.validate.schemas import Checker

VERSIONS = ("1.30.0", "1.37.0", "v1.33", "1.29.4")


def objects() -> list[dict[str, Any]]:
    pod = {"containers": [{"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
                           "resources": {"limits": {"cpu": "1", "memory": "64Mi"}}}]}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "b"}},
                  "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"type": "ClusterIP", "ports": [{"port": 80, "targetPort": "http", "name": "http"}]}}
    docs = [deployment, service,
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}},
            {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
             "spec": {"rules": [{"host": "x.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                      "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}},
            {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
             "spec": {"maxUnavailable": "50%"}},
            {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "j"},
             "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": pod}}}}}]
    broken = []
    for change in (("spec", "replicas", "two"), ("spec", "replicaz", 2), ("metadata", "labels", {"a": 1}),
                   ("spec", "template", "spec", "containers", 0, "imagePullPolicy", 7),
                   ("spec", "template", "spec", "containers", 0, "ports", 0, "containerPort", "http"),
                   ("spec", "template", "spec", "containers", 0, "readinesProbe", {"tcpSocket": {"port": 80}}),
                   ("spec", "template", "spec", "containers", 0, "resources", "limits", {"cpu": [1]}),
                   ("spec", "selector", None)):
        doc = copy.deepcopy(deployment)
        node: Any = doc
        for key in change[:-2]:
            node = node[key]
        node[change[-2]] = change[-1]
        broken.append(doc)
    bad_service = copy.deepcopy(service)
    bad_service["spec"]["ports"][0]["port"] = 1.5
    gone = {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "old"}}
    flow = {"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3", "kind": "FlowSchema", "metadata": {"name": "f"}}
    return [*docs, *broken, bad_service, gone, flow]


def verdict_of_kubernetes_validate(doc: dict[str, Any], version: str) -> tuple[str, ...]:
    try:
        kubernetes_validate.validate(copy.deepcopy(doc), version, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        return ("no schema", exc.message)
    except kubernetes_validate.ValidationError as exc:
        return ("invalid", str(list(exc.absolute_path)), exc.message)
    return ("valid",)


def verdict_of_cache(kube: KubeSchemas, doc: dict[str, Any], version: str) -> tuple[str, ...]:
    try:
        error = kube.first_error(doc, version)
    except kubernetes_validate.SchemaNotFoundError as exc:
        return ("no schema", exc.message)
    return ("valid",) if error is None else ("invalid", str(list(error.absolute_path)), error.message)


@pytest.mark.parametrize("version", VERSIONS)
def test_cached_validators_agree_with_kubernetes_validate(version: str) -> None:
    kube = KubeSchemas(kubernetes_validate)
    docs = objects()
    for _round in range(2):  # the second round is served from the cache
        got = [verdict_of_cache(kube, doc, version) for doc in docs]
        assert got == [verdict_of_kubernetes_validate(doc, version) for doc in docs]
    kinds = {v[0] for v in got}
    assert kinds == {"valid", "invalid", "no schema"}, got


def test_the_compiled_validator_only_decides_that_an_object_is_valid() -> None:
    pytest.importorskip("jsonschema_rs")  # pinned in requirements.txt; without it jsonschema decides alone
    kube, slow = KubeSchemas(kubernetes_validate), KubeSchemas(kubernetes_validate)
    slow._rs = None
    dated = copy.deepcopy(objects()[0])
    dated["metadata"]["annotations"] = {"built": datetime.date(2026, 1, 2)}  # YAML reads an unquoted date so
    docs = [d for d in [*objects(), dated] if d["kind"] != "FlowSchema" and d["apiVersion"] != "extensions/v1beta1"]
    verdicts = []
    for doc in docs:
        validator, fast = kube.validators(doc, "1.37.0")
        assert fast is not None and slow.validators(doc, "1.37.0")[1] is None
        try:
            verdicts.append(fast.is_valid(doc) == (next(iter(validator.iter_errors(doc)), None) is None))
        except ValueError:
            verdicts.append(doc is dated)
        assert verdict_of_cache(kube, doc, "1.37.0") == verdict_of_cache(slow, doc, "1.37.0")
    assert all(verdicts) and len(verdicts) == len(docs)
    assert verdict_of_cache(kube, dated, "1.37.0")[:2] == ("invalid", "['metadata', 'annotations', 'built']")


def test_an_unsupported_version_fails_as_kubernetes_validate_does() -> None:
    with pytest.raises(kubernetes_validate.utils.VersionNotSupportedError):
        KubeSchemas(kubernetes_validate).first_error(objects()[0], "1.99.0")
    with pytest.raises(kubernetes_validate.utils.VersionNotSupportedError):
        kubernetes_validate.validate(objects()[0], "1.99.0", strict=True)


def test_identical_objects_are_checked_once_and_each_keeps_its_source(project_root: Path) -> None:
    checker = Checker(project_root, ("1.30.0", "1.37.0"))
    doc = objects()[6]  # replicas: "two"
    docs = [("templates/a.yaml", doc), ("templates/b.yaml", copy.deepcopy(doc)), ("templates/c.yaml", objects()[0])]
    found, count = validate.check_objects(checker, docs)
    schema = [(src, p.field) for src, p in found if p.rule == "k8s-schema"]
    assert count == 3 and schema == [("templates/a.yaml", "spec.replicas"), ("templates/b.yaml", "spec.replicas")]
    security = [src for src, p in found if p.rule != "k8s-schema"]
    assert security.count("templates/a.yaml") == security.count("templates/b.yaml") > 0
    fresh = Checker(project_root, ("1.30.0", "1.37.0"))
    assert [fresh.check(d) for _s, d in docs] == [checker.check(d) for _s, d in docs]
