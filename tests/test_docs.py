"""chartship.docs: README generation from Chart.yaml and `# --` comments in values.yaml."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from chartship.charts import docs
from chartship.errors import ChartError

ROOT = Path(__file__).resolve().parent.parent
CHARTS = [ROOT / "charts" / name for name in ("core-pipeline", "platform", "redis")]


def table(readme: str) -> dict[str, tuple[str, str, str]]:
    """Configuration table rows: key -> (type, default, description)."""
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str, str]] = {}
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith("| Key "):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        key, type_, default, description = cells
        rows[key] = (type_, default, description)
    return rows


def leaf_paths(node: Any, prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out += leaf_paths(value, f"{path}.")
        else:
            out.append(path)
    return out


def chart_copy(tmp_path: Path, name: str = "core-pipeline") -> Path:
    dest = tmp_path / name
    shutil.copytree(ROOT / "charts" / name, dest)
    return dest


def write_chart(tmp_path: Path, values: str, chart_yaml: str = "apiVersion: v2\nname: demo\nversion: 1.2.3\n") -> Path:
    chart = tmp_path / "demo"
    chart.mkdir()
    (chart / "Chart.yaml").write_text(chart_yaml, encoding="utf-8")
    (chart / "values.yaml").write_text(values, encoding="utf-8")
    return chart


# --------------------------------------------------------------------------- the repository's charts


def test_committed_readmes_are_up_to_date() -> None:
    assert docs.stale_readmes(CHARTS) == [], "run: invoke helm.docs"


@pytest.mark.parametrize("chart", CHARTS, ids=lambda p: p.name)
def test_render_is_deterministic_and_path_independent(chart: Path, tmp_path: Path) -> None:
    first = docs.render_readme(chart)
    assert first == docs.render_readme(chart)
    moved = chart_copy(tmp_path, chart.name)
    assert docs.render_readme(moved) == first
    assert first.endswith("\n") and not first.endswith("\n\n")


@pytest.mark.parametrize("chart", CHARTS, ids=lambda p: p.name)
def test_every_leaf_key_is_documented(chart: Path) -> None:
    rows = table(docs.render_readme(chart))
    values = YAML(typ="safe", pure=True).load(chart / "values.yaml")
    for leaf in leaf_paths(values):
        parts = leaf.split(".")
        covering = [".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in rows]
        assert covering, f"{chart.name}: {leaf} is not in the table"
    for key, (_type, _default, description) in rows.items():
        assert description, f"{chart.name}: {key} has no `# --` description"


def test_core_pipeline_table_content() -> None:
    rows = table(docs.render_readme(ROOT / "charts" / "core-pipeline"))
    assert rows["replicaCount"] == (
        "int",
        "`2`",
        "Number of pods. With autoscaling enabled this is the initial size; the HPA owns it afterwards.",
    )
    assert rows["image.pullPolicy"][:2] == ("string", '`"IfNotPresent"`')
    assert rows["autoscaling.maxReplicas"][:2] == ("int", "`10`")
    assert rows["ingress.cors.allowMethods"][:2] == ("list", '`["GET","POST","PUT","PATCH","DELETE","OPTIONS"]`')
    assert rows["prometheusRule.errorRateThreshold"][:2] == ("float", "`0.05`")
    # a documented map whose children carry no comments of their own is one row, as JSON
    assert rows["resources"][:2] == (
        "object",
        '`{"requests":{"cpu":"250m","memory":"256Mi"},"limits":{"cpu":"500m","memory":"512Mi"}}`',
    )
    assert "resources.requests.cpu" not in rows


def test_install_examples_and_sections(tmp_path: Path) -> None:
    readme = docs.render_readme(ROOT / "charts" / "core-pipeline", target="oci://registry.example.com/helm/")
    assert readme.startswith(docs.GENERATED_MARK + "\n\n# core-pipeline\n")
    assert "helm install core-pipeline oci://registry.example.com/helm/core-pipeline --version 0.1.0" in readme
    sections = re.findall(r"^## (.+)$", readme, flags=re.MULTILINE)
    assert sections == ["Install from OCI", "Configuration", "Examples", "Upgrading", "Troubleshooting"]
    examples = re.findall(r"^### (.+)$", readme, flags=re.MULTILINE)
    assert examples == ["dev", "staging", "prod", "test"]
    assert "--namespace core-pipeline-prod --create-namespace -f values-prod.yaml" in readme
    default = docs.render_readme(ROOT / "charts" / "core-pipeline")
    assert "oci://127.0.0.1:5000/charts/core-pipeline --version 0.1.0" in default
    umbrella = docs.render_readme(ROOT / "charts" / "platform")
    assert "| core-pipeline | `0.1.0` | file://../core-pipeline | `core-pipeline.enabled` |" in umbrella


# --------------------------------------------------------------------------- comment parsing on crafted values


VALUES = """\
# A file header that documents nothing.

# -- Number of pods.
replicas: 3
untouched: "no comment"
nested:
  # -- First line of a description
  # that continues here.
  deep:
    # -- The leaf.
    leaf: true
  # -- Pipe | in text.
  list: [1, "a|b"]
  # unrelated comment, not documentation
  plain: 1.5
# -- A documented map shown whole.
whole:
  a: 1
  b: {c: x}
# -- Empty map.
empty: {}
# -- Key with dots.
annotations:
  # -- Dotted key.
  example.com/key: v
flow: {x: 1, y: 2}
"""


def test_comment_parsing(tmp_path: Path) -> None:
    rows = table(docs.render_readme(write_chart(tmp_path, VALUES)))
    assert rows == {
        "replicas": ("int", "`3`", "Number of pods."),
        "untouched": ("string", '`"no comment"`', ""),
        "nested.deep.leaf": ("bool", "`true`", "The leaf."),
        "nested.list": ("list", '`[1,"a|b"]`', "Pipe | in text."),
        "nested.plain": ("float", "`1.5`", ""),
        "whole": ("object", '`{"a":1,"b":{"c":"x"}}`', "A documented map shown whole."),
        "empty": ("object", "`{}`", "Empty map."),
        'annotations."example.com/key"': ("string", '`"v"`', "Dotted key."),
        "flow.x": ("int", "`1`", ""),
        "flow.y": ("int", "`2`", ""),
    }


def test_multi_line_description_is_joined(tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "a:\n  # -- First line\n  # second line.\n  b: 1\n")
    assert table(docs.render_readme(chart))["a.b"][2] == "First line second line."


def test_empty_values_file(tmp_path: Path) -> None:
    readme = docs.render_readme(write_chart(tmp_path, "# nothing here\n"))
    assert "This chart has no values." in readme


# --------------------------------------------------------------------------- stale detection and writing


def test_write_then_stale_is_empty(tmp_path: Path) -> None:
    chart = chart_copy(tmp_path)
    (chart / "README.md").unlink()
    assert docs.stale_readmes([chart]) == [chart / "README.md"]
    assert docs.write_readmes([chart]) == [chart / "README.md"]
    assert docs.stale_readmes([chart]) == []
    assert docs.write_readmes([chart]) == []


def test_changed_default_makes_readme_stale(tmp_path: Path) -> None:
    chart = chart_copy(tmp_path)
    other = chart_copy(tmp_path, "redis")
    assert docs.stale_readmes([chart, other]) == []
    values = chart / "values.yaml"
    text = values.read_text(encoding="utf-8")
    assert "\nreplicaCount: 2\n" in text
    values.write_text(text.replace("\nreplicaCount: 2\n", "\nreplicaCount: 5\n"), encoding="utf-8")
    assert docs.stale_readmes([chart, other]) == [chart / "README.md"]
    before = (other / "README.md").stat().st_mtime_ns
    assert docs.write_readmes([chart, other]) == [chart / "README.md"]
    assert (other / "README.md").stat().st_mtime_ns == before  # unchanged README not rewritten
    assert table((chart / "README.md").read_text(encoding="utf-8"))["replicaCount"][1] == "`5`"
    assert docs.stale_readmes([chart, other]) == []


def test_changed_description_and_chart_version_make_readme_stale(tmp_path: Path) -> None:
    chart = chart_copy(tmp_path)
    values = chart / "values.yaml"
    values.write_text(values.read_text(encoding="utf-8").replace("# -- Number of pods.", "# -- How many pods."), encoding="utf-8")
    assert docs.stale_readmes([chart]) == [chart / "README.md"]
    docs.write_readmes([chart])
    chart_yaml = chart / "Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text(encoding="utf-8").replace("version: 0.1.0", "version: 0.2.0"), encoding="utf-8")
    assert docs.stale_readmes([chart]) == [chart / "README.md"]


# --------------------------------------------------------------------------- errors a user can cause


def check_error(exc: pytest.ExceptionInfo[ChartError], *parts: str) -> None:
    message = str(exc.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message


def test_missing_values_file(tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "a: 1\n")
    (chart / "values.yaml").unlink()
    with pytest.raises(ChartError) as exc:
        docs.render_readme(chart)
    check_error(exc, str(chart / "values.yaml"), "not found")


def test_invalid_values_yaml(tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "a: 1\nb: [unclosed\n")
    with pytest.raises(ChartError) as exc:
        docs.stale_readmes([chart])
    check_error(exc, str(chart / "values.yaml"), "invalid YAML")


def test_values_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ChartError) as exc:
        docs.render_readme(write_chart(tmp_path, "- a\n- b\n"))
    check_error(exc, "values.yaml", "mapping")


@pytest.mark.parametrize(
    ("chart_yaml", "expected"),
    [("apiVersion: v2\nname: [demo\n", "invalid YAML"), ("apiVersion: v2\nname: demo\n", "'version'")],
    ids=["invalid-yaml", "no-version"],
)
def test_invalid_chart_yaml(tmp_path: Path, chart_yaml: str, expected: str) -> None:
    chart = write_chart(tmp_path, "a: 1\n", chart_yaml=chart_yaml)
    with pytest.raises(ChartError) as exc:
        docs.write_readmes([chart])
    check_error(exc, str(chart / "Chart.yaml"), expected)
    assert not (chart / "README.md").exists()
