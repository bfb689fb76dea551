"""helm.test: helm template + client-side install dry-run per chart x environment, no cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.pipeline import commit, helm, invoke, new_repo, one_error_line, scaffold, snapshot, umbrella


def helm_major(helm_bin: Path) -> int:
    return int(helm(helm_bin, "version", "--template", "{{.Version}}").lstrip("v").split(".")[0])


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, helm_bin: Path) -> Path:
    root = new_repo(tmp_path_factory.mktemp("helmtest") / "repo")
    scaffold(root, helm_bin, "web")
    umbrella(root, "suite", ["web"])
    bad = scaffold(root, helm_bin, "broken")
    (bad / "values-prod.yaml").write_text("replicaCount: 2\nboom: true\n")
    (bad / "templates/boom.yaml").write_text(
        "{{- if .Values.boom }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
        "  a: {{ .Values.missing.key }}\n{{- end }}\n")
    commit(root)
    return root


def test_every_chart_and_environment(repo: Path, helm_bin: Path) -> None:
    before = snapshot(repo)
    result = invoke(repo, "helm.test", "--json", env={"KUBECONFIG": str(repo / "no-such-kubeconfig")})
    assert snapshot(repo) == before
    assert result.returncode == 1, result.stderr
    cases = {(c["chart"], c["env"]): c for c in json.loads(result.stdout)["cases"]}
    assert set(cases) == {("web", "defaults"), ("web", "dev"), ("web", "prod"), ("suite", "defaults"),
                          ("broken", "defaults"), ("broken", "dev"), ("broken", "prod")}
    assert cases[("web", "prod")]["values"] == ["values-prod.yaml"]
    dry = "ok" if helm_major(helm_bin) >= 4 else "skipped"  # helm 3's install --dry-run needs a cluster
    for key in (("web", "defaults"), ("web", "prod"), ("suite", "defaults"), ("broken", "dev")):
        assert (cases[key]["template"], cases[key]["dry_run"]) == ("ok", dry), cases[key]
    if dry == "skipped":
        assert "needs a reachable cluster" in cases[("web", "prod")]["message"]
    failed = cases[("broken", "prod")]
    assert failed["template"] == "failed" and failed["dry_run"] == "skipped"
    assert "broken/templates/boom.yaml:7" in failed["message"] and "nil pointer" in failed["message"]
    assert "chartship-" not in failed["message"]


def test_selected_chart_table_and_errors(repo: Path) -> None:
    ok = invoke(repo, "helm.test", "--chart", "suite")
    assert ok.returncode == 0, ok.stderr
    assert "suite" in ok.stdout and "defaults" in ok.stdout and "broken" not in ok.stdout
    bad = invoke(repo, "helm.test", "--chart", "broken")
    one_error_line(bad, "helm.test failed for broken")
    assert any("broken" in ln and "prod" in ln and "failed" in ln for ln in bad.stdout.splitlines()), bad.stdout
    one_error_line(invoke(repo, "helm.test", "--chart", "nope"), "unknown chart 'nope'")
    one_error_line(invoke(repo, "helm.test", env={"HELM_BIN": "/nonexistent/helm"}), "HELM_BIN=/nonexistent/helm")


def test_missing_subchart(tmp_path: Path, helm_bin: Path) -> None:
    root = new_repo(tmp_path / "repo")
    umbrella(root, "suite", ["ghost"])
    commit(root)
    result = invoke(root, "helm.test", "--json")
    assert result.returncode == 1
    case = json.loads(result.stdout)["cases"][0]
    assert case["template"] == "failed" and "dependency 'ghost' points to file://../ghost" in case["message"]
