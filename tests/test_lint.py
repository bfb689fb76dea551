"""helm.lint through the real `invoke` on helm create scaffolds and broken charts, with the helm in use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.pipeline import commit, git, invoke, new_repo, one_error_line, scaffold, snapshot, umbrella


@pytest.fixture(scope="module")
def broken_repo(tmp_path_factory: pytest.TempPathFactory, helm_bin: Path) -> Path:
    root = new_repo(tmp_path_factory.mktemp("lint") / "repo")
    scaffold(root, helm_bin, "good")
    scaffold(root, helm_bin, "tmplerr")
    (root / "charts/tmplerr/templates/broken.yaml").write_text("kind: ConfigMap\nname: {{ .Values.nope.deeper }\n")
    scaffold(root, helm_bin, "schemabad")
    (root / "charts/schemabad/values-prod.yaml").write_text("replicaCount: -1\n")
    scaffold(root, helm_bin, "badmeta")
    meta = root / "charts/badmeta/Chart.yaml"
    meta.write_text(meta.read_text().replace("apiVersion: v2", "apiVersion: v1").replace("type: application", "type: plugin"))
    scaffold(root, helm_bin, "dupkey")
    values = root / "charts/dupkey/values.yaml"
    values.write_text(values.read_text() + "replicaCount: 2\n")
    commit(root, "init")
    return root


@pytest.fixture(scope="module")
def lint_json(broken_repo: Path) -> dict[str, dict[str, dict[str, object]]]:
    before = snapshot(broken_repo)
    result = invoke(broken_repo, "helm.lint", "--all", "--json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(broken_repo) == before, "lint must not change the working tree"
    data = json.loads(result.stdout)
    assert data["ok"] is False
    charts: dict[str, dict[str, dict[str, object]]] = data["charts"]
    return charts


def status(charts: dict[str, dict[str, dict[str, object]]], chart: str) -> dict[str, object]:
    return {check: outcome["status"] for check, outcome in charts[chart].items()}


def messages(charts: dict[str, dict[str, dict[str, object]]], chart: str, check: str) -> str:
    found = charts[chart][check]["messages"]
    assert isinstance(found, list)
    return "\n".join(found)


def test_good_scaffold_passes_every_check(lint_json: dict[str, dict[str, dict[str, object]]]) -> None:
    assert status(lint_json, "good") == {"chart.yaml": "ok", "prepare": "ok", "helm-lint": "ok", "yamllint": "ok",
                                         "schema": "ok"}


def test_template_error_fails_helm_lint_with_file_and_line(lint_json: dict[str, dict[str, dict[str, object]]]) -> None:
    assert status(lint_json, "tmplerr")["helm-lint"] == "failed"
    text = messages(lint_json, "tmplerr", "helm-lint")
    assert "templates/broken.yaml" in text and "charts/tmplerr" in text
    assert "/tmp/" not in text and "chartship-" not in text, "messages name repository paths, not the temp copy"
    assert status(lint_json, "tmplerr")["schema"] == "ok"


def test_schema_violation_names_file_and_json_path(lint_json: dict[str, dict[str, dict[str, object]]]) -> None:
    assert status(lint_json, "schemabad")["schema"] == "failed"
    assert messages(lint_json, "schemabad", "schema") == (
        "charts/schemabad values-prod.yaml: $.replicaCount: -1 is less than the minimum of 1")
    # helm lint --strict validates the schema too, for the prod stack only
    assert "[prod (values-prod.yaml)]" in messages(lint_json, "schemabad", "helm-lint")
    assert "[defaults]" not in messages(lint_json, "schemabad", "helm-lint")


def test_bad_chart_yaml_fields(lint_json: dict[str, dict[str, dict[str, object]]]) -> None:
    assert status(lint_json, "badmeta")["chart.yaml"] == "failed"
    text = messages(lint_json, "badmeta", "chart.yaml")
    assert "charts/badmeta/Chart.yaml: apiVersion is 'v1'" in text
    assert "type is 'plugin'; use application or library" in text


def test_yamllint_error_is_reported_with_line(lint_json: dict[str, dict[str, dict[str, object]]]) -> None:
    assert status(lint_json, "dupkey")["yamllint"] == "failed"
    text = messages(lint_json, "dupkey", "yamllint")
    assert "charts/dupkey/values.yaml:" in text and 'duplication of key "replicaCount"' in text


def test_table_output_and_exit_code(broken_repo: Path) -> None:
    result = invoke(broken_repo, "helm.lint", "--chart", "schemabad", "--chart", "good", "--jobs", "1")
    assert result.returncode == 1
    assert "schemabad" in result.stdout and "good" in result.stdout
    assert any(ln.split("│")[1:2] == [" schemabad "] and "failed" in ln for ln in result.stdout.splitlines()), result.stdout
    assert "tmplerr" not in result.stdout
    one_error_line(result, "lint failed for schemabad")
    ok = invoke(broken_repo, "helm.lint", "--chart", "good")
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_default_selection_is_changed_charts(broken_repo: Path, tmp_path: Path) -> None:
    # a clean checkout on main: nothing changed since main
    clean = invoke(broken_repo, "helm.lint")
    assert clean.returncode == 0 and "no chart changed since main" in clean.stderr
    work = tmp_path / "work"
    git(broken_repo, "worktree", "add", "-q", "-b", "feature", str(work))
    try:
        (work / "charts/good/values-dev.yaml").write_text("replicaCount: 2\n")
        result = invoke(work, "helm.lint", "--json")
        assert result.returncode == 0, result.stderr
        assert list(json.loads(result.stdout)["charts"]) == ["good"]
        assert "good: charts/good/values-dev.yaml changed" in result.stderr
    finally:
        git(broken_repo, "worktree", "remove", "--force", str(work))


def test_repo_yamllint_config_is_used(tmp_path: Path, helm_bin: Path) -> None:
    root = new_repo(tmp_path / "repo")
    scaffold(root, helm_bin, "web")
    commit(root)
    assert invoke(root, "helm.lint", "--all").returncode == 0
    (root / ".yamllint").write_text("extends: default\nrules:\n  line-length: {max: 40}\n  document-start: disable\n")
    result = invoke(root, "helm.lint", "--all", "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)["charts"]["web"]["yamllint"]
    assert data["status"] == "failed" and any("line too long" in m for m in data["messages"])


def test_yamllint_ignore_patterns_and_per_path_rules(tmp_path: Path, helm_bin: Path) -> None:
    """yamllint runs in the repository root on repository paths: `ignore:` skips a file, a rule's own `ignore:`
    exempts a path, and every finding names the repository path (never the temp copy)."""
    root = new_repo(tmp_path / "repo")
    scaffold(root, helm_bin, "web")
    scaffold(root, helm_bin, "api")
    for name in ("web", "api"):  # a duplicated key in each chart's dev values: a yamllint error
        (root / f"charts/{name}/values-dev.yaml").write_text("replicaCount: 1\nreplicaCount: 2\n")
    (root / "charts/api/values-prod.yaml").write_text("replicaCount: 3\nname: " + "x" * 60 + "\n")
    (root / "charts/web/values-prod.yaml").write_text("replicaCount: 3\nname: " + "x" * 60 + "\n")
    (root / ".yamllint.yaml").write_text(
        "extends: default\n"
        "ignore: |\n  charts/web/values-dev.yaml\n"
        "rules:\n  document-start: disable\n"
        "  line-length:\n    max: 40\n    ignore: |\n      charts/api/values-prod.yaml\n")
    commit(root)
    result = invoke(root, "helm.lint", "--all", "--json")
    assert result.returncode == 1, result.stderr
    charts = json.loads(result.stdout)["charts"]
    web = charts["web"]["yamllint"]["messages"]
    api = charts["api"]["yamllint"]["messages"]
    assert not any("values-dev.yaml" in m for m in web), web  # ignored file: no finding at all
    assert any(m.startswith("charts/web/values-prod.yaml:2:") and "line too long" in m for m in web), web
    assert any(m.startswith("charts/api/values-dev.yaml:2:") and "duplication of key" in m for m in api), api
    assert not any("values-prod.yaml" in m for m in api), api  # line-length exempts this path only
    assert not any("chartship-" in m or m.startswith("/") for m in web + api), web + api


def test_umbrella_lints_with_file_dependencies(tmp_path: Path, helm_bin: Path) -> None:
    root = new_repo(tmp_path / "repo")
    scaffold(root, helm_bin, "web")
    umbrella(root, "suite", ["web"])
    commit(root)
    before = snapshot(root)
    result = invoke(root, "helm.lint", "--chart", "suite", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["charts"]["suite"]["helm-lint"]["status"] == "ok"
    assert snapshot(root) == before, "no charts/suite/charts/*.tgz or Chart.lock left behind"


def test_lint_errors_are_one_line(broken_repo: Path) -> None:
    one_error_line(invoke(broken_repo, "helm.lint", "--chart", "nope"), "unknown chart 'nope'")
    one_error_line(invoke(broken_repo, "helm.lint", "--changed-since", "no-such-branch"), "unknown git ref 'no-such-branch'")
    one_error_line(invoke(broken_repo, "helm.lint", "--all", env={"CHARTSHIP_JOBS": "many"}),
                   "CHARTSHIP_JOBS: expected a whole number")
    one_error_line(invoke(broken_repo, "helm.lint", "--all", env={"HELM_BIN": "/nonexistent/helm"}),
                   "HELM_BIN=/nonexistent/helm: no such file")
