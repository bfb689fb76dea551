"""invoke helm.promote / helm.promote-all: copy published charts between targets without rebuilding."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import config, edge

if TYPE_CHECKING:
    from chartship.config import Config

HELP = {
    "from_": "source target from invoke.yaml (where the tested chart is published)",
    "to": "destination target from invoke.yaml",
    "latest": "also point the destination's latest tag at it (forward only; a prerelease only if latest_prereleases)",
    "dry_run": "look everything up and print the plan; copy nothing",
    "json": "print results as JSON",
}
CHART_NAME = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")


def _run(c: Context, items: list[tuple[str, str]], from_: str, to: str, latest: bool, dry_run: bool, json: bool) -> None:
    from chartship.errors import ConfigError
    from chartship.publish import deploy as deploymod
    from chartship.publish import promote as promotemod
    from chartship.tasks.publish_tasks import _report

    if not from_ or not to:
        raise ConfigError("helm.promote needs --from TARGET and --to TARGET (targets of invoke.yaml)")
    cfg = config(c)
    source, dest = cfg.target(from_), cfg.target(to)
    for target in (source, dest):
        deploymod.ensure_local_registry(cfg, target)
    outcomes = promotemod.promote(cfg, source, dest, items, latest, dry_run)
    _report(outcomes, json, dry_run, "Promote")
    deploymod.raise_if_failed(outcomes)


@task(help={"chart": "chart name (its repository under both targets)", "version": "the published chart version",
            **HELP})
@edge
def promote(c: Context, chart: str, version: str, from_: str = "", to: str = "", latest: bool = False,
            dry_run: bool = False, json: bool = False) -> None:
    """Copy CHART VERSION from --from to --to through the registry API: same bytes, same digest, no rebuild."""
    from chartship.errors import ChartError
    from chartship.version import semver

    if not CHART_NAME.match(chart):
        raise ChartError(f"{chart!r} is not a chart name (lower-case letters, digits and . _ -)")
    _run(c, [(chart, str(semver.parse(semver.from_oci_tag(version), "VERSION")))], from_, to, latest, dry_run, json)


@task(help={"version": "the version to promote (default: the version file)", **HELP})
@edge
def promote_all(c: Context, version: str = "", from_: str = "", to: str = "", latest: bool = False,
                dry_run: bool = False, json: bool = False) -> None:
    """helm.promote for every chart of this repository at the current version (or --version)."""
    _run(c, _every_chart(config(c), version), from_, to, latest, dry_run, json)


def _every_chart(cfg: Config, version: str) -> list[tuple[str, str]]:
    from chartship.charts import chart as chartmod
    from chartship.version import semver, versionfile

    v = str(semver.parse(version, "--version")) if version else str(versionfile.read_version(cfg.version_file))
    return [(ch.name, v) for ch in chartmod.discover(cfg)]
