"""Plan and run a release: pick the target, start the local registry when needed,
publish every built package, and write release notes."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from chartship.config import Config, Target
from chartship.errors import PublishRefused
from chartship.publish import push as pushmod
from chartship.publish.push import Outcome
from chartship.tools import registry_server
from chartship.version import semver, tags

LOCAL_HOSTS = ("127.0.0.1", "localhost")
REGISTRY_STATE = Path(".cache") / "registry"


def local_port(target: Target) -> int | None:
    """The port of the embedded registry when ``target`` is it, else None."""
    host, _, port = target.host.partition(":")
    if target.name != "local" or host not in LOCAL_HOSTS:
        return None
    return int(port) if port.isdigit() else 5000


def ensure_local_registry(cfg: Config, target: Target) -> bool:
    """Start the embedded registry for the ``local`` target when nothing listens; True if started."""
    port = local_port(target)
    if port is None or registry_server.answering(target.host.partition(":")[0], port):
        return False
    registry_server.start(cfg.root / REGISTRY_STATE, port, host=target.host.partition(":")[0])
    return True


def push(cfg: Config, target: Target, charts: Sequence[str], latest: bool, force: bool, dry_run: bool) -> list[Outcome]:
    packages = pushmod.load_packages(cfg.root / "dist" / "charts", charts)
    rendered = package_tags(cfg, packages)
    ensure_local_registry(cfg, target)
    with pushmod.session(cfg.root, target, login_helm=not dry_run) as s, \
            ThreadPoolExecutor(max_workers=max(1, min(cfg.jobs, len(packages)))) as pool:
        # charts are independent: look up / push / alias them in parallel, report them in order
        done = pool.map(lambda pkg: pushmod.publish_one(s, pkg, rendered[pkg.chart]["version"],
                                                        rendered[pkg.chart]["latest"] if latest else None, force,
                                                        dry_run), packages)
        return [o for outcomes in done for o in outcomes]


def package_tags(cfg: Config, packages: Sequence[pushmod.Package]) -> dict[str, dict[str, str]]:
    """chart -> its rendered version and latest tags, from the version it was built as (its own, or the lockstep one)."""
    ctx = tags.checkout_context(cfg)
    return {pkg.chart: tags.tags(cfg, semver.parse(pkg.version, f"dist/charts: {pkg.chart} version"), ctx)
            for pkg in packages}


def failed(outcomes: Sequence[Outcome]) -> bool:
    return any(o.status in ("refused", "failed") for o in outcomes)


def raise_if_failed(outcomes: Sequence[Outcome]) -> None:
    bad = [o for o in outcomes if o.status in ("refused", "failed")]
    if bad:
        raise PublishRefused(f"{len(bad)} of {len(outcomes)} publish step(s) refused or failed; nothing else was changed "
                             "for those charts (see the table)")


def release_notes(cfg: Config, target: Target, charts: Sequence[str] = ()) -> str:
    """Markdown notes for each built chart: version, OCI ref, digest, install and pull commands."""
    packages = pushmod.load_packages(cfg.root / "dist" / "charts", charts)
    tags_for = package_tags(cfg, packages)
    lines = ["# Release notes", ""]
    plain = " --plain-http" if target.plain_http else ""
    with pushmod.session(cfg.root, target, login_helm=False) as s:
        for pkg in packages:
            rendered = tags_for[pkg.chart]
            repo = s.repository(pkg.chart)
            manifest = s.client.manifest(repo, pkg.version.replace("+", "_"))
            published = manifest is not None and manifest.layer_digest() == pkg.layer_digest
            base = f"oci://{target.host}/{repo}"
            lines += [f"## {pkg.chart} {pkg.version}", "",
                      f"- OCI reference: `{base}:{pkg.version.replace('+', '_')}`",
                      f"- Digest: `{manifest.digest}`" if published and manifest else "- Digest: not published yet "
                      "(run `invoke helm.push`)",
                      f"- Package: `{pkg.path.name}` (sha256 `{pkg.sha256}`)",
                      f"- Alias tag: `{rendered['latest']}` (resolve it with `invoke helm.resolve {base} {rendered['latest']}`)",
                      "", "```bash",
                      f"helm install {pkg.chart} {base} --version {pkg.version}{plain}",
                      f"helm pull {base} --version {pkg.version}{plain}",
                      "```", ""]
    return "\n".join(lines)
