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
    assert helm.find_path(tmp_path / "repo", env) == (explicit, "HELM_BIN")
    env["HELM_BIN"] = ""
    assert helm.find_path(tmp_path / "repo", env) == (tools, ".tools/bin")
    tools.unlink()
    assert helm.find_path(tmp_path / "repo", env) == (on_path, "PATH")
    assert helm.find_path(tmp_path / "repo", {"PATH": str(tmp_path / "empty")}) == (None, "not found")


@pytest.mark.parametrize(("version", "ok"), [("v3.7.3", False), ("v2.17.0", False), ("v3.8.0", True), ("v4.3.1", True)])
def test_minimum_version(tmp_path: Path, version: str, ok: bool) -> None:
    env = {"HELM_BIN": str(fake_helm(tmp_path / "helm", version))}
    if ok:
        assert helm.Helm.locate(tmp_path, env).version == version
    else:
        with pytest.raises(ToolError, match=rf"is helm {version}; chartship needs helm >= 3.8"):
            helm.Helm.locate(tmp_path, env)


def test_missing_helm_bin_is_named(tmp_path: Path) -> None:
    with pytest.raises(helm.HelmNotFound, match=r"HELM_BIN=.*nope: no such file"):
        helm.Helm.locate(tmp_path, {"HELM_BIN": str(tmp_path / "nope")})


def test_each_config_locates_its_own_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No cache outlives a run: a new configuration sees a changed HELM_BIN, one configuration locates once."""
    from chartship import config

    monkeypatch.setenv("HELM_BIN", str(fake_helm(tmp_path / "a" / "helm", "v3.9.0")))
    first = config.load(tmp_path)
    assert first.helm.version == "v3.9.0"
    monkeypatch.setenv("HELM_BIN", str(fake_helm(tmp_path / "b" / "helm", "v4.3.1")))
    assert first.helm.version == "v3.9.0" and first.helm is first.helm
    assert config.load(tmp_path).helm.version == "v4.3.1"


def test_real_helm(helm_bin: Path, tmp_path: Path) -> None:
    found = helm.Helm.locate(tmp_path, {"HELM_BIN": str(helm_bin)})
    assert found.major in (3, 4)
    assert found.version.startswith(("v3.17.", "v4.3."))
    assert found.dry_run_flag == "--dry-run=client"
