"""patches/<chart>/NNNN-*.patch: applied in order to the temp copy, never to the working tree."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from chartship.build import patches
from chartship.errors import ChartError
from tests.helpers.pipeline import commit, invoke, new_repo, one_error_line, scaffold, snapshot

SERVICE = "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nf: 6\ng: 7\n"


def make_patch(tmp: Path, rel: str, before: str, after: str) -> str:
    """A git-style patch (a/ b/ prefixes, paths relative to the chart folder) made by real `git diff`."""
    for side, text in (("a", before), ("b", after)):
        (tmp / side / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / side / rel).write_text(text)
    out = subprocess.run(["git", "diff", "--no-index", "--no-prefix", f"a/{rel}", f"b/{rel}"], cwd=tmp,
                         capture_output=True, text=True, check=False).stdout
    shutil.rmtree(tmp / "a")
    shutil.rmtree(tmp / "b")
    return out


def test_hunks_are_numbered_per_file() -> None:
    text = ("--- a/x.yaml\n+++ b/x.yaml\n@@ -1,2 +1,2 @@\n-a\n+b\n c\n@@ -10,3 +10,4 @@ ctx\n d\n+e\n"
            "--- a/y.yaml\n+++ b/y.yaml\n@@ -3,4 +3,5 @@\n x\n")
    found = patches.hunks(text)
    assert [(h.file, h.number, h.old_start) for h in found] == [("x.yaml", 1, 1), ("x.yaml", 2, 10), ("y.yaml", 1, 3)]
    assert found[2].describe() == "hunk 1 (@@ -3,4 +3,5 @@ y.yaml)"


def test_series_order_and_names(tmp_path: Path) -> None:
    folder = tmp_path / "patches/web"
    folder.mkdir(parents=True)
    for name in ("0002-b.patch", "0010-c.patch", "0001-a.patch", "README.md"):
        (folder / name).write_text("")
    assert [p.name for p in patches.series(tmp_path, "web")] == ["0001-a.patch", "0002-b.patch", "0010-c.patch"]
    assert patches.series(tmp_path, "other") == []
    (folder / "fix.diff").write_text("")
    with pytest.raises(ChartError, match=r"patches/web/fix.diff: not a patch of the series; name patches NNNN-description"):
        patches.series(tmp_path, "web")


def test_apply_in_order_and_failures(tmp_path: Path) -> None:
    chart = tmp_path / "copy/web"
    (chart / "templates").mkdir(parents=True)
    (chart / "templates/service.yaml").write_text(SERVICE)
    folder = tmp_path / "patches/web"
    folder.mkdir(parents=True)
    step1 = SERVICE.replace("d: 4", "d: 40")
    (folder / "0001-d.patch").write_text(make_patch(tmp_path, "templates/service.yaml", SERVICE, step1))
    (folder / "0002-e.patch").write_text(make_patch(tmp_path, "templates/service.yaml", step1,
                                                   step1.replace("e: 5", "e: 50")))
    assert patches.apply_series(tmp_path, "web", chart) == ["patches/web/0001-d.patch", "patches/web/0002-e.patch"]
    assert (chart / "templates/service.yaml").read_text() == SERVICE.replace("d: 4", "d: 40").replace("e: 5", "e: 50")

    (chart / "templates/service.yaml").write_text(SERVICE.replace("c: 3", "c: changed"))
    with pytest.raises(ChartError) as err:
        patches.apply_series(tmp_path, "web", chart)
    assert str(err.value) == ("patches/web/0001-d.patch: hunk 1 (@@ -1,7 +1,7 @@ templates/service.yaml) does not apply; "
                              "fix or regenerate the patch")

    (chart / "templates/service.yaml").unlink()
    with pytest.raises(ChartError, match=r"0001-d.patch: templates/service.yaml does not exist in the chart"):
        patches.apply_series(tmp_path, "web", chart)

    (folder / "0002-e.patch").unlink()
    (folder / "0001-d.patch").write_text("this is not a diff\n")
    with pytest.raises(ChartError, match=r"0001-d.patch: not a valid patch"):
        patches.apply_series(tmp_path, "web", chart)


def test_build_packages_patched_chart_and_leaves_tree_alone(tmp_path: Path, helm_bin: Path) -> None:
    root = new_repo(tmp_path / "repo")
    chart = scaffold(root, helm_bin, "web")
    original = (chart / "templates/service.yaml").read_text()
    patched = original.replace("type: {{ .Values.service.type }}", "type: {{ .Values.service.type }}\n  # patched")
    (root / "patches/web").mkdir(parents=True)
    (root / "patches/web/0001-comment.patch").write_text(
        make_patch(tmp_path, "templates/service.yaml", original, patched))
    commit(root)
    before = snapshot(root)
    result = invoke(root, "helm.build", "--json")
    assert result.returncode == 0, result.stderr
    assert snapshot(root) == before
    pkg = root / json.loads(result.stdout)["packages"][0]["path"]
    with tarfile.open(pkg) as tar:
        member = tar.extractfile("web/templates/service.yaml")
        assert member is not None and b"# patched" in member.read()

    (chart / "templates/service.yaml").write_text(original.replace("kind: Service", "kind: Service # edited upstream", 1)
                                                  .replace("spec:", "spec: # moved"))
    broken = invoke(root, "helm.build")
    one_error_line(broken, "patches/web/0001-comment.patch: hunk 1 (@@ ")
    assert "templates/service.yaml) does not apply" in broken.stderr
    lint = invoke(root, "helm.lint", "--all", "--json")
    assert lint.returncode == 1
    assert json.loads(lint.stdout)["charts"]["web"]["prepare"]["status"] == "failed"
