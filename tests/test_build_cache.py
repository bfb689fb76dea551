"""helm.build reuses dist/charts when no input changed, and rebuilds when one did."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import ROOT
from tests.helpers.pipeline import commit, invoke, new_repo, scaffold


def build(root: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    proc = invoke(root, "helm.build", "--json", *args, env=env)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_unchanged_inputs_are_not_rebuilt(tmp_path: Path, helm_bin: Path) -> None:
    root = new_repo(tmp_path / "repo")
    scaffold(root, helm_bin, "web")
    scaffold(root, helm_bin, "api")
    commit(root, "charts")
    first = build(root, "--latest")
    assert first["reused"] is False and len(first["packages"]) == 4  # type: ignore[arg-type]
    log = tmp_path / "helm-calls.log"
    shim = tmp_path / "helm"
    shim.write_text(f'#!/bin/sh\necho "$1" >> {log}\nexec {helm_bin} "$@"\n')
    shim.chmod(0o755)
    second = build(root, "--latest", env={"HELM_BIN": str(shim)})
    assert second["reused"] is True and second["packages"] == first["packages"]
    assert set(log.read_text().split()) == {"version"}  # no lint, no package, no dependency build
    # a changed template, a different flag or a damaged package each mean a rebuild
    values = root / "charts/web/values.yaml"
    values.write_text(values.read_text().replace("replicaCount: 1", "replicaCount: 2"))
    assert build(root, "--latest")["reused"] is False
    assert build(root)["reused"] is False  # no --latest: other files
    assert build(root, "--no-lint")["reused"] is True  # linted before: still fine without lint
    package = root / "dist/charts/api-0.1.0.tgz"
    package.write_bytes(package.read_bytes() + b"x")
    rebuilt = build(root)
    assert rebuilt["reused"] is False
    sums = (root / "dist/charts/SHA256SUMS").read_text()
    assert all(e["sha256"] in sums for e in rebuilt["packages"])  # type: ignore[attr-defined]


def test_unlinted_build_is_linted_when_lint_is_wanted(tmp_path: Path, helm_bin: Path) -> None:
    root = new_repo(tmp_path / "repo")
    scaffold(root, helm_bin, "web")
    commit(root, "charts")
    assert build(root, "--no-lint")["reused"] is False
    assert build(root)["reused"] is False
    assert build(root)["reused"] is True


def test_the_helm_version_is_taken_from_the_record_only_for_the_same_binary(tmp_path: Path, helm_bin: Path) -> None:
    """The key's helm version comes from dist/.charts-inputs.json while HELM_BIN is the very binary that reported
    it; a binary replaced in place (same path, another helm) is asked again and means a rebuild."""
    import shutil

    from chartship.tools.helm import binary_version

    helm3, helm4 = (helm_bin.parent / "helm3").resolve(), (helm_bin.parent / "helm4").resolve()
    if not (helm3.is_file() and helm4.is_file()):
        helm3, helm4 = (ROOT / ".tools/bin/helm3").resolve(), (ROOT / ".tools/bin/helm4").resolve()
    root = new_repo(tmp_path / "repo")
    scaffold(root, helm_bin, "web")
    commit(root, "chart")
    mine = tmp_path / "bin" / "helm"
    mine.parent.mkdir()
    shutil.copy2(helm4, mine)
    env = {"HELM_BIN": str(mine)}
    assert build(root, "--no-lint", env=env)["reused"] is False
    recorded = json.loads((root / "dist/.charts-inputs.json").read_text())["helm"]
    assert recorded["version"] == binary_version(helm4) and recorded["binary"][0] == str(mine)
    assert build(root, "--no-lint", env=env)["reused"] is True
    shutil.copy2(helm3, mine)  # same path, another helm: its inode or times differ
    assert build(root, "--no-lint", env=env)["reused"] is False
    assert json.loads((root / "dist/.charts-inputs.json").read_text())["helm"]["version"] == binary_version(helm3)
    assert build(root, "--no-lint", env=env)["reused"] is True
