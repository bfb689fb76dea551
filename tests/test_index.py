"""helm.index with real helm (HELM_BIN: 3 or 4): two versions indexed and merged, earlier entries kept as they
were, a changed digest refused with index.yaml untouched, deterministic output, and the folder served on
127.0.0.1 to a real `helm repo add` + `helm pull` + `helm template`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from chartship.errors import ChartError
from chartship.publish import index
from chartship.publish.push import Package
from tests.helpers import free_port
from tests.helpers.chartrepo import demo_chart, demo_repo, helm, helm_repo_env, serve
from tests.helpers.pipeline import invoke, one_error_line, sha256

OLD = """apiVersion: v1
entries:
  demo:
  - name: demo
    version: 0.1.0
    digest: aaaa
  - name: demo
    version: 0.2.0
    digest: bbbb
generated: "2026-01-01T00:00:00Z"
"""


def _entries(path: Path) -> dict[str, dict[str, Any]]:
    data = YAML(typ="safe").load(path.read_text())
    return {e["version"]: e for e in data["entries"]["demo"]}


def _without_times(text: str) -> str:
    return "\n".join(ln for ln in text.splitlines() if not ln.strip().startswith(("created:", "generated:")))


def test_parse_and_plan_split_new_same_and_changed(tmp_path: Path) -> None:
    found = index.parse(OLD, "index.yaml")
    assert found == {("demo", "0.1.0"): "aaaa", ("demo", "0.2.0"): "bbbb"}
    pkgs = [Package("demo", "0.1.0", tmp_path / "demo-0.1.0.tgz", "aaaa"),
            Package("demo", "0.2.0", tmp_path / "demo-0.2.0.tgz", "cccc"),
            Package("demo", "0.3.0", tmp_path / "demo-0.3.0.tgz", "dddd")]
    split = index.plan(found, pkgs)
    assert [p.version for p in split.same] == ["0.1.0"]
    assert [p.version for p in split.added] == ["0.3.0"]
    assert [c.package.version for c in split.changed] == ["0.2.0"]
    message = split.changed[0].message
    assert "demo 0.2.0" in message and "sha256:bbbb" in message and "sha256:cccc" in message


@pytest.mark.parametrize("text", ["entries: {}\n", "apiVersion: v1\nentries:\n  demo: nope\n", "- 1\n",
                                  "apiVersion: v1\nentries:\n  demo:\n  - name: demo\n"])
def test_a_file_that_is_not_an_index_is_one_chart_error(text: str) -> None:
    with pytest.raises(ChartError, match=r"^old\.yaml: "):
        index.parse(text, "old.yaml")


def test_an_alias_bomb_index_is_refused_by_the_bounded_loader() -> None:
    bomb = "apiVersion: v1\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7)) + "entries: {}\n"
    with pytest.raises(ChartError, match="expands to more than"):
        index.parse(bomb, "index.yaml")


def test_index_merges_versions_keeps_entries_and_refuses_a_changed_digest(tmp_path: Path, helm_bin: Path) -> None:
    root = demo_repo(tmp_path / "repo")
    assert invoke(root, "helm.build").returncode == 0
    first = invoke(root, "helm.index", "--url", "https://charts.example.test/demo", "--json")
    assert first.returncode == 0, first.stderr
    out = root / "dist" / "repo"
    assert json.loads(first.stdout)["files"] == ["demo-0.1.0.tgz", "index.yaml"]
    assert (out / "demo-0.1.0.tgz").read_bytes() == (root / "dist/charts/demo-0.1.0.tgz").read_bytes()
    v1 = _entries(out / "index.yaml")["0.1.0"]
    assert v1["digest"] == sha256(root / "dist/charts/demo-0.1.0.tgz")
    assert v1["urls"] == ["https://charts.example.test/demo/demo-0.1.0.tgz"]

    again = invoke(root, "helm.index")
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stdout

    demo_chart(root, "0.2.0")
    assert invoke(root, "helm.build").returncode == 0
    second = invoke(root, "helm.index", "--url", "https://charts.example.test/demo")
    assert second.returncode == 0, second.stderr
    both = _entries(out / "index.yaml")
    assert sorted(both) == ["0.1.0", "0.2.0"]
    assert both["0.1.0"] == v1  # the earlier entry, its created time included, is kept as it was
    assert both["0.2.0"]["digest"] == sha256(root / "dist/charts/demo-0.2.0.tgz")

    before = (out / "index.yaml").read_bytes()
    demo_chart(root, "0.2.0", greeting="changed")
    assert invoke(root, "helm.build").returncode == 0
    refused = invoke(root, "helm.index")
    one_error_line(refused, "demo 0.2.0 is already in the index with digest sha256:" + both["0.2.0"]["digest"])
    assert refused.returncode == 1
    assert f"sha256:{sha256(root / 'dist/charts/demo-0.2.0.tgz')}" in refused.stderr
    assert "index.yaml was not changed" in refused.stderr
    assert (out / "index.yaml").read_bytes() == before


def test_merge_from_a_file_and_the_output_is_deterministic(tmp_path: Path, helm_bin: Path) -> None:
    root = demo_repo(tmp_path / "repo")
    assert invoke(root, "helm.build").returncode == 0
    assert invoke(root, "helm.index", "--out", "published").returncode == 0
    demo_chart(root, "0.2.0")
    assert invoke(root, "helm.build").returncode == 0
    texts = []
    for out in ("a", "b"):
        r = invoke(root, "helm.index", "--merge", "published/index.yaml", "--out", out)
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (root / out).iterdir()) == ["demo-0.2.0.tgz", "index.yaml"]
        texts.append((root / out / "index.yaml").read_text())
    assert _without_times(texts[0]) == _without_times(texts[1])
    assert sorted(_entries(root / "a" / "index.yaml")) == ["0.1.0", "0.2.0"]
    assert _entries(root / "a" / "index.yaml")["0.1.0"] == _entries(root / "published" / "index.yaml")["0.1.0"]

    missing = invoke(root, "helm.index", "--merge", "nowhere/index.yaml")
    one_error_line(missing, "--merge nowhere/index.yaml: no such file")


def test_served_index_works_for_helm_repo_add_pull_and_template(tmp_path: Path, helm_bin: Path) -> None:
    root = demo_repo(tmp_path / "repo")
    port = free_port()
    url = f"http://127.0.0.1:{port}/charts"
    served = tmp_path / "site"
    for version in ("0.1.0", "0.2.0"):
        demo_chart(root, version, greeting=f"hello {version}")
        assert invoke(root, "helm.build").returncode == 0
        r = invoke(root, "helm.index", "--url", url, "--out", str(served / "charts"))
        assert r.returncode == 0, r.stderr
    env = helm_repo_env(tmp_path / "helm")
    (tmp_path / "pulled").mkdir()
    with serve(served, port):
        remote = invoke(root, "helm.index", "--merge", url, "--out", "from-url", "--json")
        assert remote.returncode == 0, remote.stderr
        assert json.loads(remote.stdout)["files"] == ["index.yaml"]  # 0.2.0 is in it already: only the index
        assert helm(helm_bin, env, "repo", "add", "ours", url).returncode == 0
        listed = helm(helm_bin, env, "search", "repo", "ours/demo", "--versions", "--output", "json")
        assert sorted(e["version"] for e in json.loads(listed.stdout)) == ["0.1.0", "0.2.0"]
        pulled = helm(helm_bin, env, "pull", "ours/demo", "--version", "0.1.0", "--destination", str(tmp_path / "pulled"))
        assert pulled.returncode == 0, pulled.stderr
        rendered = helm(helm_bin, env, "template", "rel", "ours/demo")  # no --version: the highest one
        assert rendered.returncode == 0, rendered.stderr
        missing = invoke(root, "helm.index", "--merge", f"http://127.0.0.1:{port}/nothing/")
    assert (root / "from-url/index.yaml").read_text() == (served / "charts/index.yaml").read_text()
    assert (tmp_path / "pulled/demo-0.1.0.tgz").read_bytes() == (served / "charts/demo-0.1.0.tgz").read_bytes()
    assert 'greeting: "hello 0.2.0"' in rendered.stdout
    one_error_line(missing, "the server answered 404")
