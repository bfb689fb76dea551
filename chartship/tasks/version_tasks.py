"""invoke version.*: the version file and keeping charts in step with it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import config, edge

if TYPE_CHECKING:
    from pathlib import Path

    from chartship.charts.chart import Chart
    from chartship.config import Config
    from chartship.version.semver import SemVer
    from chartship.version.sync import Field

CHART_HELP = "limit to this chart (repeatable); default: every configured chart"


@task(
    help={
        "json": "print version parts and rendered tags as JSON",
        "dev": "print the branch-build version VERSION-<branch>.<run>",
        "branch": "branch for --dev (default: CI variables, then git)",
        "run": "run number for --dev (default: GITHUB_RUN_NUMBER / CI_PIPELINE_IID)",
        "chart": "the version of this chart (needed with versioning: per-chart)",
    }
)
@edge
def show(c: Context, json: bool = False, dev: bool = False, branch: str = "", run: str = "", chart: str = "") -> None:
    """Print the version from the version file, or a chart's own version (or a branch-build version)."""
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.tools import git
    from chartship.version import dev as devmod
    from chartship.version import tags as tagsmod
    from chartship.version import versionfile, versioning

    cfg = config(c)
    if chart:
        charts = chartmod.discover(cfg)
        (ch,) = chartmod.select(cfg, charts, [chart])
        v = versioning.versions(cfg, [ch])[ch.name]
    elif cfg.versioning == "per-chart":
        v = versioning.single(cfg, chartmod.discover(cfg))
    else:
        v = versionfile.read_version(cfg.version_file)
    branch = branch or git.current_branch(cfg.root) or ""
    run = run or git.run_number() or ""
    if dev:
        v = devmod.resolve(cfg.root, v, branch, run).version
    if not json:
        report.out(str(v))
        return
    ctx = tagsmod.TagContext(branch=branch or None, run=run or None, sha=git.short_sha(cfg.root))
    extra = {"chart": chart, "versioning": cfg.chart_settings(chart).versioning} if chart else {}
    report.emit_json({**versionfile.describe(v), **extra, "tags": tagsmod.tags(cfg, v, ctx)})


OWN_CHART_HELP = "set this chart's own version (versioning: per-chart, or charts.settings.NAME.versioning: own)"


@task(help={"new_version": "the new semantic version, e.g. 1.4.0", "dry_run": "show what would change, change nothing",
            "chart": OWN_CHART_HELP})
@edge
def set(c: Context, new_version: str, dry_run: bool = False, chart: str = "") -> None:  # noqa: A001 - task name
    """Write a new version and sync every Chart.yaml to it (or set one chart's own version)."""
    from chartship.version import semver

    _apply(c, semver.parse(new_version.strip(), "version"), dry_run, chart=chart)


@task(
    help={
        "part": "major | minor | patch | prerelease",
        "preid": "prerelease label to start (default: the current one, or rc)",
        "dry_run": "show what would change, change nothing",
        "chart": OWN_CHART_HELP.replace("set", "bump", 1),
    }
)
@edge
def bump(c: Context, part: str, preid: str = "", dry_run: bool = False, chart: str = "") -> None:
    """Bump the version (1.0.0-beta.213 -> 1.0.0-beta.214) and sync every Chart.yaml (or bump one chart's own)."""
    from chartship.charts import chart as chartmod
    from chartship.errors import VersionError
    from chartship.version import semver, versionfile, versioning

    if part not in semver.PARTS:
        raise VersionError(f"--part {part!r}: expected one of {', '.join(semver.PARTS)}")
    cfg = config(c)
    if chart:
        current = versioning.own_version(versioning.own_chart(cfg, chartmod.discover(cfg), chart))
    elif cfg.versioning == "per-chart":
        current = versioning.single(cfg, chartmod.discover(cfg))
    else:
        current = versionfile.read_version(cfg.version_file)
    new = semver.bump(current, part, preid or None)
    _apply(c, new, dry_run, current=str(current), chart=chart)


def _apply(c: Context, new: SemVer, dry_run: bool, current: str | None = None, chart: str = "") -> None:
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.errors import VersionError
    from chartship.version import sync as syncmod
    from chartship.version import versionfile, versioning

    cfg = config(c)
    charts = chartmod.discover(cfg)
    if chart:
        own = versioning.own_chart(cfg, charts, chart)
        fresh = _fresh_readmes(cfg, charts)
        changes = syncmod.set_chart_version(cfg, own, new, charts, dry_run=dry_run)
        what = f"{own.name} version {own.version}"
    else:
        versioning.single(cfg, charts)  # per-chart repositories have no version file to set
        if current is None and cfg.version_file.exists():
            try:
                current = str(versionfile.read_version(cfg.version_file))
            except VersionError:
                current = None  # set may repair a broken version file
        fresh = _fresh_readmes(cfg, charts)
        changes = syncmod.set_version(cfg, new, charts, dry_run=dry_run)
        what = f"version {current or '(none)'}"
    report.out(f"{'would set' if dry_run else 'set'} {what} -> {new}")
    _print_changes(changes, dry_run)
    _warn(cfg, changes, charts)
    _refresh_readmes(cfg, fresh, changes, dry_run)


def _warn(cfg: Config, changes: list[Field], charts: list[Chart]) -> None:
    from chartship import report
    from chartship.version import sync as syncmod

    for line in syncmod.warnings(cfg, changes, charts):
        report.note(f"warning: {line}")


def _fresh_readmes(cfg: Config, charts: list[Chart]) -> list[Path]:
    """Chart folders whose README is generated and up to date (before a version change)."""
    from chartship.charts import docs
    from chartship.errors import ChartshipError

    try:  # only the READMEs helm.docs manages (generated ones; a hand-written README is never rewritten)
        modes = docs.modes_of(cfg, [c.path for c in charts])
        dirs = docs.managed([c.path for c in charts if (c.path / "README.md").is_file()], modes)
        stale = {*docs.stale_readmes(dirs, cfg.target(), cfg.environments, modes)}  # (`set` is a task in this module)
    except ChartshipError:
        return []
    return [d for d in dirs if d / "README.md" not in stale]


def _refresh_readmes(cfg: Config, fresh: list[Path], changes: list[Field], dry_run: bool, quiet: bool = False) -> list[str]:
    """Generated READMEs show the chart version: rewrite those that were up to date, so they stay so."""
    from chartship import report
    from chartship.charts import docs

    touched = {f.file.rsplit("/Chart.yaml", 1)[0] for f in changes}
    dirs = [d for d in fresh if d.relative_to(cfg.root).as_posix() in touched]
    paths = [d / "README.md" for d in dirs] if dry_run else docs.write_readmes(dirs, cfg.target(), cfg.environments,
                                                                                      docs.modes_of(cfg, dirs))
    names = [p.relative_to(cfg.root).as_posix() for p in paths]
    if not quiet:
        for name in names:
            report.out(f"  {'would write' if dry_run else 'wrote'} {name}")
    return names


def _print_changes(changes: list[Field], dry_run: bool) -> None:
    from chartship import report

    verb = "would write" if dry_run else "wrote"
    for f in changes:
        report.out(f"  {verb} {f.file}: {f.field} {f.found or '(missing)'} -> {f.expected}")


@task(iterable=["chart"], help={"chart": CHART_HELP, "dry_run": "show what would change", "json": "print changes as JSON"})
@edge
def sync(c: Context, chart: list[str] | None = None, dry_run: bool = False, json: bool = False) -> None:
    """Write the version into Chart.yaml version, appVersion (where it follows) and lockstep dependencies."""
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.version import sync as syncmod
    from chartship.version import versioning

    cfg = config(c)
    charts = chartmod.discover(cfg)
    chosen = chartmod.select(cfg, charts, chart or [])
    v = versioning.lockstep_version(cfg, chosen)
    fresh = _fresh_readmes(cfg, chosen)
    changes = syncmod.sync(cfg, v, chosen, dry_run=dry_run)
    warnings = syncmod.warnings(cfg, changes, chosen)
    if not json:
        _print_changes(changes, dry_run)
        for line in warnings:
            report.note(f"warning: {line}")
    readmes = _refresh_readmes(cfg, fresh, changes, dry_run, quiet=json)
    if json:
        report.emit_json({"version": None if v is None else str(v), "versioning": cfg.versioning, "dry_run": dry_run,
                          "changes": [f.as_dict() for f in changes], "readmes": readmes, "warnings": warnings})
        return
    if not changes:
        report.out(f"all charts already at {v}" if v is not None else "all charts in step (each keeps its own version)")


@task(
    iterable=["chart"],
    help={"tag": "also require this git tag (v prefix allowed; per chart: NAME-VERSION) to equal the version",
          "chart": CHART_HELP, "json": "print the result as JSON"},
)
@edge
def check(c: Context, tag: str = "", chart: list[str] | None = None, json: bool = False) -> None:
    """Exit 1 when a Chart.yaml (or --tag) disagrees with the version file (or the chart's own version)."""
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.errors import CheckFailed
    from chartship.version import sync as syncmod
    from chartship.version import versioning

    cfg = config(c)
    all_charts = chartmod.discover(cfg)
    v = versioning.lockstep_version(cfg, all_charts)
    chosen = chartmod.select(cfg, all_charts, chart or [])
    names = {ch.name for ch in chosen} if chart else None
    mismatches = [f for f in syncmod.check(cfg, v, all_charts) if names is None or f.chart in names]
    tag_problem = _tag_problem(cfg, tag.strip(), v, chosen) if tag else None
    label = f"version {v}" if v is not None else "each chart's own version"
    if json:
        report.emit_json({"version": None if v is None else str(v), "versioning": cfg.versioning,
                          "ok": not mismatches and not tag_problem, "tag": tag or None,
                          "tag_problem": tag_problem, "mismatches": [f.as_dict() for f in mismatches]})
    else:
        if mismatches:
            report.table(f"Chart.yaml fields that differ from {label}", ["file", "field", "found", "expected"],
                         [(f.file, f.field, f.found, f.expected) for f in mismatches])
            report.note("run `invoke version.sync` to fix them")
        if tag_problem:
            report.error(tag_problem)
        if not mismatches and not tag_problem:
            count = len(chosen) if chart else len(all_charts)
            report.out(f"ok: {label}" + (f", tag {tag}" if tag else "") + f", {count} chart(s) in step")
    if mismatches or tag_problem:
        raise CheckFailed("")


def _tag_problem(cfg: Config, tag: str, v: SemVer | None, charts: list[Chart]) -> str | None:
    """Why ``tag`` is not the release tag of this version (lockstep: v1.4.0; a chart of its own: NAME-1.4.0)."""
    from chartship.version import semver, versioning

    bare = semver.strip_tag_prefix(tag)
    own = [ch for ch in charts if not versioning.in_lockstep(cfg, ch.name)]
    named = [ch for ch in sorted(own, key=lambda ch: -len(ch.name)) if bare.startswith((f"{ch.name}-", f"{ch.name}/"))]
    if named:
        ch = named[0]
        wanted = semver.strip_tag_prefix(bare[len(ch.name) + 1:])
        if wanted != ch.version:
            return f"tag {tag} does not match {ch.where} version {ch.version}; tag {ch.name}-{ch.version} or fix the chart"
        return None
    if v is None:
        examples = ", ".join(f"{ch.name}-{ch.version}" for ch in own[:2]) or "NAME-VERSION"
        return f"tag {tag} names no chart; with per-chart versions a release tag is NAME-VERSION (e.g. {examples})"
    if bare != str(v):
        return f"tag {tag} does not match the version file ({v}); tag v{v} or fix the version file"
    return None
