"""Credentials by host: helm.resolve and helm.pull use the configured target whose host is the
reference's (no --target needed) against a real docker-registry with htpasswd auth; a 401/403 names
the target and the variables it reads, and whether they are set -- never their values."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chartship import config
from chartship.registry import credentials
from tests.helpers.registry import Registry, StartRegistry, invoke, make_dist, make_project

PASSWORD = "s3cr3t-Passw0rd"
CREDS = {"CHARTSHIP_REGISTRY_USERNAME": "alice", "CHARTSHIP_REGISTRY_PASSWORD": PASSWORD}
WRONG = {**CREDS, "CHARTSHIP_REGISTRY_PASSWORD": "not-" + PASSWORD}


def _targets(host: str, auth: str = "basic") -> str:
    return (f"    local:\n      url: oci://127.0.0.1:1/unused\n      plain_http: true\n"
            f"    reg:\n      url: oci://{host}/charts\n      auth: {auth}\n      plain_http: true\n")


@pytest.fixture(scope="module")
def pushed_once(tmp_path_factory: pytest.TempPathFactory, project_root: Path, module_registries: StartRegistry,
                helm_bin: Path) -> tuple[Path, Registry]:
    """demo 0.1.0 and latest pushed once for the module to a registry with auth; its tests only read from it."""
    reg = module_registries({"alice": PASSWORD})
    root = make_project(tmp_path_factory.mktemp("published"), project_root, _targets(reg.host), default="reg")
    make_dist(root, helm_bin)
    pushed = invoke(root, "helm.push", "--latest", env=CREDS)
    assert pushed.returncode == 0, pushed.stderr
    (root / "invoke.yaml").write_text(  # the default target is no longer the registry: only its host says which
        f"chartship:\n  default_target: local\n  targets:\n{_targets(reg.host)}")
    return root, reg


@pytest.fixture
def auth_registry(pushed_once: tuple[Path, Registry]) -> Registry:
    """The module's registry (alice / PASSWORD), holding what ``pushed_once`` pushed."""
    return pushed_once[1]


@pytest.fixture
def published(pushed_once: tuple[Path, Registry], tmp_path: Path) -> Path:
    """A copy of the project that pushed, for this test alone (tests write invoke.yaml and out/)."""
    return Path(shutil.copytree(pushed_once[0], tmp_path / "repo", symlinks=True))


def _one_line(result: object, *needles: str) -> str:
    out = result.stdout + result.stderr  # type: ignore[attr-defined]
    assert result.returncode != 0, out  # type: ignore[attr-defined]
    assert "Traceback" not in out and PASSWORD not in out
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]  # type: ignore[attr-defined]
    assert len(errors) == 1, out
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def test_resolve_and_pull_use_the_target_of_the_host(published: Path, auth_registry: Registry) -> None:
    ref = f"oci://{auth_registry.host}/charts/demo"
    resolved = invoke(published, "helm.resolve", ref, "latest", env=CREDS)
    assert resolved.returncode == 0 and resolved.stdout == "0.1.0\n", resolved.stderr
    pulled = invoke(published, "helm.pull", ref, "latest", "--destination", "out", env=CREDS)
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.strip() == "out/demo-0.1.0.tgz" and (published / "out" / "demo-0.1.0.tgz").is_file()


@pytest.mark.parametrize("task", ["helm.resolve", "helm.pull"])
def test_a_rejected_login_names_the_target_and_its_variables(published: Path, auth_registry: Registry,
                                                            task: str) -> None:
    ref = f"oci://{auth_registry.host}/charts/demo"
    args = (ref, "latest") if task == "helm.resolve" else (ref, "0.1.0", "--destination", "out")
    line = _one_line(invoke(published, task, *args, env=WRONG), "401", "target 'reg' (auth: basic) reads "
                     "CHARTSHIP_REGISTRY_USERNAME (set) and CHARTSHIP_REGISTRY_PASSWORD (set)", "check their values")
    assert WRONG["CHARTSHIP_REGISTRY_PASSWORD"] not in line
    assert not (published / "out").exists() or not list((published / "out").glob("*.tgz"))


def test_missing_variables_are_named(published: Path, auth_registry: Registry) -> None:
    only_user = {"CHARTSHIP_REGISTRY_USERNAME": "alice"}
    _one_line(invoke(published, "helm.resolve", f"oci://{auth_registry.host}/charts/demo", "latest", env=only_user),
              "target 'reg'", "needs a login: set CHARTSHIP_REGISTRY_USERNAME and CHARTSHIP_REGISTRY_PASSWORD")


def test_auth_none_and_no_target_say_the_request_was_anonymous(published: Path, auth_registry: Registry) -> None:
    ref = f"oci://{auth_registry.host}/charts/demo"
    (published / "invoke.yaml").write_text(
        f"chartship:\n  default_target: local\n  targets:\n{_targets(auth_registry.host, 'none')}")
    _one_line(invoke(published, "helm.resolve", ref, "latest", env=CREDS), "401", "target 'reg' has auth: none, so "
              "the request went without credentials", "auth: basic")
    (published / "invoke.yaml").write_text("chartship:\n  default_target: local\n")
    line = _one_line(invoke(published, "helm.pull", ref, "0.1.0", env=CREDS), "helm pull",
                     f"no target in invoke.yaml has the host {auth_registry.host}", "pass --target")
    assert "CHARTSHIP_REGISTRY_USERNAME (set)" not in line  # it was not read: no target asked for it


def test_the_longest_matching_path_wins(tmp_path: Path) -> None:
    (tmp_path / "invoke.yaml").write_text(
        "chartship:\n  default_target: a\n  targets:\n"
        "    a:\n      url: oci://reg.test:5000/charts\n      auth: none\n"
        "    b:\n      url: oci://reg.test:5000/charts/team\n      auth: basic\n"
        "    c:\n      url: oci://other.test/charts\n      auth: basic\n")
    cfg = config.load(tmp_path, environ={})
    assert credentials.matching_target(cfg, "reg.test:5000", "charts/team/web").name == "b"  # type: ignore[union-attr]
    assert credentials.matching_target(cfg, "reg.test:5000", "charts/web").name == "a"  # type: ignore[union-attr]
    assert credentials.matching_target(cfg, "reg.test:5000", "elsewhere/web").name == "a"  # type: ignore[union-attr]
    assert credentials.matching_target(cfg, "reg.test", "charts/web") is None  # host:port is matched exactly
    hint = credentials.auth_hint(cfg.targets["b"], "reg.test:5000", {"CHARTSHIP_REGISTRY_USERNAME": "u"})
    assert "CHARTSHIP_REGISTRY_USERNAME (set) and CHARTSHIP_REGISTRY_PASSWORD (not set)" in hint and "u" not in hint.split()
