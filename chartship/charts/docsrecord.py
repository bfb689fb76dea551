"""The record of READMEs found current: lets the ``chart-docs`` hook pass a chart without rendering it.

``invoke helm.docs`` and a full check of the hook write, for every chart whose README they found (or
made) current, a digest of everything that decides the README's text and of the README's own bytes:
the chart folder's top-level files (Chart.yaml, values.yaml, the values files, values.schema.json,
README.md, ...) and the names of its folders, whether ``templates/tests`` is a folder, and any values
file of an environment kept in a sub-folder. One *key* covers what is outside the chart: invoke.yaml's
bytes, the ``CHARTSHIP_*`` variables (and the AWS region) that settings read, chartship's version and
a stamp (path, size, mtime) of every module of the package, so a change of the docs code drops the
record. The chart list (``charts.dir``/``charts.only``) is recorded too: an added or removed chart
sends every file to the full check.

The record lives in the git folder (``.git/chartship/docs-record.json``), never in the repository's
content. Hashing needs no YAML parser and no rendering. Whatever is missing, unreadable, corrupt or
different means "not proven": the caller runs the full render-and-compare for those charts, never a
pass. Secrets are not hashed (variables whose name says password, passphrase, token, secret or username).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import chartship

if TYPE_CHECKING:
    from chartship.config import Config

FORMAT = 1
RECORD = "docs-record.json"
CONFIG_FILE = "invoke.yaml"  # chartship.config.CONFIG_FILE (tests/test_docs_record.py keeps them equal)
TESTS_DIR = "templates/tests"
README = "README.md"
_SECRET_WORDS = ("PASSWORD", "PASSPHRASE", "TOKEN", "SECRET", "USERNAME")
_PLAIN_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")
_PACKAGE = Path(chartship.__file__).parent


def record_path(root: Path) -> Path | None:
    """Where the record of ``root`` lives: inside its git folder (a worktree's own); None outside git."""
    dot = root / ".git"
    try:
        if dot.is_dir():
            return dot / "chartship" / RECORD
        if dot.is_file():
            line = dot.read_text(encoding="utf-8").strip()
            if line.startswith("gitdir:"):
                gitdir = Path(line[len("gitdir:"):].strip())
                gitdir = gitdir if gitdir.is_absolute() else root / gitdir
                return gitdir / "chartship" / RECORD if gitdir.is_dir() else None
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _code_stamp() -> list[list[object]]:
    out: list[list[object]] = []
    for folder, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "data"))
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                out.append([os.path.relpath(os.path.join(folder, name), _PACKAGE), st.st_size, st.st_mtime_ns])
    return out


def _settings_env(environ: Mapping[str, str]) -> list[list[str]]:
    return sorted([k, v] for k, v in environ.items()
                  if (k.startswith("CHARTSHIP_") and not any(w in k for w in _SECRET_WORDS)) or k in _PLAIN_VARS)


def key(root: Path, environ: Mapping[str, str] | None = None) -> str:
    """The digest of every input outside the charts that the READMEs depend on (see the module doc);
    '' when one cannot be read (no record matches it, none is written under it)."""
    h = hashlib.sha256()
    try:
        try:
            config = (root / CONFIG_FILE).read_bytes()
        except FileNotFoundError:
            config = b"\0missing"
        facts = {"format": FORMAT, "version": chartship.__version__, "code": _code_stamp(),
                 "env": _settings_env(os.environ if environ is None else environ)}
    except OSError:
        return ""
    h.update(json.dumps(facts, sort_keys=True).encode())
    h.update(b"\0invoke.yaml\0")
    h.update(config)
    return h.hexdigest()


def _add_file(h: hashlib._Hash, path: str, label: str) -> None:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        h.update(f"\0missing {label}\0".encode())
        return
    except IsADirectoryError:
        h.update(f"\0dir {label}\0".encode())
        return
    h.update(f"\0file {label} {len(data)}\0".encode())
    h.update(data)


def inputs_digest(chart_dir: Path, extra: Sequence[str] = ()) -> str:
    """The digest of what decides a chart's README text (everything of :func:`chart_digest` but the README).
    An unreadable file raises OSError (the caller treats the chart as not proven)."""
    h = hashlib.sha256()
    with os.scandir(chart_dir) as it:
        entries = sorted((e for e in it if e.name != README), key=lambda e: e.name)
    for e in entries:
        if e.is_dir():
            h.update(f"\0dir {e.name}\0".encode())
        elif e.is_file():
            _add_file(h, e.path, e.name)
        else:
            h.update(f"\0other {e.name}\0".encode())
    h.update(f"\0tests {os.path.isdir(os.path.join(chart_dir, TESTS_DIR))}\0".encode())
    for rel in extra:
        _add_file(h, os.path.join(chart_dir, rel), rel)
    return h.hexdigest()


def combine(inputs: str, readme: bytes | None) -> str:
    """The chart digest from its inputs' digest and the README's bytes (None: there is no README)."""
    h = hashlib.sha256(inputs.encode())
    h.update(b"\0no readme" if readme is None else b"\0readme\0" + readme)
    return h.hexdigest()


def chart_digest(chart_dir: Path, extra: Sequence[str] = ()) -> str:
    """The digest of a chart's README inputs and of the README on disk."""
    inputs = inputs_digest(chart_dir, extra)
    try:
        readme: bytes | None = (chart_dir / README).read_bytes()
    except FileNotFoundError:
        readme = None
    return combine(inputs, readme)


def digests(chart_dirs: Iterable[Path], environments: Mapping[str, Iterable[str]]) -> dict[Path, str]:
    """Chart folder -> :func:`chart_digest` now (charts with an unreadable file are left out)."""
    extra = extra_files(environments)
    out: dict[Path, str] = {}
    for d in chart_dirs:
        try:
            out[d] = chart_digest(d, extra)
        except OSError:
            continue
    return out


def discover(root: Path, charts_dir: str, only: Sequence[str] | None) -> list[str]:
    """The chart folders (relative to ``root``) the way chartship.charts.chart.chart_dirs finds them."""
    base = os.path.join(root, charts_dir)
    if only is not None:
        return [os.path.normpath(os.path.join(charts_dir, n)) for n in only
                if os.path.isfile(os.path.join(base, n, "Chart.yaml"))]
    if not os.path.isdir(base):
        return []
    return sorted(os.path.normpath(os.path.join(charts_dir, e.name)) for e in os.scandir(base)
                  if e.is_dir() and os.path.isfile(os.path.join(e.path, "Chart.yaml")))


def load(root: Path, expected_key: str) -> dict[str, object] | None:
    """The record when it exists, parses, has this format and was written under ``expected_key``."""
    path = record_path(root)
    if path is None or not expected_key:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if (not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != expected_key
            or not isinstance(data.get("charts"), dict) or not isinstance(data.get("dirs"), list)
            or not isinstance(data.get("extra"), list) or not isinstance(data.get("charts_dir"), str)
            or not (data.get("only") is None or isinstance(data.get("only"), list))):
        return None
    return data


def unproven(root: Path, files: Sequence[str], environ: Mapping[str, str] | None = None,
             record_key: str | None = None) -> list[str] | None:
    """The passed files whose chart the record does not prove current (``[]``: every chart is);
    None when there is no usable record (the caller checks everything)."""
    data = load(root, key(root, environ) if record_key is None else record_key)
    if data is None:
        return None
    only = data["only"]
    try:
        dirs = discover(root, str(data["charts_dir"]), only if isinstance(only, list) else None)
        if dirs != data["dirs"]:
            return None  # a chart was added or removed
        extra = [str(x) for x in data["extra"]]  # type: ignore[attr-defined]
        charts = data["charts"]
        assert isinstance(charts, dict)
        verdict: dict[str, bool] = {}
        rest: list[str] = []
        for name in files:
            path = os.path.normpath(os.path.join(root, name))
            d = next((d for d in dirs if _inside(path, os.path.join(root, d))), None)
            if d is None:
                continue  # in no chart: the full check ignores it too
            if d not in verdict:
                verdict[d] = charts.get(d) == chart_digest(root / d, extra)
            if not verdict[d]:
                rest.append(name)
        return rest
    except OSError:
        return None


def _inside(path: str, folder: str) -> bool:
    folder = os.path.normpath(folder)
    return path != folder and path.startswith(folder + os.sep)


def remember(cfg: Config, record_key: str, current: Mapping[Path, str]) -> None:
    """Add ``current`` (chart folder -> its digest taken before its README was checked, or the digest it has
    once its written README is in place) to the record of ``cfg.root`` under ``record_key`` (taken before
    the configuration was read), for the charts whose digest on disk is that now. Best effort: a record
    that cannot be written only means that the next hook run renders."""
    root, charts_dir, only, extra = cfg.root, cfg.charts_dir, cfg.chart_names, extra_files(cfg.environments)
    path = record_path(root)
    if path is None or not current or not record_key:
        return
    try:
        dirs = discover(root, charts_dir, only)
        old = load(root, record_key)
        charts: dict[str, object] = dict(old["charts"]) if old is not None and old["dirs"] == dirs else {}  # type: ignore[call-overload]
        for d, before in current.items():
            rel = d.relative_to(root).as_posix() if d.is_relative_to(root) else ""
            if rel in dirs:
                if chart_digest(d, extra) == before:
                    charts[rel] = before
                else:
                    charts.pop(rel, None)
        data = {"format": FORMAT, "key": record_key, "charts_dir": charts_dir, "only": list(only) if only is not None else None,
                "extra": list(extra), "dirs": dirs, "charts": charts}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".docs-record.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def extra_files(environments: Mapping[str, Iterable[str]]) -> list[str]:
    """The environment values files in sub-folders of a chart (top-level files are hashed anyway)."""
    return sorted({f for files in environments.values() for f in files if "/" in f or os.sep in f})
