"""The main job, as the README's quick start runs it: `invoke helm.deploy --latest` against the
embedded local registry, in a temp copy of this repository."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartship.tools import registry_server
from tests.helpers import free_port
from tests.helpers.registry import Registry, invoke


@pytest.fixture
def repo_copy(tmp_path: Path, project_root: Path) -> Iterator[tuple[Path, Registry]]:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("tasks.py", "version", "tag-templates", "charts", ".yamllint.yaml"):
        src = project_root / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"))
        else:
            shutil.copy2(src, root / name)
    port = free_port()
    text = (project_root / "invoke.yaml").read_text()
    assert "oci://127.0.0.1:5000/charts" in text
    (root / "invoke.yaml").write_text(text.replace("127.0.0.1:5000", f"127.0.0.1:{port}"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(root)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    state = root / ".cache" / "registry"
    yield root, Registry(f"127.0.0.1:{port}", state, port, None)
    registry_server.stop(state)


@pytest.mark.needs_helm
@pytest.mark.needs_registry  # helm.deploy starts the local registry
def test_deploy_latest_then_up_to_date(repo_copy: tuple[Path, Registry]) -> None:
    root, reg = repo_copy
    assert not registry_server.answering("127.0.0.1", reg.port)
    first = invoke(root, "helm.deploy", "--latest", "--json")
    assert first.returncode == 0, first.stderr
    rows = json.loads(first.stdout)
    assert rows["ok"] and len(rows["packages"]) == 6
    statuses = {(r["chart"], r["ref"].rsplit(":", 1)[1]): r["status"] for r in rows["results"]}
    for chart in ("core-pipeline", "redis", "platform"):
        assert statuses[(chart, "0.1.0")] == "pushed"
        assert statuses[(chart, "latest")] == "aliased"
    assert registry_server.answering("127.0.0.1", reg.port)  # started on demand
    uploads = reg.uploads()
    second = invoke(root, "helm.deploy", "--latest")
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert reg.uploads() == uploads
    resolved = invoke(root, "helm.resolve", f"oci://{reg.host}/charts/platform", "latest")
    assert resolved.stdout == "0.1.0\n", resolved.stderr
    assert (root / "dist/charts/SHA256SUMS").read_text().count("\n") == 6
    assert not (root / "charts/platform/charts").exists()  # the working tree stays clean
