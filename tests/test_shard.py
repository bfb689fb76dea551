"""--shard I/N: the shards of every chart set are disjoint, complete, keep umbrellas with their file://
subcharts and do not depend on the order charts are listed in; bad values are one error line; the
real tasks (helm.lint, helm.validate, helm.test, cluster.test) run exactly their shard."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from chartship.charts import shard
from chartship.charts.chart import Chart, read_chart
from chartship.errors import ConfigError
from tests.helpers.pipeline import commit, invoke, new_repo, one_error_line, scaffold, umbrella


def write(base: Path, name: str, subs: tuple[str, ...] = ()) -> None:
    d = base / name
    d.mkdir(parents=True)
    deps = "".join(f"  - name: {s}\n    version: 0.1.0\n    repository: file://../{s}\n" for s in subs)
    (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n"
                                  + (f"dependencies:\n{deps}" if deps else ""))


# name -> its file:// subcharts; sets with no umbrella, one, nested ones and a subchart shared by two umbrellas
SETS: dict[str, dict[str, tuple[str, ...]]] = {
    "one": {"solo": ()},
    "flat-7": {f"c{i}": () for i in range(7)},
    "flat-40": {f"chart-{i:02d}": () for i in range(40)},
    "umbrella": {"core": (), "redis": (), "platform": ("core", "redis"), **{f"app{i}": () for i in range(5)}},
    "nested": {"a": (), "b": ("a",), "top": ("b", "x"), "x": (), "lone1": (), "lone2": (), "lone3": ()},
    "shared": {"lib": (), "u1": ("lib",), "u2": ("lib", "extra"), "extra": (), **{f"s{i}": () for i in range(9)}},
}


def chart_set(tmp_path: Path, name: str) -> list[Chart]:
    base = tmp_path / name
    for chart, subs in SETS[name].items():
        write(base, chart, subs)
    return [read_chart(base / chart) for chart in sorted(SETS[name])]


def connected(name: str) -> list[set[str]]:
    """The groups that must stay together, worked out independently of shard.units."""
    groups: list[set[str]] = []
    for chart, subs in SETS[name].items():
        group = {chart, *subs}
        for g in [g for g in groups if g & group]:
            groups.remove(g)
            group |= g
        groups.append(group)
    return groups


@pytest.mark.parametrize("set_name", sorted(SETS))
@pytest.mark.parametrize("total", [1, 2, 3, 4, 7])
def test_shards_are_disjoint_complete_and_keep_umbrellas_whole(tmp_path: Path, set_name: str, total: int) -> None:
    charts = chart_set(tmp_path, set_name)
    names = [c.name for c in charts]
    parts = shard.assign(charts, names, total)
    assert len(parts) == total
    seen = [n for part in parts for n in part]
    assert sorted(seen) == sorted(names), "every chart in exactly one shard"
    assert len(seen) == len(set(seen))
    for group in connected(set_name):
        holders = [i for i, part in enumerate(parts) if group & set(part)]
        assert len(holders) == 1, f"{sorted(group)} split over shards {holders}"
    sizes = [len(p) for p in parts]
    largest_unit = max(len(g) for g in connected(set_name))
    assert max(sizes) - min(sizes) <= largest_unit, sizes
    # pick() agrees with assign() shard by shard
    assert [shard.pick(charts, names, shard.Shard(i + 1, total)) for i in range(total)] == parts


@pytest.mark.parametrize("set_name", ["flat-40", "umbrella", "shared"])
def test_the_partition_does_not_depend_on_the_listing_order(tmp_path: Path, set_name: str) -> None:
    charts = chart_set(tmp_path, set_name)
    names = [c.name for c in charts]
    expected = [set(p) for p in shard.assign(charts, names, 3)]
    rng = random.Random(16)
    for _ in range(5):
        shuffled_charts = rng.sample(charts, len(charts))
        shuffled_names = rng.sample(names, len(names))
        assert [set(p) for p in shard.assign(shuffled_charts, shuffled_names, 3)] == expected


def test_a_selection_is_split_and_a_subchart_follows_its_selected_umbrella(tmp_path: Path) -> None:
    charts = chart_set(tmp_path, "umbrella")
    selected = ["platform", "redis", "app1", "app2"]
    parts = shard.assign(charts, selected, 2)
    assert sorted(n for p in parts for n in p) == sorted(selected)
    assert any({"platform", "redis"} <= set(p) for p in parts)
    assert "core" not in {n for p in parts for n in p}, "a chart outside the selection is never added"


def test_more_shards_than_charts_leaves_empty_shards(tmp_path: Path) -> None:
    charts = chart_set(tmp_path, "one")
    assert shard.assign(charts, ["solo"], 3) == [["solo"], [], []]


@pytest.mark.parametrize(("text", "expected"), [("", None), ("1/1", shard.Shard(1, 1)), ("2/3", shard.Shard(2, 3)),
                                                (" 1 / 2 ", shard.Shard(1, 2))])
def test_parse_accepts_i_of_n(text: str, expected: shard.Shard | None) -> None:
    assert shard.parse(text) == expected


@pytest.mark.parametrize(("text", "message"), [("3/2", "I must be between 1 and N"), ("0/2", "I must be between 1 and N"),
                                               ("1/0", "I must be between 1 and N"), ("a/b", "expected I/N"),
                                               ("1-2", "expected I/N"), ("-1/2", "expected I/N")])
def test_parse_refuses_bad_values_in_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        shard.parse(text)
    assert "\n" not in str(err.value)
    assert "--shard" in str(err.value)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, helm_bin: Path) -> Path:
    root = new_repo(tmp_path_factory.mktemp("shard") / "repo")
    for name in ("alpha", "beta", "gamma", "delta"):
        scaffold(root, helm_bin, name)
    umbrella(root, "suite", ["alpha", "beta"])
    commit(root, "init")
    return root


def lint_charts(root: Path, *args: str) -> set[str]:
    result = invoke(root, "helm.lint", "--all", "--json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True
    return set(data["charts"])


@pytest.mark.needs_helm
def test_helm_lint_shards_cover_every_chart_once(repo: Path) -> None:
    everything = lint_charts(repo)
    assert everything == {"alpha", "beta", "gamma", "delta", "suite"}
    first, second = lint_charts(repo, "--shard", "1/2"), lint_charts(repo, "--shard", "2/2")
    assert first | second == everything
    assert not first & second
    assert any({"suite", "alpha", "beta"} <= part for part in (first, second))


@pytest.mark.needs_helm
def test_helm_validate_and_helm_test_run_their_shard(repo: Path) -> None:
    rendered = []
    for i in (1, 2):
        result = invoke(repo, "helm.validate", "--json", "--shard", f"{i}/2")
        # helm create scaffolds have security findings (exit 1); every render is reported either way
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stdout + result.stderr
        rendered.append({r["chart"] for r in json.loads(result.stdout)["renders"]})
    assert rendered[0] | rendered[1] == {"alpha", "beta", "gamma", "delta", "suite"}
    assert not rendered[0] & rendered[1]
    tested = []
    for i in (1, 2):
        result = invoke(repo, "helm.test", "--json", "--shard", f"{i}/2")
        assert result.returncode == 0, result.stdout + result.stderr
        tested.append({x["chart"] for x in json.loads(result.stdout)["cases"]})
    assert tested == rendered, "the same split for every task"


@pytest.mark.parametrize(("task", "value", "message"), [
    ("helm.lint", "3/2", "--shard 3/2: I must be between 1 and N"),
    ("helm.validate", "a/b", "--shard 'a/b': expected I/N"),
    ("helm.test", "0/1", "--shard 0/1: I must be between 1 and N"),
    ("cluster.test", "a/b", "--shard 'a/b': expected I/N"),
])
def test_a_bad_shard_is_one_error_line(repo: Path, task: str, value: str, message: str) -> None:
    extra = ["--all"] if task == "helm.lint" else []
    one_error_line(invoke(repo, task, *extra, "--shard", value), message)


def test_cluster_test_on_an_empty_shard_starts_no_cluster(repo: Path) -> None:
    result = invoke(repo, "cluster.test", "--chart", "gamma", "--shard", "2/2", "--provider", "kwok", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["steps"] == []
    assert "shard 2/2: no chart in this shard (0 of 1 charts)" in result.stderr


def test_the_pull_request_workflows_split_the_charts_over_two_shards(project_root: Path) -> None:
    import yaml

    from chartship.adopt import render

    pr = yaml.safe_load((project_root / ".github/workflows/pr.yml").read_text())
    init_pr = yaml.safe_load(render.template("workflows/pr.yml.tmpl"))
    for job, text in ((pr["jobs"]["template"], "-- --shard \"${{ matrix.shard }}/2\""),
                      (pr["jobs"]["kind_test"], "--shard \"${{ matrix.shard }}/2\""),
                      (init_pr["jobs"]["charts"], "nox -s lint template -- --shard \"${{ matrix.shard }}/2\"")):
        assert job["strategy"]["matrix"]["shard"] == ["1", "2"]
        runs = " ".join(str(s.get("run", "")) for s in job["steps"])
        assert text in runs, runs
    # the shard reaches helm.lint in the lint session chartship init writes (and this repository's)
    assert '"helm.lint", "--all", *session.posargs' in render.template("noxfile.py.tmpl")
