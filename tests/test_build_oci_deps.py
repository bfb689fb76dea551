"""OCI dependencies from a configured target with login: a real docker-registry with htpasswd on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.helpers.pipeline import commit, helm, invoke, new_repo, one_error_line, scaffold
from tests.helpers.registry import Registry, StartRegistry

USER, PASSWORD = "bob", "dep-Passw0rd-42"


@pytest.fixture
def reg(registries: StartRegistry) -> Registry:
    return registries({USER: PASSWORD})


def push_library(tmp: Path, helm_bin: Path, reg: Registry) -> None:
    """Publish chart `lib` 1.2.0 to the registry with plain helm (its own temp registry config)."""
    work = tmp / "lib-src"
    work.mkdir()
    helm(helm_bin, "create", "lib", cwd=work)
    chart = work / "lib/Chart.yaml"
    chart.write_text(chart.read_text().replace("version: 0.1.0", "version: 1.2.0"))
    helm(helm_bin, "package", "lib", "--destination", str(work), cwd=work)
    env = {**os.environ, "HELM_REGISTRY_CONFIG": str(tmp / "pusher.json")}
    major = int(helm(helm_bin, "version", "--template", "{{.Version}}").lstrip("v").split(".")[0])
    insecure = ["--insecure"] if major < 4 else ["--plain-http"]
    subprocess.run([str(helm_bin), "registry", "login", reg.host, "--username", USER, "--password-stdin", *insecure],
                   input=PASSWORD, env=env, check=True, capture_output=True, text=True)
    subprocess.run([str(helm_bin), "push", str(work / "lib-1.2.0.tgz"), f"oci://{reg.host}/charts", "--plain-http"],
                   env=env, check=True, capture_output=True, text=True)


def test_oci_dependency_with_login(tmp_path: Path, helm_bin: Path, reg: Registry) -> None:
    push_library(tmp_path, helm_bin, reg)
    targets = (f"  default_target: mine\n  targets:\n    mine:\n      url: oci://{reg.host}/charts\n"
               "      auth: basic\n      plain_http: true\n")
    root = new_repo(tmp_path / "repo", config=targets)
    app = scaffold(root, helm_bin, "app")
    chart = app / "Chart.yaml"
    chart.write_text(chart.read_text() + f"dependencies:\n  - name: lib\n    version: 1.2.0\n    repository: oci://{reg.host}/charts\n")
    commit(root)
    creds = {"CHARTSHIP_REGISTRY_USERNAME": USER, "CHARTSHIP_REGISTRY_PASSWORD": PASSWORD}

    missing = invoke(root, "helm.deps")
    one_error_line(missing, "target 'mine' (" + reg.host + ") needs a login: set CHARTSHIP_REGISTRY_USERNAME and "
                            "CHARTSHIP_REGISTRY_PASSWORD")
    wrong = invoke(root, "helm.deps", env={**creds, "CHARTSHIP_REGISTRY_PASSWORD": "not-the-Passw0rd"})
    one_error_line(wrong, f"target 'mine': helm registry login {reg.host} failed")
    assert "not-the-Passw0rd" not in wrong.stderr + wrong.stdout

    result = invoke(root, "helm.deps", env=creds)
    assert result.returncode == 0, result.stderr
    assert (app / "charts/lib-1.2.0.tgz").is_file()
    assert not (app / "Chart.lock").exists(), "helm's generated lock is not left behind"
    assert PASSWORD not in result.stdout + result.stderr
    (app / "charts/lib-1.2.0.tgz").unlink()

    lint = invoke(root, "helm.lint", "--all", "--json", env=creds)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert json.loads(lint.stdout)["charts"]["app"]["helm-lint"]["status"] == "ok"
    build = invoke(root, "helm.build", "--json", env=creds)
    assert build.returncode == 0, build.stderr
    pkg = root / json.loads(build.stdout)["packages"][0]["path"]
    with tarfile.open(pkg) as tar:
        assert "app/charts/lib/Chart.yaml" in tar.getnames(), "the OCI dependency is inside the package"
    assert list((app / "charts").iterdir()) == [], "lint and build worked on a temp copy"
