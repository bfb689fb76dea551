"""Every version/config/tools task through the real `invoke`, in a temp copy of the repo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import run_invoke
from tests.helpers.charts import write_charts

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def project(tmp_path: Path, project_root: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("tasks.py", "tag-templates"):
        src = project_root / name
        dest = root / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest)
        else:
            shutil.copy2(src, dest)
    (root / "invoke.yaml").write_text(
        "# project config\nchartship:\n  app_version: follow\n"
        "  charts:\n    settings:\n      cache:\n        app_version: pinned\n")
    (root / "version").write_text("0.9.0\n")
    write_charts(root)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "feature/login-page", str(root)], check=True)
    subprocess.run([*git, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-qm", "init"], check=True)
    return root


@pytest.fixture
def inv(project: Path) -> Run:
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "GITHUB_", "CI_"))}
        return run_invoke(project, *args, env={**clean, **(env or {})})
    return run


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


def assert_clean_failure(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]


def test_list_shows_namespaced_tasks_with_help(inv: Run) -> None:
    out = inv("--list").stdout
    for name in ("version.show", "version.set", "version.bump", "version.sync", "version.check",
                 "tools.install", "tools.doctor", "config.show"):
        assert name in out
    assert "Bump the version" in out


def test_show_plain_json_and_dev(inv: Run) -> None:
    assert inv("version.show").stdout == "0.9.0\n"
    data = json.loads(inv("version.show", "--json").stdout)
    assert data["version"] == "0.9.0" and data["tags"] == {"version": "0.9.0", "latest": "latest"}
    assert inv("version.show", "--dev", "--branch", "feature/x", "--run", "42").stdout == "0.9.0-feature-x.42\n"
    # branch from git, run from the CI variable
    assert inv("version.show", "--dev", env={"GITHUB_RUN_NUMBER": "7"}).stdout == "0.9.0-feature-login-page.7\n"
    assert_clean_failure(inv("version.show", "--dev", "--branch", "x"), "--dev needs a run number")
    assert_clean_failure(inv("version.show", "--dev", "--branch", "x", "--run", "4a"), "--run '4a'")


def test_set_then_check(inv: Run, project: Path) -> None:
    result = inv("version.set", "1.4.0")
    assert result.returncode == 0, result.stderr
    assert "set version 0.9.0 -> 1.4.0" in result.stdout
    assert (project / "version").read_text() == "1.4.0\n"
    assert "version: 1.4.0" in (project / "charts/umbrella/Chart.yaml").read_text()
    assert "appVersion: 7.4.2" in (project / "charts/cache/Chart.yaml").read_text()
    ok = inv("version.check")
    assert ok.returncode == 0 and "ok: version 1.4.0, 3 chart(s) in step" in ok.stdout
    assert inv("version.check", "--tag", "v1.4.0").returncode == 0
    assert inv("version.check", "--tag", "refs/tags/v1.4.0").returncode == 0
    bad = inv("version.check", "--tag", "v1.4.1")
    assert bad.returncode == 1 and "tag v1.4.1 does not match the version file (1.4.0)" in bad.stderr


def test_bump_prerelease_syncs_charts(inv: Run, project: Path) -> None:
    (project / "version").write_text("1.0.0-beta.213\n")
    assert inv("version.sync").returncode == 0
    before = (project / "charts/app/Chart.yaml").read_text()
    dry = inv("version.bump", "--part", "prerelease", "--dry-run")
    assert "would set version 1.0.0-beta.213 -> 1.0.0-beta.214" in dry.stdout
    assert (project / "version").read_text() == "1.0.0-beta.213\n"
    assert inv("version.bump", "--part", "prerelease").returncode == 0
    assert (project / "version").read_text() == "1.0.0-beta.214\n"
    after = (project / "charts/app/Chart.yaml").read_text()
    assert after == before.replace("1.0.0-beta.213", "1.0.0-beta.214")
    assert "# kept in step with the version file" in after
    assert inv("version.bump", "--part", "minor").returncode == 0
    assert (project / "version").read_text() == "1.1.0\n"


def test_check_reports_file_field_found_expected(inv: Run, project: Path) -> None:
    (project / "version").write_text("2.0.0\n")
    result = inv("version.check", "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert {"chart": "umbrella", "file": "charts/umbrella/Chart.yaml", "field": "dependencies[0].version",
            "found": "0.9.0", "expected": "2.0.0"} in data["mismatches"]
    table = inv("version.check")
    assert table.returncode == 1
    assert "charts/app/Chart.yaml" in table.stdout and "appVersion" in table.stdout and "invoke version.sync" in table.stderr
    only = json.loads(inv("version.check", "--chart", "cache", "--json").stdout)
    assert [m["field"] for m in only["mismatches"]] == ["version"]
    synced = json.loads(inv("version.sync", "--json").stdout)
    assert len(synced["changes"]) == 7
    assert inv("version.check").returncode == 0
    assert inv("version.sync").stdout == "all charts already at 2.0.0\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "version: file not found"),
        (b"", "version: is empty"),
        (b"1.0.0 \n", "white space"),
        (b"1.0.0\r\n", "CRLF"),
        (b"1.0\n", "MAJOR.MINOR.PATCH"),
        (b"1.01.0\n", "leading zeros"),
    ],
)
@pytest.mark.parametrize("task", [("version.sync",), ("version.check",), ("version.bump", "--part", "patch"),
                                  ("version.show",)])
def test_bad_version_file(inv: Run, project: Path, content: bytes | None, message: str, task: tuple[str, ...]) -> None:
    if content is None:
        (project / "version").unlink()
    else:
        (project / "version").write_bytes(content)
    before = snapshot(project)
    assert_clean_failure(inv(*task), message)
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("chart_yaml", "message"),
    [
        (None, "charts/app/Chart.yaml does not exist"),
        ("name: [app\n", "charts/app/Chart.yaml:2:1: invalid YAML"),
        ("just a string\n", "charts/app/Chart.yaml: must be a mapping"),
        ("apiVersion: v2\nname: app\n", "charts/app/Chart.yaml: has no 'version' key"),
    ],
)
def test_bad_chart_yaml_changes_nothing(inv: Run, project: Path, chart_yaml: str | None, message: str) -> None:
    path = project / "charts/app/Chart.yaml"
    if chart_yaml is None:
        path.unlink()
        (project / "invoke.yaml").write_text("chartship:\n  charts:\n    only: [app, umbrella]\n")
    else:
        path.write_text(chart_yaml)
    before = snapshot(project)
    for task in (("version.set", "3.0.0"), ("version.sync",), ("version.check",)):
        assert_clean_failure(inv(*task), message)
    assert snapshot(project) == before


def test_unknown_chart(inv: Run) -> None:
    assert_clean_failure(inv("version.check", "--chart", "nope"), "unknown chart 'nope'; known charts under charts/")
    assert_clean_failure(inv("version.sync", "--chart", "nope"), "unknown chart 'nope'")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("chartship:\n  package_name: '{chart}-{TAG}.tgz'\n",
         "invoke.yaml:2: chartship.package_name: unknown placeholder {chart}"),
        ("chartship:\n  targets:\n    x: {url: 'oci://h', auth: sso}\n", "chartship.targets.x.auth: expected one of"),
        ("chartship:\n  targets: [oops\n", "invoke.yaml:3:1: invalid YAML"),
        ("chartship:\n  chart:\n    dir: x\n", "invoke.yaml:2: chartship.chart: unknown key"),
    ],
)
def test_bad_config(inv: Run, project: Path, text: str, message: str) -> None:
    (project / "invoke.yaml").write_text(text)
    before = snapshot(project)
    assert_clean_failure(inv("version.sync"), message)
    assert snapshot(project) == before


def test_bad_flag_and_bad_part(inv: Run) -> None:
    result = inv("version.bump", "--part", "huge")
    assert_clean_failure(result, "--part 'huge': expected one of major, minor, patch, prerelease")
    result = inv("version.show", "--colour")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert_clean_failure(inv("version.set", "v2.0.0"), "drop the leading 'v'")


def test_config_show_reports_origins(inv: Run) -> None:
    data = json.loads(inv("config.show", "--json", env={"CHARTSHIP_BASE_BRANCH": "develop"}).stdout)
    assert data["settings"]["base_branch"] == {"value": "develop", "from": "env CHARTSHIP_BASE_BRANCH"}
    assert data["settings"]["package_name"]["from"] == "default"
    assert data["charts"]["cache"]["app_version"] == "pinned"
    assert data["targets"]["local"]["url"] == "oci://127.0.0.1:5000/charts"


def test_helm_too_old_or_missing_is_refused(inv: Run, tmp_path: Path) -> None:
    old = tmp_path / "old-helm"
    old.write_text("#!/bin/sh\necho v3.7.2\n")
    old.chmod(0o755)
    doctor = inv("tools.doctor", "--json", env={"HELM_BIN": str(old)})
    assert doctor.returncode == 1
    rows = {r["tool"]: r for r in json.loads(doctor.stdout)}
    assert rows["helm"]["status"] == "unusable" and "older than 3.8" in rows["helm"]["note"]
    missing = inv("tools.doctor", env={"HELM_BIN": str(tmp_path / "nope")})
    assert missing.returncode == 1 and "missing" in missing.stdout


def test_bump_keeps_generated_readmes_fresh_and_leaves_hand_written_ones(inv: Run, project: Path) -> None:
    assert inv("helm.docs", "--chart", "app", "--chart", "cache").returncode == 0
    hand = project / "charts/umbrella/README.md"
    hand.write_text("# Umbrella\n\nWritten by hand, version 0.9.0.\n")
    result = inv("version.bump", "--part", "patch")
    assert result.returncode == 0, result.stderr
    assert "wrote charts/app/README.md" in result.stdout and "umbrella/README.md" not in result.stdout
    assert "0.9.1" in (project / "charts/app/README.md").read_text()
    assert hand.read_text() == "# Umbrella\n\nWritten by hand, version 0.9.0.\n"
    assert inv("helm.docs", "--check", "--chart", "app", "--chart", "cache").returncode == 0
    synced = inv("version.set", "1.0.0", "--dry-run")
    assert "would write charts/app/README.md" in synced.stdout
    assert "0.9.1" in (project / "charts/app/README.md").read_text()
