"""CI reports: JUnit shape, GitHub annotations (escaping, file/line), step summary, redaction;
and the same through real tasks (helm.lint / helm.validate / helm.test with a broken template)."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chartship import secrets
from chartship.ci_report import FAIL, OK, SKIP, Check, checks, github, junit
from chartship.tools import peers
from tests.helpers.registry import invoke


def test_junit_has_one_suite_per_chart_and_the_one_line_failure() -> None:
    rows = [Check("web", "prod x helm-lint", FAIL, "templates/a.yaml:3: bad", "charts/web/templates/a.yaml", 3),
            Check("web", "dev x helm-lint", OK), Check("db", "schema", SKIP, "no values.schema.json")]
    root = ET.fromstring(junit.render("helm.lint", rows))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "1", "1")
    assert [s.get("name") for s in root.iter("testsuite")] == ["helm.lint web", "helm.lint db"]
    failed = root.find(".//testcase[failure]")
    assert failed is not None
    assert (failed.get("name"), failed.get("file"), failed.get("line")) == (
        "prod x helm-lint", "charts/web/templates/a.yaml", "3")
    assert failed.find("failure").get("message") == "templates/a.yaml:3: bad"  # type: ignore[union-attr]


def test_annotations_escape_and_point_at_file_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [Check("web", "prod, a:b", FAIL, "100% broken\nsecond line", "charts/web/values-prod.yaml", 7),
            Check("web", "dev", OK), Check("web", "warn", OK, "deprecated", "charts/web/Chart.yaml", level="warning")]
    github.annotate(rows, {"GITHUB_ACTIONS": "true"})
    err = capsys.readouterr().err.splitlines()
    assert err == ["::error file=charts/web/values-prod.yaml,line=7,title=web prod%2C a%3Ab::100%25 broken%0Asecond line",
                   "::warning file=charts/web/Chart.yaml,title=web warn::deprecated"]
    github.annotate(rows, {})
    assert capsys.readouterr().err == ""


def test_summary_and_annotations_never_show_a_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets.register("hunter2-very-secret")
    rows = [Check("web", "push", FAIL, "login failed for hunter2-very-secret")]
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    github.summary("helm.push", rows, env)
    github.annotate(rows, env)
    github.publish_summary("publish", [("web", "1.0.0", "oci://r/web:1.0.0", "failed", "", "hunter2-very-secret")], env)
    text = summary.read_text() + capsys.readouterr().err
    assert "hunter2-very-secret" not in text and "***" in text
    assert "❌ chartship helm.push: 0 passed, 1 failed, 0 skipped" in text
    assert "❌ chartship publish: 0 pushed, 1 refused or failed" in text


def test_locations_from_helm_messages(tmp_path: Path) -> None:
    msg = 'Error: core-pipeline/templates/hpa.yaml:4:10 executing "core-pipeline/templates/hpa.yaml" at <.x>: nil'
    assert checks.template_location(msg, "core-pipeline", "charts/core-pipeline") == (
        "charts/core-pipeline/templates/hpa.yaml", 4)
    sub = "template: platform/charts/redis/templates/statefulset.yaml:12:3: executing"
    assert checks.template_location(sub, "platform", "charts/platform") == (
        "charts/platform/charts/redis/templates/statefulset.yaml", 12)
    (tmp_path / "charts/web").mkdir(parents=True)
    (tmp_path / "charts/web/values-prod.yaml").write_text("# prod\nimage:\n  tag: x\nreplicaCount: three\n")
    schema = "charts/web values-prod.yaml: $.replicaCount: 'three' is not of type 'integer'"
    assert checks.schema_location(tmp_path, schema) == ("charts/web/values-prod.yaml", 4)
    assert checks.schema_location(tmp_path, "charts/web values-prod.yaml: $.image.tag: bad") == (
        "charts/web/values-prod.yaml", 3)


@pytest.fixture
def broken(tmp_path: Path, project_root: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("tasks.py", "version", "tag-templates", "invoke.yaml", ".yamllint.yaml", "ci"):
        src = project_root / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / name)
    shutil.copytree(project_root / "charts", root / "charts", ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"))
    hpa = root / "charts/core-pipeline/templates/hpa.yaml"
    lines = hpa.read_text().splitlines(keepends=True)
    hpa.write_text("".join(lines[:3]) + "{{ .Values.nope.deeper }}\n" + "".join(lines[3:]))
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)  # chartship packages the files git tracks
    return root


@pytest.mark.parametrize("task", ["helm.lint", "helm.test", "helm.validate"])
def test_a_template_error_is_annotated_at_its_line(broken: Path, task: str, tmp_path: Path) -> None:
    args = [task, "--chart", "core-pipeline", "--junit", "report.xml"]
    result = invoke(broken, *args, env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")})
    assert result.returncode == 1, result.stderr
    annotations = [ln for ln in result.stderr.splitlines() if ln.startswith("::error ")]
    assert annotations and all(a.startswith("::error file=charts/core-pipeline/templates/hpa.yaml,line=4,")
                               for a in annotations if "hpa.yaml" in a)
    assert any("hpa.yaml,line=4" in a for a in annotations)
    root = ET.parse(broken / "report.xml").getroot()
    assert int(root.get("failures") or 0) >= 1
    assert int(root.get("tests") or 0) > int(root.get("failures") or 0)  # environments without an HPA pass
    assert f"❌ chartship {task}" in (tmp_path / "s.md").read_text()


def test_peers_lock_pins_every_tool_exactly(tmp_path: Path) -> None:
    pins = peers.read_lock()
    unit = pins["helm-unittest"]
    assert (unit.module, unit.version, unit.plugin, unit.mod) == ("github.com/helm-unittest/helm-unittest", "v1.1.2",
                                                                 "unittest", "readonly")
    assert unit.sum.startswith("h1:") and len(unit.go_sum_sha256) == 64
    lock = tmp_path / "peers.lock.toml"
    lock.write_text('[x]\nmodule = "m"\nversion = "v1"\nsum = "h1:a"\ngo_sum_sha256 = "b"\n'
                                            'package = "."\nbinary = "x"\n')
    with pytest.raises(Exception, match=r"\[x\]: version must be an exact module version such as v1.2.3, got 'v1'"):
        peers.read_lock(lock)
    lock.write_text('[x]\nmodule = "m"\nversion = "v1.0.0"\nsum = "h1:a"\ngo_sum_sha256 = "b"\n'
                                            'package = "."\nbinary = "x"\nmod = "mod"\n')
    with pytest.raises(Exception, match=r"mod = \"mod\" needs a mod_reason"):
        peers.read_lock(lock)
