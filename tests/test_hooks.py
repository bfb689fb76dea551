"""The hooks' worker functions, called in-process on temp repositories (real git, real or recording helm)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chartship.hooks import bump_required, chart_docs, helm_lint, version_sync, yaml_syntax
from tests.helpers.hooks import copy_lint_calls, git, init_git, lint_calls, recording_helm, write_chart, write_repo


@pytest.fixture
def repo(tmp_path: Path, project_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_repo(tmp_path / "repo", project_root)
    for var in ("CHARTSHIP_CHARTS_DIR", "CHARTSHIP_APP_VERSION", "GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(root)
    return root


def errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [ln for ln in err.splitlines() if ln.startswith("error: ")]


# ------------------------------------------------------------------ version-sync


def test_version_sync_passes_fails_and_fixes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert version_sync.main([]) == 0
    (repo / "version").write_text("0.2.0\n")
    assert version_sync.main([]) == 1
    lines = errors(capsys)
    assert "error: charts/web/Chart.yaml: version is 0.1.0 but the version file says 0.2.0" in lines
    assert "error: charts/worker/Chart.yaml: appVersion is 0.1.0 but the version file says 0.2.0" in lines
    assert len(lines) == 4
    assert version_sync.main(["--fix"]) == 0
    assert "wrote charts/web/Chart.yaml: version 0.1.0 -> 0.2.0" in capsys.readouterr().out
    assert 'version: 0.2.0\nappVersion: "0.2.0"\n' in (repo / "charts/web/Chart.yaml").read_text()
    assert version_sync.main([]) == 0


def test_version_sync_broken_version_file_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "version").write_text("one\n")
    assert version_sync.main([]) == 2
    [line] = errors(capsys)
    assert line.startswith("error: version: 'one' is not a semantic version")


def test_version_sync_in_step_imports_no_yaml_library_and_no_heavy_module(repo: Path) -> None:
    code = "from chartship.hooks.version_sync import main; raise SystemExit(main([]))"
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    imported = {ln.split("|")[-1].strip() for ln in result.stderr.splitlines() if ln.startswith("import time:")}
    assert "chartship.hooks.fastpath" in imported
    heavy = {m for m in imported if m.split(".")[0] in {"ruamel", "boto3", "botocore", "rich", "invoke", "yaml", "jsonschema"}}
    assert heavy == set()
    assert "subprocess" not in imported  # and so starts no helm, no git


def test_version_sync_out_of_step_falls_back_to_the_full_check(repo: Path) -> None:
    (repo / "charts/web/Chart.yaml").write_text((repo / "charts/web/Chart.yaml").read_text().replace("0.1.0", "0.0.9"))
    code = "from chartship.hooks.version_sync import main; raise SystemExit(main([]))"
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 1
    assert "ruamel.yaml" in result.stderr and "charts/web/Chart.yaml: version is 0.0.9" in result.stderr


# ------------------------------------------------------------------ version-bump-required


def touch_template(repo: Path, chart: str = "web") -> None:
    path = repo / "charts" / chart / "templates" / "deployment.yaml"
    path.write_text(path.read_text() + "# changed\n")


def test_bump_required_staged(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init_git(repo)
    assert bump_required.main([]) == 0  # nothing staged
    (repo / "README.md").write_text("# demo, more\n")
    git(repo, "add", "README.md")
    assert bump_required.main([]) == 0  # no chart file staged
    touch_template(repo)
    git(repo, "add", "-A")
    assert bump_required.main([]) == 1
    [line] = errors(capsys)
    assert line.startswith("error: charts/web changed (charts/web/templates/deployment.yaml)")
    assert "version 0.1.0 is the same as 0.1.0 at HEAD" in line
    assert "`invoke version.bump --part patch`" in line
    (repo / "version").write_text("0.1.1-rc.1\n")  # an unstaged bump counts only once staged under pre-commit
    assert bump_required.main([]) == 0
    (repo / "version").write_text("0.1.0-rc.1\n")
    assert bump_required.main([]) == 1
    [line] = errors(capsys)
    assert "version 0.1.0-rc.1 is lower than 0.1.0 at HEAD" in line and "--part prerelease" in line


def test_bump_required_without_commits_or_base_version_passes_with_a_note(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init_git(repo, commit=False)
    git(repo, "add", "-A")
    assert bump_required.main([]) == 0
    assert "no commits yet" in capsys.readouterr().err
    git(repo, "rm", "-q", "--cached", "version")
    assert git(repo, "commit", "-qm", "no version file", "--no-verify").returncode == 0
    touch_template(repo)
    git(repo, "add", "charts")
    assert bump_required.main([]) == 0
    assert "HEAD has no version file" in capsys.readouterr().err


def test_bump_required_ci_mode_with_base(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init_git(repo)
    git(repo, "checkout", "-qb", "feature")
    touch_template(repo, "worker")
    git(repo, "commit", "-qam", "change worker", "--no-verify")
    assert bump_required.main(["--base", "main"]) == 1
    [line] = errors(capsys)
    assert line.startswith("error: charts/worker changed (charts/worker/templates/deployment.yaml)") and "at main;" in line
    (repo / "version").write_text("0.1.1\n")
    git(repo, "commit", "-qam", "bump", "--no-verify")
    assert bump_required.main(["--base", "main"]) == 0
    # main moves ahead to 0.2.0: the branch must now be ahead of main's tip, not of where it started
    git(repo, "checkout", "-q", "main")
    (repo / "version").write_text("0.2.0\n")
    git(repo, "commit", "-qam", "release 0.2.0", "--no-verify")
    git(repo, "checkout", "-q", "feature")
    assert bump_required.main(["--base", "main"]) == 1
    assert "version 0.1.1 is lower than 0.2.0 at main" in errors(capsys)[0]
    # staged mode ignores committed history
    assert bump_required.main([]) == 0


def test_bump_required_unknown_base_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init_git(repo)
    assert bump_required.main(["--base", "nope"]) == 2
    [line] = errors(capsys)
    assert line.startswith("error: --base nope: no such branch, tag or commit here; fetch it")


# ------------------------------------------------------------------ helm-lint


@pytest.fixture
def helm_calls(tmp_path: Path, helm_bin: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    fake, calls = recording_helm(tmp_path, helm_bin)
    monkeypatch.setenv("HELM_BIN", str(fake))
    monkeypatch.setenv("REAL_HELM", str(helm_bin))
    monkeypatch.setenv("HELM_CALLS", str(calls))
    monkeypatch.setenv("CHARTSHIP_HELM_BATCH", "0")  # the calls recorded are the helm CLI's
    return calls


def test_helm_lint_runs_once_per_chart_and_values_stack(repo: Path, helm_calls: Path) -> None:
    files = [f"charts/web/{name}" for name in ("Chart.yaml", "values.yaml", "values-dev.yaml", "templates/deployment.yaml",
                                              "README.md")]
    files += ["charts/worker/values.yaml", "charts/worker/templates/deployment.yaml", "README.md", "version"]
    assert helm_lint.main(files * 3) == 0
    calls = sorted(copy_lint_calls(helm_calls, repo))
    web, worker = str(repo / "charts/web"), str(repo / "charts/worker")
    assert calls == sorted([
        f"lint {web} --strict",
        f"lint {web} --strict --values {web}/values-dev.yaml",  # the dev environment has a file; staging/prod do not
        f"lint {worker} --strict",
    ])


def test_helm_lint_without_chart_files_does_not_start_helm(repo: Path, helm_calls: Path) -> None:
    assert helm_lint.main(["README.md", "version", "invoke.yaml"]) == 0
    assert helm_lint.main([]) == 0
    assert not helm_calls.exists()


def test_helm_lint_reports_each_failing_stack(repo: Path, helm_calls: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "charts/web/values-dev.yaml").write_text("replicaCount: 1\nimage: broken\n")
    assert helm_lint.main(["charts/web/values.yaml"]) == 1
    lines = errors(capsys)
    assert lines and all(ln.startswith("error: charts/web [dev: values-dev.yaml]: ") for ln in lines)
    assert len(lint_calls(helm_calls)) == 2


def test_helm_lint_missing_helm_is_one_line(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HELM_BIN", str(repo / "no-helm"))
    assert helm_lint.main(["charts/web/values.yaml"]) == 2
    [line] = errors(capsys)
    assert "no-helm: no such file" in line


# ------------------------------------------------------------------ yaml-syntax


def test_yaml_syntax_reports_file_and_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert yaml_syntax.main(["charts/web/values.yaml", "charts/web/Chart.yaml", "README.md"]) == 0
    (repo / "charts/web/values.yaml").write_text("replicaCount: 1\nimage:\n  repository: [nginx\n")
    (repo / "charts/worker/values.yaml").write_text("replicaCount: 1   \nimage:  x\n")
    (repo / "charts/worker/templates/broken.yaml").write_text("{{ if }: [\n")  # templates are not YAML
    files = ["charts/web/values.yaml", "charts/worker/values.yaml", "charts/worker/templates/broken.yaml"]
    assert yaml_syntax.main(files) == 1
    lines = errors(capsys)
    assert any(ln.startswith("error: charts/web/values.yaml:4:1: invalid YAML") for ln in lines), lines
    assert any(ln.startswith("error: charts/worker/values.yaml:2:8: [error] too many spaces after colon") for ln in lines), lines
    assert any(ln.startswith("error: charts/worker/values.yaml:1:16: [error] trailing spaces") for ln in lines), lines
    assert not any("broken.yaml" in ln for ln in lines)


def test_yaml_syntax_uses_the_repository_config(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "charts/web/values.yaml").write_text("replicaCount: 1   \n")
    assert yaml_syntax.main(["charts/web/values.yaml"]) == 1
    (repo / ".yamllint.yaml").write_text("extends: default\nrules:\n  trailing-spaces: {level: warning}\n")
    capsys.readouterr()
    assert yaml_syntax.main(["charts/web/values.yaml"]) == 0
    assert "warning: charts/web/values.yaml:1:16: [warning] trailing spaces" in capsys.readouterr().err


# ------------------------------------------------------------------ chart-docs


def test_chart_docs_names_stale_readmes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert chart_docs.main(["charts/web/values.yaml", "charts/worker/Chart.yaml"]) == 0
    (repo / "charts/web/values.yaml").write_text((repo / "charts/web/values.yaml").read_text() + "# -- Extra\nextra: 1\n")
    assert chart_docs.main(["charts/web/values.yaml", "README.md"]) == 1
    assert errors(capsys) == ["error: charts/web/README.md is out of date with its chart; run `invoke helm.docs` and stage it"]
    assert chart_docs.main(["charts/worker/values.yaml"]) == 0  # only the charts of the passed files


def test_files_of_a_chart_with_a_similar_name_do_not_count(repo: Path, helm_calls: Path) -> None:
    write_chart(repo, "web2")
    assert helm_lint.main(["charts/web2/values.yaml"]) == 0
    assert copy_lint_calls(helm_calls, repo) == [f"lint {repo / 'charts/web2'} --strict"]
