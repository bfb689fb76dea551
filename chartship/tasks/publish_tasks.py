"""invoke helm.push / helm.deploy / helm.resolve / helm.notes: publishing to OCI registries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import config, edge

if TYPE_CHECKING:
    from chartship.config import Config, Target
    from chartship.publish.push import Outcome

TARGET_HELP = {
    "target": "release target from invoke.yaml (default: default_target; env CHARTSHIP_TARGET)",
    "registry": "oci://HOST[:PORT]/PATH replacing the target (env CHARTSHIP_REGISTRY; auth from CHARTSHIP_REGISTRY_AUTH)",
    "plain_http": "talk HTTP, not HTTPS, to the registry (env CHARTSHIP_PLAIN_HTTP=1)",
    "chart": "only this chart (repeatable)",
}
FORCE_LATEST_HELP = "with --latest: move the alias even to a lower version (aliases.latest policy overridden)"


def _target(c: Context, target: str, registry: str, plain_http: bool) -> tuple[Config, Target]:
    from chartship.config import release_target

    cfg = config(c, default_target=target or None)
    return cfg, release_target(cfg, registry=registry or None, plain_http=plain_http)


def _report(outcomes: list[Outcome], json: bool, dry_run: bool) -> None:
    from chartship import report

    if json:
        report.emit_json({"dry_run": dry_run, "results": [o.as_dict() for o in outcomes],
                          "up_to_date": all(o.status == "skipped" for o in outcomes)})
        return
    report.table("Publish" + (" (dry run)" if dry_run else ""), ["chart", "version", "reference", "result", "digest", "note"],
                 [(o.chart, o.version, o.ref, o.status, (o.digest or "")[:19], o.message) for o in outcomes])
    if outcomes and all(o.status == "skipped" for o in outcomes):
        report.out("up to date: every chart is already published; nothing was uploaded")


@task(iterable=["chart"], help={
    "latest": "after verification, point the latest-tag-template tag at the pushed manifest",
    "force": "overwrite a published version whose content differs (never on IMMUTABLE ECR repositories)",
    "dry_run": "look everything up and print the plan; push nothing",
    "force_latest": FORCE_LATEST_HELP,
    "json": "print results as JSON", **TARGET_HELP})
@edge
def push(c: Context, latest: bool = False, force: bool = False, dry_run: bool = False, json: bool = False,
         target: str = "", registry: str = "", plain_http: bool = False, chart: list[str] | None = None,
         force_latest: bool = False) -> None:
    """Push the built packages (dist/charts) to the target; skip what is already published."""
    from chartship.publish import deploy as deploymod

    cfg, tgt = _target(c, target, registry, plain_http)
    outcomes = deploymod.push(cfg, tgt, chart or [], latest, force, dry_run, force_latest)
    _report(outcomes, json, dry_run)
    deploymod.raise_if_failed(outcomes)


@task(iterable=["chart"], help={
    "latest": "also build the latest package and move the latest tag after verification",
    "force": "overwrite a published version whose content differs",
    "force_latest": FORCE_LATEST_HELP,
    "json": "print publish results as JSON", **TARGET_HELP})
@edge
def deploy(c: Context, latest: bool = False, force: bool = False, json: bool = False, target: str = "",
           registry: str = "", plain_http: bool = False, chart: list[str] | None = None,
           force_latest: bool = False) -> None:
    """Build, then push: lint, package, publish, tag latest. Re-running with nothing changed uploads nothing."""
    from dataclasses import asdict

    from chartship import report
    from chartship.build import build as buildmod
    from chartship.publish import deploy as deploymod
    from chartship.tasks import helm_tasks

    if not json:
        helm_tasks.build(c, latest=latest, chart=chart, target=target)
        push(c, latest=latest, force=force, target=target, registry=registry, plain_http=plain_http, chart=chart,
             force_latest=force_latest)
        return
    from chartship.charts import chart as chartmod

    cfg, tgt = _target(c, target, registry, plain_http)
    charts = chartmod.discover(cfg)
    names = [ch.name for ch in chartmod.select(cfg, charts, chart or [])]
    built = buildmod.build(cfg, charts, names, cfg.jobs, latest=latest, run_lint=True, target=target or None)
    if built.lint is not None and not built.lint.ok:
        report.emit_json({"ok": False, "lint": built.lint.as_dict()})
        raise buildmod.check_failed(built.lint)
    outcomes = deploymod.push(cfg, tgt, chart or [], latest, force, False, force_latest)
    report.emit_json({"ok": not deploymod.failed(outcomes), "version": built.version, "rebuilt": not built.reused,
                      "packages": [asdict(e) for e in built.entries], "results": [o.as_dict() for o in outcomes],
                      "up_to_date": all(o.status == "skipped" for o in outcomes)})
    deploymod.raise_if_failed(outcomes)


@task(help={"ref": "oci://HOST[:PORT]/PATH/CHART", "tag": "an alias tag such as latest",
            "plain_http": TARGET_HELP["plain_http"], "target": "use this target's credentials (default: none)"})
@edge
def resolve(c: Context, ref: str, tag: str, plain_http: bool = False, target: str = "") -> None:
    """Print the chart version behind an alias tag (helm install --version latest does not work; this does)."""
    from chartship import report
    from chartship.publish import push as pushmod
    from chartship.registry import oci

    parsed = oci.Ref.parse(ref)
    cfg = config(c)
    tgt = _ref_target(cfg, parsed.host, target, plain_http)
    with pushmod.session(cfg, tgt, login_helm=False) as s:
        report.out(pushmod.resolve(s.client, parsed.repository, tag))


@task(help={"ref": "oci://HOST[:PORT]/PATH/CHART", "version": "a chart version or an alias tag such as latest",
            "destination": "folder to write the .tgz into (default dist/pulled)",
            "plain_http": TARGET_HELP["plain_http"], "target": "use this target's credentials (default: none)"})
@edge
def pull(c: Context, ref: str, version: str, destination: str = "dist/pulled", plain_http: bool = False,
         target: str = "") -> None:
    """helm pull that also understands alias tags: --version latest resolves to the real version first."""
    from pathlib import Path

    from chartship import report
    from chartship.errors import VersionError
    from chartship.publish import push as pushmod
    from chartship.registry import oci
    from chartship.version import semver

    parsed = oci.Ref.parse(ref)
    cfg = config(c)
    tgt = _ref_target(cfg, parsed.host, target, plain_http)
    with pushmod.session(cfg, tgt) as s:
        try:
            concrete = str(semver.parse(semver.from_oci_tag(version)))
        except VersionError:
            concrete = pushmod.resolve(s.client, parsed.repository, version)
            report.note(f"{version} -> {concrete}")
        path = cfg.helm.pull(ref, concrete, cfg.root / Path(destination), tgt.plain_http, s.registry_config).archive
    report.out(str(path.relative_to(cfg.root) if path.is_relative_to(cfg.root) else path))


def _ref_target(cfg: Config, host: str, target: str, plain_http: bool) -> Target:
    """A named target's credentials, or anonymous access to ``host``."""
    from dataclasses import replace

    from chartship.config import Target as TargetType

    tgt = cfg.target(target) if target else TargetType(name="ref", url=f"oci://{host}", auth="none")
    return replace(tgt, plain_http=tgt.plain_http or plain_http or _local(host))


def _local(host: str) -> bool:
    from chartship.publish.deploy import LOCAL_HOSTS

    return host.partition(":")[0] in LOCAL_HOSTS


@task(iterable=["chart"], help={**TARGET_HELP})
@edge
def notes(c: Context, target: str = "", registry: str = "", plain_http: bool = False, chart: list[str] | None = None) -> None:
    """Write dist/RELEASE_NOTES.md: version, OCI ref, digest, helm install/pull commands per chart."""
    from chartship import report
    from chartship.publish import deploy as deploymod
    from chartship.version.versionfile import write_atomic

    cfg, tgt = _target(c, target, registry, plain_http)
    text = deploymod.release_notes(cfg, tgt, chart or [])
    path = cfg.root / "dist" / "RELEASE_NOTES.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    report.out(f"wrote {path.relative_to(cfg.root)}")
