"""A repository shaped like the public charts teams actually have, written by hand for tests: an
independent chart version, appVersion used as the image tag, a library dependency vendored as a
folder and another as an archive with a Chart.lock (their repository is unreachable: nothing may be
downloaded), a file:// dependency outside charts/, a hand-written README, chart-testing
ci/*-values.yaml files, a values-production.yaml, ephemeral-storage requests, and an umbrella
whose subchart schema rejects a value."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers.pipeline import new_repo

UNREACHABLE = "oci://127.0.0.1:9/vendored"  # nothing listens on port 9: a download attempt fails at once

WEB_CHART = f"""\
apiVersion: v2
name: web
description: A web server, vendored the way public charts ship
type: application
version: 22.1.1
appVersion: "v1.8.2"
dependencies:
  - name: common
    version: 2.x.x
    repository: {UNREACHABLE}
    tags: [bitnami-common]
  - name: toolkit
    version: ~1.4.0
    repository: {UNREACHABLE}
"""

WEB_LOCK = f"""\
dependencies:
- name: common
  repository: {UNREACHABLE}
  version: 2.20.3
- name: toolkit
  repository: {UNREACHABLE}
  version: 1.4.1
digest: sha256:0000000000000000000000000000000000000000000000000000000000000000
generated: "2024-01-01T00:00:00Z"
"""

WEB_VALUES = """\
# -- How many pods
replicaCount: 1
image:
  # -- Image repository
  repository: example.org/web
  # -- (string) Image tag; defaults to the chart's appVersion
  # @default -- `.Chart.AppVersion`
  tag: ""
resources:
  requests:
    cpu: 100m
    memory: 128Mi
    ephemeral-storage: 1Gi
  limits:
    memory: 256Mi
    ephemeral-storage: 2Gi
# @ignored
internalOnly: true
"""

WEB_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "common.fullname" . }}
  labels: {{- include "toolkit.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ include "common.fullname" . }}
  template:
    metadata:
      labels:
        app: {{ include "common.fullname" . }}
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          resources: {{- toYaml .Values.resources | nindent 12 }}
"""

HAND_README = """\
# web

Hand-written by the chart's maintainers. chartship must never rewrite this file.

## Parameters

| Name | Description |
|------|-------------|
| `replicaCount` | pods |
"""


def _chart(d: Path, chart_yaml: str, values: str = "", templates: dict[str, str] | None = None) -> Path:
    (d / "templates").mkdir(parents=True, exist_ok=True)
    (d / "Chart.yaml").write_text(chart_yaml)
    (d / "values.yaml").write_text(values)
    for name, text in (templates or {}).items():
        (d / "templates" / name).write_text(text)
    return d


def _library(d: Path, name: str, version: str, helper: str) -> Path:
    return _chart(d, f"apiVersion: v2\nname: {name}\ntype: library\nversion: {version}\n",
                  templates={"_helpers.tpl": helper})


COMMON_HELPER = '{{- define "common.fullname" -}}{{ .Release.Name | trunc 63 }}{{- end -}}\n'
TOOLKIT_HELPER = '{{- define "toolkit.labels" -}}\napp.kubernetes.io/managed-by: {{ .Release.Service }}\n{{- end -}}\n'

STRICT_SCHEMA = """{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {"mode": {"type": "string", "enum": ["fast", "safe"]}}
}
"""


def _lockstep(root: Path, version: str) -> None:
    """Every chart of the repository at ``version`` (what a lockstep build needs until per-chart versioning)."""
    for name, old in (("web", "22.1.1"), ("stack", "4.56.1"), ("strict", "1.0.0"), ("suite", "3.0.0")):
        f = root / "charts" / name / "Chart.yaml"
        f.write_text(f.read_text().replace(f"version: {old}", f"version: {version}"))
    f = root / "charts" / "suite" / "Chart.yaml"
    f.write_text(f.read_text().replace("    version: 1.0.0", f"    version: {version}"))


def write_repo(root: Path, helm_bin: Path, schema_failure: bool = False, lockstep: str | None = None) -> Path:
    """The repository at ``root`` (a git repo with one commit). ``schema_failure``: the umbrella sets
    a value its subchart's schema rejects. ``lockstep``: every chart at this version (appVersions pinned)."""
    new_repo(root, lockstep or "0.1.0", ("  app_version: pinned\n" if lockstep else "")
             + "  environments:\n    dev: [values-dev.yaml]\n    prod: [values-prod.yaml]\n")
    charts = root / "charts"
    web = _chart(charts / "web", WEB_CHART, WEB_VALUES, {"deployment.yaml": WEB_DEPLOYMENT})
    _library(web / "charts" / "common", "common", "2.20.3", COMMON_HELPER)  # vendored as a folder
    lib_src = _library(root / "build-toolkit" / "toolkit", "toolkit", "1.4.1", TOOLKIT_HELPER)
    subprocess.run([str(helm_bin), "package", str(lib_src), "-d", str(web / "charts")], check=True,
                   capture_output=True)  # vendored as an archive
    subprocess.run(["rm", "-rf", str(root / "build-toolkit")], check=True)
    (web / "Chart.lock").write_text(WEB_LOCK)
    (web / "README.md").write_text(HAND_README)
    (web / "ci").mkdir()
    (web / "ci" / "default-values.yaml").write_text("replicaCount: 1\n")
    (web / "ci" / "scaled-values.yaml").write_text("replicaCount: 3\n")
    (web / "values-prod.yaml").write_text("replicaCount: 2\n")
    (web / "values-production.yaml").write_text("replicaCount: 5\n")

    _library(root / "shared" / "base", "base", "0.3.0", '{{- define "base.name" -}}stack{{- end -}}\n')
    _chart(charts / "stack", "apiVersion: v2\nname: stack\nversion: 4.56.1\nappVersion: \"4.56.1\"\n"
           "dependencies:\n  - name: base\n    version: 0.3.0\n    repository: file://../../shared/base\n",
           "image: example.org/stack\n",
           {"cm.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include "base.name" . }}\n'
                       "data:\n  image: {{ .Values.image }}:{{ .Chart.AppVersion }}\n"})

    strict = _chart(charts / "strict", "apiVersion: v2\nname: strict\nversion: 1.0.0\n", "mode: fast\n",
                    {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-strict\n"
                                "data:\n  mode: {{ .Values.mode }}\n"})
    (strict / "values.schema.json").write_text(STRICT_SCHEMA)
    _chart(charts / "suite", "apiVersion: v2\nname: suite\nversion: 3.0.0\n"
           "dependencies:\n  - name: strict\n    version: 1.0.0\n    repository: file://../strict\n",
           f"strict:\n  mode: {'reckless' if schema_failure else 'safe'}\n",
           {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-suite\n"})
    if lockstep:
        _lockstep(root, lockstep)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "commit", "-qm", "real charts"], check=True)
    return root
