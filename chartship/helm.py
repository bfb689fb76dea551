"""The only module that runs ``helm``.

Which helm: ``HELM_BIN`` > ``.tools/bin/helm`` > ``helm`` on PATH. Helm older
than 3.8 (no OCI support by default) is refused.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from chartship import proc
from chartship.errors import ToolError

MIN_VERSION = (3, 8, 0)
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Helm:
    path: Path
    source: str
    version: str

    @property
    def major(self) -> int:
        return parse_version(self.version)[0]


def parse_version(text: str) -> tuple[int, int, int]:
    m = _VERSION_RE.match(text.strip())
    if m is None:
        raise ToolError(f"helm reported version {text.strip()!r}, which chartship cannot read; install helm >= 3.8")
    return int(m[1]), int(m[2]), int(m[3])


def locate(root: Path, environ: Mapping[str, str] | None = None) -> tuple[Path | None, str]:
    """(path, how it was found) without running it; path is None when nothing is found."""
    env = os.environ if environ is None else environ
    if env.get("HELM_BIN"):
        return Path(env["HELM_BIN"]), "HELM_BIN"
    local = root / ".tools" / "bin" / "helm"
    if local.exists():
        return local, ".tools/bin"
    found = shutil.which("helm", path=env.get("PATH"))
    return (Path(found), "PATH") if found else (None, "not found")


def binary_version(path: Path) -> str:
    """``helm version`` of a given binary, e.g. 'v3.17.2'."""
    try:
        result = proc.run([str(path), "version", "--template", "{{.Version}}"], timeout=60)
    except (FileNotFoundError, PermissionError, OSError) as exc:
        raise ToolError(f"{path}: cannot run helm ({exc.strerror or exc}); run `invoke tools.install`") from None
    if not result.ok:
        raise ToolError(f"{path}: `helm version` failed: {proc.first_line(result.stderr)}")
    return result.stdout.strip()


@cache
def find(root: Path) -> Helm:
    """The helm chartship uses, checked to be >= 3.8."""
    path, source = locate(root)
    if path is None:
        raise ToolError("helm not found: run `invoke tools.install`, put helm on PATH, or set HELM_BIN")
    if not path.exists():
        raise ToolError(f"{source}={path}: no such file; fix {source} or run `invoke tools.install`")
    version = binary_version(path)
    if parse_version(version) < MIN_VERSION:
        raise ToolError(
            f"{path} is helm {version}; chartship needs helm >= 3.8 (OCI support): run `invoke tools.install` "
            "or set HELM_BIN to a newer helm"
        )
    return Helm(path=path, source=source, version=version)


def run(
    root: Path,
    args: list[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float | None = 600,
) -> proc.Result:
    """Run the located helm with ``args`` (an argv list, never a shell string)."""
    helm = find(root)
    try:
        return proc.run([str(helm.path), *args], cwd=cwd, env=env, stdin=stdin, timeout=timeout)
    except OSError as exc:
        raise ToolError(f"{helm.path}: cannot run helm ({exc.strerror or exc})") from None


@dataclass(frozen=True)
class LintResult:
    chart: Path
    ok: bool
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    output: str


def lint(root: Path, chart_dir: Path, values_files: tuple[Path, ...] = (), strict: bool = True) -> LintResult:
    """``helm lint [--strict] CHART -f V1 -f V2 ...``; messages are helm's [ERROR]/[WARNING] lines."""
    args = ["lint", str(chart_dir)]
    if strict:
        args.append("--strict")
    for values in values_files:
        args += ["--values", str(values)]
    result = run(root, args)
    text = result.stdout + result.stderr
    errors = tuple(ln.strip() for ln in text.splitlines() if "[ERROR]" in ln or ln.startswith("Error:"))
    warnings = tuple(ln.strip() for ln in text.splitlines() if "[WARNING]" in ln)
    return LintResult(chart_dir, result.ok, errors, warnings, text)
