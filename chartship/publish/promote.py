"""Promote a published chart from one target to another: no rebuild, the digest is preserved.

The manifest, its config blob and every layer (the chart and its provenance, when
there is one) are copied through the registry API: blobs the destination already
has are left alone, blobs on the same registry are mounted across repositories,
the rest are downloaded (digest checked) and uploaded (digest checked again).
The destination tag must be absent or hold the same digest; it is read back after
writing. Aliases move only by :mod:`chartship.publish.tagsafe`'s rules.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

from chartship.config import Config, Target
from chartship.errors import ConfigError, RegistryError
from chartship.publish import tagsafe
from chartship.publish.push import Published, step
from chartship.registry import credentials, oci
from chartship.registry.credentials import Session
from chartship.version import semver
from chartship.version import tags as tagsmod

OK = ("promoted", "skipped", "planned")


@dataclass
class Copied:
    present: int = 0
    mounted: int = 0
    uploaded: int = 0
    size: int = 0

    def describe(self) -> str:
        parts = [f"{self.uploaded} blob(s) copied ({self.size} bytes)"] if self.uploaded else []
        parts += [f"{self.mounted} mounted"] if self.mounted else []
        parts += [f"{self.present} already there"] if self.present else []
        return ", ".join(parts) or "no blobs"


def target_environ(target: Target, environ: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """The environment ``target`` logs in with: CHARTSHIP_REGISTRY_USERNAME_<TARGET> and
    CHARTSHIP_REGISTRY_PASSWORD_<TARGET> (target name upper-cased, other characters as ``_``) replace the
    shared pair when set, so the two ends of a promotion can use different basic-auth accounts."""
    env = os.environ if environ is None else environ
    suffix = re.sub(r"[^A-Z0-9]+", "_", target.name.upper()).strip("_")
    user, password = f"{credentials.USER_ENV}_{suffix}", f"{credentials.PASSWORD_ENV}_{suffix}"
    if not env.get(user) and not env.get(password):
        return env
    if not env.get(user) or not env.get(password):
        raise ConfigError(f"target {target.name!r}: set both {user} and {password} (or neither)")
    return {**env, credentials.USER_ENV: env[user], credentials.PASSWORD_ENV: env[password]}


def promote(cfg: Config, source: Target, dest: Target, items: Sequence[tuple[str, str]], latest: bool = False,
            dry_run: bool = False, environ: Mapping[str, str] | None = None) -> list[Published]:
    """Copy each (chart, version) from ``source`` to ``dest``; with ``latest``, also move dest's latest alias."""
    if source.url == dest.url:
        raise ConfigError(f"--from {source.name} and --to {dest.name} are the same repository ({dest.url}); "
                          "nothing to promote")
    for chart, version in items:
        semver.parse(version, f"{chart} version")
    with ExitStack() as stack:
        src = stack.enter_context(credentials.session(cfg, source, login_helm=False,
                                                  environ=target_environ(source, environ)))
        dst = stack.enter_context(credentials.session(cfg, dest, login_helm=False,
                                                  environ=target_environ(dest, environ)))
        with ThreadPoolExecutor(max_workers=max(1, min(cfg.jobs, len(items)))) as pool:
            done = pool.map(lambda item: promote_one(cfg, src, dst, item[0], item[1], latest, dry_run), items)
            return [o for outcomes in done for o in outcomes]


def promote_one(cfg: Config, src: Session, dst: Session, chart: str, version: str, latest: bool,
                dry_run: bool) -> list[Published]:
    tag = semver.to_oci_tag(version)
    out = step(chart, version, dst.ref(chart, tag), "planned")
    manifest: oci.Manifest | None = None
    try:
        manifest = _source_manifest(src, chart, version)
        if not dry_run:
            dst.tag_mutability(chart)  # ECR: the repository exists, or is created when the target allows it
        current = dst.client.manifest(dst.repository(chart), tag)
        if current is not None and current.digest == manifest.digest:
            out.status, out.digest, out.message = "skipped", manifest.digest, "already promoted"
        elif current is not None:
            out.status, out.digest = "refused", current.digest
            out.message = (f"{out.ref} already holds {current.digest}, but {src.ref(chart, tag)} is {manifest.digest}; "
                           "a published version is never replaced by a promotion")
        elif dry_run:
            missing = [d for d in _blobs(manifest) if not dst.client.blob_exists(dst.repository(chart), d[0], push=True)]
            out.digest = manifest.digest
            out.message = (f"would copy {len(missing)} of {len(_blobs(manifest))} blob(s) "
                           f"({sum(size for _d, size in missing)} bytes) and the manifest from {src.ref(chart, tag)}")
        else:
            copied = copy_blobs(src, dst, chart, manifest)
            dst.client.put_manifest(dst.repository(chart), tag, manifest)
            out = tagsafe.read_back(dst, chart, tag, manifest, out, "promoted")
            if out.status == "promoted":
                out.message = f"from {src.ref(chart, tag)}: {copied.describe()}" + _provenance(manifest)
    except RegistryError as exc:
        out.status, out.message = "failed", str(exc)
    results = [out]
    if out.status in OK and manifest is not None:
        rendered = tagsmod.current_tags(cfg, semver.parse(version))
        if rendered["version"] != tag:
            results.append(tagsafe.write_tag(dst, chart, version, rendered["version"], manifest, dry_run, "promoted"))
        if latest:
            results.append(tagsafe.move_alias(dst, chart, version, rendered["latest"], manifest, True,
                                              cfg.latest_prereleases, dry_run))
    return results


def _source_manifest(src: Session, chart: str, version: str) -> oci.Manifest:
    """The manifest of ``chart`` ``version`` at the source, checked to be that chart and version."""
    repo, tag = src.repository(chart), semver.to_oci_tag(version)
    manifest = src.client.manifest(repo, tag)
    if manifest is None:
        raise RegistryError(f"{src.ref(chart, tag)} does not exist; publish it there first (or check --from and VERSION)")
    name, found = tagsafe.chart_version(src.client, repo, manifest)
    if name != chart or str(found) != version:
        raise RegistryError(f"{src.ref(chart, tag)} holds chart {name} {found}, not {chart} {version}; refusing to promote it")
    return manifest


def _blobs(manifest: oci.Manifest) -> list[tuple[str, int]]:
    """(digest, size) of the config blob and every layer."""
    data = manifest.data
    descriptors = [data.get("config") or {}, *(data.get("layers") or [])]
    found = []
    for d in descriptors:
        digest = str(d.get("digest", ""))
        if not oci.DIGEST_RE.match(digest):
            raise RegistryError(f"manifest {manifest.digest} lists a blob with digest {digest!r}; not a chart chartship copies")
        found.append((digest, int(d.get("size", 0))))
    return found


def copy_blobs(src: Session, dst: Session, chart: str, manifest: oci.Manifest) -> Copied:
    """Every blob of ``manifest`` into the destination repository (present ones are left alone)."""
    src_repo, dst_repo = src.repository(chart), dst.repository(chart)
    copied = Copied()
    for digest, size in _blobs(manifest):
        if dst.client.blob_exists(dst_repo, digest, push=True):
            copied.present += 1
            continue
        location = None
        if src.client.host == dst.client.host:
            location = dst.client.mount_blob(dst_repo, digest, src_repo)
            if location is None:
                copied.mounted += 1
                continue
        data = src.client.blob(src_repo, digest)  # checked against its digest
        if size and len(data) != size:
            raise RegistryError(f"{src.ref(chart, digest)}: blob is {len(data)} bytes, the manifest says {size}")
        dst.client.upload_blob(dst_repo, digest, data, location)
        copied.uploaded += 1
        copied.size += len(data)
    return copied


def _provenance(manifest: oci.Manifest) -> str:
    return ", with provenance" if manifest.layer_digest(oci.PROVENANCE_TYPE) else ""
