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


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its sha256 ({} when the folder does not exist)."""
    import hashlib

    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def plan(root: Path, *args: str) -> dict[str, object]:
    result = invoke(root, "helm.deploy", "--latest", "--dry-run", "--json", *args)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dry_run"] is True
    return dict(data)


def actions(data: dict[str, object]) -> dict[tuple[str, str], str]:
    results = data["results"]
    assert isinstance(results, list)
    return {(r["chart"], r["ref"].rsplit(":", 1)[1]): r["action"] for r in results}


def test_dry_run_writes_nothing_before_and_after_a_deploy(repo_copy: tuple[Path, Registry]) -> None:
    root, reg = repo_copy
    # before anything: the local registry is not running, and the dry run must not start it
    before = plan(root)
    assert not registry_server.answering("127.0.0.1", reg.port)
    assert not (root / "dist").exists() and not (root / ".cache" / "registry").exists()
    assert before["registry"] == "would be started" and before["build"] == "would build"
    assert len(before["packages"]) == 6  # type: ignore[arg-type]
    for chart in ("core-pipeline", "redis", "platform"):
        assert actions(before)[(chart, "0.1.0")] == "push" and actions(before)[(chart, "latest")] == "alias"
    assert all("not published" in r["message"] for r in before["results"] if r["ref"].endswith(":0.1.0"))  # type: ignore[union-attr]

    # the registry runs but is empty: still "push", and nothing is uploaded
    registry_server.start(reg.state, reg.port)
    empty = plan(root)
    assert empty["registry"] == "running" and reg.uploads() == 0
    assert set(actions(empty).values()) == {"push", "alias"}

    deployed = invoke(root, "helm.deploy", "--latest", "--json")
    assert deployed.returncode == 0, deployed.stderr
    assert json.loads(deployed.stdout)["notes"] == "dist/RELEASE_NOTES.md"
    dist, uploads = tree(root / "dist"), reg.uploads()
    tags = {chart: registry_tags(reg, chart) for chart in ("core-pipeline", "redis", "platform")}

    after = plan(root)
    assert after["build"] == "up to date" and after["up_to_date"] is True
    assert set(actions(after).values()) == {"skip"}
    assert tree(root / "dist") == dist and reg.uploads() == uploads
    assert {chart: registry_tags(reg, chart) for chart in tags} == tags

    # a changed chart at the same version: the plan says refused, and still writes nothing
    values = root / "charts" / "redis" / "values.yaml"
    values.write_text(values.read_text() + "# changed after the release\n")
    changed = invoke(root, "helm.deploy", "--latest", "--dry-run", "--json", "--chart", "redis")
    assert changed.returncode == 1
    data = json.loads(changed.stdout)
    assert data["build"] == "would build" and actions(data)[("redis", "0.1.0")] == "refuse"
    assert "bump the version" in data["results"][0]["message"]
    assert tree(root / "dist") == dist and reg.uploads() == uploads
    assert {chart: registry_tags(reg, chart) for chart in tags} == tags

    human = invoke(root, "helm.deploy", "--latest", "--dry-run")
    assert human.returncode == 1 and "nothing was written" in human.stdout and "refuse" in human.stdout


def registry_tags(reg: Registry, chart: str) -> dict[str, str]:
    """tag -> manifest digest of ``charts/<chart>`` in the registry."""
    from chartship.registry import oci

    client = oci.Client(reg.host, plain_http=True)
    result = {}
    for tag in sorted(client.tags(f"charts/{chart}")):
        manifest = client.manifest(f"charts/{chart}", tag)
        assert manifest is not None
        result[tag] = manifest.digest
    return result


@pytest.mark.needs_helm
@pytest.mark.needs_registry
def test_deploy_notes_from_its_own_lookups_equal_notes_looked_up_afresh(repo_copy: tuple[Path, Registry]) -> None:
    from chartship import config
    from chartship.publish import deploy as deploymod

    root, reg = repo_copy
    for _ in range(2):  # the first deploy pushes and moves latest; the second finds everything in place
        done = invoke(root, "helm.deploy", "--latest")
        assert done.returncode == 0, done.stderr
        written = (root / "dist/RELEASE_NOTES.md").read_text()
        cfg = config.load(root)
        assert written == deploymod.release_notes(cfg, deploymod.local_target(cfg.target()))
        assert written.count("- Alias tags: `latest`") == 3 and "not published yet" not in written
    assert registry_tags(reg, "redis")


def test_known_tags_keep_only_what_was_read_back() -> None:
    from chartship.publish import deploy as deploymod
    from chartship.publish import push as pushmod

    base = "oci://127.0.0.1:5000/charts/web"
    a, b, c = "sha256:" + "a" * 64, "sha256:" + "b" * 64, "sha256:" + "c" * 64
    outcomes = [
        pushmod.step("web", "0.1.0", f"{base}:0.1.0", "skipped", a, "already published"),
        pushmod.Published(chart="web", version="0.1.0", ref=f"{base}:latest", status="skipped", digest=b,
                          kind=pushmod.ALIAS, messages=["latest stays at 0.2.0"]),
        pushmod.step("api", "0.1.0", "oci://127.0.0.1:5000/charts/api:0.1.0", "refused", c, "different content"),
        pushmod.Published(chart="api", version="0.1.0", ref="oci://127.0.0.1:5000/charts/api:latest", status="failed",
                          digest=a, kind=pushmod.ALIAS),
        pushmod.step("db", "0.1.0", "oci://127.0.0.1:5000/charts/db:0.1.0", "pushed", c),
        pushmod.Published(chart="db", version="0.1.0", ref="oci://127.0.0.1:5000/charts/db:latest", status="aliased",
                          digest=c, kind=pushmod.ALIAS),
    ]
    assert deploymod.known_tags(outcomes) == {"web": {"0.1.0": a, "latest": b}, "db": {"0.1.0": c, "latest": c}}
