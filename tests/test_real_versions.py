"""Charts with versions of their own and appVersion used as the image tag (written here, like public charts
are written): chartship changes none of their files unless asked, and the images helm renders stay the same.

Through the real `invoke` in a temp git repository, real helm, the real docker-registry on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from tests.helpers.registry import StartRegistry, invoke

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]

# A node agent whose image tag is "v" + appVersion, built in a named template (as many public charts do).
AGENT_CHART = """\
apiVersion: v2
name: node-agent
description: A node agent with its own release line
type: application
version: 4.56.1
appVersion: 1.8.2
"""
AGENT_HELPERS = """\
{{- define "node-agent.image" -}}
{{- $tag := .Values.image.tag | default (printf "v%s" .Chart.AppVersion) -}}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.repository $tag -}}
{{- end -}}
"""
AGENT_DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {{ .Release.Name }}-agent
  labels:
    app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
        - name: agent
          image: {{ include "node-agent.image" . | quote }}
"""
AGENT_VALUES = "image:\n  registry: registry.example.test\n  repository: agents/node-agent\n  tag: \"\"\n"

# A key-value store whose image line uses appVersion directly.
STORE_CHART = """\
apiVersion: v2
name: kv-store
version: 22.1.1
appVersion: "7.4.2"
"""
STORE_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-store
spec:
  selector:
    matchLabels: {app: store}
  template:
    metadata:
      labels: {app: store}
    spec:
      containers:
        - name: store
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
"""
STORE_VALUES = "image:\n  repository: registry.example.test/kv/store\n  tag: \"\"\n"


def write_chart(root: Path, name: str, chart: str, values: str, templates: dict[str, str]) -> None:
    d = root / "charts" / name
    (d / "templates").mkdir(parents=True)
    (d / "Chart.yaml").write_text(chart)
    (d / "values.yaml").write_text(values)
    for file, text in templates.items():
        (d / "templates" / file).write_text(text)


def make_repo(tmp_path: Path, project_root: Path, config: str, version: str | None = "0.1.0") -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy2(project_root / "tasks.py", root / "tasks.py")
    shutil.copytree(project_root / "tag-templates", root / "tag-templates")
    if version is not None:
        (root / "version").write_text(f"{version}\n")
    (root / "invoke.yaml").write_text("chartship:\n" + config)
    write_chart(root, "node-agent", AGENT_CHART, AGENT_VALUES,
                {"_helpers.tpl": AGENT_HELPERS, "daemonset.yaml": AGENT_DAEMONSET})
    write_chart(root, "kv-store", STORE_CHART, STORE_VALUES, {"deployment.yaml": STORE_DEPLOYMENT})
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    commit(root, "charts as they came")
    return root


def commit(root: Path, message: str) -> None:
    subprocess.run([*GIT, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(root), "commit", "-qm", message], check=True)


def chart_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "charts").rglob("*") if p.is_file()}


def images(helm_bin: Path, chart_dir: Path) -> list[str]:
    rendered = subprocess.run([str(helm_bin), "template", "r", str(chart_dir)], capture_output=True, text=True,
                              check=True, timeout=120).stdout
    return sorted(m.strip().strip('"') for m in re.findall(r"(?m)^\s*image:\s*(.+)$", rendered))


def all_images(helm_bin: Path, root: Path) -> dict[str, list[str]]:
    return {name: images(helm_bin, root / "charts" / name) for name in ("node-agent", "kv-store")}


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def one_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_the_charts_render_the_images_they_were_written_for(tmp_path: Path, project_root: Path,
                                                            helm_bin: Path) -> None:
    root = make_repo(tmp_path, project_root, "  versioning: per-chart\n", version=None)
    assert all_images(helm_bin, root) == {"node-agent": ["registry.example.test/agents/node-agent:v1.8.2"],
                                          "kv-store": ["registry.example.test/kv/store:7.4.2"]}


def test_per_chart_repository_changes_nothing_and_builds_each_chart_at_its_own_version(
        tmp_path: Path, project_root: Path, helm_bin: Path) -> None:
    root = make_repo(tmp_path, project_root, "  versioning: per-chart\n", version=None)
    files, rendered = chart_files(root), all_images(helm_bin, root)
    assert ok(invoke(root, "version.check")).stdout == "ok: each chart's own version, 2 chart(s) in step\n"
    dry = json.loads(ok(invoke(root, "version.sync", "--dry-run", "--json")).stdout)
    assert (dry["changes"], dry["warnings"], dry["versioning"]) == ([], [], "per-chart")
    assert ok(invoke(root, "version.sync")).stdout == "all charts in step (each keeps its own version)\n"
    assert ok(invoke(root, "version.show", "--chart", "kv-store")).stdout == "22.1.1\n"
    shown = json.loads(ok(invoke(root, "version.show", "--chart", "node-agent", "--json")).stdout)
    assert (shown["version"], shown["versioning"], shown["tags"]["version"]) == ("4.56.1", "own", "4.56.1")
    assert "per-chart, so there is no single version; pass --chart NAME (charts: kv-store, node-agent)" in \
        one_error(invoke(root, "version.show"))
    assert "pass --chart NAME" in one_error(invoke(root, "version.bump", "--part", "patch"))
    assert not (root / "version").exists(), "a per-chart repository gets no version file"

    built = json.loads(ok(invoke(root, "helm.build", "--json")).stdout)
    assert sorted((p["chart"], p["version"], p["file"]) for p in built["packages"]) == [
        ("kv-store", "22.1.1", "kv-store-22.1.1.tgz"), ("node-agent", "4.56.1", "node-agent-4.56.1.tgz")]
    assert built["version"] == "per-chart"
    assert "with chartship.versioning: per-chart there is none" in one_error(invoke(root, "helm.build", "--dev"))
    assert chart_files(root) == files, "no chart file changed"
    assert all_images(helm_bin, root) == rendered, "no rendered image changed"


def test_bump_one_chart_of_its_own(tmp_path: Path, project_root: Path, helm_bin: Path) -> None:
    root = make_repo(tmp_path, project_root, "  versioning: per-chart\n", version=None)
    agent = (root / "charts/node-agent/Chart.yaml").read_bytes()
    rendered = all_images(helm_bin, root)
    dry = ok(invoke(root, "version.bump", "--chart", "kv-store", "--part", "patch", "--dry-run"))
    assert dry.stdout.splitlines()[0] == "would set kv-store version 22.1.1 -> 22.1.2"
    assert (root / "charts/kv-store/Chart.yaml").read_text() == STORE_CHART
    ok(invoke(root, "version.bump", "--chart", "kv-store", "--part", "patch"))
    assert (root / "charts/kv-store/Chart.yaml").read_text() == STORE_CHART.replace("22.1.1", "22.1.2")
    assert (root / "charts/node-agent/Chart.yaml").read_bytes() == agent
    assert all_images(helm_bin, root) == rendered, "appVersion is pinned by default: the image stays"
    assert ok(invoke(root, "version.check", "--tag", "kv-store-22.1.2")).returncode == 0
    assert "does not match charts/kv-store/Chart.yaml version 22.1.2" in \
        invoke(root, "version.check", "--tag", "kv-store-v22.1.1").stderr
    assert "names no chart" in invoke(root, "version.check", "--tag", "v0.1.0").stderr
    ok(invoke(root, "version.set", "5.0.0", "--chart", "node-agent"))
    assert "version: 5.0.0\nappVersion: 1.8.2\n" in (root / "charts/node-agent/Chart.yaml").read_text()


def test_lockstep_repository_with_a_chart_of_its_own(tmp_path: Path, project_root: Path, helm_bin: Path) -> None:
    root = make_repo(tmp_path, project_root, "  charts:\n    settings:\n      kv-store: {versioning: own}\n"
                                             "      node-agent: {versioning: own}\n")
    ours = root / "charts/ours"
    (ours / "templates").mkdir(parents=True)
    (ours / "Chart.yaml").write_text("apiVersion: v2\nname: ours\nversion: 0.1.0\nappVersion: 0.1.0\n")
    commit(root, "our chart")
    files = {k: v for k, v in chart_files(root).items() if not k.startswith("charts/ours/")}
    rendered = all_images(helm_bin, root)
    assert ok(invoke(root, "version.check")).stdout == "ok: version 0.1.0, 3 chart(s) in step\n"
    out = ok(invoke(root, "version.bump", "--part", "minor"))
    assert out.stdout.splitlines() == ["set version 0.1.0 -> 0.2.0", "  wrote charts/ours/Chart.yaml: version 0.1.0 -> 0.2.0"]
    assert "version: 0.2.0\nappVersion: 0.1.0\n" in (ours / "Chart.yaml").read_text(), "appVersion is pinned by default"
    assert {k: v for k, v in chart_files(root).items() if not k.startswith("charts/ours/")} == files
    assert all_images(helm_bin, root) == rendered
    message = one_error(invoke(root, "version.bump", "--chart", "ours", "--part", "patch"))
    assert "ours is in the lockstep set" in message and "chartship.charts.settings.ours.versioning: own" in message
    assert ok(invoke(root, "version.show", "--chart", "ours")).stdout == "0.2.0\n"
    assert ok(invoke(root, "version.show", "--chart", "kv-store")).stdout == "22.1.1\n"


def test_sync_says_what_it_would_do_to_charts_of_their_own(tmp_path: Path, project_root: Path) -> None:
    """Configured into lockstep with appVersion following, a dry run names both surprises before anything is written."""
    root = make_repo(tmp_path, project_root, "  app_version: follow\n")
    files = chart_files(root)
    dry = ok(invoke(root, "version.sync", "--dry-run"))
    assert "  would write charts/kv-store/Chart.yaml: version 22.1.1 -> 0.1.0" in dry.stdout.splitlines()
    warnings = [ln for ln in dry.stderr.splitlines() if ln.startswith("warning: ")]
    assert ("warning: charts/kv-store/Chart.yaml: version 22.1.1 -> 0.1.0 goes down; if kv-store keeps its own "
            "versions, set chartship.charts.settings.kv-store.versioning: own (or versioning: per-chart)") in warnings
    assert ("warning: charts/node-agent/Chart.yaml: appVersion 1.8.2 -> 0.1.0 changes the image tag "
            "(charts/node-agent/templates/_helpers.tpl:2 uses .Chart.AppVersion in an image reference); to keep the "
            "image, set chartship.charts.settings.node-agent.app_version: pinned") in warnings
    assert any("charts/kv-store/templates/deployment.yaml:14 uses" in w for w in warnings)
    assert len(warnings) == 4
    assert chart_files(root) == files, "a dry run writes nothing"
    data = json.loads(ok(invoke(root, "version.sync", "--dry-run", "--json")).stdout)
    assert len(data["warnings"]) == 4


def test_missing_app_version_prints_missing(tmp_path: Path, project_root: Path) -> None:
    root = make_repo(tmp_path, project_root, "  versioning: per-chart\n  app_version: follow\n", version=None)
    path = root / "charts/kv-store/Chart.yaml"
    path.write_text(STORE_CHART.replace('appVersion: "7.4.2"\n', ""))
    out = ok(invoke(root, "version.sync", "--dry-run"))
    assert "  would write charts/kv-store/Chart.yaml: appVersion (missing) -> 22.1.1" in out.stdout.splitlines()
    assert "None" not in out.stdout


def test_bump_required_hook_per_chart(tmp_path: Path, project_root: Path) -> None:
    root = make_repo(tmp_path, project_root, "  versioning: per-chart\n", version=None)
    template = root / "charts/kv-store/templates/deployment.yaml"
    template.write_text(template.read_text() + "# tuned\n")
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    hook = [str(Path(shutil.which("chartship-version-bump-required") or "chartship-version-bump-required"))]
    refused = subprocess.run(hook, cwd=root, capture_output=True, text=True, check=False)
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.strip() == (
        "error: charts/kv-store changed (charts/kv-store/templates/deployment.yaml) but its version 22.1.1 is the same as "
        "22.1.1 at HEAD; bump it: `invoke version.bump --chart kv-store --part patch` (or --part patch/minor/major), "
        "then stage charts/kv-store/Chart.yaml")
    ok(invoke(root, "version.bump", "--chart", "kv-store", "--part", "patch"))
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    passed = subprocess.run(hook, cwd=root, capture_output=True, text=True, check=False)
    assert passed.returncode == 0, passed.stderr
    commit(root, "kv-store 22.1.2")
    agent = root / "charts/node-agent/values.yaml"
    agent.write_text(agent.read_text() + "extra: 1\n")
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    again = subprocess.run(hook, cwd=root, capture_output=True, text=True, check=False)
    assert again.returncode == 1 and "charts/node-agent changed" in again.stderr and "kv-store" not in again.stderr


def test_deploy_tags_and_notes_per_chart(tmp_path: Path, project_root: Path, helm_bin: Path,
                                        registries: StartRegistry) -> None:
    host = registries().host
    config = (f"  versioning: per-chart\n  default_target: reg\n  targets:\n    reg:\n      url: oci://{host}/charts\n"
              "      plain_http: true\n")
    root = make_repo(tmp_path, project_root, config, version=None)
    files, rendered = chart_files(root), all_images(helm_bin, root)
    out = json.loads(ok(invoke(root, "helm.deploy", "--latest", "--json")).stdout)
    pushed = sorted((o["chart"], o["version"], o["status"]) for o in out["results"])
    assert ("kv-store", "22.1.1", "pushed") in pushed and ("node-agent", "4.56.1", "pushed") in pushed
    assert ok(invoke(root, "helm.resolve", f"oci://{host}/charts/kv-store", "latest", "--plain-http")).stdout == "22.1.1\n"
    assert ok(invoke(root, "helm.resolve", f"oci://{host}/charts/node-agent", "latest", "--plain-http")).stdout == "4.56.1\n"
    ok(invoke(root, "helm.notes"))
    notes = (root / "dist/RELEASE_NOTES.md").read_text()
    assert "## kv-store 22.1.1" in notes and "## node-agent 4.56.1" in notes
    pulled = tmp_path / "pulled"
    ok(invoke(root, "helm.pull", f"oci://{host}/charts/node-agent", "latest", "--destination", str(pulled), "--plain-http"))
    subprocess.run(["tar", "-xzf", str(next(pulled.glob("*.tgz"))), "-C", str(pulled)], check=True)
    assert images(helm_bin, pulled / "node-agent") == rendered["node-agent"]
    assert chart_files(root) == files
