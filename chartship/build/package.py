"""Reproducible chart packages, SHA256SUMS and manifest.json.

``helm package`` (3.17 and 4.3 alike) stamps every tar entry with the time of
packaging, so two builds of one commit differ. :func:`repack` rewrites helm's
archive deterministically: entries sorted (Chart.yaml first), mtime = the
chart's last commit time, uid/gid 0, no user/group names, mode 0644 (0755 for
folders), gzip without a file name and with mtime 0.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import tarfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from chartship import config, placeholders
from chartship.config import CONFIG_FILE, Config
from chartship.errors import ChartError, ChartshipError, ConfigError
from chartship.tools import git, helmbatch
from chartship.tools.helm import Helm, HelmError
from chartship.tools.install import sha256_file

SUMS_FILE = "SHA256SUMS"
MANIFEST_FILE = "manifest.json"


def source_epoch(root: Path, paths: Sequence[str], environ: Mapping[str, str] | None = None,
                 work_tree: bool | None = None) -> int:
    """The time stamped into a package: the last commit touching ``paths``, else SOURCE_DATE_EPOCH, else 0.
    ``work_tree``: whether ``root`` is in a git work tree, when the caller already asked git."""
    try:
        inside = git.is_work_tree(root) if work_tree is None else work_tree
        when = git.last_commit_time(root, *paths) if inside else None
    except ChartError:
        when = None
    if when is not None:
        return when
    raw = config.env("SOURCE_DATE_EPOCH", environ).strip()
    return int(raw) if raw.isdigit() else 0


def _order(name: str) -> tuple[int, str]:
    parts = name.split("/")
    return (0 if len(parts) == 2 and parts[1] == "Chart.yaml" else 1, name)


def repack(src: Path, dest: Path, epoch: int) -> None:
    """Rewrite the chart archive ``src`` deterministically into ``dest`` (may be the same path)."""
    try:
        with tarfile.open(src, "r:gz") as tin:
            members = [(m, tin.extractfile(m).read() if m.isfile() else b"") for m in tin.getmembers()  # type: ignore[union-attr]
                       if m.isfile() or m.isdir()]
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ChartError(f"{src.name}: not a readable chart archive ({exc}); rebuild it") from None
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tout:
        for member, data in sorted(members, key=lambda md: _order(md[0].name)):
            info = tarfile.TarInfo(member.name)
            info.mtime = epoch
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if member.isdir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tout.addfile(info)
            else:
                info.mode, info.size = 0o644, len(data)
                tout.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_bytes(packed.getvalue())
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest)


sha256 = sha256_file  # the one file-digest helper (chartship.tools)

BATCH_MIN = 4  # charts per `helm package` process before a build is split over workers


def helm_archives(helm: Helm, charts: Sequence[tuple[str, Path, str]], work: Path, jobs: int) -> dict[str, Path]:
    """helm's (not yet reproducible) archive of each ``(name, chart folder, where)``: one ``helm package C1 C2 ...``
    per worker instead of one process per chart. A batch helm refuses is packaged chart by chart, so the error
    raised is the single-chart one of the first chart (in ``charts`` order) that fails."""
    parts = max(1, min(jobs, len(charts) // BATCH_MIN))
    size = max(1, -(-len(charts) // parts))
    chunks = [list(charts[i:i + size]) for i in range(0, len(charts), size)]

    helper = helmbatch.for_helm(helm)

    def batch(index: int, chunk: list[tuple[str, Path, str]]) -> dict[str, Path | ChartshipError]:
        out = work / f".helm-batch-{index}"
        out.mkdir()
        try:
            if helper is not None:
                return _helper_batch(helper, helm, chunk, out)
            if len(chunk) > 1:
                written = helm.package_batch([d for _n, d, _w in chunk], out)
                return {name: written[d] for name, d, _w in chunk}
        except HelmError:
            for leftover in out.glob("*.tgz"):
                leftover.unlink()
        found: dict[str, Path | ChartshipError] = {}
        for name, d, where in chunk:
            one = out / name
            one.mkdir()
            try:
                found[name] = helm.package(d, one, where).archive
            except ChartshipError as exc:
                found[name] = exc
        return found

    with ThreadPoolExecutor(max_workers=max(1, len(chunks))) as pool:
        results: dict[str, Path | ChartshipError] = {}
        for part in pool.map(batch, range(len(chunks)), chunks):
            results.update(part)
    archives = {}
    for name, _d, _w in charts:
        got = results[name]
        if isinstance(got, ChartshipError):
            raise got
        archives[name] = got
    return archives


def _helper_batch(helper: helmbatch.Helper, helm: Helm, chunk: list[tuple[str, Path, str]], out: Path
                  ) -> dict[str, Path | ChartshipError]:
    """``chunk`` packaged by the batch helper, each chart into a folder of its own; a chart it did not package
    is packaged again by the helm CLI, for helm's own error."""
    dests = {name: out / name for name, _d, _w in chunk}
    for d in dests.values():
        d.mkdir()
    jobs = [helmbatch.Job(name, "package", str(d), dest=str(dests[name])) for name, d, _w in chunk]
    try:
        outputs = helmbatch.run(helper, jobs, helm.env)
    except ChartshipError:
        outputs = {}  # the helm CLI packages them
    found: dict[str, Path | ChartshipError] = {}
    for name, d, where in chunk:
        written = sorted(dests[name].glob("*.tgz"))
        got = outputs.get(name)
        if got is not None and got.ok and len(written) == 1:
            found[name] = written[0]
            continue
        for leftover in written:
            leftover.unlink()
        try:
            found[name] = helm.package(d, dests[name], where).archive
        except ChartshipError as exc:
            found[name] = exc
    return found


def file_name(cfg: Config, chart: str, tag: str, version: str) -> str:
    """The package file name from the (per-chart) package_name template."""
    template = cfg.chart_settings(chart).package_name
    where = f"{CONFIG_FILE}: chartship package_name for {chart}"
    name = placeholders.render(template, {"name": chart, "TAG": tag, "VERSION": version}, where, ConfigError)
    if not _FILE_NAME.match(name) or len(name) > 255:
        raise ConfigError(f"{where}: {template[:80]!r} gives {name[:80]!r}, which is not a plain file name; use letters, "
                          "digits and . _ + - only (at most 255 characters, ending in .tgz)")
    return name


_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]*\.tgz$")


@dataclass(frozen=True)
class Entry:
    file: str
    chart: str
    version: str
    tag: str
    kind: str  # "version" or "latest"
    sha256: str
    path: str


def write_sums(folder: Path, entries: Sequence[Entry], extra: Sequence[tuple[str, str]] = ()) -> None:
    """SHA256SUMS in `sha256sum -c` format (packages and ``extra`` (file, sha256) such as provenance files),
    and manifest.json, for ``entries`` in ``folder``."""
    rows = sorted([(e.file, e.sha256) for e in entries] + list(extra))
    lines = "".join(f"{digest}  {file}\n" for file, digest in rows)
    (folder / SUMS_FILE).write_text(lines, encoding="utf-8")
    manifest = {"packages": [asdict(e) for e in entries]}
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def swap_folder(staging: Path, dest: Path) -> None:
    """Replace ``dest`` with the finished ``staging`` folder in (nearly) one step."""
    old = dest.with_name(f".{dest.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if dest.exists():
        os.replace(dest, old)
    try:
        os.replace(staging, dest)
    except OSError:
        if old.exists():
            os.replace(old, dest)
        raise
    if old.exists():
        shutil.rmtree(old)
