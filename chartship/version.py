"""The ``version`` file (single source of truth), tag templates, and keeping
every Chart.yaml in step with it (sync and check)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship import chart as chartmod
from chartship import placeholders, semver, yamlio
from chartship.config import Config
from chartship.errors import ChartError, VersionError
from chartship.semver import SemVer

VERSION_FILE = "version"
TAG_FIELDS = ("VERSION", "MAJOR", "MINOR", "PATCH", "PRERELEASE", "BRANCH", "RUN", "SHA")
DEFAULT_TAG_TEMPLATES = {"version": "{VERSION}", "latest": "latest"}


# ---------------------------------------------------------------- version file

def read_version(path: Path) -> SemVer:
    """Read the version file. It holds exactly one semver and optionally one final LF."""
    name = path.name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise VersionError(f"{name}: file not found; create it with one version, e.g. `invoke version.set 0.1.0`") from None
    except OSError as exc:
        raise VersionError(f"{name}: cannot read ({exc.strerror})") from None
    if b"\r" in raw:
        raise VersionError(f"{name}: has Windows (CRLF) line endings; save it with LF line endings")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise VersionError(f"{name}: is not UTF-8 text; write one version such as 1.0.0") from None
    if not text.strip():
        raise VersionError(f"{name}: is empty; write one version such as 1.0.0 (or run `invoke version.set 1.0.0`)")
    body = text[:-1] if text.endswith("\n") else text
    if "\n" in body:
        raise VersionError(f"{name}: must hold exactly one line with one version; remove the other lines")
    return semver.parse(body, name)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, keeping its permission bits."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_version(path: Path, version: SemVer) -> None:
    write_atomic(path, f"{version}\n")


# ---------------------------------------------------------------- tag templates

@dataclass(frozen=True)
class TagContext:
    branch: str | None = None
    run: str | None = None
    sha: str | None = None


def read_tag_template(cfg: Config, kind: str) -> tuple[str, str]:
    """(template, where) for kind ``version`` or ``latest``; a missing file means the default."""
    path = cfg.tag_templates_dir / f"{kind}-tag-template"
    where = f"tag-templates/{path.name}"
    if not path.exists():
        return DEFAULT_TAG_TEMPLATES[kind], where
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        raise VersionError(f"{where}: is empty; write a template such as {DEFAULT_TAG_TEMPLATES[kind]}")
    if "\n" in text:
        raise VersionError(f"{where}: must be one line")
    placeholders.fields(text, TAG_FIELDS, where)
    return text, where


def render_tag(template: str, where: str, version: SemVer, ctx: TagContext) -> str:
    """Fill a tag template; the result must be a valid OCI tag."""
    values: dict[str, str | None] = {
        "VERSION": semver.to_oci_tag(str(version)),
        "MAJOR": str(version.major),
        "MINOR": str(version.minor),
        "PATCH": str(version.patch),
        "PRERELEASE": ".".join(version.prerelease) or None,
        "BRANCH": semver.sanitize_branch(ctx.branch) if ctx.branch else None,
        "RUN": ctx.run,
        "SHA": ctx.sha,
    }
    tag = placeholders.render(template, values, where)
    if not semver.is_oci_tag(tag):
        raise VersionError(
            f"{where}: {template!r} gives {tag!r}, which is not a valid OCI tag "
            "([A-Za-z0-9_][A-Za-z0-9._-], at most 128 characters)"
        )
    return tag


def current_tags(cfg: Config, version: SemVer) -> dict[str, str]:
    """The tags for this checkout: branch, run and commit from CI variables or git."""
    from chartship import git

    ctx = TagContext(branch=git.current_branch(cfg.root), run=git.run_number(), sha=git.short_sha(cfg.root))
    return tags(cfg, version, ctx)


def tags(cfg: Config, version: SemVer, ctx: TagContext) -> dict[str, str]:
    """The rendered version and latest tags. Only placeholders a template uses need values."""
    out = {}
    for kind in ("version", "latest"):
        template, where = read_tag_template(cfg, kind)
        out[kind] = render_tag(template, where, version, ctx)
    return out


# ---------------------------------------------------------------- sync / check

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


def plan(cfg: Config, version: SemVer, charts: list[chartmod.Chart]) -> list[Field]:
    """Every field version.sync manages, with what it holds and what it should hold."""
    expected = str(version)
    fields: list[Field] = []
    for c in charts:
        fields.append(Field(c.name, c.where, "version", c.version, expected))
        if cfg.chart_settings(c.name).app_version == "follow":
            fields.append(Field(c.name, c.where, "appVersion", c.app_version, expected))
        for dep, _sub in chartmod.local_dependencies(c, charts):
            fields.append(Field(c.name, c.where, f"dependencies[{dep.index}].version", dep.version, expected))
    return fields


def check(cfg: Config, version: SemVer, charts: list[chartmod.Chart]) -> list[Field]:
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


def sync(cfg: Config, version: SemVer, charts: list[chartmod.Chart], dry_run: bool = False) -> list[Field]:
    """Write the version into every managed field. All edits are prepared and
    verified before the first file is written; a failed write restores the
    files already written. Returns the fields that changed."""
    changes = check(cfg, version, charts)
    by_chart: dict[str, list[Field]] = {}
    for f in changes:
        by_chart.setdefault(f.chart, []).append(f)
    new_texts = [(c, _edit(c, by_chart[c.name])) for c in charts if c.name in by_chart]
    if dry_run:
        return changes
    written: list[chartmod.Chart] = []
    try:
        for c, text in new_texts:
            write_atomic(c.chart_yaml, text)
            written.append(c)
    except OSError as exc:
        for c in written:
            write_atomic(c.chart_yaml, c.text)
        raise ChartError(f"{c.where}: cannot write ({exc.strerror}); nothing was changed") from None
    return changes


def set_version(cfg: Config, new: SemVer, charts: list[chartmod.Chart], dry_run: bool = False) -> list[Field]:
    """Write ``new`` to the version file and sync the charts to it.

    Chart edits are prepared (and every Chart.yaml validated) before anything
    is written; if the version file cannot be written, the charts are restored.
    """
    changes = sync(cfg, new, charts, dry_run=dry_run)
    if dry_run:
        return changes
    try:
        write_version(cfg.version_file, new)
    except OSError as exc:
        for c in charts:
            if any(f.chart == c.name for f in changes):
                write_atomic(c.chart_yaml, c.text)
        raise VersionError(f"{VERSION_FILE}: cannot write ({exc.strerror}); nothing was changed") from None
    return changes


def describe(v: SemVer) -> dict[str, Any]:
    return {
        "version": str(v),
        "major": v.major,
        "minor": v.minor,
        "patch": v.patch,
        "prerelease": ".".join(v.prerelease) or None,
        "build": ".".join(v.build) or None,
        "oci_tag": semver.to_oci_tag(str(v)),
    }
