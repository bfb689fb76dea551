"""Values stacks merged like helm, schema messages naming the file and JSON path; Chart.yaml rules."""

from __future__ import annotations

from pathlib import Path

from chartship.build.lint import chart_yaml_problems
from chartship.charts import chart, values
from tests.helpers.pipeline import SCHEMA


def test_merge_like_helm() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "keep": True, "drop": {"x": 1}}
    over = {"a": {"c": [3]}, "drop": None, "new": 0}
    assert values.merge(base, over) == {"a": {"b": 1, "c": [3]}, "keep": True, "new": 0}


def test_validate_names_the_file_that_set_the_value(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("replicaCount: 1\nimage:\n  tag: v1\n")
    (tmp_path / "values-dev.yaml").write_text("image:\n  tag: 5\n")
    (tmp_path / "values-prod.yaml").write_text("replicaCount: 0\n")
    stack = values.ValuesSet("prod", ("values-dev.yaml", "values-prod.yaml"))
    assert values.validate(tmp_path, "charts/x", stack) is None  # no schema: nothing to check
    (tmp_path / "values.schema.json").write_text(SCHEMA)
    assert values.validate(tmp_path, "charts/x", stack) == [
        "charts/x values-dev.yaml: $.image.tag: 5 is not of type 'string'",
        "charts/x values-prod.yaml: $.replicaCount: 0 is less than the minimum of 1",
    ]
    assert values.validate(tmp_path, "charts/x", values.ValuesSet("defaults", ())) == []
    (tmp_path / "values.schema.json").write_text("{nope")
    problems = values.validate(tmp_path, "charts/x", stack)
    assert problems is not None and problems[0].startswith("charts/x/values.schema.json: not valid JSON")
    (tmp_path / "values.schema.json").write_text('{"type": "object", "properties": {"a": {"minimum": "one"}}}')
    problems = values.validate(tmp_path, "charts/x", stack)
    assert problems is not None and "not a valid JSON schema" in problems[0]


def test_values_sets_only_list_present_files(tmp_path: Path) -> None:
    from chartship import config

    (tmp_path / "values-prod.yaml").write_text("a: 1\n")
    cfg = config.load(tmp_path, environ={})
    assert values.values_sets(cfg, tmp_path) == [values.ValuesSet("defaults", ()),
                                                 values.ValuesSet("prod", ("values-prod.yaml",))]


def test_chart_yaml_rules(tmp_path: Path) -> None:
    d = tmp_path / "charts" / "web"
    d.mkdir(parents=True)
    (d / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 1.0.0\n")
    assert chart_yaml_problems(chart.read_chart(d, tmp_path)) == []
    (d / "Chart.yaml").write_text("apiVersion: v1\nname: api\nversion: '1.0'\ntype: plugin\n")
    problems = chart_yaml_problems(chart.read_chart(d, tmp_path))
    assert len(problems) == 4
    assert problems[1] == "charts/web/Chart.yaml: name is 'api' but the folder is 'web'; make them equal"
    assert "'1.0' is not a semantic version" in problems[2]


def test_a_schema_checked_once_and_files_read_once_give_the_same_problems(tmp_path: Path) -> None:
    charts = []
    for name, dev in (("a", "image:\n  tag: 5\n"), ("b", "replicaCount: 0\n")):
        d = tmp_path / name
        d.mkdir()
        (d / "values.yaml").write_text("replicaCount: 1\nimage:\n  tag: v1\n")
        (d / "values-dev.yaml").write_text(dev)
        (d / "values.schema.json").write_text(SCHEMA)  # both charts share one compiled schema
        charts.append(d)
    sets = [values.ValuesSet("defaults", ()), values.ValuesSet("dev", ("values-dev.yaml",)),
            values.ValuesSet("broken", ("values-broken.yaml",))]
    for d in charts:
        (d / "values-broken.yaml").write_text("a: [unclosed\n")
        loaded: dict[str, object] = {}
        shared = [values.validate(d, f"charts/{d.name}", vs, loaded) for vs in sets]  # type: ignore[arg-type]
        values._compiled.cache_clear()
        fresh = [values.validate(d, f"charts/{d.name}", vs) for vs in sets]
        assert shared == fresh
        assert shared[0] == [] and shared[1] and shared[2] and "values-broken.yaml" in shared[2][0]
        assert sorted(loaded) == ["values-broken.yaml", "values-dev.yaml", "values.yaml"]
    assert values.validate(charts[0], "charts/a", sets[1]) == ["charts/a values-dev.yaml: $.image.tag: 5 is not of type 'string'"]
    assert values.validate(charts[1], "charts/b", sets[1]) == [
        "charts/b values-dev.yaml: $.replicaCount: 0 is less than the minimum of 1"]
    (charts[1] / "values.schema.json").write_text('{"type": "object", "properties": {"a": {"minimum": "one"}}}')
    for _ in range(2):  # a broken schema stays broken when it comes from the cache
        problems = values.validate(charts[1], "charts/b", sets[0])
        assert problems is not None and problems[0].startswith("charts/b/values.schema.json: not a valid JSON schema")
