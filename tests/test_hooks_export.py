"""The hooks used from another repository: `repo: <this repository>` with the
.pre-commit-hooks.yaml manifest, so pre-commit pip-installs chartship (language: python).

Building that environment downloads chartship's dependencies from PyPI (about 60 s the
first time; CHARTSHIP_SKIP_EXPORT_TEST=1 skips the test, e.g. offline). The exported tree
is committed with fixed dates, so the same code gives the same commit and pre-commit
reuses the environment it built (kept under .cache/hooks-export/).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.hooks import GIT, clean_env, git, init_git, lint_calls, recording_helm, write_repo

PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")
EXPORTED = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "chartship")
HOOK_IDS = ("version-sync", "version-bump-required", "helm-lint", "yaml-syntax", "chart-docs")
FIXED_DATES = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00+0000", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+0000"}


def export(project_root: Path) -> tuple[Path, str]:
    """This repository's package as a git repository of its own; (path, commit)."""
    src = project_root / ".cache" / "hooks-export" / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for name in EXPORTED:
        path = project_root / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    subprocess.run(["git", "init", "-q", "-b", "main", str(src)], check=True)
    env = clean_env(**FIXED_DATES)
    git(src, "add", "-A", env=env)
    assert git(src, "commit", "-qm", "chartship", env=env).returncode == 0
    return src, git(src, "rev-parse", "HEAD").stdout.strip()


@pytest.mark.skipif(os.environ.get("CHARTSHIP_SKIP_EXPORT_TEST") == "1",
                    reason="CHARTSHIP_SKIP_EXPORT_TEST=1: pre-commit would pip-install chartship's dependencies from PyPI "
                           "(about 60 s when its environment is not cached)")
@pytest.mark.one_helm  # the export (manifest, pre-commit's own env); the hooks under both helms: test_hooks_commit
def test_hooks_work_from_another_repository(tmp_path: Path, project_root: Path, helm_bin: Path) -> None:
    src, rev = export(project_root)
    root = write_repo(tmp_path / "other", project_root)
    hooks = "".join(f"      - id: {hook}\n" for hook in HOOK_IDS)
    (root / ".pre-commit-config.yaml").write_text(f"repos:\n  - repo: {src}\n    rev: {rev}\n    hooks:\n{hooks}")
    init_git(root)
    fake, calls = recording_helm(tmp_path, helm_bin)
    home = project_root / ".cache" / "hooks-export" / "pre-commit"
    built_for = home / "chartship-rev"
    if not built_for.is_file() or built_for.read_text() != rev:  # keep only the environment of this code
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        built_for.write_text(rev)
    env = clean_env(PRE_COMMIT_HOME=str(home), HELM_BIN=str(fake), REAL_HELM=str(helm_bin), HELM_CALLS=str(calls),
                    CHARTSHIP_HELM_BATCH="0")  # the calls recorded are the helm CLI's

    ran = subprocess.run([PRE_COMMIT, "run", "--all-files"], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert len(re.findall(r"\.+Passed", ran.stdout)) == len(HOOK_IDS), ran.stdout
    assert len(lint_calls(calls)) == 3
    assert not (root / ".venv").exists()  # the scripts came from pre-commit's own environment
    assert list(home.glob("repo*/py_env-*/bin/chartship-version-sync"))

    assert subprocess.run([PRE_COMMIT, "install"], cwd=root, env=env, capture_output=True).returncode == 0
    path = root / "charts/worker/templates/deployment.yaml"
    path.write_text(path.read_text() + "# changed\n")
    git(root, "add", "-A")
    commit = subprocess.run([*GIT, "commit", "-m", "change"], cwd=root, env=env, capture_output=True, text=True)
    assert commit.returncode != 0
    assert "error: charts/worker changed (charts/worker/templates/deployment.yaml)" in commit.stdout + commit.stderr
