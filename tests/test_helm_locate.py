from __future__ import annotations

from pathlib import Path

import pytest

from chartship.errors import ToolError
from chartship.tools import helm


def fake_helm(path: Path, version: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def test_precedence_helm_bin_then_tools_then_path(tmp_path: Path) -> None:
    on_path = fake_helm(tmp_path / "path" / "helm", "v3.9.0")
    tools = fake_helm(tmp_path / "repo" / ".tools" / "bin" / "helm", "v4.0.0")
    explicit = fake_helm(tmp_path / "explicit", "v3.10.0")
    env = {"PATH": str(on_path.parent), "HELM_BIN": str(explicit)}
    assert helm.locate(tmp_path / "repo", env) == (explicit, "HELM_BIN")
    env["HELM_BIN"] = ""
    assert helm.locate(tmp_path / "repo", env) == (tools, ".tools/bin")
    tools.unlink()
    assert helm.locate(tmp_path / "repo", env) == (on_path, "PATH")
    assert helm.locate(tmp_path / "repo", {"PATH": str(tmp_path / "empty")}) == (None, "not found")


@pytest.mark.parametrize(("version", "ok"), [("v3.7.3", False), ("v2.17.0", False), ("v3.8.0", True), ("v4.3.1", True)])
def test_minimum_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str, ok: bool) -> None:
    monkeypatch.setenv("HELM_BIN", str(fake_helm(tmp_path / "helm", version)))
    helm.find.cache_clear()
    try:
        if ok:
            assert helm.find(tmp_path).version == version
        else:
            with pytest.raises(ToolError, match=rf"is helm {version}; chartship needs helm >= 3.8"):
                helm.find(tmp_path)
    finally:
        helm.find.cache_clear()


def test_missing_helm_bin_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELM_BIN", str(tmp_path / "nope"))
    helm.find.cache_clear()
    with pytest.raises(ToolError, match=r"HELM_BIN=.*nope: no such file"):
        helm.find(tmp_path)
    helm.find.cache_clear()


def test_real_helm(helm_bin: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HELM_BIN", str(helm_bin))
    helm.find.cache_clear()
    found = helm.find(tmp_path)
    helm.find.cache_clear()
    assert found.major in (3, 4)
    assert found.version.startswith(("v3.17.", "v4.3."))
