"""Vendored dependencies: which of a chart's non-file:// dependencies are already under its
``charts/`` folder (a chart folder or an archive) in a version that satisfies Chart.yaml's
constraint and, when there is one, Chart.lock's exact version. Those are used as they are; only
the rest need ``helm dependency build``. Version constraints follow helm's (Masterminds semver):
``1.2.3``, ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``~``, ``^``, ``x``/``*`` wildcards,
hyphen ranges, ``,`` or space for "and", ``||`` for "or"."""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship.charts import chart as chartmod
from chartship.errors import ChartshipError
from chartship.version import semver

_TERM_RE = re.compile(r"^(=|!=|>=|<=|>|<|~>|~|\^)?\s*v?([0-9xX*]+(?:\.[0-9xX*]+){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
_WILD = {"x", "X", "*"}


def _floor(text: str) -> tuple[semver.SemVer, int]:
    """The lowest version ``text`` stands for and how many of its parts were given (wildcards stop it)."""
    core, _, pre = text.partition("-")
    core = core.partition("+")[0]
    parts = core.split(".")
    given = 0
    nums = []
    for p in parts:
        if p in _WILD:
            break
        nums.append(int(p))
        given += 1
    nums += [0] * (3 - len(nums))
    return semver.SemVer(nums[0], nums[1], nums[2], tuple(pre.split(".")) if pre and given == 3 else ()), given


def _bump(v: semver.SemVer, given: int) -> semver.SemVer:
    """The first version above the range ``v`` with ``given`` parts stands for (1.2 -> 1.3.0)."""
    if given <= 1:
        return semver.SemVer(v.major + 1, 0, 0, ("0",))
    if given == 2:
        return semver.SemVer(v.major, v.minor + 1, 0, ("0",))
    return semver.SemVer(v.major, v.minor, v.patch + 1, ("0",))


def _term(term: str, v: semver.SemVer) -> bool:
    m = _TERM_RE.match(term)
    if m is None:
        raise ValueError(term)
    op, base = m[1] or "", m[2]
    low, given = _floor(base)
    if op in ("", "="):
        return given == 0 or (low <= v < _bump(low, given) if given < 3 else v.same_precedence(low))
    if op == "!=":
        return not (low <= v < _bump(low, given)) if given < 3 else not v.same_precedence(low)
    if op == ">":
        return v >= _bump(low, given) if given < 3 else v > low
    if op == ">=":
        return v >= low
    if op == "<":
        return v < low
    if op == "<=":
        return v < _bump(low, given) if given < 3 else v <= low
    if op in ("~", "~>"):
        return given == 0 or low <= v < _bump(low, 2 if given >= 2 else 1)
    # ^: the left-most non-zero part is fixed
    if low.major > 0 or given <= 1:
        return low <= v < _bump(low, 1)
    if low.minor > 0 or given == 2:
        return low <= v < _bump(low, 2)
    return low <= v < _bump(low, 3)


def satisfies(version: str, constraint: str | None) -> bool:
    """Whether ``version`` meets the Chart.yaml ``constraint`` (None or empty: any version).
    An unreadable constraint or version is not met (helm decides then)."""
    try:
        v = semver.parse(version.lstrip("v"))
    except ChartshipError:
        return False
    if not constraint or not constraint.strip():
        return True
    try:
        for alternative in constraint.split("||"):
            text = re.sub(r"\s+-\s+", " - ", alternative.strip())
            hyphen = re.fullmatch(r"(\S+) - (\S+)", text)
            terms = [f">={hyphen[1]}", f"<={hyphen[2]}"] if hyphen else \
                [t for t in re.split(r"[,\s]+", re.sub(r"(>=|<=|!=|~>|>|<|=|~|\^)\s+", r"\1", text)) if t]
            if all(_term(t, v) for t in terms):
                return True
    except ValueError:
        return False
    return False


@dataclass(frozen=True)
class Found:
    """A copy of a dependency under ``charts/``: its path, name and version."""

    path: Path
    name: str
    version: str


def _archive_meta(path: Path) -> tuple[str, str] | None:
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.isfile() and member.name.count("/") == 1 and member.name.endswith("/Chart.yaml"):
                    handle = tar.extractfile(member)
                    return _meta(handle.read().decode("utf-8")) if handle else None
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError):
        return None
    return None


def _meta(text: str) -> tuple[str, str] | None:
    import yaml

    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    return str(data.get("name", "")), str(data.get("version", ""))


def copies(charts_dir: Path) -> list[Found]:
    """Every chart folder and chart archive directly under ``charts_dir``."""
    found: list[Found] = []
    if not charts_dir.is_dir():
        return found
    for entry in sorted(charts_dir.iterdir()):
        meta = None
        if entry.is_dir() and (entry / "Chart.yaml").is_file():
            meta = _meta((entry / "Chart.yaml").read_text(encoding="utf-8", errors="replace"))
        elif entry.is_file() and entry.name.endswith(".tgz"):
            meta = _archive_meta(entry)
        if meta is not None:
            found.append(Found(entry, *meta))
    return found


def locked_versions(chart_dir: Path) -> dict[str, str]:
    """name -> version from Chart.lock (empty when there is none or it cannot be read)."""
    lock = chart_dir / "Chart.lock"
    if not lock.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(lock.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return {}
    deps = data.get("dependencies") if isinstance(data, dict) else None
    return {str(d.get("name")): str(d.get("version")) for d in deps or [] if isinstance(d, dict)}


@dataclass(frozen=True)
class Plan:
    """What a chart's dependency step has to do."""

    vendored: dict[str, Found]  # dependency name -> the copy used as it is
    missing: list[tuple[chartmod.Dependency, str]]  # a dependency helm must fetch, and why it is not usable

    @property
    def complete(self) -> bool:
        return not self.missing


def plan(c: chartmod.Chart) -> Plan:
    """Which non-file:// dependencies of ``c`` are vendored in a satisfying version and which are missing."""
    present = copies(c.path / "charts")
    locked = locked_versions(c.path)
    vendored: dict[str, Found] = {}
    missing: list[tuple[chartmod.Dependency, str]] = []
    for dep in c.dependencies:
        if dep.local_path is not None:
            continue
        same = [f for f in present if f.name == dep.name]
        want = locked.get(dep.name)
        good = [f for f in same if satisfies(f.version, dep.version) and (want is None or f.version == want)]
        if good:
            vendored[dep.name] = good[0]
        elif same:
            wanted = f"Chart.lock's {want}" if want else f"version {dep.version or '*'}"
            missing.append((dep, f"{', '.join(f'{f.path.name} is {f.version}' for f in same)}, not {wanted}"))
        else:
            missing.append((dep, f"not under {c.rel}/charts/"))
    return Plan(vendored, missing)
