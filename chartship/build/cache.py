"""Skip a build whose inputs did not change: dist/.charts-inputs.json records a digest of every
input (chart files, patches, commit times, version, tags, package names, config, helm version).
Re-running `helm.deploy` for an unchanged, already-published version then costs only lookups."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chartship import __version__, config
from chartship.build import package, workspace
from chartship.charts import chart as chartmod
from chartship.config import PATCHES_DIR, Config
from chartship.errors import ChartError
from chartship.tools import git

INPUTS_FILE = ".charts-inputs.json"  # beside dist/charts, tied to its manifest.json
CONFIG_FILES = ("invoke.yaml", ".yamllint", ".yamllint.yaml", ".yamllint.yml")


def _files(folder: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        found += [Path(dirpath) / f for f in sorted(filenames)]
    return found


def _digest(path: Path) -> bytes:
    """A regular file's content digest; a link by its target, anything else by its type: never read through a
    link or from a device or FIFO (the content policy refuses those when the workspace is copied)."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        return b"link:" + os.readlink(path).encode()
    if not stat.S_ISREG(mode):
        return f"special:{stat.S_IFMT(mode)}".encode()
    return hashlib.sha256(path.read_bytes()).digest()


def epochs(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str],
           environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Each needed chart's package time stamp, computed once per build: :func:`package.source_epoch` of every
    chart (its last commit, else SOURCE_DATE_EPOCH, else 0) from one git query for all of them."""
    groups = {c.name: [c.rel, f"{PATCHES_DIR}/{c.name}"] for c in workspace.closure(all_charts, names)}
    try:
        times = git.last_commit_times(cfg.root, groups) if git.is_work_tree(cfg.root) else {}
    except ChartError:
        times = {}
    raw = config.env("SOURCE_DATE_EPOCH", environ).strip()
    default = int(raw) if raw.isdigit() else 0
    return {name: default if (when := times.get(name)) is None else when for name in groups}


def _binary_identity(path: Path) -> list[object] | None:
    """A compiled program's path, inode, size and times (a replaced binary gets a new ctime); None for a
    script, whose ``helm version`` is that of whatever it runs."""
    try:
        with path.open("rb") as f:
            magic = f.read(4)
        st = path.stat()
    except OSError:
        return None
    if magic not in (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"MZ\x90\x00") or not stat.S_ISREG(st.st_mode):
        return None
    return [str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


_LEARNT: dict[str, Any] = {}  # the helm binary and version this run's key used, for record() to keep


def helm_version(cfg: Config) -> str:
    """This run's helm version for the key, without starting helm when the same binary reported it to the
    build recorded in dist/ (a re-run with nothing to build or push then runs no helm at all)."""
    from chartship.tools.helm import find_path

    if "helm" not in cfg.__dict__:  # not located yet this run
        path, _source = find_path(cfg.root)
        identity = None if path is None else _binary_identity(path)
        try:
            recorded = json.loads((cfg.dist_dir.parent / INPUTS_FILE).read_text(encoding="utf-8")).get("helm")
        except (OSError, ValueError, AttributeError):
            recorded = None
        if identity is not None and isinstance(recorded, dict) and recorded.get("binary") == identity \
                and isinstance(recorded.get("version"), str):
            _LEARNT.update(recorded)
            return str(recorded["version"])
    version = cfg.helm.version
    identity = _binary_identity(cfg.helm.path)
    _LEARNT.clear()
    if identity is not None:
        _LEARNT.update(binary=identity, version=version)
    return version


def inputs_key(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], settings: Mapping[str, Any],
               times: Mapping[str, int]) -> str:
    """A digest of everything that decides what helm.build writes for ``names``."""
    h = hashlib.sha256()
    meta = {"chartship": __version__, "helm": helm_version(cfg), "names": sorted(names), **settings}
    h.update(json.dumps(meta, sort_keys=True).encode())
    for name in CONFIG_FILES:
        path = cfg.root / name
        if path.is_file():
            h.update(name.encode() + b"\0" + path.read_bytes())
    for c in workspace.closure(all_charts, names):
        sources = [c.path, cfg.root / PATCHES_DIR / c.name]
        for source in sources:
            for path in _files(source) if source.is_dir() else []:
                h.update(path.relative_to(cfg.root).as_posix().encode() + b"\0")
                h.update(_digest(path))
        h.update(f"{c.name}:{times[c.name]}".encode())
    return h.hexdigest()


def reusable(dest: Path, key: str, need_lint: bool) -> list[package.Entry] | None:
    """The entries of a previous build with the same inputs, when every package is still intact."""
    try:
        recorded = json.loads((dest.parent / INPUTS_FILE).read_text(encoding="utf-8"))
        raw = (dest / package.MANIFEST_FILE).read_bytes()
        manifest = json.loads(raw)
    except (OSError, ValueError):
        return None
    if recorded.get("key") != key or (need_lint and not recorded.get("linted")):
        return None
    if recorded.get("manifest") != hashlib.sha256(raw).hexdigest():
        return None
    entries = [package.Entry(**e) for e in manifest.get("packages", [])]
    for e in entries:
        path = dest / e.file
        if not path.is_file() or package.sha256(path) != e.sha256:
            return None
    return entries


def forget(dest: Path) -> None:
    """Drop the record before dist/charts is replaced (a crash in between then means a rebuild)."""
    (dest.parent / INPUTS_FILE).unlink(missing_ok=True)


def record(dest: Path, key: str, linted: bool) -> None:
    manifest = hashlib.sha256((dest / package.MANIFEST_FILE).read_bytes()).hexdigest()
    helm = {"helm": dict(_LEARNT)} if _LEARNT else {}
    (dest.parent / INPUTS_FILE).write_text(json.dumps({"key": key, "linted": linted, "manifest": manifest, **helm}) + "\n",
                                           encoding="utf-8")
