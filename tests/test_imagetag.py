"""helm.set-image-tag and helm.values-release on a temp copy of this repository's charts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.helpers.registry import invoke


@pytest.fixture
def repo(tmp_path: Path, project_root: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("tasks.py", "version", "invoke.yaml", "tag-templates", "charts"):
        src = project_root / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / name)
    return root


def load(path: Path) -> object:
    return YAML(typ="safe", pure=True).load(path.read_text())


def test_set_image_tag_changes_only_the_tag(repo: Path) -> None:
    values = repo / "charts/core-pipeline/values.yaml"
    before = values.read_text()
    proc = invoke(repo, "helm.set-image-tag", "1.4.2", "--chart", "core-pipeline")
    assert proc.returncode == 0, proc.stderr
    assert "charts/core-pipeline/values.yaml: image.tag '' -> '1.4.2'" in proc.stdout
    after = values.read_text()
    assert after == before.replace('  tag: ""\n', '  tag: "1.4.2"\n', 1)
    assert load(values)["image"]["tag"] == "1.4.2"  # type: ignore[index]


def test_set_image_tag_quotes_numbers_and_walks_paths(repo: Path) -> None:
    values = repo / "charts/redis/values.yaml"
    text = values.read_text()
    import re

    values.write_text(re.sub(r'(?m)^  tag: .*$', "  tag: 7.4.2  # the redis image", text, count=1))
    assert invoke(repo, "helm.set-image-tag", "7.4", "--chart", "redis").returncode == 0
    assert "  tag: \"7.4\"  # the redis image" in values.read_text()
    assert load(values)["image"]["tag"] == "7.4"  # type: ignore[index]
    platform = invoke(repo, "helm.set-image-tag", "2.0.0", "--chart", "platform", "--key", "core-pipeline.image")
    assert platform.returncode != 0 and "has no `core-pipeline.image` mapping" in platform.stderr


def test_set_image_tag_rejects_bad_tags_and_dry_run_writes_nothing(repo: Path) -> None:
    before = (repo / "charts/core-pipeline/values.yaml").read_bytes()
    for bad, message in (("latest", "not a pin"), ("a/b", "not a valid OCI tag")):
        proc = invoke(repo, "helm.set-image-tag", bad)
        assert proc.returncode != 0 and message in proc.stderr and "Traceback" not in proc.stderr
    dry = invoke(repo, "helm.set-image-tag", "9.9.9", "--dry-run")
    assert dry.returncode == 0 and "would set charts/core-pipeline/values.yaml" in dry.stdout
    assert (repo / "charts/core-pipeline/values.yaml").read_bytes() == before


def test_values_release_pins_the_image(repo: Path, helm_bin: Path) -> None:
    proc = invoke(repo, "helm.values-release", "--image-tag", "v0.2.0", "--image-repo", "acme/core-pipeline",
                  "--chart", "core-pipeline")
    assert proc.returncode == 0, proc.stderr
    data = load(repo / "values.release.yaml")
    assert data == {"image": {"repository": "acme/core-pipeline", "tag": "v0.2.0"}}
    rendered = subprocess.run([str(helm_bin), "template", "r", str(repo / "charts/core-pipeline"), "-f",
                               str(repo / "values.release.yaml")], capture_output=True, text=True, check=True).stdout
    assert "acme/core-pipeline:v0.2.0" in rendered
    several = invoke(repo, "helm.values-release", "--image-tag", "v1")
    assert several.returncode != 0 and "--chart is required" in several.stderr


WEB_VALUES = """\
image:
  registry: registry.example.test
  repository: team/web
  tag: ""
sidecar:
  image:
    repository: registry.example.test/team/proxy
    tag: "1.0"
"""
WEB_TEMPLATE = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: "{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}"
    - name: proxy
      image: "{{ .Values.sidecar.image.repository }}:{{ .Values.sidecar.image.tag }}"
"""


@pytest.fixture
def web(tmp_path: Path, project_root: Path) -> Path:
    root = tmp_path / "web-repo"
    (root / "charts/web/templates").mkdir(parents=True)
    for name in ("tasks.py", "version", "tag-templates"):
        src = project_root / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / name)
    (root / "charts/web/Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (root / "charts/web/values.yaml").write_text(WEB_VALUES)
    (root / "charts/web/templates/pod.yaml").write_text(WEB_TEMPLATE)
    return root


def rendered_images(helm_bin: Path, root: Path) -> list[str]:
    out = subprocess.run([str(helm_bin), "template", "r", str(root / "charts/web"), "-f", str(root / "values.release.yaml")],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("image:", 1)[1].strip().strip('"') for line in out.splitlines() if "image:" in line]


def test_values_release_sets_several_keys_and_never_doubles_the_registry(web: Path, helm_bin: Path) -> None:
    proc = invoke(web, "helm.values-release", "--image-tag", "image=2.0.0", "--image-repo",
                  "image=mirror.example.test:5000/team/web", "--image-tag", "sidecar.image=1.1",
                  "--image-repo", "sidecar.image=mirror.example.test:5000/team/proxy")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "wrote values.release.yaml: image.tag=2.0.0, sidecar.image.tag=1.1\n"
    assert load(web / "values.release.yaml") == {
        "image": {"registry": "mirror.example.test:5000", "repository": "team/web", "tag": "2.0.0"},
        "sidecar": {"image": {"repository": "mirror.example.test:5000/team/proxy", "tag": "1.1"}}}
    assert rendered_images(helm_bin, web) == ["mirror.example.test:5000/team/web:2.0.0",
                                              "mirror.example.test:5000/team/proxy:1.1"]
    # a repository under the chart's own registry: the host is not written twice
    again = invoke(web, "helm.values-release", "--image-tag", "2.0.1", "--image-repo", "registry.example.test/team/web")
    assert again.returncode == 0 and again.stdout.startswith("updated values.release.yaml"), again.stderr
    assert rendered_images(helm_bin, web) == ["registry.example.test/team/web:2.0.1",
                                              "mirror.example.test:5000/team/proxy:1.1"]


def test_values_release_merges_into_an_existing_file(web: Path) -> None:
    (web / "values.release.yaml").write_text("# ours: keep this\nreplicaCount: 3\nimage:\n  pullPolicy: Always\n")
    proc = invoke(web, "helm.values-release", "--image-tag", "3.1.4", "--key", "image", "--key", "sidecar.image")
    assert proc.returncode == 0, proc.stderr
    text = (web / "values.release.yaml").read_text()
    assert text.startswith("# ours: keep this\nreplicaCount: 3\n")
    assert load(web / "values.release.yaml") == {"replicaCount": 3, "image": {"pullPolicy": "Always", "tag": "3.1.4"},
                                                 "sidecar": {"image": {"tag": "3.1.4"}}}


@pytest.mark.parametrize(("args", "message"), [
    (("--image-tag", "1.0", "--key", "proxy.image"),
     "charts/web/values.yaml: has no `proxy.image` mapping; pass --key with one of its image mappings: image, sidecar.image"),
    (("--image-tag", "1.0", "--image-tag", "2.0"), "--image-tag given twice without KEY=; write KEY=VALUE"),
    (("--image-repo", "x/y"), "--key image: no tag to pin; pass --image-tag TAG or --image-tag image=TAG"),
    ((), "nothing to pin: pass --image-tag TAG"),
    (("--image-tag", "image=latest"), "image tag 'latest' is not a pin"),
])
def test_values_release_errors_name_the_right_key(web: Path, args: tuple[str, ...], message: str) -> None:
    (web / "values.release.yaml").write_text("kept: true\n")
    proc = invoke(web, "helm.values-release", *args)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: ") and message in line
    assert (web / "values.release.yaml").read_text() == "kept: true\n", "nothing half-written"
