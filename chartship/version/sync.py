"""Keep every Chart.yaml of the lockstep set in step with the version file: plan, check, sync, set.

Charts outside the lockstep set (``versioning: per-chart``, or ``charts.settings.NAME.versioning: own``)
keep their own ``version``; only an appVersion configured to follow is set to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chartship import yamlio
from chartship.charts import chart as chartmod
from chartship.config import Config
from chartship.errors import ChartError, VersionError
from chartship.version import versionfile, versioning
from chartship.version.semver import SemVer


@dataclass(frozen=True)
class Field:
    """One Chart.yaml value that must equal the version file."""

    chart: str
    file: str
    field: str
    found: str | None
    expected: str

    @property
    def ok(self) -> bool:
        return self.found == self.expected

    def as_dict(self) -> dict[str, Any]:
        return {"chart": self.chart, "file": self.file, "field": self.field, "found": self.found, "expected": self.expected}


def plan(cfg: Config, version: SemVer | None, charts: list[chartmod.Chart]) -> list[Field]:
    """Every field version.sync manages, with what it holds and what it should hold.

    ``version`` is the version file's (None when no chart is in the lockstep set)."""
    fields: list[Field] = []
    for c in charts:
        lockstep = versioning.in_lockstep(cfg, c.name)
        follow = cfg.chart_settings(c.name).app_version == "follow"
        if not lockstep and not follow:
            continue  # nothing of this chart is managed
        expected = str(versioning.version_of(cfg, c, version))
        if lockstep:
            fields.append(Field(c.name, c.where, "version", c.version, expected))
        if follow:
            fields.append(Field(c.name, c.where, "appVersion", c.app_version, expected))
        if not lockstep:
            continue  # its dependencies' versions are its own business
        for dep, sub in chartmod.local_dependencies(c, charts):
            if versioning.in_lockstep(cfg, sub.name):
                fields.append(Field(c.name, c.where, f"dependencies[{dep.index}].version", dep.version, expected))
    return fields


def check(cfg: Config, version: SemVer | None, charts: list[chartmod.Chart]) -> list[Field]:
    """The fields that disagree with the version file (empty when all agree)."""
    return [f for f in plan(cfg, version, charts) if not f.ok]


def _edit(c: chartmod.Chart, fields: list[Field]) -> str:
    """New Chart.yaml text with ``fields`` set; verified by parsing it again."""
    text = c.text
    for f in fields:
        data = yamlio.loads(text, c.where, ChartError)
        try:
            if f.field == "appVersion" and "appVersion" not in data:
                text = yamlio.insert_after_key(text, data, "version", "appVersion", f.expected)
            elif f.field.startswith("dependencies["):
                node = data["dependencies"][int(f.field[len("dependencies["):].split("]")[0])]
                if "version" not in node:
                    raise ChartError(f"{c.where}: {f.field} is missing; add `version:` to that dependency")
                text = yamlio.replace_scalar(text, node, "version", f.expected, in_flow=node.fa.flow_style())
            else:
                text = yamlio.replace_scalar(text, data, f.field, f.expected)
        except ValueError:
            raise ChartError(f"{c.where}: {f.field} is not a one-line value; write it as `{f.field}: {f.expected}`") from None
    _verify(c, text, fields)
    return text


def _verify(c: chartmod.Chart, text: str, fields: list[Field]) -> None:
    after = yamlio.loads(text, c.where, ChartError)
    for f in fields:
        if f.field.startswith("dependencies["):
            got = after["dependencies"][int(f.field[len("dependencies["):].split("]")[0])].get("version")
        else:
            got = after.get(f.field)
        if str(got) != f.expected:
            raise ChartError(f"{c.where}: could not set {f.field} safely (read back {got!r}); edit it by hand")


def sync(cfg: Config, version: SemVer | None, charts: list[chartmod.Chart], dry_run: bool = False) -> list[Field]:
    """Write the version into every managed field that differs. Returns the fields that changed."""
    return apply(charts, check(cfg, version, charts), dry_run)


def apply(charts: list[chartmod.Chart], changes: list[Field], dry_run: bool = False) -> list[Field]:
    """Write ``changes``. All edits are prepared and verified before the first file is written;
    a failed write restores the files already written."""
    by_chart: dict[str, list[Field]] = {}
    for f in changes:
        by_chart.setdefault(f.chart, []).append(f)
    new_texts = [(c, _edit(c, by_chart[c.name])) for c in charts if c.name in by_chart]
    if dry_run:
        return changes
    written: list[chartmod.Chart] = []
    try:
        for c, text in new_texts:
            versionfile.write_atomic(c.chart_yaml, text)
            written.append(c)
    except OSError as exc:
        for c in written:
            versionfile.write_atomic(c.chart_yaml, c.text)
        raise ChartError(f"{c.where}: cannot write ({exc.strerror}); nothing was changed") from None
    return changes


def set_chart_version(cfg: Config, c: chartmod.Chart, new: SemVer, charts: list[chartmod.Chart],
                      dry_run: bool = False) -> list[Field]:
    """Give chart ``c`` (outside the lockstep set) the version ``new``: its Chart.yaml ``version``, its
    appVersion when it follows, and file:// dependencies of other charts pinned exactly to its old version."""
    expected = str(new)
    fields = [Field(c.name, c.where, "version", c.version, expected)]
    if cfg.chart_settings(c.name).app_version == "follow":
        fields.append(Field(c.name, c.where, "appVersion", c.app_version, expected))
    for user in charts:
        for dep, sub in chartmod.local_dependencies(user, charts):
            if sub.name == c.name and dep.version == c.version:
                fields.append(Field(user.name, user.where, f"dependencies[{dep.index}].version", dep.version, expected))
    return apply(charts, [f for f in fields if not f.ok], dry_run)


def set_version(cfg: Config, new: SemVer, charts: list[chartmod.Chart], dry_run: bool = False) -> list[Field]:
    """Write ``new`` to the version file and sync the charts to it.

    Chart edits are prepared (and every Chart.yaml validated) before anything
    is written; if the version file cannot be written, the charts are restored.
    """
    changes = sync(cfg, new, charts, dry_run=dry_run)
    if dry_run:
        return changes
    try:
        versionfile.write_version(cfg.version_file, new)
    except OSError as exc:
        for c in charts:
            if any(f.chart == c.name for f in changes):
                versionfile.write_atomic(c.chart_yaml, c.text)
        raise VersionError(f"{versionfile.VERSION_FILE}: cannot write ({exc.strerror}); nothing was changed") from None
    return changes


def warnings(cfg: Config, changes: list[Field], charts: list[chartmod.Chart]) -> list[str]:
    """What a user should know before (dry-run) or after these changes: a version that goes down
    (a chart with its own versions?), and an appVersion change that changes a rendered image tag."""
    from chartship.charts import appversion
    from chartship.version import semver

    by_name = {c.name: c for c in charts}
    out: list[str] = []
    for f in changes:
        if f.field == "version" and f.found is not None:
            try:
                down = semver.parse(f.found) > semver.parse(f.expected)
            except VersionError:
                down = False
            if down:
                out.append(f"{f.file}: version {f.found} -> {f.expected} goes down; if {f.chart} keeps its own versions, "
                           f"set chartship.charts.settings.{f.chart}.versioning: own (or versioning: per-chart)")
        if f.field == "appVersion" and f.chart in by_name:
            uses = appversion.image_uses(by_name[f.chart])
            if uses:
                more = f" and {len(uses) - 1} more" if len(uses) > 1 else ""
                out.append(f"{f.file}: appVersion {f.found or '(missing)'} -> {f.expected} changes the image tag "
                           f"({by_name[f.chart].rel}/{uses[0]}{more} uses .Chart.AppVersion in an image reference); "
                           f"to keep the image, set chartship.charts.settings.{f.chart}.app_version: pinned")
    return out
