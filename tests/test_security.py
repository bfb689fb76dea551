"""Security rules on small in-memory manifests, and the per-chart allowlist."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from chartship.errors import ChartError
from chartship.validate import allowlist, security

SAFE_CONTAINER: dict[str, Any] = {
    "name": "app",
    "image": "ghcr.io/example/app:1.2.3",
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    },
    "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
    "livenessProbe": {"httpGet": {"path": "/health", "port": 80}},
    "readinessProbe": {"httpGet": {"path": "/ok", "port": 80}},
}


def pod_spec(**container_changes: Any) -> dict[str, Any]:
    container = copy.deepcopy(SAFE_CONTAINER)
    container.update(container_changes)
    return {"containers": [container]}


def workload(kind: str, spec: dict[str, Any] | None = None, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    pod = spec if spec is not None else pod_spec()
    meta: dict[str, Any] = {"name": "web"}
    if annotations:
        meta["annotations"] = annotations
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod}
    if kind == "CronJob":
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": meta,
                "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": pod}}}}}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": {"template": {"spec": pod}}}


def by_rule(problems: list[security.Problem]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for p in problems:
        result.setdefault(p.rule, []).append(p.field)
    return result


@pytest.mark.parametrize("kind", sorted(security.POD_SPEC_PATHS))
def test_a_compliant_workload_has_no_findings(kind: str) -> None:
    assert security.check(workload(kind)) == []


@pytest.mark.parametrize(("kind", "prefix"), [
    ("Deployment", "spec.template.spec"), ("StatefulSet", "spec.template.spec"), ("DaemonSet", "spec.template.spec"),
    ("Job", "spec.template.spec"), ("CronJob", "spec.jobTemplate.spec.template.spec"), ("Pod", "spec")])
def test_each_kind_reports_the_field_path_inside_the_object(kind: str, prefix: str) -> None:
    sc = dict(SAFE_CONTAINER["securityContext"], readOnlyRootFilesystem=False)
    problems = security.check(workload(kind, pod_spec(securityContext=sc)))
    assert [(p.kind, p.name, p.field, p.rule, p.container) for p in problems] == [
        (kind, "web", f"{prefix}.containers[app].securityContext.readOnlyRootFilesystem", "read-only-root", "app")]
    assert problems[0].text() == (f"{kind}/web: {prefix}.containers[app].securityContext.readOnlyRootFilesystem "
                                  "must be true (rule read-only-root)")


def test_an_empty_security_context_breaks_every_security_rule() -> None:
    problems = security.check(workload("Deployment", pod_spec(securityContext={})))
    base = "spec.template.spec.containers[app].securityContext"
    assert by_rule(problems) == {
        "run-as-non-root": [f"{base}.runAsNonRoot"],
        "run-as-user": [f"{base}.runAsUser"],
        "read-only-root": [f"{base}.readOnlyRootFilesystem"],
        "drop-all-capabilities": [f"{base}.capabilities.drop"],
        "no-privilege-escalation": [f"{base}.allowPrivilegeEscalation"],
    }


def test_pod_level_user_settings_count_and_the_container_overrides_them() -> None:
    sc = {k: v for k, v in SAFE_CONTAINER["securityContext"].items() if k not in ("runAsNonRoot", "runAsUser")}
    spec = pod_spec(securityContext=sc)
    spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 1001}
    assert security.check(workload("Deployment", spec)) == []

    spec["securityContext"]["runAsUser"] = 0
    problems = security.check(workload("Deployment", spec))
    assert [(p.field, p.rule, p.message) for p in problems] == [
        ("spec.template.spec.securityContext.runAsUser", "run-as-user", "must be >= 1000, got 0")]

    spec["securityContext"]["runAsUser"] = 1001
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = False  # the container wins over the pod
    problems = security.check(workload("Deployment", spec))
    assert [(p.field, p.rule) for p in problems] == [
        ("spec.template.spec.containers[app].securityContext.runAsNonRoot", "run-as-non-root")]


@pytest.mark.parametrize("uid", [999, 0, "1000", True])
def test_uid_below_1000_or_not_a_number_is_refused(uid: Any) -> None:
    sc = dict(SAFE_CONTAINER["securityContext"], runAsUser=uid)
    assert by_rule(security.check(workload("Deployment", pod_spec(securityContext=sc)))) == {
        "run-as-user": ["spec.template.spec.containers[app].securityContext.runAsUser"]}


def test_capabilities_must_drop_all_and_escalation_must_be_explicitly_off() -> None:
    sc = dict(SAFE_CONTAINER["securityContext"], capabilities={"drop": ["NET_RAW"], "add": ["NET_ADMIN"]})
    del sc["allowPrivilegeEscalation"]
    assert by_rule(security.check(workload("Deployment", pod_spec(securityContext=sc)))) == {
        "drop-all-capabilities": ["spec.template.spec.containers[app].securityContext.capabilities.drop"],
        "no-privilege-escalation": ["spec.template.spec.containers[app].securityContext.allowPrivilegeEscalation"]}
    sc["capabilities"] = {"drop": ["all"]}
    sc["allowPrivilegeEscalation"] = False
    assert security.check(workload("Deployment", pod_spec(securityContext=sc))) == []


def test_each_missing_request_or_limit_is_its_own_finding() -> None:
    problems = security.check(workload("Deployment", pod_spec(resources={"limits": {"memory": "64Mi"}})))
    base = "spec.template.spec.containers[app].resources"
    assert by_rule(problems) == {"resources": [f"{base}.requests.cpu", f"{base}.requests.memory", f"{base}.limits.cpu"]}


def test_probes_are_required_for_long_running_workloads_only() -> None:
    no_probes = pod_spec()
    for key in ("livenessProbe", "readinessProbe"):
        del no_probes["containers"][0][key]
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        assert by_rule(security.check(workload(kind, no_probes))) == {"probes": [
            "spec.template.spec.containers[app].livenessProbe", "spec.template.spec.containers[app].readinessProbe"]}
    assert security.check(workload("Job", no_probes)) == []
    assert security.check(workload("CronJob", no_probes)) == []
    assert security.check(workload("Pod", no_probes, {"helm.sh/hook": "test"})) == []
    assert security.check(workload("Pod", dict(no_probes, restartPolicy="Never"))) == []
    assert by_rule(security.check(workload("Pod", no_probes)))["probes"] == [
        "spec.containers[app].livenessProbe", "spec.containers[app].readinessProbe"]


def test_init_containers_follow_the_security_rules_but_need_no_probes() -> None:
    spec = pod_spec()
    spec["initContainers"] = [{"name": "setup", "image": "busybox:1.37", "resources": SAFE_CONTAINER["resources"],
                               "securityContext": dict(SAFE_CONTAINER["securityContext"], runAsUser=0)}]
    problems = security.check(workload("StatefulSet", spec))
    assert [(p.field, p.rule, p.container) for p in problems] == [
        ("spec.template.spec.initContainers[setup].securityContext.runAsUser", "run-as-user", "setup")]


@pytest.mark.parametrize(("image", "bad"), [
    ("nginx", True), ("nginx:latest", True), ("registry.local:5000/team/nginx", True),
    ("registry.local:5000/team/nginx:latest", True), ("", True),
    ("nginx:1.27", False), ("registry.local:5000/nginx:1.27", False),
    ("nginx@sha256:" + "a" * 64, False), ("nginx:latest@sha256:" + "b" * 64, False)])
def test_image_must_be_pinned(image: str, bad: bool) -> None:
    problems = security.check(workload("Deployment", pod_spec(image=image)))
    assert by_rule(problems) == ({"image-tag": ["spec.template.spec.containers[app].image"]} if bad else {})


def test_objects_without_a_pod_spec_are_not_checked_and_a_broken_one_is_reported() -> None:
    assert security.check({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}) == []
    broken = security.check({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {}})
    assert [(p.field, p.rule) for p in broken] == [("spec.template.spec", "pod-spec")]


# ------------------------------------------------------------------ allowlist

ALLOW = """\
# exceptions, each with a reason
- rule: read-only-root
  kind: Deployment
  name: "*-web"
  container: app
  reason: the app writes its cache next to the binary
- rule: probes
  kind: Deployment
  name: rel-web
  env: [dev]
  reason: dev runs a debugger that pauses the process
- rule: image-tag
  kind: Pod
  name: rel-web-test
  reason: left over
"""


def write_allow(tmp_path: Path, text: str) -> Path:
    (tmp_path / allowlist.FILE).write_text(text)
    return tmp_path


def test_allowlist_suppresses_matches_keeps_the_rest_and_reports_stale_entries(tmp_path: Path) -> None:
    entries = allowlist.load(write_allow(tmp_path, ALLOW), "charts/web")
    assert [e.where for e in entries] == ["charts/web/.chartship-allow.yaml:2", "charts/web/.chartship-allow.yaml:7",
                                          "charts/web/.chartship-allow.yaml:12"]
    ro = security.Problem("Deployment", "rel-web", "f1", "must be true", "read-only-root", "app")
    ro_other = security.Problem("Deployment", "rel-web", "f2", "must be true", "read-only-root", "sidecar")
    probes = security.Problem("Deployment", "rel-web", "f3", "must be set", "probes", "app")
    found = [("prod", ro, "a"), ("prod", ro_other, "b"), ("dev", probes, "c"), ("prod", probes, "d")]
    kept, allowed, stale = allowlist.apply(entries, found)
    assert [x[2] for x in kept] == ["b", "d"]  # other container; probes outside dev
    assert [(x[2], x[3].reason) for x in allowed] == [("a", "the app writes its cache next to the binary"),
                                                      ("c", "dev runs a debugger that pauses the process")]
    assert [e.where for e in stale] == ["charts/web/.chartship-allow.yaml:12"]
    assert "rule image-tag, Pod/rel-web-test" in stale[0].describe()


def test_no_allowlist_file_means_no_exceptions(tmp_path: Path) -> None:
    assert allowlist.load(tmp_path, "charts/web") == []


@pytest.mark.parametrize(("text", "message"), [
    ("- rule: probes\n  kind: Deployment\n  name: x\n", "charts/web/.chartship-allow.yaml:1: reason is missing"),
    ("- rule: probes\n  kind: Deployment\n  name: x\n  reason: '  '\n", "reason must be a non-empty string"),
    ("- rule: probe\n  kind: Deployment\n  name: x\n  reason: y\n", "unknown rule 'probe'"),
    ("- rule: probes\n  kind: Deployment\n  name: x\n  reason: y\n  contianer: app\n", "unknown key 'contianer'"),
    ("rule: probes\n", "the top level must be a list"),
    ("- [1, 2]\n", "each entry must be a mapping"),
    ("- rule: [\n", "invalid YAML"),
])
def test_a_malformed_allowlist_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ChartError) as err:
        allowlist.load(write_allow(tmp_path, text), "charts/web")
    assert message in str(err.value)
    assert "charts/web/.chartship-allow.yaml" in str(err.value)
