"""The ``index.yaml`` of a classic (HTTP) chart repository: read one, merge new packages into it with
``helm repo index --merge``, and never change what a published version points at.

An entry that is already in the index keeps everything it had (its ``created`` time included): only
packages whose chart and version are new are given to helm, which adds them and keeps the rest of
the old index as it was. A package whose chart and version are in the index with another digest is
refused; the index is then not written. Apart from helm's ``generated`` time and the new entries'
``created`` times the output depends only on the packages and the old index.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chartship import yamllimits
from chartship.errors import ChartError, PublishRefused

if TYPE_CHECKING:
    from chartship.publish.push import Package
    from chartship.tools.helm import Helm

INDEX = "index.yaml"
PROV = ".prov"
FETCH_TIMEOUT = 60.0


def prov_of(package: Path) -> Path | None:
    """The provenance file beside ``package`` (``helm.build --sign``), or None."""
    prov = package.with_name(package.name + PROV)
    return prov if prov.is_file() else None


def parse(text: str, where: str) -> dict[tuple[str, str], str]:
    """(chart, version) -> digest (sha256 hex) of every entry of an index.yaml, read with chartship's
    bounded YAML loader; a file that is not a chart repository index is a ChartError naming ``where``."""
    from chartship import yamlio

    data = yamlio.loads(text, where, ChartError)
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("apiVersion") != "v1" or not isinstance(entries, dict | type(None)):
        raise ChartError(f"{where}: not a chart repository index (expected apiVersion: v1 and an entries mapping)")
    found: dict[tuple[str, str], str] = {}
    for chart, versions in (entries or {}).items():
        if not isinstance(versions, list):
            raise ChartError(f"{where}: entries.{chart}: expected a list of chart versions")
        for item in versions:
            if not isinstance(item, dict) or not isinstance(item.get("version"), str):
                raise ChartError(f"{where}: entries.{chart}: an entry without a version")
            found[(str(chart), item["version"])] = str(item.get("digest") or "")
    return found


@dataclass(frozen=True)
class Changed:
    """A package whose chart and version the index already holds with another digest."""

    package: Package
    indexed: str

    @property
    def message(self) -> str:
        p = self.package
        return (f"{p.chart} {p.version} is already in the index with digest sha256:{self.indexed}; the new package "
                f"has sha256:{p.sha256}: a published version never changes, so bump the chart version")


@dataclass
class Plan:
    """The packages split by what the index holds: new ones, the same bytes again, other bytes."""

    added: list[Package] = field(default_factory=list)
    same: list[Package] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)


def plan(old: Mapping[tuple[str, str], str], packages: Sequence[Package]) -> Plan:
    result = Plan()
    for pkg in packages:
        indexed = old.get((pkg.chart, pkg.version))
        if indexed is None:
            result.added.append(pkg)
        elif indexed == pkg.sha256:
            result.same.append(pkg)
        else:
            result.changed.append(Changed(pkg, indexed))
    return result


def merged(helm: Helm, added: Sequence[Package], url: str | None, old_text: str | None) -> str:
    """The new index.yaml text: ``old_text`` with ``added`` merged in (unchanged when nothing is added)."""
    if not added and old_text is not None:
        return old_text
    with tempfile.TemporaryDirectory(prefix="chartship-index-") as tmp:
        folder = Path(tmp) / "packages"
        folder.mkdir()
        for pkg in added:
            shutil.copyfile(pkg.path, folder / pkg.path.name)
        old = None
        if old_text is not None:
            old = Path(tmp) / "old-index.yaml"
            old.write_text(old_text, encoding="utf-8")
        helm.repo_index(folder, url, old)
        text = (folder / INDEX).read_text(encoding="utf-8")
    written = parse(text, "helm repo index")
    for pkg in added:
        if written.get((pkg.chart, pkg.version)) != pkg.sha256:
            raise ChartError(f"helm repo index: {pkg.chart} {pkg.version} is missing or has another digest in the "
                             "index helm wrote; is HELM_BIN a real helm?")
    return text


def read_old(source: str, root: Path) -> tuple[str, str]:
    """(text, where) of the index to merge into: a file, or an http(s) URL (fetched, size-limited)."""
    if source.startswith(("http://", "https://")):
        return fetch(source), source
    path = Path(source).expanduser()
    path = path if path.is_absolute() else root / path
    if path.is_dir():
        path = path / INDEX
    try:
        yamllimits.check_bytes(path.stat().st_size, source, ChartError)
        return path.read_text(encoding="utf-8"), source
    except FileNotFoundError:
        raise ChartError(f"--merge {source}: no such file; give the current index.yaml of the repository") from None
    except UnicodeDecodeError:
        raise ChartError(f"--merge {source}: not UTF-8 text; is it an index.yaml?") from None


def fetch(url: str) -> str:
    """GET ``url`` (an index.yaml), at most :data:`yamllimits.MAX_BYTES`; any failure is one ChartError line."""
    import urllib.error
    import urllib.request

    from chartship import secrets

    secrets.refuse_userinfo(url, f"--merge {url}", ChartError)
    if not url.endswith(INDEX):
        url = url.rstrip("/") + "/" + INDEX
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer:  # noqa: S310 (http(s) only, checked above)
            raw: bytes = answer.read(yamllimits.MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ChartError(f"--merge {url}: the server answered {exc.code} {exc.reason}; give the URL of the "
                         "repository's index.yaml") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ChartError(f"--merge {url}: cannot fetch the index ({reason}); check the URL") from None
    yamllimits.check_bytes(len(raw), url, ChartError)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ChartError(f"--merge {url}: not UTF-8 text; is it an index.yaml?") from None


@dataclass
class Written:
    """What :func:`write_repo` did."""

    out: Path
    added: list[Package]
    same: list[Package]
    files: list[str]  # written into ``out``
    index_changed: bool

    def as_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "index_changed": self.index_changed, "files": self.files,
                "added": [{"chart": p.chart, "version": p.version, "digest": f"sha256:{p.sha256}"} for p in self.added],
                "unchanged": [{"chart": p.chart, "version": p.version} for p in self.same]}


def build(helm: Helm, packages: Sequence[Package], out: Path, url: str | None, old: tuple[str, str] | None) -> Written:
    """Write ``out``/index.yaml (``old`` merged in, or ``out``/index.yaml itself when it exists) and copy the
    new packages (and their .prov) beside it. A changed digest is refused before anything is written."""
    from chartship.version.versionfile import write_atomic

    target = out / INDEX
    if old is None and target.is_file():
        old = (target.read_text(encoding="utf-8"), str(target))
    entries = parse(*old) if old is not None else {}
    split = plan(entries, packages)
    if split.changed:
        where = old[1] if old is not None else INDEX
        raise PublishRefused(f"{where}: {split.changed[0].message}; {INDEX} was not changed")
    text = merged(helm, split.added, url, old[0] if old is not None else None)
    out.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    for pkg in split.added:  # the packages first: a served index never names a file that is not there yet
        for src in (pkg.path, prov_of(pkg.path)):
            if src is not None:
                shutil.copyfile(src, out / src.name)
                files.append(src.name)
    changed = not target.is_file() or target.read_text(encoding="utf-8") != text
    if changed:
        write_atomic(target, text)
        files.append(INDEX)
    return Written(out, split.added, split.same, files, changed)
