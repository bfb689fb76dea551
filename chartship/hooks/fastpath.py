"""A fast, read-only answer to "does every chart agree with the version file?".

:func:`in_step` returns True only when it can prove that :func:`chartship.version.check`
would find nothing: it reads invoke.yaml, the version file and every Chart.yaml with
:mod:`chartship.quickyaml` and compares the same fields (``version``, ``appVersion``
where it follows, and the ``version`` of file:// dependencies on charts of this
repository), for the charts of the lockstep set; a chart of its own (``versioning:
per-chart`` or ``charts.settings.NAME.versioning: own``) only has its followed appVersion
compared with its own version. Whenever anything is unusual -- a setting given by environment, YAML
outside the reader's subset, a value that is not a plain string, a mismatch -- it
returns False and the caller runs the full check, which reports (or refuses) exactly
as ``invoke version.check`` does. It never writes anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from chartship.hooks import quickyaml

# The same names and defaults as chartship.config (tests/test_hooks_quick.py keeps them equal).
CONFIG_FILE = "invoke.yaml"
SECTION = "chartship"
VERSION_FILE = "version"
DEFAULT_CHARTS_DIR = "charts"
DEFAULT_APP_VERSION = "pinned"
APP_VERSION_MODES = ("follow", "pinned")
VERSIONING_MODES = ("lockstep", "per-chart")
ENV_SETTINGS = ("CHARTSHIP_CHARTS_DIR", "CHARTSHIP_APP_VERSION")


class _Decline(Exception):
    """Not provably in step: let the full check decide."""


def _mapping(value: object) -> dict[str, object]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Decline
    return value


def _mode(value: object) -> str:
    if value not in APP_VERSION_MODES:
        raise _Decline
    return str(value)


def _settings(root: Path) -> tuple[str, list[str] | None, str, dict[str, str], set[str] | None]:
    """(charts dir, charts.only, default appVersion mode, per-chart modes, charts of their own) from invoke.yaml;
    the last is None when every chart keeps its own version (versioning: per-chart)."""
    path = root / CONFIG_FILE
    data = quickyaml.load(path.read_text(encoding="utf-8")) if path.exists() else None
    section = _mapping(_mapping(data).get(SECTION))
    charts = _mapping(section.get("charts"))
    charts_dir = charts.get("dir", DEFAULT_CHARTS_DIR)
    if not isinstance(charts_dir, str) or not charts_dir.strip() or os.path.isabs(charts_dir) or ".." in charts_dir.split("/"):
        raise _Decline
    only = charts.get("only")
    if only is not None and (not isinstance(only, list) or not all(isinstance(n, str) and n for n in only)):
        raise _Decline
    default_mode = _mode(section.get("app_version", DEFAULT_APP_VERSION))
    if section.get("versioning", "lockstep") not in VERSIONING_MODES:
        raise _Decline
    own: set[str] | None = None if section.get("versioning") == "per-chart" else set()
    modes: dict[str, str] = {}
    for chart, settings in _mapping(charts.get("settings")).items():
        settings = _mapping(settings)
        modes[chart] = _mode(settings["app_version"]) if "app_version" in settings else default_mode
        if settings.get("versioning", "lockstep") not in ("lockstep", "own"):
            raise _Decline
        if own is not None and settings.get("versioning") == "own":
            own.add(chart)
    return charts_dir, only, default_mode, modes, own


def _version(root: Path) -> str:
    """The version file's text when it is one valid semantic version (and nothing else)."""
    from chartship.errors import VersionError
    from chartship.version import semver

    with (root / VERSION_FILE).open("rb") as fh:
        data = fh.read(257)  # versionfile.MAX_BYTES + 1; more (or binary) goes the slow way, which explains it
    try:
        raw = data.decode("utf-8") if len(data) <= 256 and b"\0" not in data else ""
    except UnicodeDecodeError:
        raise _Decline from None
    body = raw[:-1] if raw.endswith("\n") else raw
    if not body or "\n" in body or "\r" in body:
        raise _Decline
    try:
        canonical = str(semver.parse(body))
    except VersionError:
        raise _Decline from None
    if canonical != body:
        raise _Decline
    return body


def _chart_dirs(base: str, only: list[str] | None) -> list[str]:
    if only is not None:
        dirs = [os.path.join(base, name) for name in only]
        if not all(os.path.isfile(os.path.join(d, "Chart.yaml")) for d in dirs):
            raise _Decline
        return dirs
    if not os.path.isdir(base):
        return []
    return sorted(e.path for e in os.scandir(base) if e.is_dir() and os.path.isfile(os.path.join(e.path, "Chart.yaml")))


def _in_step(root: Path, environ: Mapping[str, str]) -> bool:
    if any(environ.get(name) for name in ENV_SETTINGS):
        raise _Decline
    charts_dir, only, default_mode, modes, own = _settings(root)
    dirs = _chart_dirs(os.path.join(root, charts_dir), only)
    names = {os.path.basename(d) for d in dirs}
    if not set(modes) <= names:
        raise _Decline  # the full check names the unknown chart
    lockstep = set() if own is None else names - own
    expected = _version(root) if own is not None and (lockstep or not names) else None
    real = {os.path.realpath(d): os.path.basename(d) for d in dirs}
    for d in dirs:
        name = os.path.basename(d)
        with open(os.path.join(d, "Chart.yaml"), encoding="utf-8") as fh:
            data = quickyaml.load(fh.read())
        if not isinstance(data, dict) or not data.get("version") or (name in lockstep and data["version"] != expected):
            raise _Decline
        if modes.get(name, default_mode) == "follow":
            truth = expected if name in lockstep else _semver(data.get("version"))
            if data.get("appVersion") != truth:
                raise _Decline
        deps = data.get("dependencies")
        if deps is None or name not in lockstep:
            continue
        if not isinstance(deps, list):
            raise _Decline
        for dep in deps:
            if not isinstance(dep, dict) or not isinstance(dep.get("repository", ""), str):
                raise _Decline
            repo = str(dep.get("repository", ""))
            sub = real.get(os.path.realpath(os.path.join(d, repo[len("file://"):]))) if repo.startswith("file://") else None
            if sub in lockstep and dep.get("version") != expected:
                raise _Decline
    return True


def _semver(text: object) -> str:
    """A chart's own version, when it is a canonical semantic version."""
    from chartship.errors import VersionError
    from chartship.version import semver

    if not isinstance(text, str):
        raise _Decline
    try:
        canonical = str(semver.parse(text))
    except VersionError:
        raise _Decline from None
    if canonical != text:
        raise _Decline
    return text


def in_step(root: Path, environ: Mapping[str, str] | None = None) -> bool:
    """True when every managed Chart.yaml field provably equals the version file."""
    try:
        return _in_step(root, os.environ if environ is None else environ)
    except (_Decline, quickyaml.Unsupported, OSError, UnicodeDecodeError):
        return False
