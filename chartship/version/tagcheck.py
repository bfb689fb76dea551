"""Tag templates that cannot overwrite a published version by accident.

- The version template must map distinct versions to distinct tags: it is rendered for probe
  versions that differ in exactly one part (major, minor, patch, prerelease, build metadata, and
  digit runs that a template without separators would glue together); two probes giving one tag
  mean the template drops or merges a part of the version.
- The alias template (``latest``) must not render a valid semver version, nor any tag the version
  template can produce: an alias that moves would otherwise re-point a published version.
"""

from __future__ import annotations

import re

from chartship import placeholders
from chartship.errors import VersionError
from chartship.version import semver

PROBES = ("1.2.3", "1.2.4", "1.3.3", "2.2.3", "1.23.4", "12.3.4", "1.2.34", "1.2.3-rc.1", "1.2.3-rc.2",
          "1.2.3-rc.1+b.1", "1.2.3+b.1", "1.2.3+b.2")
_NUM = r"(?:0|[1-9][0-9]*)"
_IDENT = r"[0-9A-Za-z-]+"
_VERSION = rf"{_NUM}\.{_NUM}\.{_NUM}(?:-{_IDENT}(?:\.{_IDENT})*)?(?:_{_IDENT}(?:\.{_IDENT})*)?"
PATTERNS = {"VERSION": _VERSION, "MAJOR": _NUM, "MINOR": _NUM, "PATCH": _NUM,
            "PRERELEASE": rf"{_IDENT}(?:\.{_IDENT})*", "BRANCH": r"[A-Za-z0-9._-]+", "RUN": r"[A-Za-z0-9._-]+",
            "SHA": r"[0-9A-Za-z]+"}
_FIELD = re.compile(r"\{([A-Z]+)\}")


def check_version_template(template: str, where: str) -> None:
    """Refuse a version template that gives two different versions the same tag."""
    values = {"BRANCH": "main", "RUN": "7", "SHA": "abc1234"}
    seen: dict[str, str] = {}
    for probe in PROBES:
        v = semver.parse(probe)
        fields = {"VERSION": semver.to_oci_tag(probe), "MAJOR": str(v.major), "MINOR": str(v.minor),
                  "PATCH": str(v.patch), "PRERELEASE": ".".join(v.prerelease) or None, **values}
        try:
            tag = placeholders.render(template, fields, where)
        except VersionError:
            continue  # e.g. {PRERELEASE} for a final release: that version cannot be tagged at all
        if tag in seen:
            raise VersionError(f"{where}: {template!r} gives versions {seen[tag]} and {probe} the same tag {tag!r}, "
                               "so one release would overwrite another; use {VERSION} (or every part of it)")
        seen[tag] = probe


def version_tag_pattern(template: str) -> re.Pattern[str]:
    """A regular expression matching every tag ``template`` can produce."""
    parts: list[str] = []
    last = 0
    for m in _FIELD.finditer(template):
        parts.append(re.escape(template[last:m.start()]))
        parts.append(f"(?:{PATTERNS.get(m[1], '.+')})")
        last = m.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts))


def check_alias(alias: str, alias_where: str, version_template: str, version_where: str) -> None:
    """Refuse an alias tag that is a version, or a tag the version template could write."""
    try:
        semver.parse(semver.from_oci_tag(alias))
    except VersionError:
        pass
    else:
        raise VersionError(f"{alias_where}: renders {alias!r}, which is a version: moving it would re-point a "
                           "published release; use a name that is not a version, such as latest or stable")
    if version_tag_pattern(version_template).fullmatch(alias):
        raise VersionError(f"{alias_where}: renders {alias!r}, a tag {version_where} ({version_template!r}) can "
                           "produce for some version; choose an alias the version template cannot produce")
