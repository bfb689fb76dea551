"""Every tag chartship writes is checked: templates that could overwrite a release are refused, a
version tag never moves, a tag changed by another writer is reported with both digests, two
concurrent pushes of one version leave exactly one winner, and ``latest`` only moves forward."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from chartship import config
from chartship.errors import VersionError
from chartship.publish import aliases
from chartship.registry import oci
from chartship.version import semver, tags
from tests.adversarial import faultproxy as fp
from tests.helpers import INVOKE
from tests.helpers.registry import Registry, invoke, make_dist, make_project


def target(host: str) -> str:
    return f"    reg:\n      url: oci://{host}/charts\n      plain_http: true\n"


def project(tmp: Path, project_root: Path, host: str) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    return make_project(tmp, project_root, target(host), default="reg")


def set_version(root: Path, helm_bin: Path, version: str, description: str = "demo") -> None:
    (root / "version").write_text(version + "\n")
    make_dist(root, helm_bin, version=version, description=description)


def remote(reg: Registry, tag: str) -> oci.Manifest | None:
    return oci.Client(reg.host, plain_http=True).manifest("charts/demo", tag)


def remote_version(reg: Registry, tag: str) -> str | None:
    from chartship.publish.push import resolve

    return resolve(oci.Client(reg.host, plain_http=True), "charts/demo", tag) if remote(reg, tag) else None


def all_tags(reg: Registry) -> list[str]:
    return sorted(oci.Client(reg.host, plain_http=True).tags("charts/demo"))


def clean_failure(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr
    for word in words:
        assert word in text, (word, text)
    return text


# ---------------------------------------------------------------- templates (worker functions)


def tags_for(tmp: Path, version_tpl: str, latest_tpl: str, version: str = "0.1.0") -> dict[str, str]:
    (tmp / "tag-templates").mkdir(parents=True, exist_ok=True)
    (tmp / "tag-templates" / "version-tag-template").write_text(version_tpl + "\n")
    (tmp / "tag-templates" / "latest-tag-template").write_text(latest_tpl + "\n")
    cfg = config.load(tmp, environ={})
    return tags.publish_tags(cfg, semver.parse(version), tags.TagContext("main", "7", "abc1234"))


@pytest.mark.parametrize(("version_tpl", "words"), [
    ("{MAJOR}.{MINOR}.0", "the same tag"),
    ("{MAJOR}.{MINOR}.{PATCH}", "the same tag"),
    ("{MAJOR}{MINOR}{PATCH}", "the same tag"),
    ("{MAJOR}.{MINOR}.{PATCH}-{PRERELEASE}", "the same tag"),
    ("release", "the same tag"),
    ("v{MAJOR}", "the same tag"),
])
def test_version_template_that_merges_versions_is_refused(tmp_path: Path, version_tpl: str, words: str) -> None:
    with pytest.raises(VersionError, match=words) as exc:
        tags_for(tmp_path, version_tpl, "latest")
    assert "tag-templates/version-tag-template" in str(exc.value) and "{VERSION}" in str(exc.value)


@pytest.mark.parametrize(("version_tpl", "latest_tpl", "words"), [
    ("{VERSION}", "0.0.1", "which is a version"),
    ("{VERSION}", "{VERSION}-latest", "which is a version"),
    ("{VERSION}", "1.0.0_build", "which is a version"),
    ("v{VERSION}", "v1.2.3", "can produce for some version"),
    ("v{VERSION}", "v{MAJOR}.{MINOR}.{PATCH}", "can produce for some version"),
    ("{VERSION}-{BRANCH}", "1.0.0-main", "which is a version"),
    ("r{VERSION}-{SHA}", "r1.0.0-deadbeef", "can produce for some version"),
])
def test_alias_template_that_could_overwrite_a_version_is_refused(tmp_path: Path, version_tpl: str, latest_tpl: str,
                                                                  words: str) -> None:
    with pytest.raises(VersionError, match=words) as exc:
        tags_for(tmp_path, version_tpl, latest_tpl)
    assert "tag-templates/latest-tag-template" in str(exc.value)


@pytest.mark.parametrize(("version_tpl", "latest_tpl", "expected"), [
    ("{VERSION}", "latest", {"version": "0.1.0", "latest": "latest"}),
    ("v{VERSION}", "latest-{MAJOR}", {"version": "v0.1.0", "latest": "latest-0"}),
    ("{VERSION}", "{MAJOR}.{MINOR}", {"version": "0.1.0", "latest": "0.1"}),
    ("{VERSION}", "stable-{BRANCH}", {"version": "0.1.0", "latest": "stable-main"}),
])
def test_safe_templates_are_accepted(tmp_path: Path, version_tpl: str, latest_tpl: str,
                                     expected: dict[str, str]) -> None:
    assert tags_for(tmp_path, version_tpl, latest_tpl) == expected


@pytest.mark.parametrize(("policy", "current", "new", "allowed"), [
    ("highest-final", "0.2.0", "0.1.0", False),
    ("highest-final", "0.2.0", "0.3.0-rc.1", False),
    ("highest-final", "0.3.0-rc.1", "0.3.0", True),
    ("highest-final", "0.3.0-rc.1", "0.3.0-rc.2", True),
    ("highest-final", "0.2.0", "0.2.0", True),
    ("highest", "0.2.0", "0.3.0-rc.1", True),
    ("highest", "0.2.0", "0.2.0-rc.1", False),
    ("last-pushed", "0.2.0", "0.1.0", True),
    ("highest-final", "1.10.0", "1.9.0", False),
])
def test_alias_policy(policy: str, current: str, new: str, allowed: bool) -> None:
    why = aliases.refusal(policy, "latest", current, new)
    ok = why is None
    assert ok is allowed and (ok or (why is not None and current in why and policy in why))


# ---------------------------------------------------------------- through the real entry point


def test_template_refusals_leave_the_registry_unchanged(tmp_path: Path, project_root: Path, helm_bin: Path,
                                                        registry: Registry) -> None:
    root = project(tmp_path, project_root, registry.host)
    set_version(root, helm_bin, "0.1.0")
    assert invoke(root, "helm.push", "--latest").returncode == 0
    before = (all_tags(registry), remote(registry, "0.1.0"))
    (root / "tag-templates" / "version-tag-template").write_text("{MAJOR}.{MINOR}.0\n")
    set_version(root, helm_bin, "0.1.1", "other")
    text = clean_failure(invoke(root, "helm.push", "--latest"), "version-tag-template", "the same tag")
    assert len([ln for ln in text.splitlines() if ln.strip()]) == 1
    (root / "tag-templates" / "version-tag-template").write_text("{VERSION}\n")
    (root / "tag-templates" / "latest-tag-template").write_text("0.1.0\n")
    clean_failure(invoke(root, "helm.push", "--latest"), "latest-tag-template", "which is a version")
    assert (all_tags(registry), remote(registry, "0.1.0")) == before


def test_a_version_tag_held_by_other_content_is_refused_not_moved(tmp_path: Path, project_root: Path, helm_bin: Path,
                                                                  registry: Registry) -> None:
    first = project(tmp_path / "a", project_root, registry.host)
    (first / "tag-templates" / "version-tag-template").write_text("v{VERSION}\n")
    set_version(first, helm_bin, "0.1.0")
    assert invoke(first, "helm.push").returncode == 0
    held = remote(registry, "v0.1.0")
    assert held is not None
    client = oci.Client(registry.host, plain_http=True)
    set_version(first, helm_bin, "0.2.0", "second")
    assert invoke(first, "helm.push").returncode == 0
    v2 = client.manifest("charts/demo", "0.2.0")
    assert v2 is not None
    client.put_manifest("charts/demo", "v0.3.0", v2)  # v0.3.0 already names 0.2.0's manifest
    set_version(first, helm_bin, "0.3.0", "third")
    before = all_tags(registry)
    clean_failure(invoke(first, "helm.push", "--json"), "v0.3.0", v2.digest, "never moves", "--force")
    after = client.manifest("charts/demo", "v0.3.0")
    assert after is not None and after.digest == v2.digest
    assert all_tags(registry) == before  # refused before the push: 0.3.0 was not written either


def forged_readback(reg: Registry, other: oci.Manifest, tag: str) -> fp.FaultProxy:
    """A proxy that, once a manifest was PUT to ``tag``, answers our read-back with ``other``: what a
    second writer overwriting the tag in between looks like."""
    proxy = fp.FaultProxy(reg.host)

    def rule(s: fp.Seen) -> fp.Action | None:
        put = any(x.method == "PUT" and x.path.endswith(f"/manifests/{tag}") for x in proxy.seen[:-1])
        if put and s.method == "GET" and s.path.endswith(f"/manifests/{tag}") and \
                s.headers.get("User-Agent", "").startswith("Python-urllib"):
            return fp.body(other.raw, headers={"Content-Type": other.media_type, "Docker-Content-Digest": other.digest})
        return None

    proxy.rule = rule
    return proxy


@pytest.mark.parametrize("tag", ["0.2.0", "latest"])
def test_a_tag_changed_between_write_and_read_back_names_both_digests(tmp_path: Path, project_root: Path,
                                                                      helm_bin: Path, registry: Registry,
                                                                      tag: str) -> None:
    seed_root = project(tmp_path / "seed", project_root, registry.host)
    set_version(seed_root, helm_bin, "0.1.0")
    assert invoke(seed_root, "helm.push").returncode == 0
    other = remote(registry, "0.1.0")
    assert other is not None
    proxy = forged_readback(registry, other, tag)
    try:
        root = project(tmp_path / "p", project_root, proxy.host)
        set_version(root, helm_bin, "0.2.0", "mine")
        text = clean_failure(invoke(root, "helm.push", "--latest", "--json"), "another writer changed", other.digest)
    finally:
        proxy.close()
    mine = remote(registry, "0.2.0")
    assert mine is not None and (tag == "0.2.0" or mine.digest in text)


def test_two_concurrent_pushes_of_one_version_leave_exactly_one_winner(tmp_path: Path, project_root: Path,
                                                                       helm_bin: Path, registry: Registry) -> None:
    roots = []
    for name in ("a", "b"):
        root = project(tmp_path / name, project_root, registry.host)
        set_version(root, helm_bin, "0.1.0", f"content {name}")
        roots.append(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "AWS_"))}
    env.update({"CHARTSHIP_RETRY_BACKOFF": "0.01", "CHARTSHIP_RETRIES": "3"})
    procs = [subprocess.Popen([INVOKE, "helm.push", "--latest", "--json"], cwd=r, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for r in roots]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and codes[1] != 0, results
    loser = next(out + err for code, out, err in results if code != 0)
    assert "Traceback" not in loser and "already published with different content" in loser
    winner = next(r for r, (code, _, _) in zip(roots, results, strict=True) if code == 0)
    manifest = json.loads((winner / "dist" / "charts" / "manifest.json").read_text())
    published = remote(registry, "0.1.0")
    assert published is not None and published.layer_digest() == "sha256:" + manifest["packages"][0]["sha256"]
    latest = remote(registry, "latest")
    assert latest is not None and latest.digest == published.digest


def test_latest_only_moves_forward_unless_forced(tmp_path: Path, project_root: Path, helm_bin: Path,
                                                 registry: Registry) -> None:
    root = project(tmp_path, project_root, registry.host)
    set_version(root, helm_bin, "0.2.0")
    assert invoke(root, "helm.push", "--latest").returncode == 0
    set_version(root, helm_bin, "0.1.0")
    back = invoke(root, "helm.push", "--latest", "--json")
    assert back.returncode == 0 and "latest stays at 0.2.0" in back.stdout + back.stderr
    assert remote_version(registry, "latest") == "0.2.0"
    set_version(root, helm_bin, "0.3.0-rc.1")
    pre = invoke(root, "helm.push", "--latest", "--json")
    assert pre.returncode == 0 and "is a prerelease" in pre.stdout + pre.stderr
    assert remote_version(registry, "latest") == "0.2.0"
    highest = invoke(root, "helm.push", "--latest", env={"CHARTSHIP_ALIASES_LATEST": "highest"})
    assert highest.returncode == 0 and remote_version(registry, "latest") == "0.3.0-rc.1"
    set_version(root, helm_bin, "0.1.1")
    forced = invoke(root, "helm.push", "--latest", "--force-latest", "--json")
    assert forced.returncode == 0 and "--force-latest: moved from 0.3.0-rc.1" in forced.stdout + forced.stderr
    assert remote_version(registry, "latest") == "0.1.1"
    set_version(root, helm_bin, "0.0.9")
    last = invoke(root, "helm.push", "--latest", env={"CHARTSHIP_ALIASES_LATEST": "last-pushed"})
    assert last.returncode == 0 and remote_version(registry, "latest") == "0.0.9"
    bad = invoke(root, "helm.push", "--latest", env={"CHARTSHIP_ALIASES_LATEST": "newest"})
    clean_failure(bad, "CHARTSHIP_ALIASES_LATEST", "highest-final")
    assert remote_version(registry, "latest") == "0.0.9"
