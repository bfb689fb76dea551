"""A real kwok cluster: built kube-apiserver, controller manager, scheduler and etcd under
kwokctl's binary runtime, one fake node, our stages. Skipped only when the binaries are not built."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from chartship.errors import ToolError
from chartship.tools import clusterbin, helm, kubectl, kwok

WORKLOADS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: default}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: busybox:1.36, command: ["true"]}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web, namespace: default}
spec:
  selector: {matchLabels: {app: web}}
  endpoints: [{port: http}]
"""


def test_cluster_runs_workloads_reports_the_pinned_version_and_leaves_nothing(project_root: Path, kwok_binaries: None) -> None:
    started = time.monotonic()
    cluster = kwok.start(project_root)
    try:
        print(f"cluster start: {time.monotonic() - started:.1f} s")
        assert cluster.kubeconfig.is_file()
        assert cluster.server.startswith("https://127.0.0.1:")
        pinned = clusterbin.read_lock()["kubernetes"].version
        assert kubectl.server_version(project_root, cluster.kubeconfig) == f"v{pinned}"

        config = json.loads(kubectl.run(project_root, cluster.kubeconfig, ["config", "view", "-o", "json"]).stdout)
        assert config["current-context"] == cluster.context

        nodes = kubectl.get(project_root, cluster.kubeconfig, ["nodes"])["items"]
        assert [n["metadata"]["name"] for n in nodes] == [kwok.NODE_NAME]
        crds = {c["metadata"]["name"] for c in kubectl.get(project_root, cluster.kubeconfig, ["crd"])["items"]}
        assert {"servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com",
                "externalsecrets.external-secrets.io"} <= crds

        kubectl.apply(project_root, cluster.kubeconfig, manifest=WORKLOADS)
        kubectl.wait(project_root, cluster.kubeconfig, ["deployment/web"], "condition=Available", 90, namespace="default")
        kubectl.wait(project_root, cluster.kubeconfig, ["job/migrate"], "condition=Complete", 90, namespace="default")
        deploy = kubectl.get(project_root, cluster.kubeconfig, ["deployment", "web"], namespace="default")
        assert deploy["status"]["readyReplicas"] == 2
        pods = kubectl.get(project_root, cluster.kubeconfig, ["pods"], namespace="default")["items"]
        phases = sorted((p["metadata"]["name"].split("-")[0], p["status"]["phase"]) for p in pods)
        assert phases == [("migrate", "Succeeded"), ("web", "Running"), ("web", "Running")]
        assert all(p["spec"]["nodeName"] == kwok.NODE_NAME for p in pods)

        # deleting a pod really removes it (pod-gone stage) and the Deployment replaces it
        victim = next(p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith("web-"))
        kubectl.run(project_root, cluster.kubeconfig, ["delete", "pod", victim, "--namespace", "default", "--timeout=60s"])
        kubectl.wait(project_root, cluster.kubeconfig, ["deployment/web"], "jsonpath={.status.readyReplicas}=2", 60,
                     namespace="default")
        assert cluster.processes(), "the cluster's components should be running"
        server = cluster.server
    finally:
        kwok.stop(cluster)
    assert cluster.processes() == []
    assert not kwok.port_open(server)
    assert not cluster.workdir.exists()
    kwok.stop(cluster)  # a second stop is a no-op


def test_helm_create_chart_installs_with_wait_and_its_test_passes(project_root: Path, kwok_binaries: None, helm_bin: Path,
                                                                  tmp_path: Path) -> None:
    h = helm.Helm.locate(project_root)
    assert h.path.resolve() == helm_bin.resolve()
    h.run(["create", str(tmp_path / "demo")])  # a failure raises a HelmError naming helm's reason
    with kwok.start(project_root) as cluster:
        target = ["--kubeconfig", str(cluster.kubeconfig), "--kube-context", cluster.context]
        h.run(["install", "demo", str(tmp_path / "demo"), "--namespace", "demo", "--create-namespace", "--wait",
               "--timeout", "3m", *target], timeout=240)
        test = h.run(["test", "demo", "--namespace", "demo", "--timeout", "3m", *target], timeout=240)
        assert "Phase:" in test.stdout and "Succeeded" in test.stdout
        status = json.loads(h.run(["status", "demo", "--namespace", "demo", "-o", "json", *target]).stdout)
        assert status["info"]["status"] == "deployed"
        workdir = cluster.workdir
    assert cluster.stopped
    assert kwok.processes_under(workdir) == []


def test_two_clusters_side_by_side_and_keep_leaves_one_running(project_root: Path, kwok_binaries: None) -> None:
    with ThreadPoolExecutor(2) as pool:
        first_f = pool.submit(kwok.start, project_root, keep=True)
        second_f = pool.submit(kwok.start, project_root)
        first, second = first_f.result(), second_f.result()
    try:
        with second:
            assert first.name != second.name and first.server != second.server
            assert first.workdir != second.workdir
            for cluster in (first, second):
                assert kubectl.server_version(project_root, cluster.kubeconfig).startswith("v")
        with first:  # keep=True: leaving the block does not stop it
            pass
        assert second.stopped and second.processes() == []
        assert not first.stopped and first.processes() and kwok.port_open(first.server)
    finally:
        kwok.stop(first)
    assert first.processes() == []


def test_configuration_passes_built_binaries_or_lets_kwokctl_download(project_root: Path, tmp_path: Path) -> None:
    bins = {name: tmp_path / name for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok")}
    ports = list(range(41001, 41001 + len(kwok.PORT_OPTIONS)))
    built_doc, *stages = kwok.configuration("build", bins, tmp_path / "kubectl", ports, "1.36.3",
                                            tmp_path / "dl").split("\n---\n")
    options = json.loads(built_doc)["options"]
    assert options["runtime"] == "binary" and options["bindAddress"] == "127.0.0.1"
    assert options["kubeVersion"] == "v1.36.3"
    assert options["kubeApiserverBinary"] == str(tmp_path / "kube-apiserver")
    assert options["kwokControllerBinary"] == str(tmp_path / "kwok")
    assert options["kubeApiserverPort"] == 41001 and options["kwokControllerPort"] == 41001 + len(ports) - 1
    assert "cacheDir" not in options
    text = "\n---\n".join(stages)
    for name in ("node-up", "node-alive", "pod-start", "pod-finish", "pod-gone"):
        assert f"name: {name}\n" in text
    download = json.loads(kwok.configuration("download", {}, tmp_path / "kubectl", ports, "1.36.3",
                                             tmp_path / "dl").split("\n---\n")[0])["options"]
    assert not any(key.endswith("Binary") and key != "kubectlBinary" for key in download)
    assert download["cacheDir"] == str(tmp_path / "dl")


def test_start_without_built_binaries_names_the_install_command(tmp_path: Path, project_root: Path) -> None:
    with pytest.raises(ToolError, match=r"run `chartship tools.install --cluster`"):
        kwok.start(tmp_path, environ={"CHARTSHIP_CLUSTER_BINARIES": "build", "PATH": ""})


EPHEMERAL = """
apiVersion: v1
kind: Pod
metadata: {name: scratch, namespace: default}
spec:
  containers:
  - name: app
    image: busybox:1.36
    resources:
      requests: {cpu: 250m, memory: 256Mi, ephemeral-storage: 2Gi}
      limits: {memory: 512Mi, ephemeral-storage: 4Gi}
---
apiVersion: v1
kind: Pod
metadata: {name: too-big, namespace: default}
spec:
  containers:
  - name: app
    image: busybox:1.36
    resources:
      requests: {ephemeral-storage: 5Ti}
"""


def test_fake_node_has_realistic_capacity_so_ephemeral_storage_requests_schedule(project_root: Path, kwok_binaries: None) -> None:
    cluster = kwok.start(project_root)
    try:
        node = kubectl.get(project_root, cluster.kubeconfig, ["node", kwok.NODE_NAME])
        capacity, allocatable = node["status"]["capacity"], node["status"]["allocatable"]
        assert {"cpu", "memory", "pods", "ephemeral-storage"} <= set(capacity)
        assert {"cpu", "memory", "pods", "ephemeral-storage"} <= set(allocatable)
        assert capacity["ephemeral-storage"] == "200Gi" and allocatable["ephemeral-storage"] == "180Gi"
        assert allocatable["cpu"] == "15800m" and capacity["pods"] == "110"

        kubectl.apply(project_root, cluster.kubeconfig, manifest=EPHEMERAL)
        kubectl.wait(project_root, cluster.kubeconfig, ["pod/scratch"], "condition=Ready", 90, namespace="default")
        kubectl.wait(project_root, cluster.kubeconfig, ["pod/too-big"], "condition=PodScheduled=False", 90,
                     namespace="default")
        big = kubectl.get(project_root, cluster.kubeconfig, ["pod", "too-big"], namespace="default")
        cond = next(c for c in big["status"]["conditions"] if c["type"] == "PodScheduled")
        assert cond["reason"] == "Unschedulable"
        assert "Insufficient ephemeral-storage" in cond["message"]
    finally:
        kwok.stop(cluster)


def _values_chart(root: Path, name: str, values: str, files: dict[str, str]) -> None:
    chart = root / "charts" / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(values)
    (chart / "templates" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "  labels: {set: {{ .Values.set | quote }}}\nspec:\n  replicas: {{ .Values.replicas }}\n"
        "  selector: {matchLabels: {app: {{ .Release.Name }}}}\n  template:\n"
        "    metadata: {labels: {app: {{ .Release.Name }}}}\n    spec:\n      containers:\n"
        "      - name: app\n        image: busybox:1.36\n"
        "        resources: {requests: {cpu: {{ .Values.cpu | quote }}, memory: 64Mi}}\n")
    for rel, text in files.items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)


def test_cluster_test_runs_every_values_set_and_an_unschedulable_pod_fails_fast(
        tmp_path: Path, project_root: Path, kwok_binaries: None) -> None:
    """cluster.test installs and tests each values set by name; a chart asking for more cpu than the fake node
    has fails with the scheduler's message (the watcher's line, not helm's timeout) naming chart, set and pod."""
    from tests.helpers.pipeline import commit, invoke, new_repo

    root = new_repo(tmp_path / "repo", config="  environments:\n    prod: [values-prod.yaml]\n")
    (root / ".tools").symlink_to(project_root / ".tools")
    _values_chart(root, "fits", "set: defaults\nreplicas: 1\ncpu: 100m\n",
                  {"values-prod.yaml": "set: prod\nreplicas: 2\n", "ci/small-values.yaml": "set: ci-small\ncpu: 50m\n"})
    _values_chart(root, "greedy", "set: defaults\nreplicas: 1\ncpu: \"64\"\n", {})
    commit(root, "two charts")
    result = invoke(root, "cluster.test", "--provider", "kwok", "--timeout", "10m", "--json")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    steps = json.loads(result.stdout)["steps"]
    fits = {(s["values"], s["step"]): s["status"] for s in steps if s["chart"] == "fits"}
    assert fits == {
        ("defaults", "install previous"): "skipped", ("defaults", "install"): "ok", ("defaults", "upgrade"): "ok",
        ("defaults", "helm test"): "ok", ("defaults", "rollback"): "ok", ("defaults", "uninstall"): "ok",
        ("prod", "install [prod]"): "ok", ("prod", "helm test [prod]"): "ok", ("prod", "uninstall [prod]"): "ok",
        ("ci/small-values.yaml", "install [ci/small-values.yaml]"): "ok",
        ("ci/small-values.yaml", "helm test [ci/small-values.yaml]"): "ok",
        ("ci/small-values.yaml", "uninstall [ci/small-values.yaml]"): "ok",
    }, fits
    greedy = [s for s in steps if s["chart"] == "greedy"]
    failed = next(s for s in greedy if s["status"] == "failed")
    assert failed["step"] == "install" and failed["values"] == "defaults"
    message = failed["message"]
    assert message.startswith("greedy [defaults]: pod greedy-"), message
    assert "cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu" in message, message
    assert "\n" not in message
    assert not any(s["step"] in ("upgrade", "helm test") and s["status"] == "ok" for s in greedy), greedy
