from __future__ import annotations

from pathlib import Path

import pytest

from chartship import config
from chartship.errors import ConfigError


def write(root: Path, text: str) -> Path:
    (root / "invoke.yaml").write_text(text)
    return root


def test_defaults_without_file(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, environ={})
    assert cfg.charts_dir == "charts"
    assert cfg.package_name == "{name}-{TAG}.tgz"
    assert cfg.default_target == "local"
    assert cfg.target().url == "oci://127.0.0.1:5000/charts"
    assert cfg.target().plain_http is True
    assert dict(cfg.environments) == {"dev": ("values-dev.yaml",), "staging": ("values-staging.yaml",),
                                      "prod": ("values-prod.yaml",)}
    assert set(cfg.origins.values()) == {"default"}


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    write(tmp_path, "chartship:\n  base_branch: develop\n  jobs: 3\n")
    assert config.load(tmp_path, environ={}).base_branch == "develop"
    assert config.load(tmp_path, environ={}).origins["base_branch"] == "invoke.yaml"
    env = {"CHARTSHIP_BASE_BRANCH": "trunk", "CHARTSHIP_JOBS": "5"}
    cfg = config.load(tmp_path, environ=env)
    assert (cfg.base_branch, cfg.jobs) == ("trunk", 5)
    assert cfg.origins["base_branch"] == "env CHARTSHIP_BASE_BRANCH"
    cfg = config.load(tmp_path, flags={"jobs": 7, "base_branch": None}, environ=env)
    assert (cfg.jobs, cfg.base_branch, cfg.origins["jobs"]) == (7, "trunk", "flag")


def test_seed_package_name_per_chart(tmp_path: Path) -> None:
    write(tmp_path, """chartship:
  app_version: follow
  charts:
    settings:
      openmeter:
        package_name: scispace-openmeter-helm-{TAG}.tgz
        app_version: pinned
""")
    cfg = config.load(tmp_path, environ={})
    assert cfg.chart_settings("openmeter").package_name == "scispace-openmeter-helm-{TAG}.tgz"
    assert cfg.chart_settings("openmeter").app_version == "pinned"
    assert cfg.chart_settings("other").package_name == "{name}-{TAG}.tgz"
    assert cfg.chart_settings("other").app_version == "follow"


def test_defaults_rewrite_no_app_version_and_keep_lockstep(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, environ={})
    assert (cfg.app_version, cfg.versioning) == ("pinned", "lockstep")
    assert cfg.chart_settings("any") == config.ChartSettings("pinned", "{name}-{TAG}.tgz", versioning="lockstep")
    assert (cfg.origins["app_version"], cfg.origins["versioning"]) == ("default", "default")


def test_versioning_modes(tmp_path: Path) -> None:
    write(tmp_path, "chartship:\n  charts:\n    settings:\n      vendored: {versioning: own, app_version: follow}\n")
    cfg = config.load(tmp_path, environ={})
    assert cfg.chart_settings("vendored").versioning == "own"
    assert cfg.chart_settings("vendored").app_version == "follow"
    assert cfg.chart_settings("ours").versioning == "lockstep"
    write(tmp_path, "chartship:\n  versioning: per-chart\n")
    cfg = config.load(tmp_path, environ={})
    assert (cfg.versioning, cfg.origins["versioning"]) == ("per-chart", "invoke.yaml")
    assert cfg.chart_settings("ours").versioning == "own"
    write(tmp_path, "chartship:\n  versioning: independent\n")
    with pytest.raises(ConfigError, match=r"^invoke.yaml:2: chartship.versioning: expected one of lockstep, per-chart, "
                                          r"got 'independent'$"):
        config.load(tmp_path, environ={})
    write(tmp_path, "chartship:\n  charts:\n    settings:\n      x:\n        versioning: mine\n")
    with pytest.raises(ConfigError, match=r"^invoke.yaml:5: chartship.charts.settings.x.versioning: expected own"):
        config.load(tmp_path, environ={})


def test_targets_and_environments(tmp_path: Path) -> None:
    write(tmp_path, """chartship:
  default_target: ecr
  targets:
    ecr:
      url: oci://123.dkr.ecr.us-west-2.amazonaws.com/scispace/
      auth: ecr
      region: us-west-2
      create_repository: true
  environments:
    prod: [values-prod.yaml, values-prod-eu.yaml]
""")
    cfg = config.load(tmp_path, environ={})
    t = cfg.target()
    assert (t.name, t.url, t.auth, t.region, t.create_repository, t.plain_http) == (
        "ecr", "oci://123.dkr.ecr.us-west-2.amazonaws.com/scispace", "ecr", "us-west-2", True, False)
    assert t.host == "123.dkr.ecr.us-west-2.amazonaws.com"
    assert cfg.environments == {"prod": ("values-prod.yaml", "values-prod-eu.yaml")}
    with pytest.raises(ConfigError, match="target 'nope' is not defined"):
        cfg.target("nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("chartship:\n  targts: {}\n", "invoke.yaml:2: chartship.targts: unknown key"),
        ("chartship:\n  targets:\n    x:\n      url: oci://h/p\n      auth: token\n",
         "invoke.yaml:5: chartship.targets.x.auth: expected one of none, basic, ecr, got 'token'"),
        ("chartship:\n  targets:\n    x:\n      url: https://h/p\n", "chartship.targets.x.url: 'https://h/p' must look like oci://"),
        ("chartship:\n  targets:\n    x:\n      auth: none\n", "chartship.targets.x.url: missing"),
        ("chartship:\n  targets:\n    x:\n      url: oci://h/p\n      plain_http: 'yes'\n", "plain_http: expected true or false"),
        ("chartship:\n  package_name: '{name}-{TAGS}.tgz'\n", "unknown placeholder {TAGS}"),
        ("chartship:\n  package_name: '{name}.tgz'\n", "needs the {TAG} placeholder"),
        ("chartship:\n  package_name: '{name}-{TAG}.zip'\n", "ending in .tgz"),
        ("chartship:\n  app_version: always\n", "invoke.yaml:2: chartship.app_version: expected one of follow, pinned"),
        ("chartship:\n  jobs: 0\n", "chartship.jobs: expected a whole number >= 1"),
        ("chartship:\n  default_target: prod\n", "default target 'prod' is not defined"),
        ("chartship:\n  environments:\n    dev: []\n", "chartship.environments.dev: expected a list of values files"),
        ("chartship:\n  environments:\n    dev: [../x.yaml]\n", "must be a path inside the chart folder"),
        ("chartship:\n  charts:\n    dir: /abs\n", "chartship.charts.dir: '/abs' must be a folder inside"),
        ("chartship: [a, b\n", "invoke.yaml:2:1: invalid YAML"),
        ("chartship: 3\n", "chartship: expected a mapping"),
        ("- a\n", "top level must be a mapping"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        config.load(tmp_path, environ={})
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_env_errors_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CHARTSHIP_JOBS: expected a whole number"):
        config.load(tmp_path, environ={"CHARTSHIP_JOBS": "many"})
    with pytest.raises(ConfigError, match="--jobs: expected a whole number"):
        config.load(tmp_path, flags={"jobs": -1}, environ={})


def test_latest_prereleases_from_file_or_environment(tmp_path: Path) -> None:
    assert config.load(tmp_path, environ={}).latest_prereleases is False
    write(tmp_path, "chartship:\n  latest_prereleases: true\n")
    assert config.load(tmp_path, environ={}).latest_prereleases is True
    assert config.load(tmp_path, environ={"CHARTSHIP_LATEST_PRERELEASES": "0"}).latest_prereleases is False
    with pytest.raises(ConfigError, match="CHARTSHIP_LATEST_PRERELEASES: expected 1/0"):
        config.load(tmp_path, environ={"CHARTSHIP_LATEST_PRERELEASES": "maybe"})
    write(tmp_path, "chartship:\n  latest_prereleases: sometimes\n")
    with pytest.raises(ConfigError, match=r"invoke.yaml:2: chartship.latest_prereleases: expected 1/0"):
        config.load(tmp_path, environ={})
