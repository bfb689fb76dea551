"""The fast Chart.yaml reader (chartship.quickyaml) and the fast version check built on it
(chartship.quickcheck) agree with ruamel.yaml and chartship.version, or decline."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from chartship import config
from chartship.charts import chart
from chartship.hooks import fastpath, quickyaml
from chartship.version import semver, sync, versionfile, versioning
from tests.helpers.charts import write_charts


def full(text: str) -> Any:
    return YAML(typ="rt", pure=True).load(text)


def agrees(fast: Any, slow: Any) -> bool:
    """``fast`` equals ``slow`` wherever it is not OPAQUE; strings must be real strings."""
    if fast is quickyaml.OPAQUE:
        return True
    if isinstance(fast, dict):
        return isinstance(slow, dict) and list(fast) == list(slow) and all(agrees(fast[k], slow[k]) for k in fast)
    if isinstance(fast, list):
        return isinstance(slow, list) and len(fast) == len(slow) and all(map(agrees, fast, slow))
    if fast is None:
        return slow is None
    return isinstance(fast, str) and isinstance(slow, str) and not isinstance(slow, bool) and fast == slow


def outcome(text: str) -> str:
    """'declined', 'agrees', or a description of the disagreement (a bug)."""
    try:
        slow: Any = full(text)
        slow_error = None
    except Exception as exc:  # ruamel's many error types
        slow, slow_error = None, exc
    try:
        fast = quickyaml.load(text)
    except quickyaml.Unsupported:
        return "declined"
    if slow_error is not None:
        return f"accepted YAML that ruamel rejects ({type(slow_error).__name__}): {text!r}"
    return "agrees" if agrees(fast, slow) else f"disagrees: {fast!r} vs {slow!r} for {text!r}"


TRICKY_CHART = """\
# leading comment
apiVersion: v2
name: tricky   # trailing comment
description: |
  Block text with a fake key:
  version: 9.9.9
  # and a fake comment
version: 1.2.3-beta.4+build.5
appVersion: '1.2.3-beta.4+build.5'
keywords: [a, "b, c", 'd''e']
kubeVersion: ">=1.25.0-0"
home: https://example.com/a#b
dependencies:
- name: app
  version: "1.2.3-beta.4+build.5"
  repository: file://../app
  tags:
  - x
  import-values:
    - child: a
      parent: b
- {name: cache, version: 1.2.3-beta.4+build.5, repository: "file://../cache"}
-   name: external
    version: ~1.2.0
    repository: oci://registry.example.com/charts
annotations:
  artifacthub.io/changes: |
    - kind: added
      description: x: y
  category: Database
"""

# Each must be declined or read exactly as ruamel reads it.
CASES = [
    TRICKY_CHART,
    "---\nversion: 1.2.3\n",
    "version: 1.2\n",  # a float, not the string "1.2"
    "version: 1.10\n",
    "version: 1e3\n",
    "version: 0x1F\n",
    "version: 2001-12-14\n",
    "version: true\nappVersion: null\n",
    "version: ~\n",
    "version: &v 1.0.0\nappVersion: *v\n",
    "version: !!str 1.0\n",
    'version: "1.0.0\n  continued"\n',
    "version: 1.0.0\n  continued\n",
    'version: "1.0.0"trailing\n',
    "version: 1.0.0\nversion: 2.0.0\n",
    "version: 1.0.0\r\nname: x\r\n",
    "version:\t1.0.0\n",
    "\ufeffversion: 1.0.0\n",
    '"version": 1.0.0\n',
    "version : 1.0.0\n",
    "? version\n: 1.0.0\n",
    "{version: 1.0.0}\n",
    "version: 1.0.0\n---\nversion: 2.0.0\n",
    "%YAML 1.2\n---\nversion: 1.0.0\n",
    "version: 1.0.0\n  name: x\n",
    "dependencies:\n  - name: a\n   version: 1.0.0\n",
    "dependencies:\n- name: a\n  version: 1.0.0\n -  name: b\n",
    "dependencies: [{name: a, version: 1.0.0}, {name: b}]\n",
    "dependencies: [{name: a, version: 1.0.0}\n",
    "description: >-\n  folded\n\n  text\nversion: 1.0.0\n",
    "description: |2\n    indented\nversion: 1.0.0\n",
    "description: |\n    deeper first\n  shallower\nversion: 1.0.0\n",
    "description: |\n  \n    text\nversion: 1.0.0\n",
    "description: a: b\n",
    "description: - x\n",
    "description: @x\n",
    "description: x#y # real comment\n",
    "description: 'it''s'\n",
    'description: "tab\\there"\n',
    'description: "quote\\" and \\\\ slash"\n',
    "a:\n  b:\n    c: 1.0.0\n  d: [x, [y, z], {k: v}]\n",
    "a: [x, y, ]\nb: {k: v, }\n",
    "a: [x, , y]\n",
    "a: [x y]\n",
    "a: [1{}]\n",
    "a: {1: x}\n",
    "true: 1.0.0\n",
    "1: 1.0.0\n",
    "- a\n- b\n",
    "-\n- b\n",
    "- - a\n  - b\n- c\n",
    "items:\n-\n  - a\n",
    "",
    "# only a comment\n",
    "   \n",
    "key:\n",
    "key:    # comment\n",
    "a: x]\nb: y}\n",
]


@pytest.mark.parametrize("text", CASES)
def test_tricky_text_is_declined_or_read_exactly(text: str) -> None:
    assert outcome(text) in ("declined", "agrees")


def test_the_common_chart_shapes_are_read_not_declined() -> None:
    data = quickyaml.load(TRICKY_CHART)
    assert data["version"] == "1.2.3-beta.4+build.5"
    assert data["appVersion"] == "1.2.3-beta.4+build.5"
    assert data["description"] is quickyaml.OPAQUE
    assert [d["name"] for d in data["dependencies"]] == ["app", "cache", "external"]
    assert data["dependencies"][1]["repository"] == "file://../cache"
    assert data["keywords"] == ["a", "b, c", "d'e"]
    assert quickyaml.load("version: 1.2\n")["version"] is quickyaml.OPAQUE  # never equals "1.2"


def _repository_yaml_texts(project_root: Path) -> list[str]:
    paths = [*sorted(project_root.glob("charts/*/Chart.yaml")), project_root / "invoke.yaml"]
    return [TRICKY_CHART, *(p.read_text() for p in paths)]


def test_the_repository_chart_and_config_files_are_read_not_declined(project_root: Path) -> None:
    for path in [*project_root.glob("charts/*/Chart.yaml"), project_root / "invoke.yaml"]:
        assert agrees(quickyaml.load(path.read_text()), full(path.read_text())), path


PIECES = [" ", "  ", "-", "- ", ":", ": ", "#", " #", "'", '"', "[", "]", "{", "}", ",", "|", ">", "\n", "\n  ",
          "---", "&a", "*a", "!t", "1.2", "1.2.3", "true", "~", "x: y", "\\", "|-", "? "]


@pytest.mark.parametrize("seed", range(4))
def test_mutated_files_are_declined_or_read_exactly(seed: int, project_root: Path) -> None:
    """Random edits of real files (insert indicators, delete characters and lines, re-indent)."""
    rnd = random.Random(seed)
    texts = _repository_yaml_texts(project_root)
    for _ in range(600):
        lines = rnd.choice(texts).split("\n")
        for _edit in range(rnd.randint(1, 3)):
            i = rnd.randrange(len(lines))
            op = rnd.random()
            if op < 0.35:
                j = rnd.randint(0, len(lines[i]))
                lines[i] = lines[i][:j] + rnd.choice(PIECES) + lines[i][j:]
            elif op < 0.55 and lines[i]:
                j = rnd.randrange(len(lines[i]))
                lines[i] = lines[i][:j] + lines[i][j + 1 :]
            elif op < 0.7 and len(lines) > 1:
                del lines[i]
            elif op < 0.85:
                lines.insert(i, rnd.choice(lines))
            else:
                lines[i] = " " * rnd.randint(0, 5) + lines[i].lstrip()
        result = outcome("\n".join(lines))
        assert result in ("declined", "agrees"), result


# ------------------------------------------------------------------ quickcheck vs version.check


def test_quickcheck_defaults_are_configs() -> None:
    assert fastpath.CONFIG_FILE == config.CONFIG_FILE and fastpath.SECTION == config.SECTION
    assert fastpath.VERSION_FILE == versionfile.VERSION_FILE
    assert config.SETTINGS["charts_dir"].default == fastpath.DEFAULT_CHARTS_DIR
    assert config.SETTINGS["app_version"].default == fastpath.DEFAULT_APP_VERSION
    assert fastpath.APP_VERSION_MODES == config.APP_VERSION_MODES
    assert set(fastpath.ENV_SETTINGS) == {config.SETTINGS["charts_dir"].env, config.SETTINGS["app_version"].env}


def full_in_step(root: Path, environ: dict[str, str]) -> bool:
    cfg = config.load(root, environ=environ)
    charts = chart.discover(cfg)
    return not sync.check(cfg, versioning.lockstep_version(cfg, charts), charts)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "invoke.yaml").write_text("chartship:\n  app_version: follow\n"
                                          "  charts:\n    settings:\n      cache:\n        app_version: pinned\n")
    (tmp_path / "version").write_text("0.9.0\n")
    write_charts(tmp_path)
    return tmp_path


def test_quickcheck_proves_an_in_step_repository(repo: Path) -> None:
    assert full_in_step(repo, {})
    assert fastpath.in_step(repo, {}) is True


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


SCENARIOS = {
    "chart version differs": lambda r: edit(r / "charts/app/Chart.yaml", 'version: "0.9.0"', 'version: "0.9.1"'),
    "followed appVersion differs": lambda r: edit(r / "charts/app/Chart.yaml", "appVersion: '0.9.0'", "appVersion: '1'"),
    "pinned appVersion differs": lambda r: edit(r / "charts/cache/Chart.yaml", "appVersion: 7.4.2", "appVersion: 8.0.0"),
    "local dependency differs": lambda r: edit(r / "charts/umbrella/Chart.yaml", "    version: 0.9.0\n", "    version: 0.8.0\n"),
    "flow dependency differs": lambda r: edit(r / "charts/umbrella/Chart.yaml", 'version: "0.9.0", rep', 'version: "0.1.0", rep'),
    "external dependency differs": lambda r: edit(r / "charts/umbrella/Chart.yaml", "~1.2.0", "~2.0.0"),
    "version file differs": lambda r: (r / "version").write_text("0.9.1\n"),
    "version file has two lines": lambda r: (r / "version").write_text("0.9.0\n0.9.0\n"),
    "version file is not semver": lambda r: (r / "version").write_text("v0.9.0\n"),
    "version file missing": lambda r: (r / "version").unlink(),
    "chart version is a float": lambda r: [(r / "version").write_text("1.0.0\n"),
                                           sync.sync(config.load(r, environ={}), semver.parse("1.0.0"),
                                                        chart.discover(config.load(r, environ={}))),
                                           edit(r / "charts/cache/Chart.yaml", "version: 1.0.0", "version: 1.0")],
    "appVersion missing": lambda r: edit(r / "charts/app/Chart.yaml", "appVersion: '0.9.0'\n", ""),
    "charts.only names a missing chart": lambda r: (r / "invoke.yaml").write_text("chartship:\n  charts:\n    only: [nope]\n"),
    "charts.only leaves out a broken chart": lambda r: [
        (r / "invoke.yaml").write_text("chartship:\n  charts:\n    only: [app, cache]\n    settings:\n      cache:\n"
                                       "        app_version: pinned\n"),
        edit(r / "charts/umbrella/Chart.yaml", "version: 0.9.0\nappVersion", "version: 0.1.0\nappVersion")],
    "settings name an unknown chart": lambda r: (r / "invoke.yaml").write_text(
        "chartship:\n  charts:\n    settings:\n      nope:\n        app_version: pinned\n"),
    "app_version pinned everywhere": lambda r: [
        (r / "invoke.yaml").write_text("chartship:\n  app_version: pinned\n"),
        edit(r / "charts/app/Chart.yaml", "appVersion: '0.9.0'", "appVersion: '5.0.0'")],
    "charts dir moved": lambda r: [(r / "charts").rename(r / "helm"),
                                   (r / "invoke.yaml").write_text("chartship:\n  charts:\n    dir: helm\n"
                                                                  "    settings:\n      cache:\n        app_version: pinned\n")],
    "invoke.yaml uses an anchor": lambda r: (r / "invoke.yaml").write_text(
        "chartship:\n  charts:\n    settings:\n      cache: &p\n        app_version: pinned\n      app: *p\n"),
    "per-chart versions of their own": lambda r: [
        (r / "invoke.yaml").write_text("chartship:\n  versioning: per-chart\n"),
        edit(r / "charts/cache/Chart.yaml", "version: 0.9.0", "version: 3.1.4"),
        edit(r / "charts/app/Chart.yaml", 'version: "0.9.0"', 'version: "2.0.0"')],
    "per-chart without a version file": lambda r: [
        (r / "invoke.yaml").write_text("chartship:\n  versioning: per-chart\n"), (r / "version").unlink()],
    "per-chart followed appVersion differs": lambda r: [
        (r / "invoke.yaml").write_text("chartship:\n  versioning: per-chart\n  app_version: follow\n"),
        edit(r / "charts/app/Chart.yaml", 'version: "0.9.0"', 'version: "2.0.0"')],
    "own chart leaves the lockstep set": lambda r: [
        (r / "invoke.yaml").write_text("chartship:\n  app_version: follow\n"
                                          "  charts:\n    settings:\n"
                                       "      cache: {versioning: own, app_version: pinned}\n"),
        edit(r / "charts/cache/Chart.yaml", "version: 0.9.0", "version: 4.0.0")],
    "own chart follows its own version": lambda r: [
        (r / "invoke.yaml").write_text("chartship:\n  app_version: follow\n"
                                          "  charts:\n    settings:\n"
                                       "      cache: {versioning: own}\n"),
        edit(r / "charts/cache/Chart.yaml", "version: 0.9.0\nappVersion: 7.4.2", "version: 4.0.0\nappVersion: 4.0.0")],
    "lockstep chart differs beside an own one": lambda r: [
        (r / "invoke.yaml").write_text("chartship:\n  charts:\n    settings:\n      cache: {versioning: own}\n"),
        edit(r / "charts/app/Chart.yaml", 'version: "0.9.0"', 'version: "2.0.0"')],
    "invalid Chart.yaml": lambda r: (r / "charts/app/Chart.yaml").write_text("version: [1.0.0\n"),
    "dependencies not a list": lambda r: edit(r / "charts/umbrella/Chart.yaml", "dependencies:\n", "dependencies: x\nnot:\n"),
}


# In step, and plain enough that the quick check must prove it (else it would be useless).
QUICK_PROVES = {"external dependency differs", "pinned appVersion differs", "charts.only leaves out a broken chart",
                "app_version pinned everywhere", "charts dir moved", "per-chart versions of their own",
                "per-chart without a version file", "own chart leaves the lockstep set", "own chart follows its own version"}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_quickcheck_never_says_in_step_when_the_full_check_does_not(name: str, repo: Path) -> None:
    SCENARIOS[name](repo)
    try:
        expected = full_in_step(repo, {})
    except Exception:  # the full check refuses: the quick one must not pass
        expected = False
    quick = fastpath.in_step(repo, {})
    assert expected or not quick
    assert quick is (name in QUICK_PROVES)


def test_quickcheck_leaves_environment_settings_to_the_full_check(repo: Path) -> None:
    assert fastpath.in_step(repo, {"CHARTSHIP_APP_VERSION": "pinned"}) is False
    assert fastpath.in_step(repo, {"CHARTSHIP_CHARTS_DIR": "charts"}) is False
    assert fastpath.in_step(repo, {"CHARTSHIP_JOBS": "3"}) is True


def test_quickcheck_agrees_on_this_repository(project_root: Path) -> None:
    assert fastpath.in_step(project_root, {}) is full_in_step(project_root, {})
