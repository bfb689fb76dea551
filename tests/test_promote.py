"""helm.promote between two real docker-registry processes (no auth / basic auth, two accounts, the
same registry, a proxy that lets another writer in) and into ECR through moto."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartship.publish import aliases, tagsafe
from chartship.registry import oci
from chartship.tools import registry_server
from chartship.version import semver
from tests.adversarial import faultproxy as fp
from tests.helpers.registry import Registry, invoke, make_dist, make_project, start_registry
from tests.test_publish_ecr import REGION, ecr, env, moto  # noqa: F401 - fixtures

ALICE = {"CHARTSHIP_REGISTRY_USERNAME": "alice", "CHARTSHIP_REGISTRY_PASSWORD": "s3cr3t-Passw0rd"}


def registry_in(folder: Path, users: dict[str, str] | None = None) -> Registry:
    folder.mkdir(parents=True)
    return start_registry(folder, users)


@pytest.fixture
def staging(tmp_path: Path) -> Iterator[Registry]:
    reg = registry_in(tmp_path / "staging")
    yield reg
    registry_server.stop(reg.state)


@pytest.fixture
def prod(tmp_path: Path) -> Iterator[Registry]:
    reg = registry_in(tmp_path / "prod", {"alice": ALICE["CHARTSHIP_REGISTRY_PASSWORD"]})
    yield reg
    registry_server.stop(reg.state)


def targets(**urls: str) -> str:
    text = "    local:\n      url: oci://127.0.0.1:1/unused\n      plain_http: true\n"
    for name, spec in urls.items():
        url, _, auth = spec.partition(" ")
        text += f"    {name}:\n      url: {url}\n      auth: {auth or 'none'}\n      plain_http: true\n"
    return text


def project(tmp_path: Path, project_root: Path, **urls: str) -> Path:
    return make_project(tmp_path, project_root, targets(**urls), default="staging")


def publish(root: Path, helm_bin: Path, version: str = "0.1.0", chart: str = "demo", target: str = "staging",
            description: str = "demo", env: dict[str, str] | None = None) -> None:
    """helm.push one chart version to ``target`` (the version file follows)."""
    (root / "version").write_text(f"{version}\n")
    make_dist(root, helm_bin, chart=chart, version=version, description=description)
    proc = invoke(root, "helm.push", "--target", target, "--chart", chart, env=env)
    assert proc.returncode == 0, proc.stderr


def results(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    return {str(r["ref"]).rsplit(":", 1)[1] + ("@" + str(r["chart"])): r for r in json.loads(proc.stdout)["results"]}


def manifest(host: str, repo: str, tag: str, creds: dict[str, str] | None = None) -> oci.Manifest | None:
    user, password = (creds["CHARTSHIP_REGISTRY_USERNAME"], creds["CHARTSHIP_REGISTRY_PASSWORD"]) if creds else (None, None)
    return oci.Client(host, plain_http=True, username=user, password=password).manifest(repo, tag)


def test_promote_copies_the_exact_manifest_and_converges(tmp_path: Path, project_root: Path, staging: Registry,
                                                         prod: Registry, helm_bin: Path) -> None:
    root = project(tmp_path, project_root, staging=f"oci://{staging.host}/charts", prod=f"oci://{prod.host}/charts basic")
    publish(root, helm_bin)
    src = manifest(staging.host, "charts/demo", "0.1.0")
    assert src is not None and manifest(prod.host, "charts/demo", "0.1.0", ALICE) is None
    proc = invoke(root, "helm.promote", "demo", "0.1.0", "--from", "staging", "--to", "prod", "--json", env=ALICE)
    assert proc.returncode == 0, proc.stderr
    res = results(proc)["0.1.0@demo"]
    assert res["status"] == "promoted" and res["digest"] == src.digest
    assert f"from oci://{staging.host}/charts/demo:0.1.0: 2 blob(s) copied" in str(res["message"])
    dst = manifest(prod.host, "charts/demo", "0.1.0", ALICE)
    assert dst is not None and dst.raw == src.raw and dst.digest == src.digest
    client = oci.Client(prod.host, plain_http=True, username="alice", password=ALICE["CHARTSHIP_REGISTRY_PASSWORD"])
    pkg = (root / "dist/charts/demo-release-0.1.0.tgz").read_bytes()
    assert client.blob("charts/demo", str(dst.layer_digest())) == pkg  # the chart bytes that were tested
    uploads = prod.uploads()
    again = invoke(root, "helm.promote", "demo", "0.1.0", "--from", "staging", "--to", "prod", env=ALICE)
    assert again.returncode == 0, again.stderr
    assert "already promoted" in again.stdout and "up to date" in again.stdout
    assert prod.uploads() == uploads
    assert ALICE["CHARTSHIP_REGISTRY_PASSWORD"] not in proc.stdout + proc.stderr + again.stdout + again.stderr
    notes = invoke(root, "helm.notes", "--target", "prod", "--version", "0.1.0", "--chart", "demo", env=ALICE)
    assert notes.returncode == 0, notes.stderr
    text = (root / "dist/RELEASE_NOTES.md").read_text()
    assert f"`oci://{prod.host}/charts/demo:0.1.0`" in text and f"- Digest: `{src.digest}`" in text
    assert f"helm install demo oci://{prod.host}/charts/demo --version 0.1.0 --plain-http" in text
    assert "- Alias tags: none point at this digest" in text


def test_promote_refuses_a_destination_tag_with_other_content(tmp_path: Path, project_root: Path, staging: Registry,
                                                              prod: Registry, helm_bin: Path) -> None:
    root = project(tmp_path, project_root, staging=f"oci://{staging.host}/charts", prod=f"oci://{prod.host}/charts basic")
    publish(root, helm_bin, target="prod", description="built elsewhere", env=ALICE)
    publish(root, helm_bin)
    before = manifest(prod.host, "charts/demo", "0.1.0", ALICE)
    src = manifest(staging.host, "charts/demo", "0.1.0")
    assert before is not None and src is not None and before.digest != src.digest
    proc = invoke(root, "helm.promote", "demo", "0.1.0", "--from", "staging", "--to", "prod", "--json", env=ALICE)
    assert proc.returncode == 1
    res = results(proc)["0.1.0@demo"]
    assert res["status"] == "refused"
    assert before.digest in str(res["message"]) and src.digest in str(res["message"])
    after = manifest(prod.host, "charts/demo", "0.1.0", ALICE)
    assert after is not None and after.digest == before.digest


def test_promote_between_two_basic_auth_accounts(tmp_path: Path, project_root: Path, prod: Registry,
                                                 helm_bin: Path) -> None:
    other = registry_in(tmp_path / "other", {"bob": "b0b-Password"})
    try:
        root = project(tmp_path, project_root, staging=f"oci://{other.host}/team/charts basic",
                       prod=f"oci://{prod.host}/charts basic")
        bob = {"CHARTSHIP_REGISTRY_USERNAME": "bob", "CHARTSHIP_REGISTRY_PASSWORD": "b0b-Password"}
        publish(root, helm_bin, env=bob)
        creds = {"CHARTSHIP_REGISTRY_USERNAME_STAGING": "bob", "CHARTSHIP_REGISTRY_PASSWORD_STAGING": "b0b-Password",
                 "CHARTSHIP_REGISTRY_USERNAME_PROD": "alice",
                 "CHARTSHIP_REGISTRY_PASSWORD_PROD": ALICE["CHARTSHIP_REGISTRY_PASSWORD"]}
        only_alice = invoke(root, "helm.promote", "demo", "0.1.0", "--from", "staging", "--to", "prod", env=ALICE)
        assert only_alice.returncode == 1 and "401 Unauthorized for team/charts/demo" in only_alice.stdout
        proc = invoke(root, "helm.promote", "demo", "0.1.0", "--from", "staging", "--to", "prod", "--json", env=creds)
        assert proc.returncode == 0, proc.stderr
        src = manifest(other.host, "team/charts/demo", "0.1.0", bob)
        dst = manifest(prod.host, "charts/demo", "0.1.0", ALICE)
        assert src is not None and dst is not None and src.raw == dst.raw
        assert "b0b-Password" not in proc.stdout + proc.stderr + only_alice.stdout + only_alice.stderr
    finally:
        registry_server.stop(other.state)


def test_promote_within_one_registry_mounts_the_blobs(tmp_path: Path, project_root: Path, staging: Registry,
                                                      helm_bin: Path) -> None:
    root = project(tmp_path, project_root, staging=f"oci://{staging.host}/staging", prod=f"oci://{staging.host}/prod")
    publish(root, helm_bin)
    proc = invoke(root, "helm.promote", "demo", "0.1.0", "--from", "staging", "--to", "prod", "--json")
    assert proc.returncode == 0, proc.stderr
    res = results(proc)["0.1.0@demo"]
    assert res["status"] == "promoted" and str(res["message"]).endswith(": 2 mounted")
    log = (staging.state / "registry.log").read_text()
    assert "mount=sha256" in log and '"PUT /v2/prod/demo/blobs/uploads/' not in log
    src, dst = manifest(staging.host, "staging/demo", "0.1.0"), manifest(staging.host, "prod/demo", "0.1.0")
    assert src is not None and dst is not None and src.raw == dst.raw


def test_promote_dry_run_copies_nothing(tmp_path: Path, project_root: Path, staging: Registry, prod: Registry,
                                        helm_bin: Path) -> None:
    root = project(tmp_path, project_root, staging=f"oci://{staging.host}/charts", prod=f"oci://{prod.host}/charts basic")
    publish(root, helm_bin)
    proc = invoke(root, "helm.promote", "demo", "0.1.0", "--from", "staging", "--to", "prod", "--dry-run", "--latest",
                  env=ALICE)
    assert proc.returncode == 0, proc.stderr
    assert "would copy 2 of 2 blob(s)" in proc.stdout and "would point latest at 0.1.0" in proc.stdout
    client = oci.Client(prod.host, plain_http=True, username="alice", password=ALICE["CHARTSHIP_REGISTRY_PASSWORD"])
    assert client.tags("charts/demo") == [] and prod.uploads() == 0


def test_promote_fails_clearly_when_the_source_has_no_such_version(tmp_path: Path, project_root: Path,
                                                                   staging: Registry, prod: Registry,
                                                                   helm_bin: Path) -> None:
    root = project(tmp_path, project_root, staging=f"oci://{staging.host}/charts", prod=f"oci://{prod.host}/charts basic")
    publish(root, helm_bin)
    proc = invoke(root, "helm.promote", "demo", "0.9.0", "--from", "staging", "--to", "prod", env=ALICE)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"oci://{staging.host}/charts/demo:0.9.0 does not exist" in proc.stdout
    bad = invoke(root, "helm.promote", "demo", "not-a-version", "--from", "staging", "--to", "prod", env=ALICE)
    assert bad.returncode == 2 and bad.stderr.startswith("error: VERSION") and "Traceback" not in bad.stderr


def test_latest_moves_forward_only_and_never_to_a_prerelease_unless_configured(tmp_path: Path, project_root: Path,
                                                                                staging: Registry, prod: Registry,
                                                                                helm_bin: Path) -> None:
    root = project(tmp_path, project_root, staging=f"oci://{staging.host}/charts", prod=f"oci://{prod.host}/charts basic")
    for version in ("0.1.0", "0.2.0", "0.3.0-rc.1"):
        publish(root, helm_bin, version=version)

    def promote(version: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return invoke(root, "helm.promote", "demo", version, "--from", "staging", "--to", "prod", "--latest", "--json",
                      env={**ALICE, **(env or {})})

    first = promote("0.2.0")
    assert first.returncode == 0, first.stderr
    assert results(first)["latest@demo"]["status"] == "aliased"
    at_020 = manifest(prod.host, "charts/demo", "latest", ALICE)
    assert at_020 is not None and at_020.digest == results(first)["0.2.0@demo"]["digest"]
    older = promote("0.1.0")
    assert older.returncode == 1
    assert results(older)["0.1.0@demo"]["status"] == "promoted"
    assert results(older)["latest@demo"]["status"] == "refused"
    assert "latest points at 0.2.0, newer than 0.1.0" in str(results(older)["latest@demo"]["message"])
    pre = promote("0.3.0-rc.1")
    assert pre.returncode == 1 and "is a prerelease and never moves latest" in str(results(pre)["latest@demo"]["message"])
    latest = manifest(prod.host, "charts/demo", "latest", ALICE)
    assert latest is not None and latest.digest == at_020.digest
    allowed = promote("0.3.0-rc.1", {"CHARTSHIP_LATEST_PRERELEASES": "1"})
    assert allowed.returncode == 0, allowed.stdout
    assert results(allowed)["0.3.0-rc.1@demo"]["status"] == "skipped"
    assert results(allowed)["latest@demo"]["status"] == "aliased"


def test_promote_all_copies_every_chart_of_the_current_version(tmp_path: Path, project_root: Path, staging: Registry,
                                                                prod: Registry, helm_bin: Path) -> None:
    root = project(tmp_path, project_root, staging=f"oci://{staging.host}/charts", prod=f"oci://{prod.host}/charts basic")
    publish(root, helm_bin, chart="demo")
    publish(root, helm_bin, chart="web")
    proc = invoke(root, "helm.promote-all", "--from", "staging", "--to", "prod", "--json", env=ALICE)
    assert proc.returncode == 0, proc.stderr
    res = results(proc)
    assert {k: v["status"] for k, v in res.items()} == {"0.1.0@demo": "promoted", "0.1.0@web": "promoted"}
    for chart in ("demo", "web"):
        src, dst = manifest(staging.host, f"charts/{chart}", "0.1.0"), manifest(prod.host, f"charts/{chart}", "0.1.0", ALICE)
        assert src is not None and dst is not None and src.digest == dst.digest


def test_read_back_names_both_digests_when_another_writer_wins(tmp_path: Path, project_root: Path, staging: Registry,
                                                                prod: Registry, helm_bin: Path) -> None:
    root = project(tmp_path, project_root, staging=f"oci://{staging.host}/charts", prod=f"oci://{prod.host}/charts basic")
    publish(root, helm_bin, version="0.2.0", target="prod", description="someone else's", env=ALICE)
    intruder = manifest(prod.host, "charts/demo", "0.2.0", ALICE)
    assert intruder is not None
    publish(root, helm_bin)
    state = {"put": False, "done": False}

    def other_writer() -> None:
        oci.Client(prod.host, plain_http=True, username="alice",
                   password=ALICE["CHARTSHIP_REGISTRY_PASSWORD"]).put_manifest("charts/demo", "0.1.0", intruder)

    def fault(seen: fp.Seen) -> fp.Action | None:
        if seen.method == "PUT" and seen.path.endswith("/manifests/0.1.0"):
            state["put"] = True
        elif seen.method == "GET" and seen.path.endswith("/manifests/0.1.0") and state["put"] and not state["done"]:
            state["done"] = True
            return fp.call(other_writer)  # the other writer gets in between our write and our read-back
        return None

    proxy = fp.FaultProxy(prod.host, fault)
    try:
        (root / "invoke.yaml").write_text((root / "invoke.yaml").read_text().replace(prod.host, proxy.host))
        proc = invoke(root, "helm.promote", "demo", "0.1.0", "--from", "staging", "--to", "prod", "--json", env=ALICE)
    finally:
        proxy.close()
    assert state["done"]
    assert proc.returncode == 1
    res = results(proc)["0.1.0@demo"]
    src = manifest(staging.host, "charts/demo", "0.1.0")
    assert src is not None and res["status"] == "failed"
    assert f"written as {src.digest} but reads back as {intruder.digest}" in str(res["message"])
    assert "another writer changed it" in str(res["message"])


def test_promote_from_basic_auth_into_ecr(tmp_path: Path, project_root: Path, prod: Registry, moto: str,  # noqa: F811
                                          ecr: object, helm_bin: Path) -> None:  # noqa: F811
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]  # type: ignore[attr-defined]
    user, _, password = base64.b64decode(token).decode().partition(":")
    ecr_reg = registry_in(tmp_path / "ecr", {user: password})
    try:
        root = project(tmp_path, project_root, staging=f"oci://{prod.host}/charts basic")
        (root / "invoke.yaml").write_text((root / "invoke.yaml").read_text() + (
            f"    ecr:\n      url: oci://{ecr_reg.host}/scispace\n      auth: ecr\n      region: {REGION}\n"
            "      plain_http: true\n      create_repository: true\n"))
        publish(root, helm_bin, env=ALICE)
        proc = invoke(root, "helm.promote", "demo", "0.1.0", "--from", "staging", "--to", "ecr", "--latest", "--json",
                      env={**ALICE, **env(moto)})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        res = results(proc)
        assert res["0.1.0@demo"]["status"] == "promoted" and res["latest@demo"]["status"] == "aliased"
        repos = ecr.describe_repositories()["repositories"]  # type: ignore[attr-defined]
        assert [r["repositoryName"] for r in repos] == ["scispace/demo"]
        src = manifest(prod.host, "charts/demo", "0.1.0", ALICE)
        dst = oci.Client(ecr_reg.host, plain_http=True, username=user, password=password).manifest("scispace/demo", "0.1.0")
        assert src is not None and dst is not None and dst.raw == src.raw
        assert hashlib.sha256(dst.raw).hexdigest() == src.digest.removeprefix("sha256:")
        assert password not in proc.stdout + proc.stderr
        assert ALICE["CHARTSHIP_REGISTRY_PASSWORD"] not in proc.stdout + proc.stderr
    finally:
        registry_server.stop(ecr_reg.state)


@pytest.mark.parametrize(("new", "current", "is_latest", "allow", "refused"), [
    ("1.2.0", None, True, False, None),
    ("1.2.0", "1.1.0", True, False, None),
    ("1.2.0", "1.2.0", True, False, None),
    ("1.1.0", "1.2.0", True, False, "newer than 1.1.0"),
    ("1.2.0-rc.1", "1.1.0", True, False, "is a prerelease"),
    ("1.2.0-rc.1", "1.1.0", True, True, None),
    ("1.2.0-rc.1", "1.2.0", True, True, "newer than 1.2.0-rc.1"),
    ("0.1.0-main.43", "0.1.0-main.42", False, False, None),
    ("0.1.0-main.9", "0.1.0-main.10", False, False, "newer than 0.1.0-main.9"),
])
def test_alias_rules(new: str, current: str | None, is_latest: bool, allow: bool, refused: str | None) -> None:
    reason = aliases.refusal(tagsafe.FORWARD, "alias", semver.parse(current) if current else None, semver.parse(new),
                             prereleases=allow or not is_latest)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


def test_promote_carries_the_provenance_and_helm_verifies_it(tmp_path: Path, project_root: Path, staging: Registry,
                                                             helm_bin: Path) -> None:
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    try:
        sign_and_push(gnupg, tmp_path, staging, helm_bin)
    finally:  # gpg started an agent for this home; stop it
        subprocess.run(["gpgconf", "--homedir", str(gnupg), "--kill", "gpg-agent"], check=False, capture_output=True)
    prod_open = registry_in(tmp_path / "prod-open")
    try:
        root = project(tmp_path, project_root, staging=f"oci://{staging.host}/charts", prod=f"oci://{prod_open.host}/charts")
        proc = invoke(root, "helm.promote", "demo", "0.1.0", "--from", "staging", "--to", "prod", "--json")
        assert proc.returncode == 0, proc.stderr
        res = results(proc)["0.1.0@demo"]
        assert res["status"] == "promoted" and str(res["message"]).endswith("3 blob(s) copied ("
                                                                          f"{_sizes(prod_open.host)} bytes), with provenance")
        dst = manifest(prod_open.host, "charts/demo", "0.1.0")
        assert dst is not None
        prov = oci.Client(prod_open.host, plain_http=True).blob("charts/demo", str(dst.layer_digest(oci.PROVENANCE_TYPE)))
        assert prov == (tmp_path / "out" / "demo-0.1.0.tgz.prov").read_bytes()
        (tmp_path / "pulled").mkdir()
        pulled = subprocess.run([str(helm_bin), "pull", f"oci://{prod_open.host}/charts/demo", "--version", "0.1.0",
                                 "--plain-http", "--verify", "--keyring", str(tmp_path / "pubring.gpg"),
                                 "-d", str(tmp_path / "pulled")], capture_output=True, text=True, check=False)
        assert pulled.returncode == 0, pulled.stderr
        assert "Chart Signer" in pulled.stdout + pulled.stderr
    finally:
        registry_server.stop(prod_open.state)


def _sizes(host: str) -> int:
    m = manifest(host, "charts/demo", "0.1.0")
    assert m is not None
    return int(m.data["config"]["size"]) + sum(int(layer["size"]) for layer in m.data["layers"])


def sign_and_push(gnupg: Path, tmp_path: Path, staging: Registry, helm_bin: Path) -> None:
    """A throwaway RSA key, a signed package (.tgz + .prov) and helm push of both to staging."""
    gpg = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--homedir", str(gnupg)]
    subprocess.run([*gpg, "--quick-gen-key", "Chart Signer <signer@example.com>", "rsa2048", "sign", "never"],
                   check=True, capture_output=True)
    (tmp_path / "secring.gpg").write_bytes(subprocess.run([*gpg, "--export-secret-keys"], check=True,
                                                          capture_output=True).stdout)
    (tmp_path / "pubring.gpg").write_bytes(subprocess.run([*gpg, "--export"], check=True, capture_output=True).stdout)
    subprocess.run([str(helm_bin), "create", str(tmp_path / "demo")], check=True, capture_output=True)
    subprocess.run([str(helm_bin), "package", "--sign", "--key", "Chart Signer", "--keyring", str(tmp_path / "secring.gpg"),
                    str(tmp_path / "demo"), "-d", str(tmp_path / "out")], check=True, capture_output=True)
    subprocess.run([str(helm_bin), "push", str(tmp_path / "out" / "demo-0.1.0.tgz"), f"oci://{staging.host}/charts",
                    "--plain-http"], check=True, capture_output=True)
