"""Hook ``version-bump-required``: when files of a chart change, its version must be greater
(semver) than at the base commit: the version file for the charts of the lockstep set, the
chart's own Chart.yaml ``version`` for a chart of its own (per-chart, or ``versioning: own``).

Staged mode (pre-commit): the files staged for the commit, against ``HEAD``.
CI mode (``--base REF``): the files changed between the merge-base of ``REF`` and
``HEAD`` and ``HEAD``, against the version at ``REF`` itself -- a pull request must
be ahead of its target branch as it is now, not as it was when the branch started.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from chartship.hooks import common

if TYPE_CHECKING:
    from chartship.config import Config


def _suggest(current: str) -> str:
    return "prerelease" if "-" in current.split("+", 1)[0] else "patch"


def check(root: Path, base: str | None) -> int:
    from chartship import config as cfgmod
    from chartship import report
    from chartship.errors import ConfigError
    from chartship.tools import git

    cfg = cfgmod.load(root)
    if base:
        commit = git.resolve_commit(root, base)
        if commit is None:
            raise ConfigError(f"--base {base}: no such branch, tag or commit here; fetch it "
                              f"(`{git.fetch_command(base, git.is_shallow(root))}`; in CI check out with "
                              "fetch-depth: 0) or pass another ref")
        start = git.merge_base(root, commit, "HEAD")
        if start is None:
            raise ConfigError(f"--base {base}: no common history with HEAD (a shallow clone? fetch with fetch-depth: 0)")
        files, against, label = git.paths_between(root, start, "HEAD"), commit, base
    else:
        if not git.has_commits(root):
            report.note("version-bump-required: no commits yet, so there is no earlier version to compare with")
            return 0
        files, against, label = git.staged_paths(root), "HEAD", "HEAD"
    changed = common.files_by_chart(cfg, files)
    if not changed:
        return 0
    from chartship.version import versioning

    lockstep = {d: f for d, f in changed.items() if versioning.in_lockstep(cfg, d.name)}
    problems = [p for d, f in changed.items() if d not in lockstep for p in _own_problem(cfg, d, f, against, label)]
    if lockstep:
        problems += _lockstep_problem(cfg, lockstep, against, label)
    for line in problems:
        report.error(line)
    return 1 if problems else 0


def _changed(cfg: Config, changed: dict[Path, list[str]]) -> tuple[str, str]:
    """(the chart folders, an example file and how many more) for a message."""
    first_dir, first_files = next(iter(changed.items()))
    more = sum(len(v) for v in changed.values()) - 1
    example = f"{common.rel(cfg, first_dir)}/{first_files[0]}{f' and {more} more file(s)' if more else ''}"
    return ", ".join(common.rel(cfg, d) for d in changed), example


def _lockstep_problem(cfg: Config, changed: dict[Path, list[str]], against: str, label: str) -> list[str]:
    from chartship import report
    from chartship.errors import VersionError
    from chartship.tools import git
    from chartship.version import semver, versionfile

    old_text = git.file_at(cfg.root, against, versionfile.VERSION_FILE)
    if old_text is None:
        report.note(f"version-bump-required: {label} has no {versionfile.VERSION_FILE} file, so there is nothing to compare with")
        return []
    try:
        old = semver.parse(old_text.strip(), f"{versionfile.VERSION_FILE} at {label}")
    except VersionError as exc:
        report.note(f"version-bump-required: cannot compare ({exc})")
        return []
    current = versionfile.read_version(cfg.version_file)
    if current > old:
        return []
    names, example = _changed(cfg, changed)
    relation = "the same as" if current.same_precedence(old) else "lower than"
    return [f"{names} changed ({example}) but version {current} is {relation} "
            f"{old} at {label}; bump it: `invoke version.bump --part {_suggest(str(current))}` (or --part patch/minor/major), "
            f"then stage {versionfile.VERSION_FILE} and the Chart.yaml files"]


def _own_problem(cfg: Config, chart_dir: Path, files: list[str], against: str, label: str) -> list[str]:
    """A chart that keeps its own version: its Chart.yaml version must be above the one at ``against``."""
    from chartship import report, yamlio
    from chartship.charts import chart as chartmod
    from chartship.errors import ChartError, VersionError
    from chartship.tools import git
    from chartship.version import semver, versioning

    rel = common.rel(cfg, chart_dir)
    old_text = git.file_at(cfg.root, against, f"{rel}/Chart.yaml")
    if old_text is None:
        return []  # a new chart: nothing to compare with
    try:
        old_data = yamlio.loads(old_text, f"{rel}/Chart.yaml at {label}", ChartError)
        old = semver.parse(str(old_data["version"]), f"{rel}/Chart.yaml version at {label}")
    except (ChartError, VersionError, KeyError, TypeError) as exc:
        report.note(f"version-bump-required: cannot compare {rel} ({exc})")
        return []
    current = versioning.own_version(chartmod.read_chart(chart_dir, cfg.root))
    if current > old:
        return []
    _names, example = _changed(cfg, {chart_dir: files})
    relation = "the same as" if current.same_precedence(old) else "lower than"
    return [f"{rel} changed ({example}) but its version {current} is {relation} {old} at {label}; bump it: "
            f"`invoke version.bump --chart {chart_dir.name} --part {_suggest(str(current))}` (or --part patch/minor/major), "
            f"then stage {rel}/Chart.yaml"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chartship-version-bump-required", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--base", default="", metavar="REF",
                        help="CI mode: compare HEAD with this branch, tag or commit instead of the staged files with HEAD")
    parser.add_argument("files", nargs="*", help="ignored: changed files come from git")
    args = parser.parse_args(argv)
    root = common.root()
    return common.edge(lambda: check(root, args.base or None))
