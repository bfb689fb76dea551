"""Plan and run a release: build, start the local registry when needed, publish every built
package, move the alias tag, write release notes. :func:`deploy` with ``dry_run`` prints the
exact plan and writes nothing: packages are built in a temporary folder (or taken from an
up-to-date dist/charts), the registry is only read, the local registry is not started."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from threading import BoundedSemaphore
from typing import Any

from chartship import config
from chartship.build import build as buildmod
from chartship.build import lint
from chartship.build.package import Entry
from chartship.charts import chart as chartmod
from chartship.config import DIST_DIR, LOCAL_HOSTS, REGISTRY_STATE, Config, Target
from chartship.errors import ConfigError, PublishRefused
from chartship.outcome import ALIASED, BAD, PLANNED, PUSHED, REFUSED, SKIPPED
from chartship.pagestarget import PagesTarget
from chartship.publish import notes, tagsafe
from chartship.publish import push as pushmod
from chartship.publish.push import Published
from chartship.registry import credentials
from chartship.settings import Signing
from chartship.tools import registry_server
from chartship.version import semver, versioning
from chartship.version.dev import DevBuild

NOTES_FILE = DIST_DIR.parent / "RELEASE_NOTES.md"
LOOKUPS = 8  # concurrent registry lookups (waiting on the network, not the CPU)
NOT_RUNNING = "not published: the local registry is not running (a real deploy starts it)"


def local_port(target: Target) -> int | None:
    """The port of the embedded registry when ``target`` is it, else None."""
    host, _, port = target.host.partition(":")
    if target.name != "local" or host not in LOCAL_HOSTS or isinstance(target, PagesTarget):
        return None
    return int(port) if port.isdigit() else 5000


def local_target(target: Target, environ: Mapping[str, str] | None = None) -> Target:
    """``target`` with the port of CHARTSHIP_LOCAL_REGISTRY_PORT when it is the embedded registry and the
    variable is set (a whole number 1-65535)."""
    wanted = config.env(registry_server.PORT_ENV, environ).strip()
    if not wanted or local_port(target) is None:
        return target
    if not wanted.isdigit() or not 0 < int(wanted) < 65536:
        raise ConfigError(f"{registry_server.PORT_ENV}={wanted[:20]!r}: expected a port number 1-65535")
    host = target.host.partition(":")[0]
    return replace(target, url=target.url.replace(f"//{target.host}", f"//{host}:{int(wanted)}", 1))


def local_registry(cfg: Config, target: Target) -> str:
    """'' when ``target`` is not the embedded registry; else ``ours`` (this data folder's registry answers)
    or ``free``. A port held by anything else raises ForeignPort: nothing is read from or pushed there."""
    port = local_port(target)
    if port is None:
        return ""
    host = target.host.partition(":")[0]
    owner = registry_server.ownership(cfg.root / REGISTRY_STATE, host, port)
    if owner == registry_server.FOREIGN:
        raise registry_server.foreign_port(REGISTRY_STATE, host, port)
    return owner


def local_registry_down(target: Target) -> bool:
    """True when ``target`` is the embedded registry and nothing answers on its port (no ownership check:
    deploy and promote use :func:`local_registry`)."""
    port = local_port(target)
    return port is not None and not registry_server.answering(target.host.partition(":")[0], port)


def ensure_local_registry(cfg: Config, target: Target) -> bool:
    """Start the embedded registry for the ``local`` target when its port is free; True if started.
    A port held by anything else raises ForeignPort."""
    if local_registry(cfg, target) != registry_server.FREE:
        return False
    port = local_port(target)
    assert port is not None
    registry_server.start(cfg.root / REGISTRY_STATE, port, host=target.host.partition(":")[0])
    return True


def publish(cfg: Config, target: Target, packages: Sequence[pushmod.Package], latest: bool, force: bool,
            dry_run: bool, dev: DevBuild | None = None, force_latest: bool = False,
            charts: Sequence[chartmod.Chart] | None = None) -> list[Published]:
    """Look up / push / alias ``packages`` (in parallel; reported in order; ``charts``: every chart as this
    run read it, else they are read again). A dry run against a local
    registry that is not running says what it would do without starting it. With ``dev`` the packages
    must be that branch build, and its aliases (the dev alias, and latest only where allowed) move
    through the tag-safety rules. The tag templates are checked before anything is written."""
    target = local_target(target)
    tags_for = versioning.published_tags(cfg, packages, dev, charts)  # each chart's own version, or the lockstep/dev one
    if isinstance(target, PagesTarget):  # a classic chart repository on a git branch
        from chartship.publish import pages

        return pages.publish(cfg, target, packages, latest, dry_run)
    rendered = next(iter(tags_for.values()), {})

    def alias(pkg: pushmod.Package) -> str | None:
        return tags_for[pkg.chart]["latest"] if latest and dev is None else None

    dev_aliases = ([(rendered["dev"], False)] if "dev" in rendered else []) + ([(rendered["latest"], True)] if latest else [])
    if dry_run and local_registry(cfg, target) == registry_server.FREE:
        return [o for pkg in packages for o in _unreachable(target, pkg, tags_for[pkg.chart]["version"], alias(pkg))]
    ensure_local_registry(cfg, target)
    slots = BoundedSemaphore(max(1, cfg.jobs))  # helm pushes use the CPU: --jobs of them; lookups only wait
    with credentials.session(cfg, target, login_helm=not dry_run) as s, \
            ThreadPoolExecutor(max_workers=max(1, min(max(cfg.jobs, LOOKUPS), len(packages)))) as pool:
        done = pool.map(lambda pkg: pushmod.publish_one(s, pkg, tags_for[pkg.chart]["version"], alias(pkg), force,
                                                       dry_run, force_latest, slots), packages)
        outcomes = [o for outcomes in done for o in outcomes]
        if dev is not None and dev_aliases:
            outcomes += tagsafe.alias_packages(s, packages, outcomes, dev_aliases, cfg.latest_prereleases, dry_run)
        return outcomes


def _unreachable(target: Target, pkg: pushmod.Package, version_tag: str, alias: str | None) -> list[Published]:
    base = f"{target.url}/{pkg.chart}"
    tag = semver.to_oci_tag(pkg.version)
    out = [Published(chart=pkg.chart, version=pkg.version, ref=f"{base}:{tag}", status=PLANNED,
                     messages=[f"would push ({NOT_RUNNING})"])]
    for extra in [t for t in dict.fromkeys([version_tag, alias or ""]) if t and t != tag]:
        out.append(Published(chart=pkg.chart, version=pkg.version, ref=f"{base}:{extra}", status=PLANNED,
                             messages=[f"would point {extra} at {tag}"], kind=pushmod.ALIAS))
    return out


def push(cfg: Config, target: Target, charts: Sequence[str], latest: bool, force: bool, dry_run: bool,
         dev: DevBuild | None = None, force_latest: bool = False) -> list[Published]:
    """``helm.push``: publish the packages of dist/charts (``dev``: they must be that branch build)."""
    return publish(cfg, target, pushmod.load_packages(cfg.dist_dir, charts), latest, force, dry_run, dev,
                   force_latest)


def failed(outcomes: Sequence[Published]) -> bool:
    return any(o.status in BAD for o in outcomes)


def raise_if_failed(outcomes: Sequence[Published]) -> None:
    """One line: how many steps failed, and what did change in the registry for those charts before they failed."""
    bad = [o for o in outcomes if o.status in BAD]
    if not bad:
        return
    charts = {o.chart for o in bad}
    done = [o for o in outcomes if o.chart in charts and o.status in (PUSHED, ALIASED)]
    head = (f"{len(bad)} of {len(outcomes)} publish step(s) refused or failed (see the table; first: "
            f"{bad[0].ref}: {bad[0].message or bad[0].status})")
    if not done:
        raise PublishRefused(f"{head}; the registry was not changed for those charts")
    changed = ", ".join(f"{o.ref} was {'pushed' if o.status == PUSHED else 'moved'}" for o in done)
    failed_refs = ", ".join(o.ref for o in bad)
    raise PublishRefused(f"{head}; already changed for those charts: {changed}; not done: {failed_refs}: fix the cause "
                         "and run it again (what is published is skipped)")


# ---------------------------------------------------------------- deploy


WOULD = {(pushmod.VERSION, PLANNED): "push", (pushmod.ALIAS, PLANNED): "alias"}


@dataclass
class Deployment:
    """What ``deploy`` did, or in a dry run would do: the build, the local registry, every publish step."""

    version: str
    target: str
    dry_run: bool
    build: str  # rebuilt | up to date | would build | up to date (reused)
    registry: str  # "" (not the local registry) | running | started | would be started
    packages: list[Entry] = field(default_factory=list)
    results: list[Published] = field(default_factory=list)
    lint: lint.Report | None = None
    notes: str = ""

    @property
    def ok(self) -> bool:
        return (self.lint is None or self.lint.ok) and not failed(self.results)

    @property
    def up_to_date(self) -> bool:
        return all(o.status == SKIPPED for o in self.results)

    def action(self, o: Published) -> str:
        """What a step does: push, alias, skip, refuse, fail (a dry run's planned steps included)."""
        return WOULD.get((o.kind, o.status), {"pushed": "push", "aliased": "alias", "skipped": "skip",
                                              "refused": "refuse", "failed": "fail"}.get(o.status, o.status))

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dry_run": self.dry_run, "version": self.version, "target": self.target,
                "build": self.build, "rebuilt": self.build == "rebuilt", "registry": self.registry or None,
                "packages": [asdict(e) for e in self.packages],
                "results": [{**o.as_dict(), "action": self.action(o)} for o in self.results],
                "up_to_date": self.up_to_date, "notes": self.notes or None,
                **({"lint": self.lint.as_dict()} if self.lint is not None else {})}


@contextmanager
def _build_folder(cfg: Config, dry_run: bool) -> Iterator[Path | None]:
    if not dry_run:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="chartship-plan-") as tmp:
        yield Path(tmp) / DIST_DIR.name


def deploy(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], target: Target, latest: bool,
           force: bool, dry_run: bool, lint_target: str | None = None, signing: Signing | None = None,
           dev: DevBuild | None = None, force_latest: bool = False) -> Deployment:
    """Build (lint first), start the local registry if needed, push, move the alias, write release notes.
    With ``dry_run`` nothing is written anywhere; the result is the exact plan."""
    target = local_target(target)
    down = local_registry(cfg, target) == registry_server.FREE
    registry = ("" if local_port(target) is None else
                ("would be started" if dry_run else "started") if down else "running")
    with _build_folder(cfg, dry_run) as folder:
        built = buildmod.build(cfg, all_charts, names, cfg.jobs, latest=latest, run_lint=True,
                               target=lint_target, dest=folder, signing=signing, dev=dev)
        how = "up to date" if built.reused else ("would build" if dry_run else "rebuilt")
        result = Deployment(built.version, target.url, dry_run, how, registry, list(built.entries), lint=built.lint)
        if built.lint is not None and not built.lint.ok:
            result.registry = ""
            return result
        packages = pushmod.load_packages(built.dest, names)
        result.results = publish(cfg, target, packages, latest, force, dry_run, dev, force_latest, all_charts)
    if not dry_run and not failed(result.results):
        result.notes = write_notes(cfg, target, names, known_tags(result.results), packages)
    return result


Known = Mapping[str, Mapping[str, str]]  # chart -> tag -> the digest this run read back at that tag


def known_tags(outcomes: Sequence[Published]) -> dict[str, dict[str, str]]:
    """What the publish steps of this run read from the registry: chart -> tag -> manifest digest. A version
    tag counts when it was pushed and read back, or found with the package's bytes; an alias when it was
    moved and read back, or found (already there, or left where it stays)."""
    out: dict[str, dict[str, str]] = {}
    for o in outcomes:
        tag = o.ref.rpartition(":")[2]
        if tag == semver.to_oci_tag(o.version):  # checked against the package's bytes only when pushed or skipped
            read = o.kind == pushmod.VERSION and o.status in (PUSHED, SKIPPED)
        else:  # what the tag holds now: where it was moved, already pointed, or stays
            read = o.status in (ALIASED, SKIPPED, REFUSED)
        if read and o.digest:
            out.setdefault(o.chart, {})[tag] = o.digest
    return out


def release_notes(cfg: Config, target: Target, charts: Sequence[str] = (), known: Known | None = None,
                  packages: Sequence[pushmod.Package] | None = None) -> str:
    """Markdown notes for each built chart: version, OCI ref, digest, install and pull commands. ``known``:
    what this run's publish steps read back (:func:`known_tags`); any other tag is looked up, concurrently
    (the notes keep the packages' order). ``packages``: those of dist/charts this run already checked."""
    packages = pushmod.load_packages(cfg.dist_dir, charts) if packages is None else packages
    if isinstance(target, PagesTarget):
        from chartship.publish import pages

        return pages.release_notes(target, packages)
    plain = " --plain-http" if target.plain_http else ""
    candidates = {v: notes.alias_candidates(cfg, v) for v in dict.fromkeys(pkg.version for pkg in packages)}
    with credentials.session(cfg, target, login_helm=False) as s, \
            ThreadPoolExecutor(max_workers=max(1, min(LOOKUPS, len(packages)))) as pool:
        def digest_at(pkg: pushmod.Package, tag: str, version_tag: bool) -> str | None:
            seen = (known or {}).get(pkg.chart, {})
            if tag in seen:
                return seen[tag]
            manifest = s.client.manifest(s.repository(pkg.chart), tag)
            if manifest is None or (version_tag and manifest.layer_digest() != pkg.layer_digest):
                return None
            return manifest.digest

        def section(pkg: pushmod.Package) -> list[str]:
            tag = semver.to_oci_tag(pkg.version)
            digest = digest_at(pkg, tag, True)
            base = s.base(pkg.chart)
            aliases = [t for t in candidates[pkg.version] if digest and digest_at(pkg, t, False) == digest]
            return [f"## {pkg.chart} {pkg.version}", "",
                    f"- OCI reference: `{base}:{tag}`",
                    f"- Digest: `{digest}`" if digest else "- Digest: not published yet (run `invoke helm.push`)",
                    f"- Package: `{pkg.path.name}` (sha256 `{pkg.sha256}`)",
                    notes.found_line(base, aliases),
                    "", "```bash",
                    f"helm install {pkg.chart} {base} --version {pkg.version}{plain}",
                    f"helm pull {base} --version {pkg.version}{plain}",
                    "```", ""]

        sections = list(pool.map(section, packages))
    return "\n".join(["# Release notes", "", *(line for lines in sections for line in lines)])


def write_notes(cfg: Config, target: Target, charts: Sequence[str] = (), known: Known | None = None,
                packages: Sequence[pushmod.Package] | None = None) -> str:
    """Write dist/RELEASE_NOTES.md; returns its path relative to the project."""
    from chartship.version.versionfile import write_atomic

    path = cfg.root / NOTES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, release_notes(cfg, target, charts, known, packages))
    return NOTES_FILE.as_posix()
