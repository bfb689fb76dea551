"""helm.install --verify with throwaway gpg keys, real helm (HELM_BIN: 3 or 4) and the real docker-registry:
the published chart is pulled with --verify first; unsigned or tampered is one line and nothing is installed.
The install itself runs against a kwok cluster where one can start (skipped with the reason elsewhere)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartship.tools import kwok
from tests.helpers.chartrepo import PASSPHRASE, SIGNER, demo_repo, gpg_keys, tamper
from tests.helpers.pipeline import one_error_line
from tests.helpers.registry import Registry, StartRegistry, invoke

SIGN = {"CHARTSHIP_SIGN_PASSPHRASE": PASSPHRASE}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    with gpg_keys(tmp_path_factory.mktemp("keys")) as pair:
        yield pair


@pytest.fixture
def project(tmp_path: Path, registries: StartRegistry, keys: tuple[Path, Path]) -> tuple[Path, Registry]:
    reg = registries(None)
    secret, public = keys
    config = (f"  default_target: reg\n  targets:\n    reg:\n      url: oci://{reg.host}/charts\n      plain_http: true\n"
              f"  signing:\n    key: {SIGNER}\n    keyring: {secret}\n    verify_keyring: {public}\n")
    return demo_repo(tmp_path / "repo", config), reg


def _install(root: Path, env: dict[str, str] | None = None, *extra: str) -> subprocess.CompletedProcess[str]:
    return invoke(root, "helm.install", "--source", "oci", "--version", "0.1.0", "--verify", *extra,
                  env={"KUBECONFIG": str(root / "no-kubeconfig"), **(env or {})})


def test_unsigned_chart_is_refused_before_anything_is_installed(project: tuple[Path, Registry]) -> None:
    root, _reg = project
    assert invoke(root, "helm.build").returncode == 0
    assert invoke(root, "helm.push").returncode == 0
    refused = _install(root)
    one_error_line(refused, "verification of oci://")
    assert refused.returncode == 2
    assert "unsigned, tampered with or signed by a key not in the keyring" in refused.stderr
    assert "cluster" not in refused.stderr.lower()  # it stopped at the verification, before helm upgrade


def test_tampered_chart_is_refused_and_a_signed_one_gets_past_verification(project: tuple[Path, Registry],
                                                                            tmp_path: Path, helm_bin: Path) -> None:
    root, reg = project
    assert invoke(root, "helm.build", "--sign", env=SIGN).returncode == 0
    assert invoke(root, "helm.push").returncode == 0
    signed = _install(root)
    # verification passed: what fails now is reaching the (absent) cluster, in the release step
    one_error_line(signed, "demo (demo 0.1.0) in namespace default")
    assert "verification" not in signed.stderr

    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("demo-0.1.0.tgz", "demo-0.1.0.tgz.prov"):
        (bad / name).write_bytes((root / "dist/charts" / name).read_bytes())
    tamper(bad / "demo-0.1.0.tgz", lambda _data: b"greeting: tampered\n")
    pushed = subprocess.run([str(helm_bin), "push", str(bad / "demo-0.1.0.tgz"), f"oci://{reg.host}/tampered",
                             "--plain-http"], capture_output=True, text=True, check=False, timeout=120)
    assert pushed.returncode == 0, pushed.stderr
    (root / "invoke.yaml").write_text((root / "invoke.yaml").read_text().replace("/charts\n", "/tampered\n"))
    tampered = _install(root)
    one_error_line(tampered, "verification of oci://")
    assert "cluster" not in tampered.stderr.lower()


def test_verify_needs_a_published_chart_and_a_keyring(project: tuple[Path, Registry]) -> None:
    root, _reg = project
    local = invoke(root, "helm.install", "--verify")
    one_error_line(local, "--verify checks the provenance of a published chart: add --source oci")
    (root / "invoke.yaml").write_text("\n".join(ln for ln in (root / "invoke.yaml").read_text().splitlines()
                                                if "verify_keyring" not in ln) + "\n")
    no_ring = invoke(root, "helm.install", "--source", "oci", "--verify")
    one_error_line(no_ring, "--verify needs a public keyring")


def test_verified_install_into_a_kwok_cluster(project: tuple[Path, Registry], kwok_cluster: kwok.Cluster) -> None:
    root, _reg = project
    env = {"KUBECONFIG": str(kwok_cluster.kubeconfig)}
    assert invoke(root, "helm.build", "--sign", env=SIGN).returncode == 0
    assert invoke(root, "helm.push").returncode == 0
    installed = _install(root, env, "--release", "verified", "--kube-context", kwok_cluster.context)
    assert installed.returncode == 0, installed.stderr
    assert "verified: demo 0.1.0 deployed" in installed.stdout
    status = invoke(root, "helm.status", "--release", "verified", "--kube-context", kwok_cluster.context, env=env)
    assert status.returncode == 0 and "deployed" in status.stdout
