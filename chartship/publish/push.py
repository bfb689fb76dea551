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
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chartship import secrets
from chartship.config import Target
from chartship.errors import ChartError, RegistryError, ToolError
from chartship.registry import authfile, oci
from chartship.tools import helm
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
    for entry in _entries(data):
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


# ---------------------------------------------------------------- sessions

@dataclass
class Session:
    """An authenticated connection to one target: our OCI client plus helm's private login."""

    root: Path
    target: Target
    client: oci.Client
    registry_config: Path | None
    mutability: dict[str, str] = field(default_factory=dict)

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
    secrets.register_login(user, password)
    return user, password


@contextmanager
def session(root: Path, target: Target, login_helm: bool = True,
            environ: Mapping[str, str] | None = None) -> Iterator[Session]:
    """Log in (helm into a private, temporary HELM_REGISTRY_CONFIG) and always clean up."""
    creds = credentials(target, environ)
    tmp = authfile.create()
    try:
        config: Path | None = None
        if creds is not None and login_helm:
            config = tmp / "config.json"
            try:
                helm.login_with(root, target.host, creds[0], creds[1], target.plain_http, config)
            except ToolError as exc:
                raise RegistryError(f"target {target.name!r}: {exc}") from None
        client = oci.Client(target.host, target.plain_http, creds[0] if creds else None, creds[1] if creds else None,
                            retry=oci.Retry.from_env(environ))
        yield Session(root, target, client, config)
    finally:
        authfile.remove(tmp)


# ---------------------------------------------------------------- publishing

def _push_with_retry(s: Session, pkg: Package, sleep: Callable[[float], None]) -> helm.PushResult:
    retry = s.client.retry
    result = helm.PushResult(False, None, "not attempted", False)
    for attempt in range(retry.attempts):
        result = helm.push(s.root, pkg.path, s.target.url, s.target.plain_http, s.registry_config)
        if result.ok or not result.transient:
            return result
        if attempt + 1 < retry.attempts:
            sleep(retry.delay(attempt))
    return result


def publish_one(s: Session, pkg: Package, version_tag: str, alias: str | None, force: bool, dry_run: bool,
                sleep: Callable[[float], None] = time.sleep) -> list[Outcome]:
    """Publish one package; returns its outcome, plus the alias outcome when ``alias``."""
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
        elif dry_run:
            out.message = "would overwrite (--force)" if remote is not None else "would push"
        else:
            pushed = _push_with_retry(s, pkg, sleep)
            if not pushed.ok:
                out.status, out.message = "failed", f"helm push failed: {secrets.redact(pushed.message)}"
            else:
                check = s.client.manifest(repo, tag)
                if check is None or check.layer_digest() != pkg.layer_digest:
                    out.status, out.message = "failed", f"verification failed: {ref} does not hold the package just pushed"
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
        extra = [t for t in dict.fromkeys([version_tag, alias or ""]) if t and t != tag]
        for alias_tag in extra:
            results.append(_alias(s, pkg, tag, alias_tag, verified))
    return results


def _alias(s: Session, pkg: Package, tag: str, alias: str, source: oci.Manifest | None) -> Outcome:
    """Point ``alias`` at ``source``, the verified manifest of ``tag``, by copying the manifest (no blob
    upload). Without a verified manifest (a dry run) it only says what it would do."""
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
        if current is not None and s.tag_mutability(pkg.chart) == "IMMUTABLE":
            out.status, out.message = "refused", (f"{alias} cannot move: the ECR repository {repo} has IMMUTABLE tags "
                                                  f"(use IMMUTABLE_WITH_EXCLUSION for {alias}, or drop --latest)")
            return out
        s.client.put_manifest(repo, alias, source)
        moved = s.client.manifest(repo, alias)
        if moved is None or moved.digest != source.digest:
            out.status, out.message = "failed", f"{alias} does not read back as {source.digest}"
            return out
        out.status, out.digest, out.message = "aliased", source.digest, f"{alias} -> {pkg.version}"
    except RegistryError as exc:
        out.status, out.message = "failed", str(exc)
    return out


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
