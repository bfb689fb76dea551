"""Small things a new user met: short flags, helm test summaries, status lines, appVersion image uses, Chart.lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chartship.charts import appversion
from chartship.charts.chart import read_chart
from chartship.cluster import clustertest, releases

INVOKE = str(Path(sys.executable).parent / "invoke")


def short_flags(root: Path, task: str) -> dict[str, str]:
    """short flag -> long flag, from `invoke --help TASK`."""
    out = subprocess.run([INVOKE, "--help", task], cwd=root, capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.strip().split()
        if len(parts) >= 2 and parts[0].startswith("-") and not parts[0].startswith("--"):
            long = next(p for p in parts[1:] if p.startswith("--"))
            found[parts[0].rstrip(",")] = long.split("=", 1)[0].rstrip(",")
    return found


@pytest.mark.parametrize("task", ["helm.build", "helm.deploy", "helm.lint", "helm.status", "cluster.test", "version.sync"])
def test_a_short_flag_means_the_same_in_every_task(project_root: Path, task: str) -> None:
    flags = short_flags(project_root, task)
    assert flags, f"{task} keeps its short flags"
    meaning = {"-a": "--all", "-c": "--chart", "-d": "--dry-run", "-e": "--env", "-f": "--force", "-j": "--jobs",
               "-k": "--kube-context", "-l": "--latest", "-n": "--namespace", "-o": "--output", "-p": "--plain-http",
               "-r": "--release", "-s": "--source", "-t": "--target", "-v": "--version"}
    for short, long in flags.items():
        assert meaning.get(short) == long, f"{task}: {short} is {long}"


def test_helm_build_and_deploy_agree_on_j(project_root: Path) -> None:
    assert short_flags(project_root, "helm.build")["-j"] == "--jobs"
    assert "-j" not in short_flags(project_root, "helm.deploy")  # deploy has no --jobs; -j is never --json


def test_helm_test_summary() -> None:
    assert clustertest._test_summary("NAME: r\nTEST SUITE: None\n") == "(no test hooks)"
    two = "TEST SUITE:     r-smoke\nLast Started: x\nPhase:          Succeeded\nTEST SUITE:     r-db\nPhase:  Succeeded\n"
    assert clustertest._test_summary(two) == "(r-smoke, r-db: Succeeded, Succeeded)"
    assert clustertest._test_summary("") == ""


def test_status_line_names_the_chart() -> None:
    helm4 = {"name": "web", "namespace": "apps", "version": 3, "info": {"status": "deployed", "last_deployed": "t"},
             "chart_ref": "web-1.2.3", "app_version": "7.4.2"}
    assert releases.status_line(helm4) == "web: deployed revision 3 in apps (chart web-1.2.3, app 7.4.2, updated t)"
    assert "chart (chart unknown)" in releases.status_line({"name": "web", "info": {}})
    assert "?" not in releases.status_line(helm4)


def test_app_version_image_uses(tmp_path: Path) -> None:
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\nappVersion: 2.0.0\n")
    (chart / "templates" / "_helpers.tpl").write_text(
        '{{- define "c.labels" -}}\napp.kubernetes.io/version: {{ .Chart.AppVersion | quote }}\n{{- end }}\n'
        '{{- define "c.imageRef" -}}\n{{- if .Values.digest }}\n{{ .Values.digest }}\n{{- else }}\n'
        '{{- printf "v%s" .Chart.AppVersion -}}\n{{- end }}\n{{- end }}\n'
        '{{- define "c.version" -}}\n{{ .Chart.AppVersion }}\n{{- end }}\n')
    (chart / "templates" / "pod.yaml").write_text(
        "metadata:\n  labels:\n    app.kubernetes.io/version: {{ .Chart.AppVersion }}\n"
        "spec:\n  containers:\n    - image: repo:{{ .Values.image.tag | default .Chart.AppVersion }}\n")
    assert appversion.image_uses(read_chart(chart, tmp_path)) == ["templates/_helpers.tpl:8", "templates/pod.yaml:6"]
    (chart / "templates" / "pod.yaml").write_text("spec: {}\n")
    (chart / "templates" / "_helpers.tpl").write_text('{{ define "c.name" }}{{ .Chart.AppVersion }}{{ end }}\n')
    assert appversion.image_uses(read_chart(chart, tmp_path)) == []


def test_chart_lock_files_are_not_ignored(project_root: Path) -> None:
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=project_root, check=False).returncode == 0

    assert not ignored("charts/some-public-chart/Chart.lock"), "real charts commit their Chart.lock"
    assert ignored("charts/platform/Chart.lock")
    assert ignored("charts/core-pipeline/charts/common-1.0.0.tgz")
