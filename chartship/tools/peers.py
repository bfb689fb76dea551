"""Peer tools (helm-unittest; chart-testing, helm-docs, kubeconform for the bench) built from their Go
modules at the exact version of ``chartship/data/peers.lock.toml``.

``go mod download -json MODULE@VERSION`` fetches the module (its ``Sum`` must equal the lock's
``sum``), the source is copied out of the read-only module cache, its go.sum is checked
against ``go_sum_sha256`` and ``go build`` runs with ``-mod=readonly`` (``mod = "mod"`` only
with a ``mod_reason``). Builds are cached in ``<cache>/peers/<key>/`` through
:func:`chartship.tools.gobuild.cached`; helm plugins are then linked into chartship's private
``HELM_PLUGINS`` folder (:mod:`chartship.tools.plugins`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from chartship import data
from chartship.errors import ToolError
from chartship.tools import gobuild, plugins
from chartship.tools import install as installmod
from chartship.tools.gobuild import GoEnv
from chartship.tools.install import sha256_file

LOCK_PATH = data.path("peers.lock.toml")
LOCK_FILE = data.label(LOCK_PATH)
INSTALL_HINT = "run `invoke tools.install --peers`"
RECIPE = "1"  # bump when the build recipe changes, so cached builds are not reused
MOD_MODES = ("readonly", "mod")
USED_BY = ("", "bench")
_VERSION = re.compile(r"v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")


@dataclass(frozen=True)
class Peer:
    name: str
    module: str
    version: str  # "v1.1.2"
    sum: str
    go_sum_sha256: str
    package: str
    binary: str
    ldflags: str = ""
    mod: str = "readonly"
    mod_reason: str = ""
    plugin: str = ""
    used_by: str = ""  # "bench": built only by `nox -s bench`, never by tools.install --peers


@dataclass(frozen=True)
class Built:
    peer: Peer
    directory: Path
    how: str


def read_lock(lock: Path = LOCK_PATH) -> dict[str, Peer]:
    table = installmod.read_toml(lock)
    peers: dict[str, Peer] = {}
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise ToolError(f"{LOCK_FILE}: {name} must be a table [{name}]")
        where = f"{LOCK_FILE}: [{name}]"
        unknown = set(entry) - set(Peer.__dataclass_fields__) - {"name"}
        if unknown:
            raise ToolError(f"{where}: unknown key {sorted(unknown)[0]!r}; known: "
                            f"{', '.join(k for k in Peer.__dataclass_fields__ if k != 'name')}")
        values = {k: entry.get(k) for k in Peer.__dataclass_fields__ if k != "name" and k in entry}
        for key in ("module", "version", "sum", "go_sum_sha256", "package", "binary"):
            if not isinstance(values.get(key), str) or not values[key]:
                raise ToolError(f"{where}: {key} is missing or empty; restore it from git")
        if not all(isinstance(v, str) for v in values.values()):
            raise ToolError(f"{where}: every value must be a string")
        peer = Peer(name=name, **values)  # type: ignore[arg-type]
        if not _VERSION.fullmatch(peer.version):
            raise ToolError(f"{where}: version must be an exact module version such as v1.2.3, got {peer.version!r}")
        if not peer.sum.startswith("h1:"):
            raise ToolError(f"{where}: sum must be the module's h1: checksum from `go mod download -json`")
        if peer.mod not in MOD_MODES:
            raise ToolError(f"{where}: mod must be one of {', '.join(MOD_MODES)}, got {peer.mod!r}")
        if peer.mod == "mod" and not peer.mod_reason:
            raise ToolError(f"{where}: mod = \"mod\" needs a mod_reason saying why the module's go.sum is not enough")
        if peer.used_by not in USED_BY:
            raise ToolError(f"{where}: used_by must be one of {', '.join(map(repr, USED_BY))}, got {peer.used_by!r}")
        if "/" in peer.binary or peer.binary.startswith("."):
            raise ToolError(f"{where}: binary must be a plain file name, got {peer.binary!r}")
        peers[name] = peer
    return peers


def cache_key(peer: Peer, go: GoEnv) -> str:
    h = hashlib.sha256()
    for part in (RECIPE, peer.module, peer.version, peer.sum, peer.go_sum_sha256, peer.package, peer.binary,
                 peer.ldflags, peer.mod, peer.plugin, go.version, go.goos, go.goarch):
        h.update(part.encode() + b"\0")
    return f"{peer.name}-{peer.version}-go{go.version}-{h.hexdigest()[:12]}"


def _outputs(peer: Peer) -> tuple[str, ...]:
    return (peer.binary, plugins.PLUGIN_FILE) if peer.plugin else (peer.binary,)


def _build(peer: Peer, go: GoEnv, dest: Path, jobs: int, log: Callable[[str], None]) -> float:
    log(f"building {peer.name} {peer.version} from {peer.module} with go{go.version}")
    work = dest / ".work"
    try:
        got = gobuild.mod_download(go, peer.module, peer.version, work)
        if got.sum != peer.sum:
            raise ToolError(f"{peer.module}@{peer.version}: the module's checksum is {got.sum}, {LOCK_FILE} pins "
                            f"{peer.sum}; refusing to build (fix the lock only if the new version is intended)")
        src = work / "src"
        gobuild.copy_source(got.directory, src)
        go_sum = src / "go.sum"
        if not go_sum.is_file() or sha256_file(go_sum) != peer.go_sum_sha256:
            raise ToolError(f"{peer.module}@{peer.version}: go.sum does not match go_sum_sha256 in {LOCK_FILE}; "
                            "refusing to build")
        gobuild.require_go(go, (src / "go.mod").read_text(encoding="utf-8"), f"{peer.module}@{peer.version} go.mod")
        flags = " ".join(f for f in ("-s -w", peer.ldflags) if f)
        seconds = gobuild.go_build(go, src, str(dest / peer.binary), [peer.package], flags, jobs,
                                   f"{peer.name} {peer.version}", dest.parent, mod_mode=peer.mod)
        if peer.plugin:
            shutil.copy2(src / plugins.PLUGIN_FILE, dest / plugins.PLUGIN_FILE)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return seconds


def ensure(peer: Peer, go: GoEnv, cache: Path, jobs: int, log: Callable[[str], None]) -> Built:
    """The cached build of ``peer``, built first when it is not cached."""
    manifest = {"peer": peer.name, "module": peer.module, "version": peer.version, "go": go.version,
                "mod": peer.mod, "mod_reason": peer.mod_reason}
    final, how = gobuild.cached(cache, cache_key(peer, go), _outputs(peer),
                                lambda tmp: _build(peer, go, tmp, jobs, log), manifest)
    return Built(peer, final, how)


def install(root: Path, names: list[str] | None = None, environ: Mapping[str, str] | None = None, jobs: int | None = None,
            log: Callable[[str], None] = lambda _msg: None) -> list[Built]:
    """Build (or take from the cache) the peers (default: all but the bench's) and link helm plugins into
    ``.tools/helm-plugins``."""
    pins = read_lock()
    wanted = names or [n for n, p in pins.items() if p.used_by != "bench"]
    unknown = [n for n in wanted if n not in pins]
    if unknown:
        raise ToolError(f"peer {unknown[0]!r} is not in {LOCK_FILE} (known: {', '.join(pins)})")
    go = gobuild.go_env(environ)
    cache = installmod.cache_dir(environ) / "peers"
    done = []
    for name in wanted:
        built = ensure(pins[name], go, cache, jobs or os.cpu_count() or 1, log)
        if built.peer.plugin:
            plugins.link(root, built.peer.plugin, built.directory, built.peer.binary, go.goos, go.goarch)
        done.append(built)
    return done


def plugin_env(root: Path, name: str) -> dict[str, str]:
    """The environment that makes helm see the pinned plugin of peer ``name`` (and no user plugin)."""
    peer = read_lock()[name]
    plugins.check(root, peer.plugin, peer.version.removeprefix("v"), INSTALL_HINT)
    return plugins.env(root)
