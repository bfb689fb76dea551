"""A small repository for the hook tests: two charts that pass helm lint --strict,
generated READMEs, the project's .pre-commit-config.yaml, and a recording helm."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from chartship.charts import docs

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]

CHART = """\
apiVersion: v2
name: {name}
description: The {name} chart
type: application
version: {version}
appVersion: "{version}"
"""
VALUES = """\
# -- Number of pods
replicaCount: 1
image:
  # -- Image repository
  repository: nginx
  # -- Image tag
  tag: "1.27"
"""
DEV_VALUES = "# Development: one small pod.\nreplicaCount: 1\n"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-NAME
  labels:
    app.kubernetes.io/name: NAME
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/name: NAME
  template:
    metadata:
      labels:
        app.kubernetes.io/name: NAME
    spec:
      containers:
        - name: NAME
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"""
RECORDING_HELM = """\
#!/bin/sh
# Records every call, then runs the real helm.
printf '%s\\n' "$*" >> "$HELM_CALLS"
exec "$REAL_HELM" "$@"
"""


def write_chart(root: Path, name: str, version: str = "0.1.0", dev_values: bool = False) -> Path:
    d = root / "charts" / name
    (d / "templates").mkdir(parents=True, exist_ok=True)
    (d / "Chart.yaml").write_text(CHART.format(name=name, version=version))
    (d / "values.yaml").write_text(VALUES)
    (d / "templates" / "deployment.yaml").write_text(DEPLOYMENT.replace("NAME", name))
    if dev_values:
        (d / "values-dev.yaml").write_text(DEV_VALUES)
    return d


def write_repo(root: Path, project_root: Path, version: str = "0.1.0") -> Path:
    """Files of a chartship repository (not yet a git repository)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "version").write_text(f"{version}\n")
    (root / "invoke.yaml").write_text("# project config\nchartship:\n  base_branch: main\n  app_version: follow\n")
    (root / "README.md").write_text("# demo\n")
    for name in (".pre-commit-config.yaml", "tasks.py"):
        shutil.copy2(project_root / name, root / name)
    dirs = [write_chart(root, "web", version, dev_values=True), write_chart(root, "worker", version)]
    docs.write_readmes(dirs, docs.DEFAULT_TARGET)  # the default target (local, plain HTTP) the hooks compare with
    return root


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GIT, "-C", str(root), *args], capture_output=True, text=True, check=False, env=env)


def init_git(root: Path, commit: bool = True) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    if commit:
        git(root, "add", "-A")
        result = git(root, "commit", "-qm", "init", "--no-verify")
        assert result.returncode == 0, result.stderr


def recording_helm(tmp: Path, real_helm: Path) -> tuple[Path, Path]:
    """(a helm that records its argv lines to the calls file, the calls file)."""
    fake = tmp / "bin" / "helm"
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(RECORDING_HELM)
    fake.chmod(0o755)
    return fake, tmp / "helm-calls.txt"


def lint_calls(calls: Path) -> list[str]:
    return [ln for ln in calls.read_text().splitlines() if ln.startswith("lint ")] if calls.exists() else []


_COPY = re.compile(r"(?P<copy>/\S*/chartship-[^/\s]+)/")


def copy_lint_calls(calls: Path, root: Path) -> list[str]:
    """The lint calls, each made on the prepared temp copy of the charts (never the working tree), with the
    copy's folder written as ``root`` so they read as the repository's paths."""
    found = []
    for line in lint_calls(calls):
        m = _COPY.search(line)
        assert m is not None and not Path(m["copy"]).is_relative_to(root), f"not linted on a temp copy: {line}"
        found.append(line.replace(m["copy"] + "/", f"{root}/"))
    return found


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "GITHUB_", "CI_", "PRE_COMMIT", "GIT_"))}
    # the hooks' console scripts are found on PATH, as in a shell with chartship's environment active
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env
