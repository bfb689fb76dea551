"""The benchmark harness (bench/run.py) end to end on a tiny synthetic repository: every id gets
a ratio and a verdict, P3 really uploads on the first push and nothing on the re-run. The peers' part
(Go builds) is not run here; its pieces are: the schema conversion for kubeconform, the rows of a peer
that could not be built, and the lock entries that keep tools.install --peers from building them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IDS = {"P1", "P2a", "P2b", "P2a-cli", "P2b-cli",  # -cli: CHARTSHIP_HELM_BATCH=0
       "P2c", "P2c-jobs1", "P2c-lint", "P2c-lint-jobs1", "P3", "P3-fresh", "P4", "P4-chartship"}
sys.path.insert(0, str(ROOT / "bench"))


@pytest.mark.one_helm  # the harness (ids, ratios, verdicts, files): helm 3 vs 4 differences are other tests' job
def test_bench_harness_on_a_tiny_repository(tmp_path: Path, helm_bin: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "bench").glob("results.*")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--charts", "3", "--hook-charts", "3", "--runs", "1",
         "--slow-runs", "1", "--warmup", "0", "--scale", "3", "--out", str(tmp_path),
         "--only", "P1,P2,P3,P4,rss,scale"],
        capture_output=True, text=True, check=False, env={**os.environ, "HELM_BIN": str(helm_bin)},
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    version = subprocess.run([str(helm_bin), "version", "--template", "{{.Version}}"], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert data["helm"] == version and data["charts"] == 3
    results = {r["id"]: r for r in data["results"]}
    assert set(results) == IDS
    for r in results.values():
        assert isinstance(r["ratio"], float) and r["ratio"] > 0, r
        assert isinstance(r["met"], bool) and r["target"].startswith((">=", "<=")), r
        assert len(r["candidate_s"]) == len(r["baseline_s"]) == 1
        expected = r["baseline_median_s"] / r["candidate_median_s"] if "speed-up" in r["ratio_is"] else \
            r["candidate_median_s"] / r["baseline_median_s"]
        assert abs(r["ratio"] - expected) < 0.01 * expected + 1e-3
    # the first deploy uploaded blobs (a chart layer and a config per chart), the re-run none
    assert results["P3"]["uploads_first"][0] >= 6 and results["P3"]["uploads_again"] == [0]
    assert data["rss"]["max_single_process_MiB"] > 0 and data["rss"]["peak_tree_sum_MiB"] > 0
    assert [p["charts"] for p in data["scale"]["points"]] == [3]
    text = (tmp_path / "results.md").read_text()
    assert all(f"| {i} |" in text for i in IDS) and version in text
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "bench").glob("results.*")} == before  # bench/ untouched
    assert data["helm_start_cpu_s"] > 0
    assert data["helm_batch"] and f"helm lint/template/package: {data['helm_batch']}" in text
    assert "CPU floor" in text


def test_kubeconform_schemas_are_the_same_checks_with_the_definitions_inlined(tmp_path: Path) -> None:
    import peers  # bench/peers.py
    from jsonschema import Draft202012Validator

    kinds = {("apps/v1", "Deployment"), ("v1", "Service"), ("external-secrets.io/v1", "ExternalSecret")}
    location = peers.kubeconform_schemas(tmp_path, ["1.37.0"], kinds)
    assert location.endswith("{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}"
                             "{{ .KindSuffix }}.json")
    folder = tmp_path / "v1.37.0-standalone-strict"
    assert sorted(p.name for p in folder.iterdir()) == ["deployment-apps-v1.json", "externalsecret-external-secrets-v1.json",
                                                        "service-v1.json"]
    schema = json.loads((folder / "deployment-apps-v1.json").read_text())
    refs = set(peers._refs(schema))
    assert refs and all(r.startswith("#/$defs/") for r in refs), "every ref is inside the file"
    check = Draft202012Validator(schema)
    good = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}
    assert list(check.iter_errors(good)) == []
    bad = json.loads(json.dumps(good))
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 7
    bad["spec"]["replicas"] = "three"
    assert len(list(check.iter_errors(bad))) >= 2
    crd = json.loads((folder / "externalsecret-external-secrets-v1.json").read_text())
    assert all(r.startswith("#/") for r in peers._refs(crd))
    assert peers.kind_file("networking.k8s.io/v1", "Ingress") == "ingress-networking-v1"


def test_a_peer_that_cannot_be_built_keeps_its_row() -> None:
    import report  # bench/report.py

    row = {"id": "P5", "what": "chart-docs hook", "baseline": "helm-docs", "target": "<= 2.0", "met": False,
           "unavailable": "not built: go not found", "load_1m": [1.0], "runs": 0}
    data = {"date": "d", "helm": "v4", "helm_bin": "h", "python": "3.11", "cores": 2, "charts": 3, "hook_charts": 3,
            "runs": 1, "slow_runs": 1, "warmup": 0, "load_1m_start": 1, "load_1m_end": 1, "seconds": 1, "results": [row]}
    text = report.markdown(data)
    assert "| P5 | chart-docs hook | helm-docs | - | - | - | <= 2.0 | **not measured**: not built: go not found |" in text
    assert "not measured" in report.summary(data)


def test_the_bench_peers_are_pinned_and_not_built_by_tools_install() -> None:
    from chartship.tools import peers

    pins = peers.read_lock()
    bench = {n for n, p in pins.items() if p.used_by == "bench"}
    assert bench == {"chart-testing", "helm-docs", "kubeconform"}
    for name, module, version in (("chart-testing", "github.com/helm/chart-testing/v3", "v3.14.0"),
                                  ("helm-docs", "github.com/norwoodj/helm-docs", "v1.14.2"),
                                  ("kubeconform", "github.com/yannh/kubeconform", "v0.8.0")):
        assert (pins[name].module, pins[name].version) == (module, version)
        assert pins[name].sum.startswith("h1:") and len(pins[name].go_sum_sha256) == 64
    assert pins["helm-unittest"].used_by == ""
