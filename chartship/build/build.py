"""helm.build: version check, temp copy (patches + dependencies), lint, reproducible
packages into dist/charts/ with SHA256SUMS and manifest.json.

Everything is written to a staging folder first; dist/charts is replaced only
when every chart succeeded.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from chartship.build import cache, lint, package, sign, workspace
from chartship.charts import chart as chartmod
from chartship.config import DIST_DIR, Config
from chartship.errors import ChartError, CheckFailed, ConfigError, VersionError
from chartship.report import note
from chartship.settings import Signing
from chartship.tools import git
from chartship.version import dev as devmod
from chartship.version import sync, versioning
from chartship.version import tags as tagsmod
from chartship.version.dev import DevBuild
from chartship.version.semver import SemVer


@dataclass(frozen=True)
class BuildResult:
    version: str  # the version of every chart built, or "per-chart" when they differ
    dest: Path
    entries: list[package.Entry]
    lint: lint.Report | None
    reused: bool = False


def require_versions_in_step(cfg: Config, all_charts: Sequence[chartmod.Chart]) -> dict[str, SemVer]:
    """chart name -> the version it is released as; refuses when a managed Chart.yaml field is out of step."""
    lockstep = versioning.lockstep_version(cfg, all_charts)
    mismatches = sync.check(cfg, lockstep, list(all_charts))
    if mismatches:
        first = mismatches[0]
        more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
        says = f"version file says {lockstep}" if versioning.in_lockstep(cfg, first.chart) and lockstep is not None \
            else f"{first.chart}'s own version is {first.expected}"
        raise VersionError(
            f"{says} but {first.file} {first.field} is {str(first.found)[:60]!r}"
            f"{'...' if len(str(first.found)) > 60 else ''}{more}; "
            "run `invoke version.sync` (see `invoke version.check`)"
        )
    return {c.name: versioning.version_of(cfg, c, lockstep) for c in all_charts}


def build(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], jobs: int, latest: bool = False,
          run_lint: bool = True, target: str | None = None, environ: Mapping[str, str] | None = None,
          dest: Path | None = None, signing: Signing | None = None, dev: DevBuild | None = None) -> BuildResult:
    """Package ``names`` into ``dest`` (default dist/charts). When dist/charts already holds exactly
    these packages (same inputs), nothing is built and those are returned (``reused``). ``signing``:
    write a provenance file beside each package (:mod:`chartship.build.sign`). ``dev``: package the
    branch build ``<version>-<branch>.<run>`` (set only in the temporary copy)."""
    versions = require_versions_in_step(cfg, all_charts)
    if dev is not None:
        refuse_dev_latest(cfg, dev, latest)
        versions = {name: dev.version for name in versions}
        dev_tags = devmod.tags(cfg, dev)
        tags = {name: dev_tags for name in names}
    else:
        ctx = tagsmod.checkout_context(cfg)
        tags = {name: tagsmod.tags(cfg, versions[name], ctx) for name in names}
    chosen = {str(versions[name]) for name in names}
    v = chosen.pop() if len(chosen) == 1 else "per-chart"
    kinds = ["version", "latest"] if latest else ["version"]
    names_for = {c.name: {k: package.file_name(cfg, c.name, tags[c.name][k], str(versions[c.name])) for k in kinds}
                 for c in all_charts if c.name in names}
    seen: dict[str, str] = {}
    for chart, files in names_for.items():
        for f in files.values():
            if f in seen:
                raise ChartError(f"charts {seen[f]} and {chart} would both be packaged as {f}; "
                                 "put {name} in the package_name template")
            seen[f] = chart
    shallow_note(cfg, [c for c in all_charts if c.name in names])
    times = cache.epochs(cfg, all_charts, names)
    if signing is not None:
        sign.check_settings(signing)
    key = cache.inputs_key(cfg, all_charts, names, {"tags": tags, "files": names_for, "version": v,
                                                    "sign": signing.key if signing else ""}, times)
    previous = cache.reusable(cfg.dist_dir, key, run_lint)
    if previous is not None:
        return BuildResult(v, cfg.dist_dir, previous, None, reused=True)
    dest = dest or cfg.dist_dir
    with workspace.prepare(cfg, all_charts, names, jobs, target, environ, dev.version if dev is not None else None) as ws:
        for name in names:
            problem = ws.problem(name)
            if problem is not None:
                raise problem
        report = lint.run(cfg, all_charts, names, jobs, target, environ, ws) if run_lint else None
        if report is not None and not report.ok:
            return BuildResult(v, dest, [], report)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".charts-staging-", dir=dest.parent))
        try:
            entries = _package_all(cfg, ws, names, names_for, tags, staging, jobs, times)
            provenance = sign.sign_all(staging, entries, signing, environ) if signing is not None else []
            package.write_sums(staging, entries, provenance)
            staging.chmod(0o755)
            cache.forget(dest)
            package.swap_folder(staging, dest)
            cache.record(dest, key, linted=run_lint)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(v, dest, entries, report)


def shallow_note(cfg: Config, charts: Sequence[chartmod.Chart]) -> None:
    """In a shallow clone the last commit of a chart may be unknown, so package times can differ from a full clone."""
    by_rel = {c.rel: c.name for c in charts}
    cut = [by_rel[rel] for rel in git.cut_by_shallow_clone(cfg.root, list(by_rel))]
    if cut:
        note(f"note: shallow clone: the last change of {', '.join(cut)} is not in the fetched history, so their "
                    "package time stamps differ from a full clone's; run `git fetch --unshallow` for identical packages")


def _package_all(cfg: Config, ws: workspace.Workspace, names: Sequence[str], names_for: dict[str, dict[str, str]],
                 tags: dict[str, dict[str, str]], staging: Path, jobs: int, times: dict[str, int]) -> list[package.Entry]:
    """Package the charts (one helm process per batch, ``jobs`` batches at once), then repack them reproducibly
    in parallel; entries come back in ``names`` order."""
    raw_dir = staging / ".helm"
    raw_dir.mkdir()
    raws = package.helm_archives(cfg.helm, [(n, ws.chart(n).path, ws.source[n].rel) for n in names], raw_dir, jobs)

    def one(name: str) -> list[package.Entry]:
        c, epoch = ws.chart(name), times[name]
        made = []
        for kind, file in names_for[name].items():
            out = staging / file
            package.repack(raws[name], out, epoch)
            made.append(package.Entry(file=file, chart=name, version=c.version, tag=tags[name][kind], kind=kind,
                                      sha256=package.sha256(out), path=(DIST_DIR / file).as_posix()))
        return made

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        entries = [e for made in pool.map(one, names) for e in made]
    shutil.rmtree(raw_dir)
    return entries


def refuse_dev_latest(cfg: Config, dev: DevBuild, latest: bool) -> None:
    if latest and not cfg.latest_prereleases:
        raise ConfigError(f"--latest with --dev: the dev build {dev.version} never moves the latest alias unless "
                          "chartship.latest_prereleases is true in invoke.yaml (env CHARTSHIP_LATEST_PRERELEASES=1)")


def check_failed(report: lint.Report) -> CheckFailed:
    bad = sorted(n for n, checks in report.charts.items() if not all(o.ok for o in checks.values()))
    return CheckFailed(f"lint failed for {', '.join(bad)}; nothing was packaged (fix it, or --no-lint to skip lint)")
