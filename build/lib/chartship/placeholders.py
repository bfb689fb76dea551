"""``{NAME}`` placeholder templates (tag templates, package names)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from chartship.errors import ChartshipError, VersionError

_FIELD = re.compile(r"\{([^{}]*)\}")


def fields(template: str, allowed: Iterable[str], where: str, error: type[ChartshipError] = VersionError) -> set[str]:
    """The placeholders used in ``template``; unknown or malformed ones are an error."""
    allowed_set = set(allowed)
    used = set(_FIELD.findall(template))
    stray = _FIELD.sub("", template)
    if "{" in stray or "}" in stray:
        raise error(f"{where}: unbalanced brace in {template!r}; placeholders look like {{VERSION}}")
    unknown = sorted(used - allowed_set)
    if unknown:
        raise error(
            f"{where}: unknown placeholder {{{unknown[0]}}} in {template!r}; "
            f"use one of {', '.join('{' + a + '}' for a in sorted(allowed_set))}"
        )
    return used


def render(template: str, values: Mapping[str, str | None], where: str, error: type[ChartshipError] = VersionError) -> str:
    """Fill ``template``; a placeholder whose value is None is an error naming it."""
    fields(template, values.keys(), where, error)

    def sub(m: re.Match[str]) -> str:
        value = values[m[1]]
        if value is None:
            raise error(f"{where}: {{{m[1]}}} has no value here; {_HINTS.get(m[1], 'provide it')}")
        return value

    return _FIELD.sub(sub, template)


_HINTS = {
    "BRANCH": "pass --branch or run in a git checkout on a branch (or set GITHUB_REF_NAME)",
    "RUN": "pass --run or set GITHUB_RUN_NUMBER",
    "SHA": "run in a git checkout with a commit (or set GITHUB_SHA)",
    "PRERELEASE": "the version has no prerelease part",
}
