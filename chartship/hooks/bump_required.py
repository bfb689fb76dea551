"""Hook ``version-bump-required``: when files of a chart change, the version file must
be greater (semver) than at the base commit.

Staged mode (pre-commit): the files staged for the commit, against ``HEAD``.
CI mode (``--base REF``): the files changed between the merge-base of ``REF`` and
``HEAD`` and ``HEAD``, against the version at ``REF`` itself -- a pull request must
be ahead of its target branch as it is now, not as it was when the branch started.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from chartship.hooks import common


def _suggest(current: str) -> str:
    return "prerelease" if "-" in current.split("+", 1)[0] else "patch"


def check(root: Path, base: str | None) -> int:
    from chartship import config as cfgmod
    from chartship import report
    from chartship.errors import ConfigError, VersionError
    from chartship.tools import git
    from chartship.version import semver, versionfile

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
    old_text = git.file_at(root, against, versionfile.VERSION_FILE)
    if old_text is None:
        report.note(f"version-bump-required: {label} has no {versionfile.VERSION_FILE} file, so there is nothing to compare with")
        return 0
    try:
        old = semver.parse(old_text.strip(), f"{versionfile.VERSION_FILE} at {label}")
    except VersionError as exc:
        report.note(f"version-bump-required: cannot compare ({exc})")
        return 0
    current = versionfile.read_version(cfg.version_file)
    if current > old:
        return 0
    first_dir, first_files = next(iter(changed.items()))
    example = f"{common.rel(cfg, first_dir)}/{first_files[0]}"
    more = sum(len(v) for v in changed.values()) - 1
    names = ", ".join(common.rel(cfg, d) for d in changed)
    relation = "the same as" if current.same_precedence(old) else "lower than"
    report.error(
        f"{names} changed ({example}{f' and {more} more file(s)' if more else ''}) but version {current} is {relation} "
        f"{old} at {label}; bump it: `invoke version.bump --part {_suggest(str(current))}` (or --part patch/minor/major), "
        f"then stage {versionfile.VERSION_FILE} and the Chart.yaml files"
    )
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chartship-version-bump-required", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--base", default="", metavar="REF",
                        help="CI mode: compare HEAD with this branch, tag or commit instead of the staged files with HEAD")
    parser.add_argument("files", nargs="*", help="ignored: changed files come from git")
    args = parser.parse_args(argv)
    root = common.root()
    return common.edge(lambda: check(root, args.base or None))
