"""Build Go programs with the machine's Go and cache the results; ``go`` runs only from here.

Two users: :mod:`chartship.tools.clusterbin` (wrapper modules in the repository) and
:mod:`chartship.tools.peers` (upstream modules at an exact version, source copied out of
the module cache). Both put a finished build into ``<cache>/<key>/`` with a
``manifest.json`` through :func:`cached`, so a half-finished build is never used and
two runs building the same key at once keep one result.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship import proc
from chartship.errors import ToolError
from chartship.tools.summary import summarise

BUILD_TIMEOUT = 3 * 3600.0
DOWNLOAD_TIMEOUT = 1800.0


@dataclass(frozen=True)
class GoEnv:
    path: str
    version: str  # "1.26.8"
    goos: str
    goarch: str


@dataclass(frozen=True)
class Download:
    """What ``go mod download -json MODULE@VERSION`` reports."""

    path: str
    version: str
    directory: Path
    sum: str
    go_mod_sum: str


def find_go(environ: Mapping[str, str] | None = None, hint: str = "") -> str:
    env = os.environ if environ is None else environ
    candidates = [env.get("GO_BIN", ""), shutil.which("go", path=env.get("PATH")) or "", "/usr/local/go/bin/go"]
    for cand in candidates:
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    raise ToolError("go not found: install Go >= 1.26 (or set GO_BIN)" + (f", {hint}" if hint else ""))


def go_env(environ: Mapping[str, str] | None = None, hint: str = "") -> GoEnv:
    path = find_go(environ, hint)
    result = proc.run([path, "env", "-json", "GOVERSION", "GOOS", "GOARCH"], timeout=60)
    try:
        data = json.loads(result.stdout) if result.ok else {}
        version = str(data["GOVERSION"]).removeprefix("go").split(" ")[0]
        return GoEnv(path, version, str(data["GOOS"]), str(data["GOARCH"]))
    except (ValueError, KeyError):
        raise ToolError(f"{path} env failed: {summarise(result.stderr or result.stdout)}") from None


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def go_mod_lines(text: str) -> list[str]:
    return [line.split("//", 1)[0].strip() for line in text.splitlines()]


def go_directive(go_mod: str) -> tuple[int, ...]:
    for line in go_mod_lines(go_mod):
        m = re.fullmatch(r"go\s+(\d+(?:\.\d+)*)", line)
        if m:
            return tuple(int(p) for p in m.group(1).split("."))
    return (1, 0)


def require_go(go: GoEnv, go_mod: str, where: str) -> None:
    needed = go_directive(go_mod)
    if version_tuple(go.version) < needed:
        raise ToolError(f"{where} needs go {'.'.join(map(str, needed))}, {go.path} is go{go.version}; "
                        "install a newer Go (or set GO_BIN)")


def build_env(mod_mode: str = "readonly") -> dict[str, str]:
    """Static binaries with the local toolchain; ``-mod=readonly`` unless the pin says otherwise."""
    flags = (os.environ.get("GOFLAGS", ""), f"-mod={mod_mode}", "-buildvcs=false")
    return {"CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": " ".join(f for f in flags if f)}


def go_build(go: GoEnv, cwd: Path, out: str, packages: Sequence[str], ldflags: str, jobs: int, what: str,
             log_dir: Path, mod_mode: str = "readonly") -> float:
    """``go build -trimpath`` in ``cwd``; returns the seconds it took. A failure keeps the full log."""
    argv = [go.path, "build", "-trimpath", "-p", str(jobs), "-ldflags", ldflags, "-o", out, *packages]
    started = time.monotonic()
    result = proc.run(argv, cwd=cwd, env=build_env(mod_mode), timeout=BUILD_TIMEOUT)
    seconds = time.monotonic() - started
    if not result.ok:
        log_file = log_dir / f"{what.replace(' ', '-')}.log"
        log_file.write_text(result.stdout + result.stderr, encoding="utf-8")
        raise ToolError(f"go build of {what} in {cwd} failed: {summarise(result.stderr)} (full log: {log_file})")
    return seconds


def mod_download(go: GoEnv, module: str, version: str, workdir: Path) -> Download:
    """``go mod download -json MODULE@VERSION`` (checked against the Go checksum database unless GONOSUMDB/GOFLAGS
    say otherwise); the source lands read-only in the module cache."""
    workdir.mkdir(parents=True, exist_ok=True)
    result = proc.run([go.path, "mod", "download", "-json", f"{module}@{version}"], cwd=workdir,
                      env={"GOTOOLCHAIN": "local", "GO111MODULE": "on"}, timeout=DOWNLOAD_TIMEOUT)
    try:
        data: dict[str, Any] = json.loads(result.stdout) if result.stdout.strip() else {}
    except ValueError:
        data = {}
    if not result.ok or data.get("Error") or not data.get("Dir"):
        why = data.get("Error") or summarise(result.stderr or result.stdout)
        raise ToolError(f"go mod download {module}@{version} failed: {why}; check the network or GOPROXY")
    return Download(str(data["Path"]), str(data["Version"]), Path(str(data["Dir"])), str(data.get("Sum", "")),
                    str(data.get("GoModSum", "")))


def copy_source(src: Path, dest: Path) -> None:
    """A writable copy of a module's source (the module cache is read-only)."""
    shutil.copytree(src, dest, symlinks=True)
    for folder, dirs, files in os.walk(dest):
        for name in (*dirs, *files):
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o200)


def cached(cache: Path, key: str, binaries: Sequence[str], build: Callable[[Path], float],
           manifest: Mapping[str, object]) -> tuple[Path, str]:
    """``(cache/key, how)``: the finished build when its manifest and ``binaries`` exist, else
    ``build(tmp)`` into a private folder that is renamed into place when complete."""
    final = cache / key
    if (final / "manifest.json").is_file() and all((final / b).is_file() for b in binaries):
        return final, "cache"
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".{key}.{os.getpid()}.part"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        seconds = build(tmp)
        missing = [b for b in binaries if not (tmp / b).is_file()]
        if missing:
            raise ToolError(f"the build of {key} produced no {missing[0]}; check the build recipe")
        data = {**manifest, "key": key, "binaries": list(binaries), "build_seconds": round(seconds, 1)}
        (tmp / "manifest.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        if final.exists():  # built meanwhile by another run: keep that one
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final, f"built in {seconds:.0f} s"
