"""Branch builds: ``<version>-<branch>.<run>`` and the tags it is published under.

Branch and run come from flags, else the CI environment (GITHUB_REF_NAME /
GITHUB_RUN_NUMBER, GitLab's CI_COMMIT_REF_NAME / CI_PIPELINE_IID), else git for
the branch. The dev version is written only into build copies, never the tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship.config import Config
from chartship.errors import ChartError, VersionError
from chartship.version import semver
from chartship.version import tags as tagsmod
from chartship.version.semver import SemVer

DEV_ALIAS = "dev-latest"  # tag-templates/dev-latest-tag-template: optional alias moved by branch builds


@dataclass(frozen=True)
class DevBuild:
    base: SemVer
    branch: str
    run: int

    @property
    def version(self) -> SemVer:
        return semver.dev_version(self.base, self.branch, self.run)

    def context(self, sha: str | None = None) -> tagsmod.TagContext:
        return tagsmod.TagContext(branch=self.branch, run=str(self.run), sha=sha)


def resolve(root: Path, base: SemVer, branch: str = "", run: str = "",
            environ: Mapping[str, str] | None = None) -> DevBuild:
    """The branch build of ``base``: flags first, then CI variables, then git (branch only)."""
    from chartship.tools import git

    branch = branch or git.current_branch(root, environ) or ""
    run = run or git.run_number(environ) or ""
    if not branch:
        raise VersionError("--dev needs a branch: pass --branch, set GITHUB_REF_NAME, or run on a git branch")
    if not run:
        raise VersionError("--dev needs a run number: pass --run or set GITHUB_RUN_NUMBER")
    if not run.isdigit():
        raise VersionError(f"--run {run!r}: a run number is a whole number >= 0")
    build = DevBuild(base, branch, int(run))
    _ = build.version  # a branch name without letters or digits fails here, with its own message
    return build


def tags(cfg: Config, build: DevBuild) -> dict[str, str]:
    """version and latest tags rendered for the dev version, plus ``dev`` (the optional dev alias)."""
    from chartship.tools import git

    ctx = build.context(git.short_sha(cfg.root))
    rendered = tagsmod.tags(cfg, build.version, ctx)
    alias = dev_alias(cfg, build.version, ctx)
    if alias is not None:
        if alias in (rendered["latest"], rendered["version"]):
            raise VersionError(f"tag-templates/{DEV_ALIAS}-tag-template gives {alias!r}, the same tag as the "
                               f"{'latest' if alias == rendered['latest'] else 'version'} tag; use e.g. {{BRANCH}}-latest")
        rendered["dev"] = alias
    return rendered


def dev_alias(cfg: Config, version: SemVer, ctx: tagsmod.TagContext) -> str | None:
    """The dev alias (e.g. ``{BRANCH}-latest`` -> ``main-latest``), or None when no template is configured."""
    if not (cfg.tag_templates_dir / f"{DEV_ALIAS}-tag-template").is_file():
        return None
    template, where = tagsmod.read_tag_template(cfg, DEV_ALIAS)
    return tagsmod.render_tag(template, where, version, ctx)


def check_packages(packages: Sequence[Any], expected: SemVer, dev: bool) -> None:
    """dist/charts must hold the build being published: a dev build only with --dev, and the right one."""
    for pkg in packages:
        if pkg.version != str(expected):
            hint = "run `invoke helm.build --dev` with the same --branch/--run" if dev else \
                "publish a branch build with --dev, or run `invoke helm.build` again"
            raise ChartError(f"dist/charts holds {pkg.chart} {pkg.version}, not {expected}; {hint}")
