"""Which version rules each chart.

``versioning: lockstep`` (the default): the ``version`` file rules every chart of the lockstep set;
a chart leaves the set with ``charts.settings.NAME.versioning: own``. ``versioning: per-chart``:
every chart is its own, and its Chart.yaml ``version`` is its truth. Nothing outside the lockstep
set is ever rewritten from the version file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chartship.charts import chart as chartmod
from chartship.config import CONFIG_FILE, Config
from chartship.errors import VersionError
from chartship.version import semver, versionfile
from chartship.version.semver import SemVer

if TYPE_CHECKING:
    from chartship.version.dev import DevBuild


def in_lockstep(cfg: Config, name: str) -> bool:
    """True when the version file rules chart ``name``."""
    return cfg.chart_settings(name).versioning == "lockstep"


def lockstep_set(cfg: Config, charts: Sequence[chartmod.Chart]) -> list[chartmod.Chart]:
    return [c for c in charts if in_lockstep(cfg, c.name)]


def lockstep_version(cfg: Config, charts: Sequence[chartmod.Chart]) -> SemVer | None:
    """The version file's version when one of ``charts`` is in the lockstep set (read only then), else None."""
    if cfg.versioning == "lockstep" and (lockstep_set(cfg, charts) or not charts):
        return versionfile.read_version(cfg.version_file)
    return None


def own_version(c: chartmod.Chart) -> SemVer:
    return semver.parse(c.version, f"{c.where}: version")


def version_of(cfg: Config, c: chartmod.Chart, lockstep: SemVer | None) -> SemVer:
    """The version chart ``c`` is released as: the version file's (lockstep) or its own Chart.yaml's."""
    if in_lockstep(cfg, c.name):
        if lockstep is None:
            raise VersionError(f"{c.name} is in the lockstep set but the version file was not read")  # a bug, not a user error
        return lockstep
    return own_version(c)


def versions(cfg: Config, charts: Sequence[chartmod.Chart]) -> dict[str, SemVer]:
    """chart name -> the version it is released as (the version file is read once, when needed)."""
    lockstep = lockstep_version(cfg, charts)
    return {c.name: version_of(cfg, c, lockstep) for c in charts}


def single(cfg: Config, charts: Sequence[chartmod.Chart], option: str = "--chart NAME") -> SemVer:
    """The one version of a lockstep repository (the version file); per-chart repositories need a chart."""
    if cfg.versioning == "per-chart":
        names = ", ".join(c.name for c in charts) or "none"
        raise VersionError(f"{CONFIG_FILE}: chartship.versioning is per-chart, so there is no single version; "
                           f"pass {option} (charts: {names})")
    return versionfile.read_version(cfg.version_file)


def own_chart(cfg: Config, charts: Sequence[chartmod.Chart], name: str) -> chartmod.Chart:
    """Chart ``name``, which must keep its own version (per-chart, or ``versioning: own``)."""
    (c,) = chartmod.select(cfg, charts, [name])
    if in_lockstep(cfg, c.name):
        raise VersionError(
            f"{c.name} is in the lockstep set: its version is the version file's; change that without --chart, "
            f"or give {c.name} its own version with chartship.charts.settings.{c.name}.versioning: own in {CONFIG_FILE}"
        )
    return c


def published_tags(cfg: Config, packages: Sequence[Any], dev: DevBuild | None = None,
                   charts_read: Sequence[chartmod.Chart] | None = None) -> dict[str, dict[str, str]]:
    """chart -> the tags its package is published under (the tag templates checked first). Each package must
    be the build of its chart's version: the version file's in the lockstep set, its own Chart.yaml's
    otherwise, or the branch build ``dev`` for every chart."""
    from chartship.version import dev as devmod
    from chartship.version import tags as tagsmod

    if dev is not None:
        devmod.check_packages(packages, dev.version, True)
        rendered = devmod.tags(cfg, dev)
        return {pkg.chart: rendered for pkg in packages}
    wanted = {pkg.chart for pkg in packages}
    charts = {c.name: c for c in (chartmod.discover(cfg) if charts_read is None else charts_read) if c.name in wanted}
    lockstep = lockstep_version(cfg, list(charts.values())) if charts else None
    ctx = tagsmod.checkout_context(cfg) if packages else None
    out: dict[str, dict[str, str]] = {}
    for pkg in packages:
        c = charts.get(pkg.chart)
        expected = version_of(cfg, c, lockstep) if c is not None else semver.parse(pkg.version, f"{pkg.chart} version")
        devmod.check_packages([pkg], expected, False)
        out[pkg.chart] = tagsmod.publish_tags(cfg, expected, ctx)
    return out
