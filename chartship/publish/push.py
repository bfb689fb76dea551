"""Publish built packages to an OCI registry: look up, push, verify, alias.

Safe to re-run: a version already published with the same bytes is skipped; a
published version with different bytes is refused unless ``force`` (never on an
IMMUTABLE ECR repository). Only a genuine "not found" means "not published".
The alias tag (``latest``) moves only to a manifest that was read back and verified.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chartship import secrets
from chartship.config import Config, Target
from chartship.errors import ChartError, RegistryError, ToolError, VersionError
from chartship.publish import aliases
from chartship.registry import oci, retry
from chartship.tools.helm import Helm, HelmError, HelmResult
from chartship.version import semver

USER_ENV = "CHARTSHIP_REGISTRY_USERNAME"
PASSWORD_ENV = "CHARTSHIP_REGISTRY_PASSWORD"  # noqa: S105 - a variable name


@dataclass(frozen=True)
class Package:
    chart: str
    version: str
    path: Path
    sha256: str

    @property
    def layer_digest(self) -> str:
        return f"sha256:{self.sha256}"


@dataclass
class Outcome:
    chart: str
    version: str
    ref: str
    status: str  # pushed | skipped | aliased | refused | failed | planned
    digest: str | None = None
    message: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


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
    for entry in data.get("packages", []):
        if entry.get("kind") != "version" or (charts and entry["chart"] not in charts):
            continue
        path = dist / entry["file"]
        if not path.is_file():
            raise ChartError(f"dist/charts/{entry['file']}: missing; run `invoke helm.build` again")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            raise ChartError(f"dist/charts/{entry['file']}: changed since it was built; run `invoke helm.build` again")
        packages.append(Package(entry["chart"], entry["version"], path, digest))
    if not packages:
        raise ChartError("dist/charts/manifest.json lists no packages" + (f" for {', '.join(charts)}" if charts else "")
                         + "; run `invoke helm.build`")
    return packages


# ---------------------------------------------------------------- sessions

@dataclass
class Session:
    """An authenticated connection to one target: our OCI client plus helm's private login."""

    cfg: Config
    target: Target
    client: oci.Client
    registry_config: Path | None
    mutability: dict[str, str] = field(default_factory=dict)

    @property
    def helm(self) -> Helm:
        """The run's helm (located only when a session really runs helm)."""
        return self.cfg.helm

    @property
    def base_path(self) -> str:
        return self.target.url.removeprefix("oci://").partition("/")[2]

    def repository(self, chart: str) -> str:
        return f"{self.base_path}/{chart}" if self.base_path else chart

    def ref(self, chart: str, tag: str) -> str:
        return f"oci://{self.target.host}/{self.repository(chart)}:{tag}"

    def tag_mutability(self, chart: str) -> str:
        """ECR: ensure the repository exists and read its tag mutability; elsewhere MUTABLE."""
        repo = self.repository(chart)
        if repo not in self.mutability:
            if self.target.auth == "ecr":
                from chartship.registry import ecr

                self.mutability[repo] = ecr.ensure_repository(self.target.host, self.target.region, repo,
                                                              self.target.create_repository)
            else:
                self.mutability[repo] = "MUTABLE"
        return self.mutability[repo]


def credentials(target: Target, environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(user, password) for ``target``: none, from the environment (basic), or an ECR token (boto3)."""
    env = os.environ if environ is None else environ
    if target.auth == "none":
        return None
    if target.auth == "ecr":
        from chartship.registry import ecr

        creds = ecr.login(target.host, target.region)
        return creds.username, creds.password
    user, password = env.get(USER_ENV, ""), env.get(PASSWORD_ENV, "")
    if not user or not password:
        raise RegistryError(f"target {target.name!r} ({target.host}) needs a login: set {USER_ENV} and {PASSWORD_ENV}")
    secrets.register(password)
    return user, password


@contextmanager
def session(cfg: Config, target: Target, login_helm: bool = True,
            environ: Mapping[str, str] | None = None) -> Iterator[Session]:
    """Log in (helm into a private, temporary HELM_REGISTRY_CONFIG) and always clean up. Registry calls
    retry transient failures as configured (``retries``, ``retry_backoff``: :mod:`chartship.registry.retry`)."""
    creds = credentials(target, environ)
    tmp = Path(tempfile.mkdtemp(prefix="chartship-registry-"))
    try:
        config: Path | None = None
        if creds is not None and login_helm:
            config = tmp / "config.json"
            try:
                cfg.helm.login(target.host, creds[0], creds[1], target.plain_http, config)
            except ToolError as exc:
                raise RegistryError(f"target {target.name!r}: {exc}") from None
        client = oci.Client(target.host, target.plain_http, creds[0] if creds else None, creds[1] if creds else None,
                            retry=retry.Policy.from_config(cfg))
        yield Session(cfg, target, client, config)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- publishing

def _push(s: Session, pkg: Package) -> HelmResult:
    """``helm push``, retried by the session's policy when helm's failure is transient (RegistryUnavailable)."""
    return s.client.retry.call(lambda: s.helm.push(pkg.path, s.target.url, s.target.plain_http, s.registry_config))


def publish_one(s: Session, pkg: Package, version_tag: str, alias: str | None, force: bool,
                dry_run: bool, force_latest: bool = False) -> list[Outcome]:
    """Publish one package; returns its outcome, plus the version-tag and alias outcomes. The
    repository is locked (on this machine) from the first lookup to the last read-back."""
    with aliases.repository_lock(s.target.host, s.repository(pkg.chart)):
        return _publish_one(s, pkg, version_tag, alias, force, dry_run, force_latest)


def _publish_one(s: Session, pkg: Package, version_tag: str, alias: str | None, force: bool,
                 dry_run: bool, force_latest: bool) -> list[Outcome]:
    tag = semver.to_oci_tag(pkg.version)
    ref = s.ref(pkg.chart, tag)
    repo = s.repository(pkg.chart)
    out = Outcome(pkg.chart, pkg.version, ref, "planned")
    verified: oci.Manifest | None = None  # the manifest at ``tag``, read back and checked against the package
    try:
        mutability = s.tag_mutability(pkg.chart)
        remote = s.client.manifest(repo, tag)
        if remote is not None and remote.layer_digest() == pkg.layer_digest:
            out.status, out.digest, out.message = "skipped", remote.digest, "already published"
            verified = remote
        elif remote is not None and not force:
            out.status, out.digest = "refused", remote.digest
            out.message = (f"{ref} is already published with different content; bump the version "
                           "(invoke version.bump) or pass --force to overwrite")
        elif remote is not None and mutability.startswith("IMMUTABLE"):
            out.status, out.digest = "refused", remote.digest
            out.message = f"{ref} differs, and the ECR repository {repo} has {mutability} tags; --force cannot overwrite"
        elif (held := _fixed_tag_clash(s, repo, version_tag, tag, remote, force)) is not None:
            out.status, out.digest = "refused", held
            out.message = (f"{s.ref(pkg.chart, version_tag)} already holds {held}, not this version's manifest; a "
                           "version tag never moves: bump the version, or pass --force to overwrite it")
        elif dry_run:
            out.message = "would overwrite (--force)" if remote is not None else "would push"
        else:
            try:
                pushed: HelmResult | None = _push(s, pkg)
            except HelmError as exc:
                pushed = None
                out.status, out.message = "failed", f"helm push failed: {secrets.redact(exc.reason)}"
            if pushed is not None:
                check = s.client.manifest(repo, tag)
                if check is None or check.layer_digest() != pkg.layer_digest:
                    found = "nothing" if check is None else f"{check.digest} (chart layer {check.layer_digest()})"
                    out.status, out.message = "failed", (
                        f"verification failed: another writer changed {ref} after this push: it should hold "
                        f"{pushed.digest or 'the package'} (chart layer {pkg.layer_digest}) but holds {found}; "
                        "check who else publishes this version, then re-run")
                elif pushed.digest and pushed.digest != check.digest:
                    out.status = "failed"
                    out.message = f"verification failed: helm reported {pushed.digest}, registry has {check.digest}"
                else:
                    out.status, out.digest, verified = "pushed", check.digest, check
                    out.message = "overwritten (--force)" if remote is not None else ""
    except RegistryError as exc:
        out.status, out.message = "failed", str(exc)
    results = [out]
    if out.status in ("pushed", "skipped", "planned"):
        if version_tag and version_tag != tag:
            results.append(_alias(s, pkg, tag, version_tag, verified, Move(fixed=True, force=force)))
        if alias and alias != tag and alias != version_tag and results[-1].status not in ("refused", "failed"):
            results.append(_alias(s, pkg, tag, alias, verified,
                                  Move(fixed=False, force=force_latest, policy=s.cfg.aliases_latest)))
    return results


@dataclass(frozen=True)
class Move:
    """How a tag other than the chart version may be written: ``fixed`` (the version-tag-template's
    tag: absent or the same manifest, else refused unless --force) or an alias under ``policy``
    (moves forward only, unless ``force``: --force-latest)."""

    fixed: bool
    force: bool = False
    policy: str = aliases.DEFAULT_POLICY


def _alias(s: Session, pkg: Package, tag: str, alias: str, source: oci.Manifest | None, move: Move) -> Outcome:
    """Point ``alias`` at ``source``, the verified manifest of ``tag``, by copying the manifest (no blob
    upload): look the tag up first, write, read it back. Without a verified manifest (a dry run) it
    only says what it would do."""
    repo = s.repository(pkg.chart)
    out = Outcome(pkg.chart, pkg.version, s.ref(pkg.chart, alias), "planned")
    try:
        if source is None:
            out.message = f"would point {alias} at {tag}"
            return out
        current = s.client.manifest(repo, alias)
        if current is not None and current.digest == source.digest:
            out.status, out.digest, out.message = "skipped", source.digest, f"{alias} already points at {tag}"
            return out
        if current is not None:
            refusal = _refuse_move(s, repo, alias, current, pkg, move)
            if refusal is not None:
                out.status, out.digest, out.message = refusal[0], current.digest, refusal[1]
                return out
        if current is not None and s.tag_mutability(pkg.chart) == "IMMUTABLE":
            out.status, out.message = "refused", (f"{alias} cannot move: the ECR repository {repo} has IMMUTABLE tags "
                                                  f"(use IMMUTABLE_WITH_EXCLUSION for {alias}, or drop --latest)")
            return out
        s.client.put_manifest(repo, alias, source)
        moved = s.client.manifest(repo, alias)
        if moved is None or moved.digest != source.digest:
            out.status, out.message = "failed", (
                f"another writer changed {alias} right after this run wrote it: it should hold {source.digest} but "
                f"holds {moved.digest if moved else 'nothing'}; check who else publishes {repo}, then re-run")
            return out
        out.status, out.digest, out.message = "aliased", source.digest, f"{alias} -> {pkg.version}"
        if current is not None and move.force and not move.fixed:
            out.message += f" (--force-latest: moved from {_version_of(s, repo, current) or current.digest})"
    except RegistryError as exc:
        out.status, out.message = "failed", str(exc)
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
    allowed, why = aliases.may_move(move.policy, held, pkg.version)
    if allowed:
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
    manifest = client.manifest(repository, tag)
    if manifest is None:
        raise RegistryError(f"oci://{client.host}/{repository}:{tag} does not exist; list tags or publish with --latest")
    if manifest.config_digest is None:
        raise RegistryError(f"oci://{client.host}/{repository}:{tag} has no config blob; is it a helm chart?")
    try:
        config = json.loads(client.blob(repository, manifest.config_digest))
        version = str(config["version"])
    except (ValueError, KeyError, TypeError):
        raise RegistryError(
            f"oci://{client.host}/{repository}:{tag}: config blob has no chart version; is it a helm chart?") from None
    semver.parse(version, f"oci://{client.host}/{repository}:{tag} config version")
    return version
