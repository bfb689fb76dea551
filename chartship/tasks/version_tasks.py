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
    }
)
@edge
def show(c: Context, json: bool = False, dev: bool = False, branch: str = "", run: str = "") -> None:
    """Print the version from the version file (or a branch-build version)."""
    from chartship import report
    from chartship.tools import git
    from chartship.version import dev as devmod
    from chartship.version import tags as tagsmod
    from chartship.version import versionfile

    cfg = config(c)
    v = versionfile.read_version(cfg.version_file)
    branch = branch or git.current_branch(cfg.root) or ""
    run = run or git.run_number() or ""
    if dev:
        v = devmod.resolve(cfg.root, v, branch, run).version
    if not json:
        report.out(str(v))
        return
    ctx = tagsmod.TagContext(branch=branch or None, run=run or None, sha=git.short_sha(cfg.root))
    report.emit_json({**versionfile.describe(v), "tags": tagsmod.tags(cfg, v, ctx)})


@task(help={"new_version": "the new semantic version, e.g. 1.4.0", "dry_run": "show what would change, change nothing"})
@edge
def set(c: Context, new_version: str, dry_run: bool = False) -> None:  # noqa: A001 - task name
    """Write a new version and sync every Chart.yaml to it."""
    from chartship.version import semver

    _apply(c, semver.parse(new_version.strip(), "version"), dry_run)


@task(
    help={
        "part": "major | minor | patch | prerelease",
        "preid": "prerelease label to start (default: the current one, or rc)",
        "dry_run": "show what would change, change nothing",
    }
)
@edge
def bump(c: Context, part: str, preid: str = "", dry_run: bool = False) -> None:
    """Bump the version (1.0.0-beta.213 -> 1.0.0-beta.214) and sync every Chart.yaml."""
    from chartship.errors import VersionError
    from chartship.version import semver, versionfile

    if part not in semver.PARTS:
        raise VersionError(f"--part {part!r}: expected one of {', '.join(semver.PARTS)}")
    cfg = config(c)
    current = versionfile.read_version(cfg.version_file)
    new = semver.bump(current, part, preid or None)
    _apply(c, new, dry_run, current=str(current))


def _apply(c: Context, new: SemVer, dry_run: bool, current: str | None = None) -> None:
    from chartship import report
    from chartship.charts import chart
    from chartship.errors import VersionError
    from chartship.version import sync as syncmod
    from chartship.version import versionfile

    cfg = config(c)
    if current is None and cfg.version_file.exists():
        try:
            current = str(versionfile.read_version(cfg.version_file))
        except VersionError:
            current = None  # set may repair a broken version file
    charts = chart.discover(cfg)
    fresh = _fresh_readmes(cfg, charts)
    changes = syncmod.set_version(cfg, new, charts, dry_run=dry_run)
    prefix = "would set" if dry_run else "set"
    report.out(f"{prefix} version {current or '(none)'} -> {new}")
    _print_changes(changes, dry_run)
    _refresh_readmes(cfg, fresh, changes, dry_run)


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
        report.out(f"  {verb} {f.file}: {f.field} {f.found} -> {f.expected}")


@task(iterable=["chart"], help={"chart": CHART_HELP, "dry_run": "show what would change", "json": "print changes as JSON"})
@edge
def sync(c: Context, chart: list[str] | None = None, dry_run: bool = False, json: bool = False) -> None:
    """Write the version into Chart.yaml version, appVersion and lockstep dependencies."""
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.version import sync as syncmod
    from chartship.version import versionfile

    cfg = config(c)
    v = versionfile.read_version(cfg.version_file)
    charts = chartmod.discover(cfg)
    chosen = chartmod.select(cfg, charts, chart or [])
    fresh = _fresh_readmes(cfg, chosen)
    changes = syncmod.sync(cfg, v, chosen, dry_run=dry_run)
    if not json:
        _print_changes(changes, dry_run)
    readmes = _refresh_readmes(cfg, fresh, changes, dry_run, quiet=json)
    if json:
        report.emit_json({"version": str(v), "dry_run": dry_run, "changes": [f.as_dict() for f in changes],
                          "readmes": readmes})
        return
    if not changes:
        report.out(f"all charts already at {v}")


@task(
    iterable=["chart"],
    help={"tag": "also require this git tag (v prefix allowed) to equal the version", "chart": CHART_HELP,
          "json": "print the result as JSON"},
)
@edge
def check(c: Context, tag: str = "", chart: list[str] | None = None, json: bool = False) -> None:
    """Exit 1 when a Chart.yaml (or --tag) disagrees with the version file."""
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.errors import CheckFailed
    from chartship.version import semver, versionfile
    from chartship.version import sync as syncmod

    cfg = config(c)
    v = versionfile.read_version(cfg.version_file)
    all_charts = chartmod.discover(cfg)
    names = {ch.name for ch in chartmod.select(cfg, all_charts, chart)} if chart else None
    mismatches = [f for f in syncmod.check(cfg, v, all_charts) if names is None or f.chart in names]
    tag_problem = None
    if tag:
        wanted = semver.strip_tag_prefix(tag.strip())
        if wanted != str(v):
            tag_problem = f"tag {tag} does not match the version file ({v}); tag v{v} or fix the version file"
    if json:
        report.emit_json({"version": str(v), "ok": not mismatches and not tag_problem, "tag": tag or None,
                          "tag_problem": tag_problem, "mismatches": [f.as_dict() for f in mismatches]})
    else:
        if mismatches:
            report.table(f"Chart.yaml fields that differ from version {v}", ["file", "field", "found", "expected"],
                         [(f.file, f.field, f.found, f.expected) for f in mismatches])
            report.note("run `invoke version.sync` to fix them")
        if tag_problem:
            report.error(tag_problem)
        if not mismatches and not tag_problem:
            report.out(f"ok: version {v}" + (f", tag {tag}" if tag else "") + f", {len(all_charts)} chart(s) in step")
    if mismatches or tag_problem:
        raise CheckFailed("")
