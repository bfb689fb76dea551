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
