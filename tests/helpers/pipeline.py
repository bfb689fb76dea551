"""Temp git repositories with real charts for the build-pipeline tests (helm.deps/lint/build/test)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from tests.helpers import ROOT, run_invoke

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
       "-c", "commit.gpgsign=false"]
REPO_CHARTS = ("core-pipeline", "redis", "platform")

SCHEMA = """{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "replicaCount": {"type": "integer", "minimum": 1},
    "image": {"type": "object", "properties": {"tag": {"type": "string"}}}
  }
}
"""


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([*GIT, "-C", str(root), *args], capture_output=True, text=True, check=True,
                            env={**os.environ, **(env or {})})
    return result.stdout.strip()


def helm(helm_bin: Path, *args: str, cwd: Path | None = None) -> str:
    return subprocess.run([str(helm_bin), *args], capture_output=True, text=True, check=True, cwd=cwd).stdout


def new_repo(root: Path, version: str = "0.1.0", config: str = "") -> Path:
    """An empty chartship project (tasks.py, version, invoke.yaml) as a git repo on branch main."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "tasks.py", root / "tasks.py")
    shutil.copytree(ROOT / "tag-templates", root / "tag-templates")
    (root / "version").write_text(f"{version}\n")
    (root / "invoke.yaml").write_text("chartship:\n  base_branch: main\n" + config)
    (root / ".gitignore").write_text("dist/\n")
    (root / "charts").mkdir(exist_ok=True)
    subprocess.run([*GIT, "init", "-q", "-b", "main", str(root)], check=True)
    return root


def commit(root: Path, message: str = "change", when: int | None = None) -> None:
    env = {"GIT_AUTHOR_DATE": f"@{when} +0000", "GIT_COMMITTER_DATE": f"@{when} +0000"} if when else None
    git(root, "add", "-A")
    git(root, "commit", "-qm", message, env=env)


def scaffold(root: Path, helm_bin: Path, name: str, version: str = "0.1.0") -> Path:
    """`helm create NAME` with the version file's version, plus a schema and per-environment values."""
    helm(helm_bin, "create", name, cwd=root / "charts")
    d = root / "charts" / name
    text = (d / "Chart.yaml").read_text()
    text = text.replace("version: 0.1.0", f"version: {version}").replace('appVersion: "1.16.0"', f'appVersion: "{version}"')
    (d / "Chart.yaml").write_text(text)
    (d / "values.schema.json").write_text(SCHEMA)
    (d / "values-prod.yaml").write_text("replicaCount: 3\n")
    (d / "values-dev.yaml").write_text("replicaCount: 1\n")
    return d


def umbrella(root: Path, name: str, subs: list[str], version: str = "0.1.0") -> Path:
    """A small umbrella chart with file:// dependencies on ``subs``."""
    d = root / "charts" / name
    (d / "templates").mkdir(parents=True)
    deps = "".join(f"  - name: {s}\n    version: {version}\n    repository: file://../{s}\n" for s in subs)
    (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\ntype: application\nversion: {version}\n"
                                  f'appVersion: "{version}"\ndependencies:\n{deps}')
    (d / "values.yaml").write_text("global: {}\n")
    (d / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-umbrella\ndata:\n  x: \"1\"\n")
    return d


def copy_repo_charts(root: Path) -> bool:
    """This repository's charts (written by the charts work) into ``root``; False when not there yet."""
    src = ROOT / "charts"
    if not all((src / n / "Chart.yaml").is_file() for n in REPO_CHARTS):
        return False
    for n in REPO_CHARTS:
        shutil.copytree(src / n, root / "charts" / n, ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"))
    (root / "version").write_text((ROOT / "version").read_text())
    return True


def invoke(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "GITHUB_", "CI_"))}
    return run_invoke(root, *args, env={**clean, **(env or {})}, timeout=600)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.parts and "dist" not in p.parts}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_error_line(result: subprocess.CompletedProcess[str], message: str) -> None:
    """Failed with exit != 0, no traceback, and an error line containing ``message``."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert message in errors[0], errors[0]
