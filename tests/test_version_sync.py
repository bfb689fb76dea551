from __future__ import annotations

from pathlib import Path

import pytest

from chartship import config
from chartship.charts import chart
from chartship.errors import ChartError, VersionError
from chartship.version import semver, sync, versionfile
from tests.helpers.charts import write_charts


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "invoke.yaml").write_text("chartship:\n  app_version: follow\n"
                                          "  charts:\n    settings:\n      cache:\n        app_version: pinned\n")
    (tmp_path / "version").write_text("0.9.0\n")
    write_charts(tmp_path)
    return tmp_path


def load(repo: Path) -> tuple[config.Config, list[chart.Chart]]:
    cfg = config.load(repo, environ={})
    return cfg, chart.discover(cfg)


def test_in_step_repo_has_no_mismatch(repo: Path) -> None:
    cfg, charts = load(repo)
    assert sync.check(cfg, semver.parse("0.9.0"), charts) == []
    fields = {(f.chart, f.field) for f in sync.plan(cfg, semver.parse("0.9.0"), charts)}
    assert ("umbrella", "dependencies[0].version") in fields
    assert ("umbrella", "dependencies[1].version") in fields
    assert ("umbrella", "dependencies[2].version") not in fields  # an OCI dependency is not ours
    assert ("cache", "appVersion") not in fields  # pinned


def test_sync_changes_only_the_values(repo: Path) -> None:
    cfg, charts = load(repo)
    before = {c.name: c.chart_yaml.read_text() for c in charts}
    changes = sync.sync(cfg, semver.parse("1.0.0-beta.214"), charts)
    assert len(changes) == 7
    app = (repo / "charts/app/Chart.yaml").read_text()
    assert app == before["app"].replace('"0.9.0"', '"1.0.0-beta.214"').replace("'0.9.0'", "'1.0.0-beta.214'")
    umbrella = (repo / "charts/umbrella/Chart.yaml").read_text()
    expected = (before["umbrella"]
                .replace("version: 0.9.0\n", "version: 1.0.0-beta.214\n")
                .replace('appVersion: "0.9.0"', 'appVersion: "1.0.0-beta.214"')
                .replace('version: "0.9.0", repository', 'version: "1.0.0-beta.214", repository'))
    assert umbrella == expected
    assert "~1.2.0" in umbrella and "# our own subchart" in umbrella
    cache = (repo / "charts/cache/Chart.yaml").read_text()
    assert cache == before["cache"].replace("version: 0.9.0", "version: 1.0.0-beta.214")
    _, charts = load(repo)
    assert sync.check(cfg, semver.parse("1.0.0-beta.214"), charts) == []


def test_check_lists_each_mismatch(repo: Path) -> None:
    cfg, charts = load(repo)
    mismatches = sync.check(cfg, semver.parse("1.0.0"), charts)
    rows = {(f.file, f.field, f.found, f.expected) for f in mismatches}
    assert ("charts/app/Chart.yaml", "version", "0.9.0", "1.0.0") in rows
    assert ("charts/umbrella/Chart.yaml", "dependencies[1].version", "0.9.0", "1.0.0") in rows
    assert len(rows) == 7


def test_missing_app_version_is_added_when_following(repo: Path) -> None:
    path = repo / "charts/app/Chart.yaml"
    path.write_text("apiVersion: v2\nname: app\nversion: 0.9.0\ndescription: x\n")
    cfg, charts = load(repo)
    sync.sync(cfg, semver.parse("0.9.1"), charts)
    assert path.read_text() == 'apiVersion: v2\nname: app\nversion: 0.9.1\nappVersion: "0.9.1"\ndescription: x\n'


def test_crlf_chart_keeps_its_line_endings(repo: Path) -> None:
    path = repo / "charts/cache/Chart.yaml"
    path.write_bytes(b"apiVersion: v2\r\nname: cache\r\nversion: 0.9.0\r\n")
    cfg, charts = load(repo)
    sync.sync(cfg, semver.parse("0.9.1"), charts)
    assert path.read_bytes() == b"apiVersion: v2\r\nname: cache\r\nversion: 0.9.1\r\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: app\nversion: [0.9.0\n", "charts/app/Chart.yaml:3:1: invalid YAML"),
        ("- just\n- a list\n", "charts/app/Chart.yaml: must be a mapping"),
        ("apiVersion: v2\nname: app\n", "charts/app/Chart.yaml: has no 'version' key"),
        ("apiVersion: v2\nname: app\nversion:\n  nested: 1\n", "charts/app/Chart.yaml:3: 'version' must be a string"),
        ("apiVersion: v2\nversion: 1.0.0\ndependencies: oops\n", "'dependencies' must be a list"),
    ],
)
def test_broken_chart_yaml_changes_nothing(repo: Path, text: str, message: str) -> None:
    (repo / "charts/app/Chart.yaml").write_text(text)
    snapshot = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    with pytest.raises(ChartError) as err:
        _cfg, charts = load(repo)
        sync.set_version(config.load(repo, environ={}), semver.parse("2.0.0"), charts)
    assert message in str(err.value)
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == snapshot


def test_unknown_chart_and_bad_settings(repo: Path) -> None:
    cfg = config.load(repo, environ={})
    with pytest.raises(ChartError, match="unknown chart 'nope'; known charts under charts/: app, cache, umbrella"):
        chart.discover(cfg, ["nope"])
    (repo / "invoke.yaml").write_text("chartship:\n  charts:\n    only: [app, ghost]\n")
    with pytest.raises(ChartError, match="charts/ghost/Chart.yaml does not exist"):
        chart.discover(config.load(repo, environ={}))
    (repo / "invoke.yaml").write_text("chartship:\n  charts:\n    settings:\n      ghost: {app_version: pinned}\n")
    with pytest.raises(ChartError, match="chartship.charts.settings.ghost: no chart 'ghost'"):
        chart.discover(config.load(repo, environ={}))


def test_build_order_puts_subcharts_first(repo: Path) -> None:
    _cfg, charts = load(repo)
    order = [c.name for c in chart.build_order(charts)]
    assert order.index("app") < order.index("umbrella")
    assert order.index("cache") < order.index("umbrella")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "version: file not found"),
        (b"", "version: is empty"),
        (b"  \n", "version: is empty"),
        (b"1.0.0\r\n", "CRLF"),
        (b"1.0.0\n1.0.1\n", "exactly one line"),
        (b" 1.0.0\n", "white space"),
        (b"1.0.0 \n", "white space"),
        (b"01.0.0\n", "leading zeros"),
        (b"latest\n", "not a semantic version"),
        (b"\xff\xfe1\n", "not UTF-8"),
    ],
)
def test_version_file_errors(tmp_path: Path, raw: bytes | None, message: str) -> None:
    path = tmp_path / "version"
    if raw is not None:
        path.write_bytes(raw)
    with pytest.raises(VersionError) as err:
        versionfile.read_version(path)
    assert message in str(err.value)


def test_version_file_without_newline_is_fine(tmp_path: Path) -> None:
    (tmp_path / "version").write_text("1.0.0-beta.213")
    assert str(versionfile.read_version(tmp_path / "version")) == "1.0.0-beta.213"
