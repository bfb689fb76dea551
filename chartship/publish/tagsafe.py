"""Tag safety shared by promotion and branch builds.

Every tag is looked up first and read back after it is written:

* a **version tag** may only be written when it is absent or already holds the same digest;
* an **alias** (``latest``, ``main-latest``) moves only forward by semver precedence, and a
  prerelease (every dev build is one) never moves ``latest`` unless ``latest_prereleases`` is set
  (the rule is :func:`chartship.publish.aliases.refusal`, the one helm.push uses too);
* after writing, the tag must read back as the digest written; otherwise another writer changed it,
  and the outcome names both digests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from chartship.errors import RegistryError, VersionError
from chartship.publish import aliases
from chartship.publish.push import Package, Published, step
from chartship.registry import oci
from chartship.registry.credentials import Session
from chartship.version import semver
from chartship.version.semver import SemVer

FORWARD = "highest"  # promotion and dev aliases move forward only (a prerelease gate for latest on top)


def chart_version(client: oci.Client, repo: str, manifest: oci.Manifest) -> tuple[str, SemVer]:
    """(chart name, version) from the manifest's helm config blob; RegistryError when it is not a helm chart."""
    where = f"oci://{client.host}/{repo}@{manifest.digest}"
    config = manifest.data.get("config") or {}
    if config.get("mediaType") != oci.HELM_CONFIG_TYPE or manifest.config_digest is None:
        raise RegistryError(f"{where} is not a helm chart (config media type {config.get('mediaType')!r})")
    try:
        data = json.loads(client.blob(repo, manifest.config_digest))
        name, version = str(data["name"]), str(data["version"])
        return name, semver.parse(version, f"{where} chart version")
    except (ValueError, KeyError, TypeError, VersionError):
        raise RegistryError(f"{where}: the config blob holds no chart name and semver version") from None


def write_tag(s: Session, chart: str, version: str, tag: str, manifest: oci.Manifest, dry_run: bool,
              done: str = "pushed") -> Published:
    """A version tag: absent or the same digest, else refused; written; read back."""
    repo = s.repository(chart)
    out = step(chart, version, s.ref(chart, tag), "planned", manifest.digest)
    try:
        current = s.client.manifest(repo, tag)
        if current is not None and current.digest == manifest.digest:
            out.status, out.message = "skipped", f"{tag} already holds {manifest.digest}"
            return out
        if current is not None:
            out.status, out.digest = "refused", current.digest
            out.message = (f"{out.ref} already holds {current.digest}, not {manifest.digest}; a published "
                           "version is never replaced here (bump the version)")
            return out
        if dry_run:
            out.message = f"would write {tag}"
            return out
        s.client.put_manifest(repo, tag, manifest)
        return read_back(s, chart, tag, manifest, out, done)
    except RegistryError as exc:
        out.status, out.message = "failed", str(exc)
        return out


def read_back(s: Session, chart: str, tag: str, manifest: oci.Manifest, out: Published, done: str) -> Published:
    """``out`` as ``done`` when ``tag`` reads back as ``manifest``, else failed naming both digests."""
    got = s.client.manifest(s.repository(chart), tag)
    if got is None or got.digest != manifest.digest:
        out.status, out.digest = "failed", got.digest if got else None
        out.message = (f"{out.ref} was written as {manifest.digest} but reads back as "
                       f"{got.digest if got else 'nothing'}; another writer changed it, check who publishes there")
        return out
    out.status, out.digest = done, manifest.digest
    return out


def move_alias(s: Session, chart: str, version: str, alias: str, manifest: oci.Manifest, is_latest: bool,
               latest_prereleases: bool, dry_run: bool) -> Published:
    """Point ``alias`` at ``manifest`` (chart ``version``) if the alias rules allow it; read it back."""
    repo = s.repository(chart)
    out = step(chart, version, s.ref(chart, alias), "planned", manifest.digest)
    try:
        new = semver.parse(version, f"{chart} version")
        current = s.client.manifest(repo, alias)
        if current is not None and current.digest == manifest.digest:
            out.status, out.message = "skipped", f"{alias} already points at {version}"
            return out
        before = chart_version(s.client, repo, current)[1] if current is not None else None
        reason = aliases.refusal(FORWARD, alias, before, new, prereleases=not is_latest or latest_prereleases)
        if reason is None and current is not None and s.tag_mutability(chart) == "IMMUTABLE":
            reason = f"the ECR repository {repo} has IMMUTABLE tags, so {alias} cannot move"
        if reason is not None:
            out.status, out.digest, out.message = "refused", current.digest if current else None, reason
            return out
        if dry_run:
            out.message = f"would point {alias} at {version}" + (f" (now {before})" if before else "")
            return out
        s.client.put_manifest(repo, alias, manifest)
        out = read_back(s, chart, alias, manifest, out, "aliased")
        if out.status == "aliased":
            out.message = f"{alias} -> {version}"
        return out
    except (RegistryError, VersionError) as exc:
        out.status, out.message = "failed", str(exc)
        return out


def alias_packages(s: Session, packages: Sequence[Package], outcomes: Sequence[Published], aliases: Sequence[tuple[str, bool]],
                   latest_prereleases: bool, dry_run: bool) -> list[Published]:
    """Move each (alias, is_latest) to every package whose version tag was pushed or already there."""
    results: list[Published] = []
    for pkg in packages:
        tag = semver.to_oci_tag(pkg.version)
        mine = [o for o in outcomes if o.chart == pkg.chart and o.ref == s.ref(pkg.chart, tag)]
        if not mine or mine[0].status not in ("pushed", "skipped", "planned"):
            continue
        if mine[0].status == "planned":
            results += [step(pkg.chart, pkg.version, s.ref(pkg.chart, alias), "planned",
                                message=f"would point {alias} at {tag}") for alias, _latest in aliases]
            continue
        try:
            manifest = s.client.manifest(s.repository(pkg.chart), tag)
        except RegistryError as exc:
            manifest, problem = None, str(exc)
        else:
            problem = f"{s.ref(pkg.chart, tag)} does not hold the package of dist/charts"
        for alias, is_latest in aliases:
            if manifest is None or manifest.layer_digest() != pkg.layer_digest:
                results.append(step(pkg.chart, pkg.version, s.ref(pkg.chart, alias), "failed", message=problem))
            else:
                results.append(move_alias(s, pkg.chart, pkg.version, alias, manifest, is_latest, latest_prereleases,
                                          dry_run))
    return results
