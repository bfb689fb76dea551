"""The ECR flow end to end: moto server for the ECR API, and a docker-registry whose
htpasswd holds the `AWS:<token>` pair moto hands out."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.helpers import free_port
from tests.helpers.registry import Registry, StartRegistry, invoke, make_dist, make_project

REGION = "us-east-1"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}


@pytest.fixture
def moto(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "moto.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("moto_server did not start")
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture
def ecr(moto: str, monkeypatch: pytest.MonkeyPatch) -> object:
    for k, v in {**AWS_ENV, "AWS_ENDPOINT_URL_ECR": moto}.items():
        monkeypatch.setenv(k, v)
    return boto3.client("ecr", region_name=REGION, endpoint_url=moto)


@pytest.fixture
def ecr_registry(ecr: object, registries: StartRegistry) -> Registry:
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]  # type: ignore[attr-defined]
    user, _, password = base64.b64decode(token).decode().partition(":")
    return registries({user: password})


def ecr_project(tmp_path: Path, project_root: Path, host: str, create: bool) -> Path:
    targets = (f"    ecr:\n      url: oci://{host}/scispace\n      auth: ecr\n      region: {REGION}\n"
               f"      plain_http: true\n      create_repository: {'true' if create else 'false'}\n")
    return make_project(tmp_path, project_root, targets, default="ecr")


def env(moto: str) -> dict[str, str]:
    return {**AWS_ENV, "AWS_ENDPOINT_URL_ECR": moto}


def results(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    return {str(r["ref"]).rsplit(":", 1)[1]: r for r in json.loads(proc.stdout)["results"]}


def test_ecr_creates_nested_repository_and_publishes(tmp_path: Path, project_root: Path, moto: str, ecr: object,
                                                    ecr_registry: Registry, helm_bin: Path) -> None:
    root = ecr_project(tmp_path, project_root, ecr_registry.host, create=True)
    make_dist(root, helm_bin, chart="openmeter-helm")
    proc = invoke(root, "helm.push", "--latest", "--json", env=env(moto))
    assert proc.returncode == 0, proc.stderr
    res = results(proc)
    assert res["0.1.0"]["status"] == "pushed" and res["latest"]["status"] == "aliased"
    repos = ecr.describe_repositories()["repositories"]  # type: ignore[attr-defined]
    assert [r["repositoryName"] for r in repos] == ["scispace/openmeter-helm"]
    again = invoke(root, "helm.push", "--latest", env=env(moto))
    assert again.returncode == 0 and "up to date" in again.stdout
    token_pw = base64.b64decode(ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]).decode()  # type: ignore[attr-defined]
    assert token_pw.partition(":")[2] not in again.stdout + again.stderr + proc.stdout + proc.stderr


def test_ecr_missing_repository_without_create(tmp_path: Path, project_root: Path, moto: str, ecr: object,
                                               ecr_registry: Registry, helm_bin: Path) -> None:
    root = ecr_project(tmp_path, project_root, ecr_registry.host, create=False)
    make_dist(root, helm_bin)
    proc = invoke(root, "helm.push", "--latest", "--json", env=env(moto))
    assert proc.returncode == 1
    res = results(proc)
    assert res["0.1.0"]["status"] == "failed"
    assert "ECR repository 'scispace/demo' does not exist" in str(res["0.1.0"]["message"])
    assert "latest" not in res
    assert ecr_registry.uploads() == 0


def test_ecr_immutable_repository_is_never_overwritten(tmp_path: Path, project_root: Path, moto: str, ecr: object,
                                                       ecr_registry: Registry, helm_bin: Path) -> None:
    ecr.create_repository(repositoryName="scispace/demo", imageTagMutability="IMMUTABLE")  # type: ignore[attr-defined]
    root = ecr_project(tmp_path, project_root, ecr_registry.host, create=False)
    make_dist(root, helm_bin)
    first = invoke(root, "helm.push", "--latest", "--json", env=env(moto))
    assert first.returncode == 0, first.stderr
    make_dist(root, helm_bin, description="different bytes, same version")
    forced = invoke(root, "helm.push", "--force", "--json", env=env(moto))
    assert forced.returncode == 1
    assert "IMMUTABLE" in str(results(forced)["0.1.0"]["message"])
    make_dist(root, helm_bin, version="0.2.0")
    (root / "version").write_text("0.2.0\n")
    moved = invoke(root, "helm.push", "--latest", "--json", env=env(moto), )
    res = results(moved)
    assert res["0.2.0"]["status"] == "pushed"
    assert res["latest"]["status"] == "refused" and "IMMUTABLE" in str(res["latest"]["message"])
    assert moved.returncode == 1


def test_boto3_is_imported_only_for_ecr() -> None:
    code = ("import sys, chartship.tasks, chartship.publish.deploy, chartship.publish.push, chartship.config;"
            "sys.exit('boto3' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
