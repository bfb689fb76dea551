"""What a chart may contain: the ``content_policy`` settings in invoke.yaml.

``chartship.charts.content_policy`` sets it for every chart and
``chartship.charts.settings.<chart>.content_policy`` per chart (keys not given
there keep the value for every chart). ``content-policy`` is accepted as a
spelling of the key. Enforced by :mod:`chartship.build.content`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from chartship.errors import ConfigError

KEY = "content_policy"
SPELLINGS = (KEY, "content-policy")
SYMLINK_MODES = ("refuse", "inside")
MIB = 1024 * 1024
# helm (3.17 and 4) refuses to load a chart archive holding a file above 5 MiB by default
DEFAULT_MAX_FILE_SIZE = 5 * MIB
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": MIB,
          "g": 1000**3, "gb": 1000**3, "gib": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


@dataclass(frozen=True)
class ContentPolicy:
    symlinks: str = "refuse"  # refuse | inside (a link to a regular file inside the same chart)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE

    def describe_size(self) -> str:
        return human(self.max_file_size)


DEFAULT = ContentPolicy()


def human(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def parse_size(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a size such as 5MiB or 5242880, got {value!r}")
    m = _SIZE.match(str(value))
    unit = m[2].lower() if m else ""
    if m is None or unit not in _UNITS or float(m[1]) * _UNITS[unit] < 1:
        raise ConfigError(f"{where}: expected a size such as 5MiB, 512KiB or 5242880 (bytes), got {value!r}")
    return int(float(m[1]) * _UNITS[unit])


def parse(node: Any, whole: str, where: Callable[[str], str], base: ContentPolicy = DEFAULT) -> ContentPolicy:
    """One ``content_policy`` mapping on top of ``base``; ``whole`` names it and ``where(key)`` its keys in errors."""
    if not isinstance(node, Mapping):
        raise ConfigError(f"{whole}: expected a mapping with symlinks and/or max_file_size")
    known = {"symlinks", "max_file_size", "max-file-size"}
    for key in node:
        if key not in known:
            raise ConfigError(f"{where(str(key))}: unknown key; known keys: symlinks, max_file_size")
    policy = base
    if "symlinks" in node:
        mode = node["symlinks"]
        if mode not in SYMLINK_MODES:
            raise ConfigError(f"{where('symlinks')}: expected one of {', '.join(SYMLINK_MODES)}, got {mode!r}")
        policy = replace(policy, symlinks=str(mode))
    for key in ("max_file_size", "max-file-size"):
        if key in node:
            policy = replace(policy, max_file_size=parse_size(node[key], where(key)))
    return policy


def find(node: Mapping[str, Any]) -> tuple[str, Any] | None:
    """(spelling, value) of the content_policy key in ``node``, if present."""
    for key in SPELLINGS:
        if key in node:
            return key, node[key]
    return None


class Namer(Protocol):
    """config._Where: names a key of ``node`` at ``path`` as ``invoke.yaml:LINE: chartship.a.b``."""

    def __call__(self, node: Any, path: tuple[str, ...]) -> str: ...

    def under(self, node: Any, base: tuple[str, ...]) -> Callable[[str], str]: ...


def _one(parent: Mapping[str, Any], base: tuple[str, ...], where: Namer, inherit: ContentPolicy) -> ContentPolicy | None:
    found = find(parent)
    if found is None:
        return None
    key, node = found
    whole = where(parent, (*base, key))
    return parse(node, whole, where.under(node, (*base, key)) if isinstance(node, Mapping) else lambda _k: whole, inherit)


def from_charts(charts: Mapping[str, Any], where: Namer) -> dict[str, ContentPolicy]:
    """The policy for every chart (key "") and each chart's own, from the ``charts`` section."""
    common = _one(charts, ("charts",), where, DEFAULT) or DEFAULT
    result = {"": common}
    settings = charts.get("settings") or {}
    for chart, node in settings.items() if isinstance(settings, Mapping) else ():
        own = _one(node, ("charts", "settings", str(chart)), where, common) if isinstance(node, Mapping) else None
        if own is not None:
            result[str(chart)] = own
    return result
