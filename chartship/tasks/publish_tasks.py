"""invoke helm.push / helm.deploy / helm.resolve / helm.notes: publishing to OCI registries."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import config, edge
from chartship.tasks.helm_tasks import DEV_HELP, dev_build

if TYPE_CHECKING:
    from chartship.config import Config, Target
    from chartship.publish.deploy import Deployment
    from chartship.publish.push import Published

DIST = "dist/charts"

TARGET_HELP = {
    "target": "release target from invoke.yaml (default: default_target; env CHARTSHIP_TARGET)",
    "registry": "oci://HOST[:PORT]/PATH replacing the target (env CHARTSHIP_REGISTRY; auth from CHARTSHIP_REGISTRY_AUTH)",
    "plain_http": "talk HTTP, not HTTPS, to the registry (env CHARTSHIP_PLAIN_HTTP=1)",
    "chart": "only this chart (repeatable)",
}
REF_TARGET_HELP = "use this target's credentials (default: the configured target whose host is the reference's)"
FORCE_LATEST_HELP = "with --latest: move the alias even to a lower version (aliases.latest policy overridden)"


def _target(c: Context, target: str, registry: str, plain_http: bool) -> tuple[Config, Target]:
    from chartship.config import release_target
    from chartship.publish.deploy import local_target

    cfg = config(c, default_target=target or None)
    return cfg, local_target(release_target(cfg, registry=registry or None, plain_http=plain_http))


def _report(outcomes: list[Published], json: bool, dry_run: bool, title: str = "Publish") -> None:
    _github(outcomes, dry_run)
    from chartship import report

    if json:
        report.emit_json({"dry_run": dry_run, "results": [o.as_dict() for o in outcomes],
                          "up_to_date": all(o.status == "skipped" for o in outcomes)})
        return
    _table(outcomes, dry_run, title)


def _github(outcomes: list[Published], dry_run: bool) -> None:
    """Under GitHub Actions: a step summary of what was pushed (with digests) and an annotation per failure."""
    import os

    from chartship.ci_report import Check, github

    rows = [(o.chart, o.version, o.ref, o.status, o.digest or "", o.message) for o in outcomes]
    github.publish_summary("publish" + (" (dry run)" if dry_run else ""), rows, os.environ)
    github.annotate([Check(o.chart, f"push {o.ref}", "failed", o.message or o.status) for o in outcomes
                     if o.status in ("refused", "failed")], os.environ)


def _table(outcomes: list[Published], dry_run: bool, title: str = "Publish") -> None:
    from chartship import report

    report.table(title + (" (dry run)" if dry_run else ""), ["chart", "version", "reference", "result", "digest", "note"],
                 [(o.chart, o.version, o.ref, o.status, (o.digest or "")[:19], o.message) for o in outcomes])
    if outcomes and all(o.status == "skipped" for o in outcomes):
        report.out("up to date: every chart is already published; nothing was uploaded")


@task(iterable=["chart"], help={
    "latest": "after verification, point the latest-tag-template tag at the pushed manifest",
    "force": "overwrite a published version whose content differs (never on IMMUTABLE ECR repositories)",
    "dry_run": "look everything up and print the plan; push nothing",
    "force_latest": FORCE_LATEST_HELP,
    "json": "print results as JSON", **TARGET_HELP, **DEV_HELP})
@edge
def push(c: Context, latest: bool = False, force: bool = False, dry_run: bool = False, json: bool = False,
         target: str = "", registry: str = "", plain_http: bool = False, chart: list[str] | None = None,
         dev: bool = False, branch: str = "", run: str = "", force_latest: bool = False) -> None:
    """Push the built packages (dist/charts) to the target; skip what is already published."""
    from chartship.publish import deploy as deploymod

    cfg, tgt = _target(c, target, registry, plain_http)
    outcomes = deploymod.push(cfg, tgt, chart or [], latest, force, dry_run, dev_build(cfg, dev, branch, run),
                              force_latest)
    _report(outcomes, json, dry_run)
    deploymod.raise_if_failed(outcomes)


@task(iterable=["chart"], help={
    "latest": "also build the latest package and move the latest tag after verification",
    "force": "overwrite a published version whose content differs",
    "dry_run": "print the exact plan (build, push, skip, refuse, alias); write nothing, start nothing",
    "force_latest": FORCE_LATEST_HELP,
    "json": "print the deployment as JSON",
    "sign": "sign the packages (see helm.build --sign); the provenance is pushed with each chart",
    **TARGET_HELP, **DEV_HELP})
@edge
def deploy(c: Context, latest: bool = False, force: bool = False, dry_run: bool = False, json: bool = False,
           target: str = "", registry: str = "", plain_http: bool = False, chart: list[str] | None = None,
           sign: bool = False, dev: bool = False, branch: str = "", run: str = "", force_latest: bool = False) -> None:
    """Build, then push: lint, package, publish, tag latest, release notes. Re-running with nothing changed
    uploads nothing; --dry-run shows what would happen; --dev publishes the branch build."""
    from chartship import report
    from chartship.build import build as buildmod
    from chartship.charts import chart as chartmod
    from chartship.publish import deploy as deploymod
    from chartship.tasks import helm_tasks

    cfg, tgt = _target(c, target, registry, plain_http)
    charts = chartmod.discover(cfg)
    names = [ch.name for ch in chartmod.select(cfg, charts, chart or [])]
    from chartship import settings

    signing = settings.signing(cfg.root) if sign else None
    result = deploymod.deploy(cfg, charts, names, tgt, latest, force, dry_run, target or None, signing,
                              dev_build(cfg, dev, branch, run), force_latest)
    _github(result.results, dry_run)
    if json:
        report.emit_json(result.as_dict())
    elif result.lint is not None and not result.lint.ok:
        helm_tasks.print_lint(result.lint)
    else:
        _print_deployment(result)
    if result.lint is not None and not result.lint.ok:
        raise buildmod.check_failed(result.lint)
    deploymod.raise_if_failed(result.results)


def _print_deployment(result: Deployment) -> None:
    from chartship import report

    plan = " (dry run: nothing was written)" if result.dry_run else ""
    report.out(f"deploy {result.version} to {result.target}{plan}")
    report.out(f"build: {result.build}" + (f"; local registry: {result.registry}" if result.registry else ""))
    report.table(f"packages ({DIST})", ["file", "chart", "tag", "sha256"],
                 [(e.file, e.chart, e.tag, e.sha256) for e in result.packages])
    if result.dry_run:
        report.table("Plan", ["chart", "version", "reference", "action", "digest", "note"],
                     [(o.chart, o.version, o.ref, result.action(o), (o.digest or "")[:19], o.message)
                      for o in result.results])
        return
    _table(result.results, False)
    if result.notes:
        report.out(f"wrote {result.notes}")


@task(help={"ref": "oci://HOST[:PORT]/PATH/CHART", "tag": "an alias tag such as latest",
            "plain_http": TARGET_HELP["plain_http"], "target": REF_TARGET_HELP})
@edge
def resolve(c: Context, ref: str, tag: str, plain_http: bool = False, target: str = "") -> None:
    """Print the chart version behind an alias tag (helm install --version latest does not work; this does)."""
    from chartship import report
    from chartship.publish import push as pushmod
    from chartship.registry import credentials, oci

    parsed = oci.Ref.parse(ref)
    cfg = config(c)
    tgt = _ref_target(cfg, parsed.host, target, plain_http, parsed.repository)
    with credentials.session(cfg, tgt, login_helm=False) as s:
        report.out(pushmod.resolve(s.client, parsed.repository, tag))


@task(help={"ref": "oci://HOST[:PORT]/PATH/CHART", "version": "a chart version or an alias tag such as latest",
            "destination": "folder to write the .tgz into (default dist/pulled)",
            "plain_http": TARGET_HELP["plain_http"], "target": REF_TARGET_HELP,
            "verify": "refuse an unsigned or tampered chart (helm pull --verify)",
            "keyring": "public keyring for --verify (default signing.verify_keyring / CHARTSHIP_VERIFY_KEYRING)"})
@edge
def pull(c: Context, ref: str, version: str, destination: str = "dist/pulled", plain_http: bool = False,
         target: str = "", verify: bool = False, keyring: str = "") -> None:
    """helm pull that also understands alias tags: --version latest resolves to the real version first."""
    from chartship import report
    from chartship.errors import VersionError
    from chartship.publish import push as pushmod
    from chartship.registry import credentials, oci
    from chartship.tools.helm import RegistryAuthError
    from chartship.version import semver

    parsed = oci.Ref.parse(ref)
    cfg = config(c)
    tgt = _ref_target(cfg, parsed.host, target, plain_http, parsed.repository)
    with credentials.session(cfg, tgt) as s:
        try:
            concrete = str(semver.parse(semver.from_oci_tag(version)))
        except VersionError:
            concrete = pushmod.resolve(s.client, parsed.repository, version)
            report.note(f"{version} -> {concrete}")
        ring = _keyring(cfg.root, keyring) if verify else None
        try:
            path = cfg.helm.pull(ref, concrete, cfg.root / Path(destination), tgt.plain_http, s.registry_config,
                                 ring).archive
        except RegistryAuthError as exc:
            raise _auth_failure(exc, tgt) from None
    if ring is not None:
        report.note(f"verified {ref}:{concrete} against {ring}")
    report.out(str(path.relative_to(cfg.root) if path.is_relative_to(cfg.root) else path))


def _keyring(root: Path, flag: str) -> Path:
    from chartship import settings
    from chartship.errors import ConfigError

    ring = settings.signing(root, verify_keyring=flag or None).verify_keyring
    if not ring:
        raise ConfigError("--verify needs a public keyring: --keyring PATH, signing.verify_keyring in invoke.yaml or "
                          "CHARTSHIP_VERIFY_KEYRING (gpg --export KEY > pubring.gpg)")
    path = Path(ring).expanduser()
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise ConfigError(f"{ring}: public keyring not found; export it with gpg --export KEY > {ring}")
    return path


@task(help={"ref": "oci://HOST[:PORT]/PATH/CHART", "version": "chart version or alias tag",
            "keyring": "public keyring (default signing.verify_keyring / CHARTSHIP_VERIFY_KEYRING)",
            "plain_http": TARGET_HELP["plain_http"], "target": REF_TARGET_HELP})
@edge
def verify(c: Context, ref: str, version: str, keyring: str = "", plain_http: bool = False, target: str = "") -> None:
    """Verify a published chart's provenance (signature and digest) against a public keyring; fails when unsigned or tampered."""
    import tempfile

    from chartship import report
    from chartship.errors import ConfigError

    cfg = config(c)
    ring = _keyring(cfg.root, keyring)
    if not ref.startswith("oci://"):
        raise ConfigError(f"{ref}: expected oci://HOST/PATH/CHART; for a local package use `invoke helm.verify-package PATH`")
    with tempfile.TemporaryDirectory(prefix="chartship-verify-") as tmp:
        pull(c, ref, version, destination=tmp, plain_http=plain_http, target=target, verify=True, keyring=str(ring))
    report.out(f"ok: {ref} {version} is signed by a key in {ring} and its digest matches")


@task(help={"package": "a chart archive (.tgz) with its .prov beside it",
            "keyring": "public keyring (default signing.verify_keyring / CHARTSHIP_VERIFY_KEYRING)"})
@edge
def verify_package(c: Context, package: str, keyring: str = "") -> None:
    """helm verify a local package against a public keyring; fails when unsigned or tampered."""
    from chartship import report
    from chartship.errors import ConfigError

    cfg = config(c)
    ring = _keyring(cfg.root, keyring)
    archive = Path(package) if Path(package).is_absolute() else cfg.root / package
    if not archive.is_file():
        raise ConfigError(f"{package}: no such chart archive")
    report.out(cfg.helm.verify(archive, ring))


def _ref_target(cfg: Config, host: str, target: str, plain_http: bool, repository: str = "") -> Target:
    """The named target, else the configured target whose host is the reference's (its credentials),
    else anonymous access to ``host``."""
    from dataclasses import replace

    from chartship.config import Target as TargetType
    from chartship.registry import credentials
    from chartship.registry.oci import Ref

    tgt = cfg.target(target) if target else credentials.matching_target(cfg, host, repository)
    if tgt is None:
        tgt = TargetType(name=credentials.ANONYMOUS, url=str(Ref(host, "")), auth="none")
    return replace(tgt, plain_http=tgt.plain_http or plain_http or _local(host))


def _auth_failure(exc: Exception, tgt: Target) -> Exception:
    """A helm 401/403 as one line naming the target and the variables it reads (set or not)."""
    from chartship.errors import RegistryError
    from chartship.registry import credentials

    known = None if tgt.name == credentials.ANONYMOUS else tgt
    return RegistryError(f"{exc}; {credentials.auth_hint(known, tgt.host)}")


def _local(host: str) -> bool:
    from chartship.config import LOCAL_HOSTS

    return host.partition(":")[0] in LOCAL_HOSTS


@task(iterable=["chart"], help={**TARGET_HELP, "version": "notes for this published version as the target holds it "
                                "(e.g. after helm.promote), read from the registry instead of dist/charts"})
@edge
def notes(c: Context, target: str = "", registry: str = "", plain_http: bool = False, chart: list[str] | None = None,
          version: str = "") -> None:
    """Write dist/RELEASE_NOTES.md: version, OCI ref, digest, alias tags, helm install/pull commands per chart."""
    from chartship import report
    from chartship.publish import deploy as deploymod

    cfg, tgt = _target(c, target, registry, plain_http)
    if version:
        from chartship.charts import chart as chartmod
        from chartship.publish import notes as notesmod
        from chartship.version import versionfile

        names = list(dict.fromkeys(chart or [])) or [ch.name for ch in chartmod.discover(cfg)]
        text = notesmod.registry_notes(cfg, tgt, names, version)
        path = cfg.root / deploymod.NOTES_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        versionfile.write_atomic(path, text)
        report.out(f"wrote {deploymod.NOTES_FILE.as_posix()}")
    else:
        report.out(f"wrote {deploymod.write_notes(cfg, tgt, chart or [])}")
