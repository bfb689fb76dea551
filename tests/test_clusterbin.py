"""The cluster-binary lock, the wrapper modules, the cache key and the warm path."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from chartship import proc
from chartship.errors import ToolError
from chartship.tools import clusterbin
from tests.helpers import run_invoke

GO = clusterbin.GoEnv(path="/nonexistent/go", version="1.26.8", goos="linux", goarch="amd64")


@pytest.fixture
def repo(tmp_path: Path, project_root: Path) -> Path:
    """A repository (for .tools/cluster) holding a copy of the packaged lock and wrapper modules in data/."""
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    shutil.copy2(clusterbin.LOCK_FILE, _lock(root))
    shutil.copytree(clusterbin.LOCK_FILE.parent / "cluster", root / "data" / "cluster")
    return root


def _lock(repo: Path) -> Path:
    return repo / "data" / clusterbin.LOCK_FILE.name


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_lock_pins_every_component_and_agrees_with_the_committed_modules(project_root: Path) -> None:
    pins = clusterbin.read_lock()
    assert set(pins) == {"kubernetes", "etcd", "kwok"}
    for pin in pins.values():
        text = clusterbin.check_module(pin)
        assert f"{clusterbin.COMPONENTS[pin.name].upstream} v{pin.version}" in text
        assert (pin.module / "go.sum").stat().st_size > 0


def test_kubernetes_module_replaces_every_staging_module_with_its_published_version(project_root: Path) -> None:
    pin = clusterbin.read_lock()["kubernetes"]
    text = (pin.module / "go.mod").read_text()
    minor, patch = pin.version.split(".")[1:]
    replaces = [ln.split() for ln in text.splitlines() if "=>" in ln]
    assert len(replaces) >= 30
    assert all(r[0] == r[2] and r[3] == f"v0.{minor}.{patch}" for r in replaces), replaces


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('version = "1.36.3"', 'version = "1.36.2"', "requires k8s.io/kubernetes v1.36.3, "),
        ('version = "3.6.8"', 'version = "3.6"', "[etcd] version must be X.Y.Z"),
        ('module = "cluster/kwok"', 'module = "../kwok"', "[kwok] module must be a folder beside the lock file"),
        ("[kwok]", "[kwokk]", "missing table [kwok]"),
        ("[kwok]", "[kwok", "invalid TOML"),
    ],
)
def test_bad_lock_is_refused_with_one_line(repo: Path, old: str, new: str, message: str) -> None:
    _edit(_lock(repo), old, new)
    with pytest.raises(ToolError) as err:
        for pin in clusterbin.read_lock(_lock(repo)).values():
            clusterbin.check_module(pin)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    if "requires" in message:
        assert str(err.value).endswith("data/cluster.lock.toml pins v1.36.2; make them agree")


def test_a_staging_replace_at_another_version_is_refused(repo: Path) -> None:
    _edit(repo / "data/cluster/kube/go.mod", "=> k8s.io/client-go v0.36.3", "=> k8s.io/client-go v0.36.2")
    with pytest.raises(ToolError, match="replace k8s.io/client-go => k8s.io/client-go v0.36.2 should be"):
        clusterbin.check_module(clusterbin.read_lock(_lock(repo))["kubernetes"])


def test_missing_go_sum_is_refused(repo: Path) -> None:
    (repo / "data/cluster/etcd/go.sum").unlink()
    with pytest.raises(ToolError, match=r"data/cluster/etcd/go.sum: not found; run `go mod tidy`"):
        clusterbin.check_module(clusterbin.read_lock(_lock(repo))["etcd"])


def test_cache_key_names_versions_and_changes_with_every_input(repo: Path) -> None:
    pin = clusterbin.read_lock(_lock(repo))["etcd"]
    key = clusterbin.cache_key(pin, GO)
    assert key.startswith("etcd-3.6.8-go1.26.8-")
    assert clusterbin.cache_key(pin, GO) == key
    other_go = clusterbin.GoEnv(GO.path, "1.26.9", GO.goos, GO.goarch)
    assert clusterbin.cache_key(pin, other_go) != key
    assert clusterbin.cache_key(pin, clusterbin.GoEnv(GO.path, GO.version, GO.goos, "arm64")) != key
    (repo / "data/cluster/etcd/go.sum").write_text((repo / "data/cluster/etcd/go.sum").read_text() + "\n")
    changed_sum = clusterbin.cache_key(pin, GO)
    assert changed_sum != key
    (repo / "data/cluster/etcd/main.go").write_text((repo / "data/cluster/etcd/main.go").read_text() + "// x\n")
    assert clusterbin.cache_key(pin, GO) != changed_sum


def test_cache_key_path_does_not_depend_on_the_checkout_location(repo: Path, project_root: Path) -> None:
    for name in ("kubernetes", "etcd", "kwok"):
        here = clusterbin.read_lock()[name]
        there = clusterbin.read_lock(_lock(repo))[name]
        assert clusterbin.cache_key(here, GO) == clusterbin.cache_key(there, GO)


def test_version_ldflags_stamp_component_base_and_client_go() -> None:
    flags = clusterbin.ldflags(clusterbin.COMPONENTS["kubernetes"], "1.36.3")
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {pkg}.gitVersion=v1.36.3" in flags
        assert f"-X {pkg}.gitMajor=1" in flags
        assert f"-X {pkg}.gitMinor=36" in flags
    assert clusterbin.ldflags(clusterbin.COMPONENTS["etcd"], "3.6.8") == "-s -w"


@pytest.mark.parametrize(
    ("flag", "env", "expected"),
    [(None, {}, "build"), (None, {"CHARTSHIP_CLUSTER_BINARIES": "download"}, "download"),
     ("build", {"CHARTSHIP_CLUSTER_BINARIES": "download"}, "build"), ("download", {}, "download")],
)
def test_binaries_mode_precedence(flag: str | None, env: dict[str, str], expected: str) -> None:
    assert clusterbin.binaries_mode(flag, env) == expected


def test_binaries_mode_rejects_unknown_values() -> None:
    with pytest.raises(ToolError, match="CHARTSHIP_CLUSTER_BINARIES='fetch': expected one of build, download"):
        clusterbin.binaries_mode(None, {"CHARTSHIP_CLUSTER_BINARIES": "fetch"})
    with pytest.raises(ToolError, match="--binaries='x'"):
        clusterbin.binaries_mode("x", {})


def test_go_older_than_the_module_needs_is_refused(repo: Path, tmp_path: Path) -> None:
    old = clusterbin.GoEnv(GO.path, "1.25.3", GO.goos, GO.goarch)
    with pytest.raises(ToolError, match=r"go.mod needs go 1.26.0, /nonexistent/go is go1.25.3"):
        clusterbin.ensure(clusterbin.read_lock(_lock(repo))["kwok"], old, tmp_path / "cache", 1, print)


def _fake_cached(cache: Path, repo: Path, name: str) -> Path:
    pin = clusterbin.read_lock(_lock(repo))[name]
    final = cache / clusterbin.cache_key(pin, GO)
    final.mkdir(parents=True)
    for binary in clusterbin.COMPONENTS[name].binaries:
        (final / binary).write_text("#!/bin/sh\n")
        (final / binary).chmod(0o755)
    (final / "manifest.json").write_text("{}")
    return final


def test_a_cached_build_is_reused_without_running_go(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Sequence[str]] = []

    def recording(argv: Sequence[str], cwd: Path | None, env: Mapping[str, str] | None, stdin: str | None,
                  timeout: float | None) -> proc.Result:
        calls.append(argv)
        return proc.Result(tuple(argv), 1, "", "must not run")

    monkeypatch.setattr(proc, "runner", recording)
    cache = tmp_path / "cache"
    final = _fake_cached(cache, repo, "kwok")
    built = clusterbin.ensure(clusterbin.read_lock(_lock(repo))["kwok"], GO, cache, 2, print)
    assert (built.how, built.directory) == ("cache", final)
    assert calls == []


def test_locate_names_the_install_command_until_built_then_finds_links(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"kwok is not built, .* pins 0.8.0; run `chartship tools.install --cluster`"):
        clusterbin.locate(repo, "download", _lock(repo))
    cache = tmp_path / "cache"
    built = [clusterbin.Built(n, clusterbin.read_lock(_lock(repo))[n].version, _fake_cached(cache, repo, n), "cache")
             for n in ("kubernetes", "etcd", "kwok")]
    clusterbin._link(repo, built[2:])
    assert set(clusterbin.locate(repo, "download", _lock(repo))) == {"kwok", "kwokctl"}
    with pytest.raises(ToolError, match="kubernetes is not built"):
        clusterbin.locate(repo, "build", _lock(repo))
    clusterbin._link(repo, built[:2])
    found = clusterbin.locate(repo, "build", _lock(repo))
    assert found["kube-apiserver"] == built[0].directory / "kube-apiserver"
    versions = json.loads((repo / clusterbin.TOOLS_DIR / "versions.json").read_text())
    assert versions == {n: p.version for n, p in clusterbin.read_lock(_lock(repo)).items()}
    _edit(_lock(repo), 'version = "0.8.0"', 'version = "0.8.1"')
    with pytest.raises(ToolError, match=r"kwok 0.8.0 is built, .*data/cluster.lock.toml pins 0.8.1"):
        clusterbin.locate(repo, "build", _lock(repo))
    shutil.rmtree(built[1].directory)
    _edit(_lock(repo), 'version = "0.8.1"', 'version = "0.8.0"')
    with pytest.raises(ToolError, match=r"\.tools/cluster/etcd: missing \(cache cleared\?\)"):
        clusterbin.locate(repo, "build", _lock(repo))


def _invoke(root: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_invoke(root, *args, env=env, timeout=900)


def test_install_task_rejects_an_unknown_binaries_mode(project_root: Path) -> None:
    result = _invoke(project_root, "tools.install", "--cluster", "--binaries", "fetch", "--only", "kubectl")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "error: --binaries='fetch': expected one of build, download"


def test_warm_install_rebuilds_nothing(project_root: Path) -> None:
    try:
        clusterbin.locate(project_root, "build")
    except ToolError as exc:
        pytest.skip(f"cluster binaries not built ({exc})")
    started = time.monotonic()
    result = _invoke(project_root, "tools.install", "--cluster", "--only", "kubectl")
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    for pin in clusterbin.read_lock().values():
        assert f"{pin.name} {pin.version}: cache" in result.stdout
    assert seconds < 60
