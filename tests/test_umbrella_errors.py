"""An umbrella whose values break two subcharts' values.schema.json, through the real `invoke` with the helm in
use (helm 3 and helm 4 word the key differently): the lines of helm's output after `values don't meet the
specifications of the schema(s) in the following chart(s):` -- the subchart and the key -- reach the table,
the one-line messages and `--json` of helm.lint and helm.validate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers.pipeline import commit, invoke, new_repo

HEAD = "values don't meet the specifications of the schema(s) in the following chart(s):"
SUB_SCHEMA = '{"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 0}}}'
EDGE_SCHEMA = ('{"type": "object", "properties": {"port": {"type": "integer", "maximum": 65535},'
               ' "name": {"type": "string", "maxLength": 3}}}')


def _sub(root: Path, name: str, values: str, schema: str) -> None:
    d = root / "charts" / name
    (d / "templates").mkdir(parents=True)
    (d / "Chart.yaml").write_text(f'apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: "0.1.0"\n')
    (d / "values.yaml").write_text(values)
    (d / "values.schema.json").write_text(schema)
    (d / "templates" / "cm.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ .Release.Name }}}}-{name}\n")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, helm_bin: Path) -> Path:
    root = new_repo(tmp_path_factory.mktemp("umbrella") / "repo")
    _sub(root, "backend", "replicas: 1\n", SUB_SCHEMA)
    _sub(root, "edge", "port: 80\nname: web\n", EDGE_SCHEMA)
    top = root / "charts" / "suite"
    (top / "templates").mkdir(parents=True)
    (top / "Chart.yaml").write_text(
        'apiVersion: v2\nname: suite\nversion: 0.1.0\nappVersion: "0.1.0"\ndependencies:\n'
        "  - name: backend\n    version: 0.1.0\n    repository: file://../backend\n"
        "  - name: edge\n    version: 0.1.0\n    repository: file://../edge\n")
    (top / "values.yaml").write_text("backend:\n  replicas: -1\nedge:\n  port: 99999\n  name: toolong\n")
    (top / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: suite\n")
    commit(root)
    return root


def _names_subcharts_and_keys(text: str) -> None:
    """helm's schema block, kept: every subchart that failed and each of its keys, in one line."""
    assert HEAD in text, text
    tail = text.split(HEAD, 1)[1]
    assert re.search(r"\bbackend: - .*replicas", tail), tail
    assert re.search(r"\bedge: - .*port", tail) and "name" in tail.split("edge:", 1)[1], tail


def test_lint_table_and_json_name_subchart_and_key(repo: Path) -> None:
    shown = invoke(repo, "helm.lint", "--chart", "suite")
    assert shown.returncode == 1 and "Traceback" not in shown.stderr
    lines = [ln for ln in (shown.stdout + shown.stderr).splitlines() if HEAD in ln]
    assert lines, shown.stdout + shown.stderr
    assert lines[0].startswith("suite helm-lint: charts/suite [defaults]: ")
    _names_subcharts_and_keys(lines[0])
    result = invoke(repo, "helm.lint", "--chart", "suite", "--json")
    assert result.returncode == 1
    messages = json.loads(result.stdout)["charts"]["suite"]["helm-lint"]["messages"]
    schema = [m for m in messages if HEAD in m]
    assert len(schema) == 1, messages
    _names_subcharts_and_keys(schema[0])


def test_validate_table_and_json_name_subchart_and_key(repo: Path) -> None:
    result = invoke(repo, "helm.validate", "--chart", "suite", "--json")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [f["rule"] for f in findings] == ["render"], findings
    _names_subcharts_and_keys(findings[0]["message"])
    _names_subcharts_and_keys(findings[0]["text"])
    shown = invoke(repo, "helm.validate", "--chart", "suite")
    assert shown.returncode != 0
    flat = " ".join(ln.strip("│ ").strip() for ln in shown.stdout.splitlines())
    assert "backend" in flat and "replicas" in flat and "edge" in flat and "port" in flat, shown.stdout
