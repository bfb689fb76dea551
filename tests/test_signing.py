"""Signed charts with real gpg (throwaway keys in a private GNUPGHOME), real helm (HELM_BIN: 3 or 4)
and the real docker-registry: signed build -> push (provenance in the OCI manifest) -> verified pull;
a tampered or unsigned package and a foreign key fail with one line; the passphrase never shows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from chartship import proc, settings
from chartship.build import sign
from chartship.build.package import Entry, sha256
from chartship.tools import registry_server
from tests.helpers.chartrepo import tamper
from tests.helpers.registry import Registry, free_port, invoke

PASSPHRASE = "correct-horse-battery-staple-42"
SIGNER = "Chart Signer <signer@example.com>"
OTHER = "Someone Else <other@example.com>"


def _gpg(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", *args],
                          input=stdin.encode() if stdin is not None else None, capture_output=True, check=True, timeout=120)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Two RSA keys (helm's OpenPGP reader wants RSA) exported as helm keyring files."""
    if not shutil.which("gpg"):
        pytest.fail("gpg not found: install Debian's gnupg (ci/bootstrap does)")
    base = tmp_path_factory.mktemp("gpg")
    home = base / "home"
    home.mkdir(mode=0o700)
    out: dict[str, Path] = {}
    try:
        for name, uid in (("signer", SIGNER), ("other", OTHER)):
            _gpg(home, "--passphrase-fd", "0", "--quick-gen-key", uid, "rsa2048", "sign", "never", stdin=PASSPHRASE)
            secret = _gpg(home, "--passphrase-fd", "0", "--export-secret-keys", uid, stdin=PASSPHRASE).stdout
            public = _gpg(home, "--export", uid).stdout
            (base / f"{name}-secring.gpg").write_bytes(secret)
            (base / f"{name}-pubring.gpg").write_bytes(public)
            out[f"{name}_secret"], out[f"{name}_public"] = base / f"{name}-secring.gpg", base / f"{name}-pubring.gpg"
        yield out
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False)


@pytest.fixture
def project(tmp_path: Path, project_root: Path, keys: dict[str, Path]) -> Iterator[tuple[Path, Registry]]:
    """The redis chart in a temp git repo whose local target is a registry on a free port."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("tasks.py", "version", "tag-templates", ".yamllint.yaml"):
        src = project_root / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / name)
    shutil.copytree(project_root / "charts" / "redis", root / "charts" / "redis")
    port = free_port()
    (root / "invoke.yaml").write_text(
        "chartship:\n  charts:\n    settings:\n      redis:\n        app_version: pinned\n"
        "  targets:\n    local:\n"
        f"      url: oci://127.0.0.1:{port}/charts\n      plain_http: true\n"
        f"  signing:\n    key: {SIGNER}\n    keyring: {keys['signer_secret']}\n"
        f"    verify_keyring: {keys['signer_public']}\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(root)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    state = root / ".cache" / "registry"
    yield root, Registry(f"127.0.0.1:{port}", state, port, None)
    registry_server.stop(state)


def _no_secret(*results: subprocess.CompletedProcess[str]) -> None:
    for r in results:
        assert PASSPHRASE not in r.stdout + r.stderr
        assert "Traceback" not in r.stderr


def test_signed_push_then_verified_pull(project: tuple[Path, Registry], keys: dict[str, Path]) -> None:
    root, reg = project
    env = {"CHARTSHIP_SIGN_PASSPHRASE": PASSPHRASE}
    built = invoke(root, "helm.build", "--sign", env=env)
    assert built.returncode == 0, built.stderr
    dist = root / "dist" / "charts"
    prov = dist / "redis-0.1.0.tgz.prov"
    assert prov.is_file()
    text = prov.read_text()
    assert text.startswith("-----BEGIN PGP SIGNED MESSAGE-----")
    assert f"redis-0.1.0.tgz: sha256:{sha256(dist / 'redis-0.1.0.tgz')}" in text
    assert f"{sha256(prov)}  redis-0.1.0.tgz.prov" in (dist / "SHA256SUMS").read_text()

    pushed = invoke(root, "helm.push", "--json")
    assert pushed.returncode == 0, pushed.stderr
    assert [r["status"] for r in json.loads(pushed.stdout)["results"]] == ["pushed"]
    manifest = json.loads(subprocess.run(
        ["curl", "-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
         f"http://{reg.host}/v2/charts/redis/manifests/0.1.0"], capture_output=True, text=True, check=True).stdout)
    assert "application/vnd.cncf.helm.chart.provenance.v1.prov" in [layer["mediaType"] for layer in manifest["layers"]]

    ref = f"oci://{reg.host}/charts/redis"
    verified = invoke(root, "helm.verify", ref, "0.1.0")
    assert verified.returncode == 0, verified.stderr
    assert "signed by a key in" in verified.stdout
    pulled = invoke(root, "helm.pull", ref, "0.1.0", "--verify", "--destination", "dist/pulled")
    assert pulled.returncode == 0, pulled.stderr
    assert (root / "dist/pulled/redis-0.1.0.tgz").read_bytes() == (dist / "redis-0.1.0.tgz").read_bytes()

    foreign = invoke(root, "helm.verify", ref, "0.1.0", "--keyring", str(keys["other_public"]))
    assert foreign.returncode == 2
    assert foreign.stderr.count("\n") == 1 and foreign.stderr.startswith("error: verification of")
    _no_secret(built, pushed, verified, pulled, foreign)


def test_tampered_and_unsigned_packages_fail_with_one_line(project: tuple[Path, Registry]) -> None:
    root, _reg = project
    built = invoke(root, "helm.build", "--sign", env={"CHARTSHIP_SIGN_PASSPHRASE": PASSPHRASE})
    assert built.returncode == 0, built.stderr
    package = root / "dist/charts/redis-0.1.0.tgz"
    good = invoke(root, "helm.verify-package", "dist/charts/redis-0.1.0.tgz")
    assert good.returncode == 0, good.stderr
    assert "Chart Hash Verified" in good.stdout
    tamper(package, lambda data: data.replace(b"maxmemory: 200mb", b"maxmemory: 900mb"))
    bad = invoke(root, "helm.verify-package", "dist/charts/redis-0.1.0.tgz")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "redis-0.1.0.tgz: verification failed" in bad.stderr
    (root / "dist/charts/redis-0.1.0.tgz.prov").unlink()
    unsigned = invoke(root, "helm.verify-package", "dist/charts/redis-0.1.0.tgz")
    assert unsigned.returncode == 2 and unsigned.stderr.count("\n") == 1
    assert "unsigned" in unsigned.stderr
    _no_secret(built, good, bad, unsigned)


def test_wrong_passphrase_is_one_line_and_writes_nothing(project: tuple[Path, Registry]) -> None:
    root, _reg = project
    wrong = "not-the-passphrase-at-all"
    result = invoke(root, "helm.build", "--sign", env={"CHARTSHIP_SIGN_PASSPHRASE": wrong})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "wrong passphrase" in result.stderr, result.stderr
    assert wrong not in result.stdout + result.stderr
    assert not (root / "dist" / "charts").exists()


def test_sign_without_a_key_name_says_which_setting(project: tuple[Path, Registry]) -> None:
    root, _reg = project
    (root / "invoke.yaml").write_text((root / "invoke.yaml").read_text().replace(f"    key: {SIGNER}\n", ""))
    result = invoke(root, "helm.build", "--sign")
    assert result.returncode == 2
    assert result.stderr == "error: --sign needs a key name: set signing.key in invoke.yaml or CHARTSHIP_SIGN_KEY (or --key)\n"


def test_the_passphrase_reaches_gpg_on_stdin_only(tmp_path: Path, keys: dict[str, Path],
                                                  monkeypatch: pytest.MonkeyPatch, project_root: Path,
                                                  helm_bin: Path) -> None:
    seen: list[tuple[Sequence[str], str | None]] = []
    real = proc.runner

    def recording(argv: Sequence[str], cwd: Path | None, env: Mapping[str, str] | None, stdin: str | None,
                  timeout: float | None) -> proc.Result:
        seen.append((list(argv), stdin))
        return real(argv, cwd, env, stdin, timeout)

    subprocess.run([str(helm_bin), "package", str(project_root / "charts/redis"), "-d", str(tmp_path)], check=True,
                   capture_output=True)
    monkeypatch.setattr(proc, "runner", recording)
    signing = settings.Signing(SIGNER, str(keys["signer_secret"]), "", "")
    entry = Entry("redis-0.1.0.tgz", "redis", "0.1.0", "0.1.0", "version", "", "")
    made = sign.sign_all(tmp_path, [entry], signing, {"CHARTSHIP_SIGN_PASSPHRASE": PASSPHRASE})
    assert [name for name, _sha in made] == ["redis-0.1.0.tgz.prov"]
    assert any(stdin == PASSPHRASE + "\n" for _argv, stdin in seen)
    assert all(PASSPHRASE not in " ".join(argv) for argv, _stdin in seen)
    assert all(os.path.basename(argv[0]) in ("gpg", "gpgconf") for argv, _stdin in seen)
    verified = subprocess.run([str(helm_bin), "verify", str(tmp_path / "redis-0.1.0.tgz"), "--keyring",
                               str(keys["signer_public"])], capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stderr
