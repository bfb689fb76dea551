"""Tag templates (``tag-templates/version-tag-template`` and ``latest-tag-template``) and the tags they render."""

from __future__ import annotations

from dataclasses import dataclass

from chartship import placeholders
from chartship.config import Config
from chartship.errors import VersionError
from chartship.version import semver, tagcheck
from chartship.version.semver import SemVer

TAG_FIELDS = ("VERSION", "MAJOR", "MINOR", "PATCH", "PRERELEASE", "BRANCH", "RUN", "SHA")
# dev-latest: optional (no file, no dev alias); the value is the example its error messages give
DEFAULT_TAG_TEMPLATES = {"version": "{VERSION}", "latest": "latest", "dev-latest": "{BRANCH}-latest"}

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


def checkout_context(cfg: Config) -> TagContext:
    """Branch, run and commit of this checkout, from CI variables or git."""
    from chartship.tools import git

    return TagContext(branch=git.current_branch(cfg.root), run=git.run_number(), sha=git.short_sha(cfg.root))


def current_tags(cfg: Config, version: SemVer) -> dict[str, str]:
    """The tags for this checkout: branch, run and commit from CI variables or git."""
    return tags(cfg, version, checkout_context(cfg))


def tags(cfg: Config, version: SemVer, ctx: TagContext) -> dict[str, str]:
    """The rendered version and latest tags. Only placeholders a template uses need values."""
    out = {}
    for kind in ("version", "latest"):
        template, where = read_tag_template(cfg, kind)
        out[kind] = render_tag(template, where, version, ctx)
    return out


def publish_tags(cfg: Config, version: SemVer, ctx: TagContext | None = None) -> dict[str, str]:
    """:func:`tags` for tags that will be written to a registry: the version template must map distinct
    versions to distinct tags and the alias must not be a tag a version could have
    (:mod:`chartship.version.tagcheck`). ``ctx`` None: this checkout's branch, run and commit."""
    read = {kind: read_tag_template(cfg, kind) for kind in ("version", "latest")}
    tagcheck.check_version_template(*read["version"])
    out = current_tags(cfg, version) if ctx is None else tags(cfg, version, ctx)
    tagcheck.check_alias(out["latest"], read["latest"][1], *read["version"])
    return out
