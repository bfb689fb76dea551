"""Charts shaped like public ones (tests/realcharts_fixture.py) through the real entry points:
vendored dependencies used as they are with no download, file:// outside charts/, values sets
including ci/*-values.yaml, hand-written READMEs left alone. Asserts no chart file changed and
rendered image references are unchanged."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.helpers.pipeline import invoke, one_error_line, snapshot
from tests.helpers.realcharts import write_repo


@pytest.fixture
def repo(tmp_path: Path, helm_bin: Path) -> Path:
    return write_repo(tmp_path / "repo", helm_bin)


def _images(helm_bin: Path, chart: Path) -> list[str]:
    out = subprocess.run([str(helm_bin), "template", "rel", str(chart)], capture_output=True, text=True, check=True).stdout
    return sorted(set(re.findall(r"image: \"?([^\"\s]+)", out)))


def test_lint_uses_vendored_folder_and_archive_offline_and_file_dependency_outside_charts(repo: Path,
                                                                                           helm_bin: Path) -> None:
    before = snapshot(repo)
    images = _images(helm_bin, repo / "charts" / "web")
    assert images == ["example.org/web:v1.8.2"]
    result = invoke(repo, "helm.lint", "--all")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("web", "stack", "strict", "suite"):
        row = next(ln for ln in result.stdout.splitlines() if ln.startswith(f"│ {name} "))
        assert "failed" not in row, row
    assert "could not download" not in result.stdout + result.stderr
    assert snapshot(repo) == before, "lint changed a file of the repository"
    assert _images(helm_bin, repo / "charts" / "web") == images


def test_build_packages_the_vendored_dependencies_and_renders_the_same_images(tmp_path: Path, helm_bin: Path) -> None:
    repo = write_repo(tmp_path / "repo", helm_bin, lockstep="22.1.1")
    before = snapshot(repo)
    result = invoke(repo, "helm.build")
    assert result.returncode == 0, result.stdout + result.stderr
    assert snapshot(repo) == before, "build wrote outside dist/"
    web = next((repo / "dist" / "charts").glob("web-*.tgz"))
    with tarfile.open(web) as tar:
        names = tar.getnames()
    assert "web/charts/common/Chart.yaml" in names, names
    assert any(n.startswith("web/charts/toolkit") for n in names), names
    stack = next((repo / "dist" / "charts").glob("stack-*.tgz"))
    with tarfile.open(stack) as tar:
        assert any(n.startswith("stack/charts/base/Chart.yaml") for n in tar.getnames())
    assert _images(helm_bin, web) == ["example.org/web:v1.8.2"]


def test_a_missing_vendored_dependency_is_one_error_naming_chart_dependency_and_fix(repo: Path) -> None:
    shutil.rmtree(repo / "charts" / "web" / "charts" / "common")
    result = invoke(repo, "helm.lint", "--chart", "web")
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "Traceback" not in text
    line = next(ln for ln in text.splitlines() if "web prepare:" in ln)
    assert "dependency common 2.x.x" in line and "not under charts/web/charts/" in line
    assert "invoke helm.deps --chart web" in line


def test_an_archive_in_the_wrong_version_is_not_used(repo: Path, helm_bin: Path) -> None:
    lock = repo / "charts" / "web" / "Chart.lock"
    lock.write_text(lock.read_text().replace("version: 1.4.1", "version: 1.4.2"))
    result = invoke(repo, "helm.lint", "--chart", "web")
    text = result.stdout + result.stderr
    assert result.returncode != 0, text
    assert "toolkit-1.4.1.tgz is 1.4.1, not Chart.lock's 1.4.2" in text


def test_file_dependency_outside_the_repository_is_refused(repo: Path) -> None:
    chart = repo / "charts" / "stack" / "Chart.yaml"
    chart.write_text(chart.read_text().replace("file://../../shared/base", "file://../../../elsewhere/base"))
    result = invoke(repo, "helm.lint", "--chart", "stack")
    one_error_line(result, "is outside the repository")


def test_a_link_in_a_file_dependency_outside_charts_is_refused_by_the_content_policy(repo: Path) -> None:
    """The folder outside charts/ is copied under the same content policy as the charts folder."""
    helper = repo / "shared" / "base" / "templates" / "_helpers.tpl"
    link = repo / "shared" / "base" / "templates" / "_secret.tpl"
    link.symlink_to("/etc/hostname")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    before = snapshot(repo)
    result = invoke(repo, "helm.lint", "--chart", "stack")
    text = result.stdout + result.stderr
    assert result.returncode != 0, text
    assert "Traceback" not in text
    assert "shared/base/templates/_secret.tpl: a symbolic link to /etc/hostname, which is outside the chart" in text
    assert helper.exists() and snapshot(repo) == before


def test_an_untracked_file_dependency_outside_charts_is_named(repo: Path) -> None:
    subprocess.run(["git", "-C", str(repo), "rm", "-rq", "--cached", "shared"], check=True)
    result = invoke(repo, "helm.lint", "--chart", "stack")
    text = result.stdout + result.stderr
    assert result.returncode != 0, text
    assert "shared/base: not tracked by git (the file:// dependency of stack)" in text


def test_lint_runs_every_values_set_by_name_and_warns_about_an_unmatched_values_file(repo: Path) -> None:
    import json

    before = snapshot(repo)
    result = invoke(repo, "helm.lint", "--chart", "web", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    web = json.loads(result.stdout)["charts"]["web"]
    assert "values sets: defaults, prod, ci/default-values.yaml, ci/scaled-values.yaml" in web["helm-lint"]["messages"]
    warning = next(m for m in web["chart.yaml"]["messages"] if "values-production.yaml" in m)
    assert warning.startswith("warning: charts/web/values-production.yaml matches no environment")
    assert "chartship.environments" in warning
    assert web["chart.yaml"]["status"] == "ok"
    assert snapshot(repo) == before


def test_a_ci_values_file_that_breaks_the_chart_fails_lint_under_its_name(repo: Path) -> None:
    import json

    (repo / "charts" / "web" / "ci" / "scaled-values.yaml").write_text("image: not-a-map\n")
    result = invoke(repo, "helm.lint", "--chart", "web", "--json")
    assert result.returncode != 0
    lines = json.loads(result.stdout)["charts"]["web"]["helm-lint"]["messages"]
    assert any("[ci/scaled-values.yaml (ci/scaled-values.yaml)]" in ln for ln in lines), lines
