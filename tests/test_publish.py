"""helm.push / helm.deploy / helm.resolve / helm.notes against a real docker-registry."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from chartship.tools import registry_server
from tests.adversarial import faultproxy as fp
from tests.helpers.registry import Registry, invoke, make_dist, make_project

PASSWORD = "s3cr3t-Passw0rd"
CREDS = {"CHARTSHIP_REGISTRY_USERNAME": "alice", "CHARTSHIP_REGISTRY_PASSWORD": PASSWORD}
HELMS = ("helm3", "helm4")


def target(host: str, auth: str = "basic") -> str:
    return f"    local:\n      url: oci://127.0.0.1:1/unused\n      plain_http: true\n" \
           f"    reg:\n      url: oci://{host}/charts\n      auth: {auth}\n      plain_http: true\n"


@pytest.fixture
def project(tmp_path: Path, project_root: Path, auth_registry: Registry, helm_bin: Path) -> Path:
    root = make_project(tmp_path, project_root, target(auth_registry.host), default="reg")
    make_dist(root, helm_bin)
    return root


def results(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    data = json.loads(proc.stdout)
    return {str(r["ref"]).rsplit(":", 1)[1]: r for r in data["results"]}


def helm_pull(project_root: Path, helm: str, ref: str, version: str, dest: Path, creds: bool = True) -> Path:
    cfg = dest / f"{helm}-config.json"
    binary = str(project_root / ".tools" / "bin" / helm)
    env = {**os.environ, "HELM_REGISTRY_CONFIG": str(cfg)}
    host = ref.removeprefix("oci://").split("/")[0]
    if creds:
        flag = ["--plain-http"] if helm == "helm4" else ["--insecure"]
        subprocess.run([binary, "registry", "login", host, "-u", "alice", "--password-stdin", *flag],
                       input=PASSWORD, text=True, env=env, check=True, capture_output=True)
    out = dest / helm
    out.mkdir(parents=True)
    subprocess.run([binary, "pull", ref, "--version", version, "--plain-http", "-d", str(out)], env=env, check=True,
                   capture_output=True)
    return next(out.glob("*.tgz"))


def test_push_then_pull_with_helm3_and_helm4(project: Path, project_root: Path, auth_registry: Registry,
                                              tmp_path: Path) -> None:
    proc = invoke(project, "helm.push", "--latest", "--json", env=CREDS)
    assert proc.returncode == 0, proc.stderr
    res = results(proc)
    assert res["0.1.0"]["status"] == "pushed" and res["latest"]["status"] == "aliased"
    assert res["0.1.0"]["digest"] == res["latest"]["digest"]
    local = hashlib.sha256(next((project / "dist/charts").glob("demo-release-*.tgz")).read_bytes()).hexdigest()
    for helm in HELMS:
        pulled = helm_pull(project_root, helm, f"oci://{auth_registry.host}/charts/demo", "0.1.0", tmp_path / "pull")
        assert hashlib.sha256(pulled.read_bytes()).hexdigest() == local
    resolved = invoke(project, "helm.resolve", f"oci://{auth_registry.host}/charts/demo", "latest", "--target", "reg",
                      env=CREDS)
    assert resolved.stdout == "0.1.0\n", resolved.stderr
    missing = invoke(project, "helm.resolve", f"oci://{auth_registry.host}/charts/demo", "stable", "--target", "reg",
                     env=CREDS)
    assert missing.returncode != 0 and "demo:stable does not exist" in missing.stderr


def test_rerun_uploads_nothing_and_says_up_to_date(project: Path, auth_registry: Registry) -> None:
    assert invoke(project, "helm.push", "--latest", env=CREDS).returncode == 0
    uploads = auth_registry.uploads()
    assert uploads >= 2  # config + chart layer
    again = invoke(project, "helm.push", "--latest", env=CREDS)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout and "already published" in again.stdout
    assert auth_registry.uploads() == uploads


def test_changed_content_is_refused_unless_force(project: Path, auth_registry: Registry, helm_bin: Path,
                                                 tmp_path: Path) -> None:
    first = results(invoke(project, "helm.push", "--latest", "--json", env=CREDS))
    make_dist(project, helm_bin, description="changed without a version bump")
    refused = invoke(project, "helm.push", "--latest", "--json", env=CREDS)
    assert refused.returncode == 1
    res = results(refused)
    assert res["0.1.0"]["status"] == "refused" and "bump the version" in str(res["0.1.0"]["message"])
    assert "latest" not in res  # latest is not even attempted
    resolved = invoke(project, "helm.resolve", f"oci://{auth_registry.host}/charts/demo", "latest", "--target", "reg",
                      env=CREDS)
    assert resolved.stdout == "0.1.0\n"
    forced = results(invoke(project, "helm.push", "--latest", "--force", "--json", env=CREDS))
    assert forced["0.1.0"]["status"] == "pushed" and forced["latest"]["status"] == "aliased"
    assert forced["latest"]["digest"] != first["latest"]["digest"]


def test_dry_run_pushes_nothing(project: Path, auth_registry: Registry) -> None:
    proc = invoke(project, "helm.push", "--latest", "--dry-run", "--json", env=CREDS)
    assert proc.returncode == 0, proc.stderr
    res = results(proc)
    assert res["0.1.0"]["status"] == "planned" and res["latest"]["status"] == "planned"
    assert auth_registry.uploads() == 0


def test_wrong_password_fails_cleanly(project: Path, auth_registry: Registry) -> None:
    proc = invoke(project, "helm.push", "--latest", env={**CREDS, "CHARTSHIP_REGISTRY_PASSWORD": "wrong-password"})
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "wrong-password" not in proc.stderr + proc.stdout
    assert "login" in proc.stderr and "401" in proc.stderr
    assert auth_registry.uploads() == 0
    missing = invoke(project, "helm.push", env={})
    assert missing.returncode != 0 and "set CHARTSHIP_REGISTRY_USERNAME and CHARTSHIP_REGISTRY_PASSWORD" in missing.stderr


def test_no_credential_reaches_argv(project: Path, tmp_path: Path, helm_bin: Path) -> None:
    log = tmp_path / "argv.log"
    shim = tmp_path / "helm-shim"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {helm_bin} "$@"\n')
    shim.chmod(0o755)
    proc = invoke(project, "helm.push", "--latest", env={**CREDS, "HELM_BIN": str(shim)})
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text()
    assert "registry login" in calls and "push" in calls
    assert PASSWORD not in calls
    assert PASSWORD not in proc.stdout + proc.stderr


@pytest.mark.parametrize("status", [500, 429])
def test_transient_errors_are_retried(project: Path, auth_registry: Registry, status: int) -> None:
    failures = {"left": 2}

    def fault(seen: fp.Seen) -> fp.Action | None:
        if "/manifests/" in seen.path and failures["left"] > 0:
            failures["left"] -= 1
            return fp.status(status, "0" if status == 429 else None)
        return None

    proxy = fp.FaultProxy(auth_registry.host, fault)
    try:
        (project / "invoke.yaml").write_text(f"chartship:\n  default_target: reg\n  targets:\n{target(proxy.host)}")
        proc = invoke(project, "helm.push", "--latest", "--json", env=CREDS)
        assert proc.returncode == 0, proc.stderr
        assert {r["status"] for r in results(proc).values()} == {"pushed", "aliased"}
        assert [s for _m, _p, s in proxy.log].count(status) == 2
    finally:
        proxy.close()


def test_persistent_500_fails_and_latest_never_moves(project: Path, auth_registry: Registry,
                                                     helm_bin: Path) -> None:
    assert invoke(project, "helm.push", "--latest", env=CREDS).returncode == 0
    make_dist(project, helm_bin, version="0.2.0")
    (project / "version").write_text("0.2.0\n")

    proxy = fp.FaultProxy(auth_registry.host, fp.when("PUT", "/manifests/", fp.status(500)))
    try:
        (project / "invoke.yaml").write_text(f"chartship:\n  default_target: reg\n  targets:\n{target(proxy.host)}")
        proc = invoke(project, "helm.push", "--latest", "--json", env=CREDS)
        assert proc.returncode == 1
        res = results(proc)
        assert res["0.2.0"]["status"] == "failed" and "latest" not in res
        assert [s for m, _p, s in proxy.log if m == "PUT"].count(500) >= 3  # retried, bounded
    finally:
        proxy.close()
    (project / "invoke.yaml").write_text(f"chartship:\n  default_target: reg\n  targets:\n{target(auth_registry.host)}")
    latest = invoke(project, "helm.resolve", f"oci://{auth_registry.host}/charts/demo", "latest", "--target", "reg", env=CREDS)
    assert latest.stdout == "0.1.0\n"


def test_registry_killed_mid_push_then_rerun_converges(project: Path, auth_registry: Registry) -> None:
    killed = {"done": False}

    def kill() -> None:
        killed["done"] = True
        registry_server.kill(auth_registry.state)

    proxy = fp.FaultProxy(auth_registry.host, fp.when("PUT", "/manifests/", fp.call(kill), times=1))
    try:
        (project / "invoke.yaml").write_text(f"chartship:\n  default_target: reg\n  targets:\n{target(proxy.host)}")
        proc = invoke(project, "helm.push", "--latest", "--json", env=CREDS)
        assert proc.returncode != 0
        assert "latest" not in proc.stdout or results(proc).get("latest", {}).get("status") != "aliased"
        auth_registry.restart()
        again = invoke(project, "helm.push", "--latest", "--json", env=CREDS)
        assert again.returncode == 0, again.stderr
        res = results(again)
        assert res["0.1.0"]["status"] in ("pushed", "skipped") and res["latest"]["status"] == "aliased"
        third = results(invoke(project, "helm.push", "--latest", "--json", env=CREDS))
        assert {r["status"] for r in third.values()} == {"skipped"}
    finally:
        proxy.close()


def test_release_notes(project: Path, auth_registry: Registry) -> None:
    assert invoke(project, "helm.push", "--latest", env=CREDS).returncode == 0
    proc = invoke(project, "helm.notes", env=CREDS)
    assert proc.returncode == 0, proc.stderr
    notes = (project / "dist" / "RELEASE_NOTES.md").read_text()
    assert f"oci://{auth_registry.host}/charts/demo:0.1.0" in notes
    assert "- Digest: `sha256:" in notes
    assert f"helm install demo oci://{auth_registry.host}/charts/demo --version 0.1.0 --plain-http" in notes
    assert f"helm pull oci://{auth_registry.host}/charts/demo --version 0.1.0" in notes


def test_registry_override_from_environment(project: Path, auth_registry: Registry) -> None:
    env = {**CREDS, "CHARTSHIP_REGISTRY": f"oci://{auth_registry.host}/other", "CHARTSHIP_REGISTRY_AUTH": "basic",
           "CHARTSHIP_PLAIN_HTTP": "1"}
    proc = invoke(project, "helm.push", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert results(proc)["0.1.0"]["ref"] == f"oci://{auth_registry.host}/other/demo:0.1.0"
    bad = invoke(project, "helm.push", env={**env, "CHARTSHIP_REGISTRY_AUTH": "token"})
    assert bad.returncode != 0 and "CHARTSHIP_REGISTRY_AUTH: expected one of none, basic, ecr" in bad.stderr


def test_missing_dist_is_a_clear_error(tmp_path: Path, project_root: Path) -> None:
    root = make_project(tmp_path, project_root, target("127.0.0.1:1"), default="reg")
    proc = invoke(root, "helm.push")
    assert proc.returncode != 0 and "run `invoke helm.build` first" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.needs_registry  # registry.up starts it
def test_local_registry_tasks(tmp_path: Path, project_root: Path) -> None:
    from tests.helpers import free_port

    port = free_port()
    root = make_project(tmp_path, project_root, f"    local:\n      url: oci://127.0.0.1:{port}/charts\n      plain_http: true\n")
    try:
        assert f"local registry: free: nothing listens on port {port}" in invoke(root, "registry.status").stdout
        up = invoke(root, "registry.up")
        assert up.returncode == 0 and f"running at http://127.0.0.1:{port} (ours" in up.stdout
        assert (root / ".cache/registry/data").is_dir()
        status = json.loads(invoke(root, "registry.status", "--json").stdout)
        assert status["running"] and status["answering"] and status["owner"] == "ours"
        assert invoke(root, "registry.up").returncode == 0  # idempotent
    finally:
        down = invoke(root, "registry.down")
    assert "stopped" in down.stdout
    assert not registry_server.answering("127.0.0.1", port)


def test_pull_resolves_latest(project: Path, auth_registry: Registry) -> None:
    assert invoke(project, "helm.push", "--latest", env=CREDS).returncode == 0
    proc = invoke(project, "helm.pull", f"oci://{auth_registry.host}/charts/demo", "latest", "--target", "reg",
                  "--destination", "out", env=CREDS)
    assert proc.returncode == 0, proc.stderr
    assert "latest -> 0.1.0" in proc.stderr and proc.stdout.strip() == "out/demo-0.1.0.tgz"
    local = next((project / "dist/charts").glob("demo-release-*.tgz")).read_bytes()
    assert (project / "out/demo-0.1.0.tgz").read_bytes() == local
    exact = invoke(project, "helm.pull", f"oci://{auth_registry.host}/charts/demo", "0.1.0", "--target", "reg",
                   "--destination", "out2", env=CREDS)
    assert exact.returncode == 0 and "->" not in exact.stderr
