"""Build the kwok cluster's binaries from Go modules with the machine's Go.

``chartship/data/cluster.lock.toml`` (package data) pins kubernetes (kube-apiserver,
kube-controller-manager, kube-scheduler), etcd and kwok (kwok, kwokctl); each is a wrapper
module under ``chartship/data/cluster/`` whose go.mod requires the upstream module at that version and whose
go.sum pins every dependency. ``go`` runs only from here.

Built binaries are cached per component in ``<cache>/cluster/<key>/`` (the cache of
:func:`chartship.tools.cache_dir`, so a fresh clone on the same machine rebuilds
nothing); the key holds the version, the Go version and a hash of the lock entry,
the wrapper module's files and the build recipe. ``.tools/cluster/`` then holds a
symlink per binary and ``versions.json``; :func:`locate` reads them.

``CHARTSHIP_CLUSTER_BINARIES=download`` (or ``--binaries download``) builds only
kwok/kwokctl and lets kwokctl download the official Kubernetes and etcd releases.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from chartship import config, data
from chartship.errors import ToolError
from chartship.tools import gobuild
from chartship.tools import install as installmod
from chartship.tools.gobuild import GoEnv

LOCK_FILE = data.path("cluster.lock.toml")
# The cache key names a module by the folder this checkout kept it in before the modules became
# package data (ci/cluster/<name>): builds cached then (~17 min cold) keep hitting.
KEY_MODULE_PREFIX = Path("ci")
TOOLS_DIR = Path(".tools") / "cluster"
VERSIONS_FILE = "versions.json"
MODES = ("build", "download")
MODE_ENV = "CHARTSHIP_CLUSTER_BINARIES"
INSTALL_HINT = "run `chartship tools.install --cluster`"
# Bump when the way binaries are built changes, so cached builds are not reused.
RECIPE = "1"


@dataclass(frozen=True)
class Component:
    name: str  # table in the lock
    upstream: str  # Go module the wrapper requires at "v" + version
    packages: tuple[str, ...]
    binaries: tuple[str, ...]
    version_ldflags: bool = False  # stamp k8s.io/component-base and client-go versions


COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        Component(
            "kubernetes",
            "k8s.io/kubernetes",
            tuple(f"k8s.io/kubernetes/cmd/{b}" for b in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")),
            ("kube-apiserver", "kube-controller-manager", "kube-scheduler"),
            version_ldflags=True,
        ),
        Component("etcd", "go.etcd.io/etcd/server/v3", (".",), ("etcd",)),
        Component("kwok", "sigs.k8s.io/kwok", ("sigs.k8s.io/kwok/cmd/kwok", "sigs.k8s.io/kwok/cmd/kwokctl"), ("kwok", "kwokctl")),
    )
}
FOR_MODE = {"build": tuple(COMPONENTS), "download": ("kwok",)}


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    rel: str  # the lock's ``module``: a folder relative to the lock file
    module: Path  # that folder
    lock: Path

    @property
    def where(self) -> str:
        return data.label(self.module)


@dataclass(frozen=True)
class Built:
    component: str
    version: str
    directory: Path
    how: str  # "cache" or "built in 123 s"


# ----------------------------------------------------------------------------- lock


def read_lock(lock: Path = LOCK_FILE) -> dict[str, Pin]:
    table = installmod.read_toml(lock)
    where = data.label(lock)
    pins = {}
    for name in COMPONENTS:
        entry = table.get(name)
        if not isinstance(entry, dict):
            raise ToolError(f"{where}: missing table [{name}]; {installmod.BROKEN_DATA_HINT}")
        version, module = entry.get("version"), entry.get("module")
        if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise ToolError(f"{where}: [{name}] version must be X.Y.Z, got {version!r}")
        if not isinstance(module, str) or not module or Path(module).is_absolute() or ".." in Path(module).parts:
            raise ToolError(f"{where}: [{name}] module must be a folder beside the lock file, got {module!r}")
        pins[name] = Pin(name, version, module, lock.parent / module, lock)
    return pins


def check_module(pin: Pin) -> str:
    """Verify the wrapper module agrees with the lock; return its go.mod text."""
    comp = COMPONENTS[pin.name]
    mod_file = f"{pin.where}/go.mod"
    lock = data.label(pin.lock)
    try:
        text = (pin.module / "go.mod").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ToolError(f"{mod_file}: not found; {installmod.BROKEN_DATA_HINT}") from None
    if not (pin.module / "go.sum").is_file():
        raise ToolError(f"{pin.where}/go.sum: not found; run `go mod tidy` in {pin.where}")
    lines = gobuild.go_mod_lines(text)
    wanted = f"v{pin.version}"
    required = [ln.split() for ln in lines if "=>" not in ln]
    found = [parts[-1] for parts in required if len(parts) >= 2 and parts[-2] == comp.upstream]
    if found != [wanted]:
        got = found[0] if found else "nothing"
        raise ToolError(f"{mod_file}: requires {comp.upstream} {got}, {lock} pins {wanted}; make them agree")
    if comp.version_ldflags:
        _major, minor, patch = pin.version.split(".")
        staging = f"v0.{minor}.{patch}"
        for ln in lines:
            m = re.fullmatch(r"(?:replace\s+)?(k8s\.io/\S+)\s+=>\s+(\S+)(?:\s+(\S+))?", ln)
            if m and (m.group(2) != m.group(1) or m.group(3) != staging):
                raise ToolError(f"{mod_file}: replace {m.group(1)} => {m.group(2)} {m.group(3) or ''} should be "
                                f"{m.group(1)} {staging} for kubernetes {pin.version}; fix the replace block")
    return text


# ------------------------------------------------------------------------------ go

GO_HINT = "or set CHARTSHIP_CLUSTER_BINARIES=download with kwokctl on PATH"


def go_env(environ: Mapping[str, str] | None = None) -> GoEnv:
    return gobuild.go_env(environ, GO_HINT)


def ldflags(comp: Component, version: str) -> str:
    flags = ["-s", "-w"]
    if comp.version_ldflags:
        major, minor, _ = version.split(".")
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
            flags += [f"-X {pkg}.gitVersion=v{version}", f"-X {pkg}.gitMajor={major}",
                      f"-X {pkg}.gitMinor={minor}", f"-X {pkg}.gitTreeState=clean"]
    return " ".join(flags)


def cache_key(pin: Pin, go: GoEnv) -> str:
    """``<component>-<version>-go<go version>-<hash>``: the hash covers everything the build reads
    (not where the module lies: a checkout, a wheel or a copy key alike)."""
    h = hashlib.sha256()
    comp = COMPONENTS[pin.name]
    for part in (RECIPE, pin.name, pin.version, str(KEY_MODULE_PREFIX / pin.rel), go.version, go.goos, go.goarch,
                 ldflags(comp, pin.version), *comp.packages, *comp.binaries):
        h.update(part.encode() + b"\0")
    for path in sorted(p for p in pin.module.iterdir() if p.is_file()):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{pin.name}-{pin.version}-go{go.version}-{h.hexdigest()[:12]}"


# --------------------------------------------------------------------------- modes


def binaries_mode(flag: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``build`` or ``download``: the flag, else CHARTSHIP_CLUSTER_BINARIES, else build."""
    value, where = (flag, "--binaries") if flag else (config.env(MODE_ENV, environ), MODE_ENV)
    if value not in MODES:
        raise ToolError(f"{where}={value!r}: expected one of {', '.join(MODES)}")
    return value


# --------------------------------------------------------------------------- build


def _build(pin: Pin, go: GoEnv, dest: Path, jobs: int, log: Callable[[str], None]) -> float:
    comp = COMPONENTS[pin.name]
    out = f"{dest}/{comp.binaries[0]}" if len(comp.packages) == 1 else f"{dest}/"
    log(f"building {pin.name} {pin.version} with go{go.version} (cold: minutes; see README)")
    return gobuild.go_build(go, pin.module, out, comp.packages, ldflags(comp, pin.version), jobs,
                            f"{pin.name} {pin.version}", dest.parent)


def ensure(pin: Pin, go: GoEnv, cache: Path, jobs: int, log: Callable[[str], None]) -> Built:
    """The cached build of ``pin``, building it first when it is not cached."""
    check_module(pin)
    gobuild.require_go(go, (pin.module / "go.mod").read_text(encoding="utf-8"), f"{pin.where}/go.mod")
    key = cache_key(pin, go)
    manifest = {"component": pin.name, "version": pin.version, "go": go.version}
    final, how = gobuild.cached(cache, key, COMPONENTS[pin.name].binaries,
                                lambda tmp: _build(pin, go, tmp, jobs, log), manifest)
    return Built(pin.name, pin.version, final, how)


def _link(root: Path, built: Iterable[Built]) -> None:
    tools_dir = root / TOOLS_DIR
    tools_dir.mkdir(parents=True, exist_ok=True)
    versions_path = tools_dir / VERSIONS_FILE
    try:
        versions = json.loads(versions_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        versions = {}
    for item in built:
        for binary in COMPONENTS[item.component].binaries:
            link = tools_dir / binary
            tmp = tools_dir / f".{binary}.link"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(item.directory / binary)
            os.replace(tmp, link)
        versions[item.component] = item.version
    tmp_versions = tools_dir / f".{VERSIONS_FILE}.part"
    tmp_versions.write_text(json.dumps(versions, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp_versions, versions_path)


def install(
    root: Path,
    mode: str = "build",
    environ: Mapping[str, str] | None = None,
    jobs: int | None = None,
    log: Callable[[str], None] = lambda _msg: None,
    lock: Path = LOCK_FILE,
) -> list[Built]:
    """Build (or take from the cache) what ``mode`` needs and link it into ``root/.tools/cluster``."""
    if mode not in MODES:
        raise ToolError(f"binaries mode {mode!r}: expected one of {', '.join(MODES)}")
    pins = read_lock(lock)
    go = go_env(environ)
    cache = installmod.cache_dir(environ) / "cluster"
    done = [ensure(pins[name], go, cache, jobs or os.cpu_count() or 1, log) for name in FOR_MODE[mode]]
    _link(root, done)
    return done


def locate(root: Path, mode: str = "build", lock: Path = LOCK_FILE) -> dict[str, Path]:
    """Binary name -> path of what ``mode`` needs, checked against the lock."""
    pins = read_lock(lock)
    tools_dir = root / TOOLS_DIR
    try:
        versions = json.loads((tools_dir / VERSIONS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        versions = {}
    found: dict[str, Path] = {}
    for name in FOR_MODE[mode]:
        pin = pins[name]
        if versions.get(name) != pin.version:
            have = f"{name} {versions[name]} is built" if name in versions else f"{name} is not built"
            raise ToolError(f"{TOOLS_DIR}: {have}, {data.label(lock)} pins {pin.version}; {INSTALL_HINT}")
        for binary in COMPONENTS[name].binaries:
            path = tools_dir / binary
            if not path.resolve().is_file():
                raise ToolError(f"{TOOLS_DIR / binary}: missing (cache cleared?); {INSTALL_HINT}")
            found[binary] = path.resolve()
    return found
