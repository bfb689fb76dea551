"""Semantic Versioning 2.0.0: parse, order, bump, branch builds, OCI tags.

Pure functions on an immutable :class:`SemVer`; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from chartship.errors import VersionError

_NUM = r"0|[1-9]\d*"
_PRE_ID = r"0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*"
_SEMVER_RE = re.compile(
    rf"^(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>(?:{_PRE_ID})(?:\.(?:{_PRE_ID}))*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_OCI_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
MAX_LENGTH = 256  # a version longer than this is not one a registry or helm can use
MAX_DIGITS = 30  # per numeric part; far beyond any real version, small enough for int() and tags

Part = Literal["major", "minor", "patch", "prerelease"]
PARTS: tuple[Part, ...] = ("major", "minor", "patch", "prerelease")


@dataclass(frozen=True)
class SemVer:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    @property
    def core(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def _key(self) -> tuple[object, ...]:
        # Precedence per semver.org section 11; build metadata is ignored.
        pre: tuple[tuple[int, int, str], ...] = tuple(
            (0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: SemVer) -> bool:
        return self._key() < other._key()

    def __le__(self, other: SemVer) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: SemVer) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: SemVer) -> bool:
        return self._key() >= other._key()

    def same_precedence(self, other: SemVer) -> bool:
        return self._key() == other._key()


def parse(text: str, what: str = "version") -> SemVer:
    """Parse a strict semver string; ``what`` names its origin in errors."""
    if len(text) > MAX_LENGTH:
        raise VersionError(f"{what}: {text[:20]!r}... is {len(text)} characters long; a version has at most "
                           f"{MAX_LENGTH}, e.g. 1.0.0")
    m = _SEMVER_RE.match(text)
    if m is None:
        raise VersionError(f"{what}: {text!r} is not a semantic version: {_why_not(text)}")
    pre = tuple(m["pre"].split(".")) if m["pre"] else ()
    numbers = [m["major"], m["minor"], m["patch"], *(p for p in pre if p.isdigit())]
    if any(len(n) > MAX_DIGITS for n in numbers):
        raise VersionError(f"{what}: {text[:40]!r}{'...' if len(text) > 40 else ''} has a number with more than "
                           f"{MAX_DIGITS} digits; use a real version such as 1.0.0")
    build = tuple(m["build"].split(".")) if m["build"] else ()
    return SemVer(int(m["major"]), int(m["minor"]), int(m["patch"]), pre, build)


def _why_not(text: str) -> str:
    if not text:
        return "it is empty; write one version such as 1.0.0"
    if text != text.strip():
        return "remove the surrounding white space"
    if any(c.isspace() for c in text):
        return "it contains white space; write exactly one version"
    if text[0] in "vV":
        return f"drop the leading {text[0]!r} ({text[1:]!r})"
    core = re.split(r"[-+]", text, maxsplit=1)[0]
    parts = core.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return "expected MAJOR.MINOR.PATCH with numbers, e.g. 1.4.0 or 1.0.0-beta.213"
    if any(len(p) > 1 and p.startswith("0") for p in parts):
        return "numbers must not have leading zeros"
    rest = text[len(core):]
    if rest.startswith("-"):
        pre = rest[1:].split("+", 1)[0]
        for ident in pre.split("."):
            if ident.isdigit() and len(ident) > 1 and ident.startswith("0"):
                return f"prerelease number {ident!r} has a leading zero"
        return "prerelease identifiers are dot-separated [0-9A-Za-z-], none empty"
    return "build metadata after '+' is dot-separated [0-9A-Za-z-], none empty"


def bump(v: SemVer, part: Part, preid: str | None = None) -> SemVer:
    """Return the next version.

    ``major``/``minor``/``patch`` increment that number, zero the lower ones and
    drop prerelease and build metadata (1.2.3-rc.1 -> 2.0.0 / 1.3.0 / 1.2.4).

    ``prerelease`` on a prerelease increments its last numeric identifier
    (1.0.0-beta.213 -> 1.0.0-beta.214) or appends ``.1`` when it has none
    (1.0.0-rc -> 1.0.0-rc.1). On a final release it starts the next patch's
    prerelease series: 1.4.0 -> 1.4.1-rc.1 (``preid`` chooses the label).
    With ``preid`` differing from the current label, it starts that series on
    the same core (1.0.0-beta.5 --preid rc -> 1.0.0-rc.1), if that sorts higher.
    """
    if part == "major":
        return SemVer(v.major + 1, 0, 0)
    if part == "minor":
        return SemVer(v.major, v.minor + 1, 0)
    if part == "patch":
        return SemVer(v.major, v.minor, v.patch + 1)
    if preid is not None:
        _check_identifier(preid, "--preid")
    if not v.prerelease:
        label = preid or "rc"
        return SemVer(v.major, v.minor, v.patch + 1, (label, "1"))
    current_label = v.prerelease[0]
    if preid is not None and preid != current_label:
        new = SemVer(v.major, v.minor, v.patch, (preid, "1"))
        if not new > v:
            raise VersionError(
                f"--preid {preid}: {new} would sort below {v}; pick a label that sorts after "
                f"{current_label!r} or bump --part patch first"
            )
        return new
    pre = list(v.prerelease)
    for i in range(len(pre) - 1, -1, -1):
        if pre[i].isdigit():
            pre[i] = str(int(pre[i]) + 1)
            return replace(v, prerelease=tuple(pre), build=())
    return replace(v, prerelease=(*pre, "1"), build=())


def _check_identifier(ident: str, what: str) -> None:
    if not re.fullmatch(_PRE_ID, ident):
        raise VersionError(f"{what}: {ident!r} is not a valid prerelease identifier ([0-9A-Za-z-], no leading zeros)")


def sanitize_branch(branch: str) -> str:
    """Turn a git branch name into one semver prerelease identifier.

    ``refs/heads/`` is dropped; everything outside ``[0-9a-z-]`` becomes ``-``;
    runs of ``-`` collapse; it is lower-cased and cut to 40 characters. A purely
    numeric result gets a ``branch-`` prefix (semver forbids leading zeros).
    """
    name = branch.removeprefix("refs/heads/")
    ident = re.sub(r"[^0-9a-z-]+", "-", name.lower())
    ident = re.sub(r"-{2,}", "-", ident).strip("-")[:40].strip("-")
    if not ident:
        raise VersionError(f"branch {branch!r} has no letters or digits to build a version from; pass --branch NAME")
    if ident.isdigit():
        ident = f"branch-{ident}"
    return ident


def dev_version(v: SemVer, branch: str, run: int) -> SemVer:
    """A branch build: ``1.4.0`` + feature/x + run 42 -> ``1.4.0-feature-x.42``.

    An existing prerelease is kept in front (1.0.0-beta.3 -> 1.0.0-beta.3.feature-x.42);
    build metadata is dropped.
    """
    if run < 0:
        raise VersionError(f"--run {run}: a run number is a whole number >= 0")
    return SemVer(v.major, v.minor, v.patch, (*v.prerelease, sanitize_branch(branch), str(run)))


def to_oci_tag(version: str) -> str:
    """Map a version to an OCI tag the way helm does: '+' is not allowed, so it becomes '_'."""
    return version.replace("+", "_")


def from_oci_tag(tag: str) -> str:
    """Reverse of :func:`to_oci_tag` (semver has no '_', so this is lossless)."""
    return tag.replace("_", "+")


def is_oci_tag(tag: str) -> bool:
    return bool(_OCI_TAG_RE.match(tag))


def strip_tag_prefix(tag: str) -> str:
    """'refs/tags/v1.4.0' or 'v1.4.0' -> '1.4.0'."""
    tag = tag.removeprefix("refs/tags/")
    if tag[:1] in ("v", "V") and tag[1:2].isdigit():
        tag = tag[1:]
    return tag
