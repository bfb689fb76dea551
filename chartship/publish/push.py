"""Publish built packages to an OCI registry: look up, push, verify, alias.

Safe to re-run: a version already published with the same bytes is skipped; a
published version with different bytes is refused unless ``force`` (never on an
IMMUTABLE ECR repository). Only a genuine "not found" means "not published".
The alias tag (``latest``) moves only to a manifest that was read back and verified.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from threading import Semaphore

from chartship import secrets
from chartship.config import DIST_DIR
from chartship.errors import ChartError, RegistryError, VersionError
from chartship.outcome import ALIASED, BAD, FAILED, PLANNED, PUSHED, REFUSED, SKIPPED, Outcome
from chartship.publish import aliases
from chartship.registry import oci
from chartship.registry.credentials import Session
from chartship.tools.helm import HelmError, HelmResult
from chartship.version import semver

DIST = DIST_DIR.as_posix()
VERSION, ALIAS = "version", "alias"


@dataclass(frozen=True)
class Package:
    chart: str
    version: str
    path: Path
    sha256: str

    @property
    def layer_digest(self) -> str:
        return f"sha256:{self.sha256}"


@dataclass(kw_only=True)
class Published(Outcome):
    """One publish step: a version tag (pushed, skipped, refused, failed) or an alias (aliased, skipped, ...);
    ``planned`` in a dry run."""

    chart: str
    version: str
    ref: str
    digest: str | None = None
    kind: str = VERSION  # the version tag, or an alias such as latest

    def as_dict(self) -> dict[str, object]:
        return {"chart": self.chart, "version": self.version, "ref": self.ref, "status": self.status,
                "digest": self.digest, "message": self.message}


def step(chart: str, version: str, ref: str, status: str, digest: str | None = None, message: str = "") -> Published:
    """One publish step with its status (and digest and message, when known)."""
    return Published(chart=chart, version=version, ref=ref, status=status, digest=digest,
                     messages=[message] if message else [])


def _planned(chart: str, version: str, ref: str) -> Published:
    return Published(chart=chart, version=version, ref=ref, status=PLANNED)


def load_packages(dist: Path, charts: Sequence[str] = ()) -> list[Package]:
    """The version packages listed in dist/charts/manifest.json, each checked against its sha256."""
    manifest = dist / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ChartError(f"{manifest.relative_to(dist.parent.parent)}: not found; run `invoke helm.build` first") from None
    except (ValueError, OSError) as exc:
        raise ChartError(f"{manifest.name}: unreadable ({exc}); run `invoke helm.build` again") from None
    packages = []
    for entry in _entries(data):
        if entry.get("kind") != "version" or (charts and entry["chart"] not in charts):
            continue
        path = dist / entry["file"]
        if not path.is_file():
            raise ChartError(f"{DIST}/{entry['file']}: missing; run `invoke helm.build` again")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            raise ChartError(f"{DIST}/{entry['file']}: changed since it was built; run `invoke helm.build` again")
        packages.append(Package(entry["chart"], entry["version"], path, digest))
    if not packages:
        raise ChartError(f"{DIST}/manifest.json lists no packages" + (f" for {', '.join(charts)}" if charts else "")
                         + "; run `invoke helm.build`")
    return packages


_ENTRY_KEYS = ("file", "chart", "version", "kind", "sha256")


def _entries(data: object) -> list[dict[str, str]]:
    """The package entries of manifest.json, each checked for the shape helm.build writes."""
    where = "dist/charts/manifest.json"
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, list):
        raise ChartError(f"{where}: not a chartship manifest (no 'packages' list); run `invoke helm.build` again")
    for i, entry in enumerate(packages):
        bad = [k for k in _ENTRY_KEYS if not isinstance(entry, dict) or not isinstance(entry.get(k), str)]
        if bad or "/" in entry["file"] or entry["file"].startswith(".") or not entry["file"]:
            what = f"no text value for {bad[0]!r}" if bad else f"file {entry['file'][:60]!r} is not a plain file name"
            raise ChartError(f"{where}: packages[{i}] has {what}; run `invoke helm.build` again")
    return packages


# ---------------------------------------------------------------- publishing

def _helm_push(s: Session, pkg: Package, slots: Semaphore | None = None) -> HelmResult:
    """``helm push`` within ``push_timeout``, retried by the session's policy (the OCI client's) when helm's
    failure is transient (429, 5xx, reset, EOF, a stopped stalled push); the last failure names the attempts.
    ``slots`` bounds how many helm processes run at once (the lookups around them need no CPU)."""
    try:
        with slots if slots is not None else nullcontext():
            return s.client.retry.call(lambda: s.helm.push(pkg.path, s.target.url, s.target.plain_http,
                                                           s.registry_config, s.cfg.push_timeout))
    except HelmError as exc:
        if exc.transient and s.client.retry.attempts > 1:
            raise type(exc)(f"{exc} (after {s.client.retry.attempts} attempts)", exc.output,
                            f"{exc.reason} (after {s.client.retry.attempts} attempts)") from None
        raise


def publish_one(s: Session, pkg: Package, version_tag: str, alias: str | None, force: bool,
                dry_run: bool, force_latest: bool = False, push_slots: Semaphore | None = None) -> list[Published]:
    """Publish one package; returns its outcome, plus the version-tag and alias outcomes. A dry run
    looks everything up and writes nothing. The repository is locked (on this machine) from the first
    lookup to the last read-back. ``push_slots`` bounds the concurrent ``helm push`` processes."""
    with aliases.repository_lock(s.target.host, s.repository(pkg.chart)):
        return _publish_one(s, pkg, version_tag, alias, force, dry_run, force_latest, push_slots)


def _publish_one(s: Session, pkg: Package, version_tag: str, alias: str | None, force: bool,
                 dry_run: bool, force_latest: bool, push_slots: Semaphore | None = None) -> list[Published]:
    tag = semver.to_oci_tag(pkg.version)
    ref = s.ref(pkg.chart, tag)
    repo = s.repository(pkg.chart)
    out = _planned(pkg.chart, pkg.version, ref)
    verified: oci.Manifest | None = None  # the manifest at ``tag``, read back and checked against the package
    try:
        mutability = s.tag_mutability(pkg.chart)
        remote = s.client.manifest(repo, tag)
        if remote is not None and remote.layer_digest() == pkg.layer_digest:
            out.set(SKIPPED, "already published")
            out.digest, verified = remote.digest, remote
        elif remote is not None and not force:
            out.set(REFUSED, f"{ref} is already published with different content; bump the version "
                             "(invoke version.bump) or pass --force to overwrite")
            out.digest = remote.digest
        elif remote is not None and mutability.startswith("IMMUTABLE"):
            out.set(REFUSED, f"{ref} differs, and the ECR repository {repo} has {mutability} tags; --force cannot overwrite")
            out.digest = remote.digest
        elif (held := _fixed_tag_clash(s, repo, version_tag, tag, remote, force)) is not None:
            out.set(REFUSED, f"{s.ref(pkg.chart, version_tag)} already holds {held}, not this version's manifest; a "
                             "version tag never moves: bump the version, or pass --force to overwrite it")
            out.digest = held
        elif dry_run:
            out.set(PLANNED, "would overwrite (--force)" if remote is not None else "would push")
        else:
            verified = _push(s, pkg, tag, out, push_slots)
            if verified is not None and remote is not None:
                out.set(PUSHED, "overwritten (--force)")
    except RegistryError as exc:
        out.set(FAILED, str(exc))
    results = [out]
    if out.status in (PUSHED, SKIPPED, PLANNED):
        if version_tag and version_tag != tag:
            results.append(_alias(s, pkg, tag, version_tag, verified, Move(fixed=True, force=force), dry_run))
        if alias and alias != tag and alias != version_tag and results[-1].status not in BAD:
            results.append(_alias(s, pkg, tag, alias, verified,
                                  Move(fixed=False, force=force_latest, policy=s.cfg.aliases_latest), dry_run))
    return results


@dataclass(frozen=True)
class Move:
    """How a tag other than the chart version may be written: ``fixed`` (the version-tag-template's
    tag: absent or the same manifest, else refused unless --force) or an alias under ``policy``
    (moves forward only, unless ``force``: --force-latest)."""

    fixed: bool
    force: bool = False
    policy: str = aliases.DEFAULT_POLICY


def _push(s: Session, pkg: Package, tag: str, out: Published, slots: Semaphore | None = None) -> oci.Manifest | None:
    """helm push, then read the tag back: ``out`` becomes pushed (with the digest; the verified manifest
    is returned) or failed (None)."""
    repo = s.repository(pkg.chart)
    try:
        pushed = _helm_push(s, pkg, slots)
    except HelmError as exc:
        out.set(FAILED, secrets.redact(str(exc)))
        return None
    check = s.client.manifest(repo, tag)
    if check is None or check.layer_digest() != pkg.layer_digest:
        found = "nothing" if check is None else f"{check.digest} (chart layer {check.layer_digest()})"
        out.set(FAILED, f"verification failed: another writer changed {out.ref} after this push: it should hold "
                        f"{pushed.digest or 'the package'} (chart layer {pkg.layer_digest}) but holds {found}; "
                        "check who else publishes this version, then re-run")
        return None
    if pushed.digest and pushed.digest != check.digest:
        out.set(FAILED, f"verification failed: helm reported {pushed.digest}, registry has {check.digest}")
        return None
    out.set(PUSHED)
    out.digest = check.digest
    return check


def _alias(s: Session, pkg: Package, tag: str, alias: str, source: oci.Manifest | None, move: Move,
           dry_run: bool = False) -> Published:
    """Point ``alias`` at ``source``, the verified manifest of ``tag``, by copying the manifest (no blob
    upload). Without a verified manifest, or in a dry run, it only says what it would do."""
    repo = s.repository(pkg.chart)
    out = _planned(pkg.chart, pkg.version, s.ref(pkg.chart, alias))
    out.kind = ALIAS
    try:
        if source is None:
            out.set(PLANNED, f"would point {alias} at {tag}")
            return out
        current = s.client.manifest(repo, alias)
        if current is not None and current.digest == source.digest:
            out.set(SKIPPED, f"{alias} already points at {tag}")
            out.digest = source.digest
            return out
        if current is not None:
            refusal = _refuse_move(s, repo, alias, current, pkg, move)
            if refusal is not None:
                out.status, out.digest, out.message = refusal[0], current.digest, refusal[1]
                return out
        if current is not None and s.tag_mutability(pkg.chart) == "IMMUTABLE":
            out.set(REFUSED, f"{alias} cannot move: the ECR repository {repo} has IMMUTABLE tags "
                             f"(use IMMUTABLE_WITH_EXCLUSION for {alias}, or drop --latest)")
            return out
        if dry_run:
            out.set(PLANNED, f"would point {alias} at {tag}")
            out.digest = source.digest
            return out
        s.client.put_manifest(repo, alias, source)
        moved = s.client.manifest(repo, alias)
        if moved is None or moved.digest != source.digest:
            out.set(FAILED, (
                f"another writer changed {alias} right after this run wrote it: it should hold {source.digest} but "
                f"holds {moved.digest if moved else 'nothing'}; check who else publishes {repo}, then re-run"))
            return out
        out.set(ALIASED, f"{alias} -> {pkg.version}")
        out.digest = source.digest
        if current is not None and move.force and not move.fixed:
            out.message += f" (--force-latest: moved from {_version_of(s, repo, current) or current.digest})"
    except RegistryError as exc:
        out.set(FAILED, str(exc))
    return out


def _fixed_tag_clash(s: Session, repo: str, version_tag: str, tag: str, remote: oci.Manifest | None,
                     force: bool) -> str | None:
    """The digest the version-tag-template's tag holds when it names other content than ``tag``
    (looked up before anything is pushed); None when it is absent, the same, or ``force``."""
    if force or not version_tag or version_tag == tag:
        return None
    held = s.client.manifest(repo, version_tag)
    if held is None or (remote is not None and held.digest == remote.digest):
        return None
    return held.digest


def _version_of(s: Session, repo: str, manifest: oci.Manifest) -> str | None:
    """The chart version in ``manifest``'s config blob; None when it is not a helm chart."""
    try:
        return _config_version(s.client, repo, manifest, f"oci://{s.target.host}/{repo}")
    except RegistryError:
        return None


def _refuse_move(s: Session, repo: str, alias: str, current: oci.Manifest, pkg: Package,
                 move: Move) -> tuple[str, str] | None:
    """(status, message) when ``alias`` must not move from ``current`` to ``pkg``; None when it may."""
    if move.fixed:
        if move.force:
            return None
        return "refused", (f"{alias} already holds {current.digest}, not {pkg.version}'s manifest; a version tag "
                           "never moves: bump the version, or pass --force to overwrite it")
    if move.force:
        return None
    held = _version_of(s, repo, current)
    if held is None:
        return "refused", (f"{alias} holds {current.digest}, which is not a chart version chartship can compare; "
                           "pass --force-latest to replace it")
    why = aliases.refusal(move.policy, alias, held, pkg.version)
    if why is None:
        return None
    return "skipped", f"{alias} stays at {held}: {why}; --force-latest moves it on purpose"


def _config_version(client: oci.Client, repository: str, manifest: oci.Manifest, base: str) -> str:
    if manifest.config_digest is None:
        raise RegistryError(f"{base}: manifest {manifest.digest} has no config blob; is it a helm chart?")
    try:
        version = str(json.loads(client.blob(repository, manifest.config_digest))["version"])
        semver.parse(version, f"{base} config version")
    except (ValueError, KeyError, TypeError, VersionError):
        raise RegistryError(f"{base}: config blob has no chart version; is it a helm chart?") from None
    return version


def resolve(client: oci.Client, repository: str, tag: str) -> str:
    """The chart version behind ``tag`` (e.g. latest), read from the chart's config blob."""
    where = f"{oci.Ref(client.host, repository)}:{tag}"
    manifest = client.manifest(repository, tag)
    if manifest is None:
        raise RegistryError(f"{where} does not exist; list tags or publish with --latest")
    if manifest.config_digest is None:
        raise RegistryError(f"{where} has no config blob; is it a helm chart?")
    try:
        config = json.loads(client.blob(repository, manifest.config_digest))
        version = str(config["version"])
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"{where}: config blob has no chart version; is it a helm chart?") from None
    semver.parse(version, f"{where} config version")
    return version
