"""The ``version`` file: the single source of truth for a lockstep set of charts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from chartship.errors import VersionError
from chartship.version import semver
from chartship.version.semver import SemVer

VERSION_FILE = "version"
MAX_BYTES = 256  # one semantic version and a final newline; anything longer is not a version file

def read_version(path: Path) -> SemVer:
    """Read the version file. It holds exactly one semver and optionally one final LF."""
    name = path.name
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise VersionError(f"{name}: file not found; create it with one version, e.g. `invoke version.set 0.1.0` "
                           "(or, when every chart keeps its own version, set chartship.versioning: per-chart)") from None
    except OSError as exc:
        raise VersionError(f"{name}: cannot read ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise VersionError(f"{name}: is larger than {MAX_BYTES} bytes; it must hold one version such as 1.0.0 "
                           "(`invoke version.set 1.0.0` rewrites it)")
    if b"\0" in raw or any(b < 32 and b not in b"\t\n\r" for b in raw):
        raise VersionError(f"{name}: holds binary data, not text; write one version such as 1.0.0 "
                           "(`invoke version.set 1.0.0` rewrites it)")
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
