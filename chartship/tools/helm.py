"""The only module that runs ``helm``.

Which helm: ``HELM_BIN`` > ``.tools/bin/helm`` > ``helm`` on PATH. Helm older
than 3.8 (no OCI support by default) is refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

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
    errors: list[str] = []
    warnings: list[str] = []
    last: list[str] | None = None
    for ln in text.splitlines():
        if "[ERROR]" in ln or ln.startswith("Error:"):
            last = errors
            errors.append(ln.strip())
        elif "[WARNING]" in ln:
            last = warnings
            warnings.append(ln.strip())
        elif last is not None and ln[:1].isspace() and ln.strip():
            last[-1] += " " + ln.strip()  # helm 4 continues a message on indented lines
        else:
            last = None
    return LintResult(chart_dir, result.ok, tuple(errors), tuple(warnings), text)


# ------------------------------------------------------------ pipeline: deps, package, template, dry-run

_LOCK_OUT_OF_SYNC = "out of sync"


def dependency_build(root: Path, chart_dir: Path, where: str, env: Mapping[str, str] | None = None,
                     plain_http: bool = False, refresh: bool = False) -> None:
    """``helm dependency build`` (uses Chart.lock when present); failures are one actionable line.

    Repository indexes are refreshed only when ``refresh`` (a dependency from an http(s) repository)."""
    args = ["dependency", "build", str(chart_dir)]
    if not refresh:
        args.append("--skip-refresh")
    if plain_http:
        args.append("--plain-http")
    result = run(root, args, env=env)
    if result.ok:
        return
    text = result.stderr + result.stdout
    if _LOCK_OUT_OF_SYNC in text:
        raise ToolError(
            f"{where}/Chart.lock is out of date with {where}/Chart.yaml: run `helm dependency update {where}` "
            "and commit the new Chart.lock"
        )
    raise ToolError(f"{where}: dependency build failed: {proc.first_line(text).removeprefix('Error: ')}; "
                    "check the dependencies in Chart.yaml")


def load_problem(root: Path, chart_dir: Path) -> str | None:
    """Why helm cannot load the chart folder ``chart_dir`` (``helm show chart`` loads every file), or None."""
    result = run(root, ["show", "chart", str(chart_dir)], timeout=120)
    return None if result.ok else proc.first_line(result.stderr + result.stdout).removeprefix("Error: ")


def package(root: Path, chart_dir: Path, dest: Path, where: str) -> Path:
    """``helm package CHART -d DEST``; returns the archive helm wrote."""
    before = set(dest.glob("*.tgz"))
    result = run(root, ["package", str(chart_dir), "--destination", str(dest)])
    if not result.ok:
        raise ToolError(f"{where}: helm package failed: {proc.first_line(result.stderr + result.stdout)}")
    new = sorted(set(dest.glob("*.tgz")) - before)
    if len(new) != 1:
        raise ToolError(f"{where}: helm package wrote {len(new)} archives into {dest}; expected one")
    return new[0]


def _values_args(values_files: tuple[Path, ...]) -> list[str]:
    args: list[str] = []
    for values in values_files:
        args += ["--values", str(values)]
    return args


def template(root: Path, release: str, chart_dir: Path, values_files: tuple[Path, ...], namespace: str,
             api_versions: tuple[str, ...] = ()) -> proc.Result:
    """``helm template RELEASE CHART -f ...`` (client-side rendering, no cluster); ``api_versions``
    render as a cluster serving those APIs would (``.Capabilities.APIVersions``)."""
    extra = [arg for api in api_versions for arg in ("--api-versions", api)]
    return run(root, ["template", release, str(chart_dir), "--namespace", namespace, *_values_args(values_files), *extra])


def dry_run_flag(helm: Helm) -> str:
    """Client-side dry run: helm >= 3.13 and helm 4 take ``--dry-run=client``; older helm 3 ``--dry-run``."""
    return "--dry-run=client" if helm.major >= 4 or parse_version(helm.version) >= (3, 13, 0) else "--dry-run"


CLUSTER_UNREACHABLE = "Kubernetes cluster unreachable"


def install_dry_run(root: Path, release: str, chart_dir: Path, values_files: tuple[Path, ...], namespace: str,
                    env: Mapping[str, str] | None = None) -> proc.Result:
    """``helm install --dry-run=client``. helm 4 renders without a cluster; helm 3 still asks the
    cluster for its version and fails with CLUSTER_UNREACHABLE when there is none."""
    flag = dry_run_flag(find(root))
    return run(root, ["install", release, str(chart_dir), flag, "--namespace", namespace,
                      *_values_args(values_files)], env=env)


def login_with(root: Path, host: str, username: str, password: str, plain_http: bool, registry_config: Path) -> None:
    """``helm registry login HOST --password-stdin`` into a private registry config.

    The password travels on stdin only. Helm 4 takes a host (no path) and
    ``--plain-http`` for HTTP registries; helm 3 uses ``--insecure``.
    """
    args = ["registry", "login", host, "--username", username, "--password-stdin"]
    if plain_http:
        args.append("--plain-http" if find(root).major >= 4 else "--insecure")
    result = run(root, args, env={"HELM_REGISTRY_CONFIG": str(registry_config)}, stdin=password + "\n", timeout=120)
    if not result.ok:
        raise ToolError(f"helm registry login {host} failed: {proc.first_line(result.stderr or result.stdout)}")


@dataclass(frozen=True)
class PushResult:
    ok: bool
    digest: str | None
    message: str
    transient: bool


_TRANSIENT = re.compile(
    r"(\b5\d\d\b|\b429\b|too many requests|connection refused|connection reset|broken pipe|\bEOF\b|i/o timeout|"
    r"timeout|no such host|server misbehaving|unexpected status)", re.IGNORECASE)
_PERMANENT = re.compile(r"(\b401\b|\b403\b|\b404\b|unauthorized|denied|forbidden|not found|basic credential)", re.IGNORECASE)


def push(root: Path, package: Path, url: str, plain_http: bool, registry_config: Path | None) -> PushResult:
    """``helm push PACKAGE oci://…``; classifies a failure as transient (retry) or not."""
    args = ["push", str(package), url]
    if plain_http:
        args.append("--plain-http")
    env = {"HELM_REGISTRY_CONFIG": str(registry_config)} if registry_config else None
    result = run(root, args, env=env, timeout=900)
    text = result.stdout + "\n" + result.stderr
    digest = next((m for m in re.findall(r"Digest:\s*(sha256:[0-9a-f]{64})", text)), None)
    if result.ok:
        return PushResult(True, digest, "", False)
    message = proc.first_line(result.stderr or result.stdout)
    transient = bool(_TRANSIENT.search(message)) and not _PERMANENT.search(message)
    return PushResult(False, None, message, transient)


def pull(root: Path, ref: str, version: str, dest: Path, plain_http: bool, registry_config: Path | None) -> Path:
    """``helm pull REF --version V -d DEST``; returns the downloaded archive."""
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.glob("*.tgz"))
    args = ["pull", ref, "--version", version, "--destination", str(dest)]
    if plain_http:
        args.append("--plain-http")
    env = {"HELM_REGISTRY_CONFIG": str(registry_config)} if registry_config else None
    result = run(root, args, env=env, timeout=600)
    if not result.ok:
        raise ToolError(f"helm pull {ref} --version {version} failed: {proc.first_line(result.stderr or result.stdout)}")
    new = sorted(set(dest.glob("*.tgz")) - before) or sorted(dest.glob("*.tgz"))
    return new[-1]


# ---------------------------------------------------------------- releases in a cluster

def _kube(args: list[str], namespace: str, kube_context: str | None) -> list[str]:
    args = [*args, "--namespace", namespace]
    if kube_context:
        args += ["--kube-context", kube_context]
    return args


def upgrade_install(root: Path, release: str, chart: str, namespace: str, values_files: tuple[Path, ...],
                    version: str | None = None, timeout: str = "5m", plain_http: bool = False,
                    registry_config: Path | None = None, kube_context: str | None = None,
                    env: Mapping[str, str] | None = None) -> proc.Result:
    """``helm upgrade --install --wait`` that rolls back on failure: ``--atomic`` on helm 3,
    ``--rollback-on-failure`` on helm 4 (which renamed it)."""
    rollback_flag = "--rollback-on-failure" if find(root).major >= 4 else "--atomic"
    args = ["upgrade", release, chart, "--install", "--create-namespace", "--wait", "--wait-for-jobs", "--timeout", timeout,
            rollback_flag, *_values_args(values_files)]
    if version:
        args += ["--version", version]
    if plain_http:
        args.append("--plain-http")
    full_env = dict(env or {})
    if registry_config:
        full_env["HELM_REGISTRY_CONFIG"] = str(registry_config)
    return run(root, _kube(args, namespace, kube_context), env=full_env or None, timeout=None)


def rollback(root: Path, release: str, namespace: str, revision: int | None = None, timeout: str = "5m",
             kube_context: str | None = None, env: Mapping[str, str] | None = None) -> proc.Result:
    args = ["rollback", release]
    if revision is not None:
        args.append(str(revision))
    args += ["--wait", "--timeout", timeout]
    return run(root, _kube(args, namespace, kube_context), env=env, timeout=None)


def _json(root: Path, args: list[str], env: Mapping[str, str] | None) -> tuple[proc.Result, Any]:
    result = run(root, [*args, "--output", "json"], env=env)
    if not result.ok:
        return result, None
    try:
        return result, json.loads(result.stdout or "null")
    except ValueError:
        raise ToolError(f"helm {args[0]} printed something that is not JSON; is HELM_BIN a real helm?") from None


def status(root: Path, release: str, namespace: str, kube_context: str | None = None,
           env: Mapping[str, str] | None = None) -> tuple[proc.Result, Any]:
    return _json(root, _kube(["status", release], namespace, kube_context), env)


def history(root: Path, release: str, namespace: str, kube_context: str | None = None,
            env: Mapping[str, str] | None = None) -> tuple[proc.Result, Any]:
    return _json(root, _kube(["history", release], namespace, kube_context), env)


def uninstall(root: Path, release: str, namespace: str, timeout: str = "5m", kube_context: str | None = None,
              env: Mapping[str, str] | None = None) -> proc.Result:
    return run(root, _kube(["uninstall", release, "--wait", "--timeout", timeout], namespace, kube_context), env=env,
               timeout=None)


def run_tests(root: Path, release: str, namespace: str, timeout: str = "5m", kube_context: str | None = None,
                 env: Mapping[str, str] | None = None) -> proc.Result:
    """``helm test RELEASE``: runs the chart's test hooks and waits for them."""
    return run(root, _kube(["test", release, "--timeout", timeout], namespace, kube_context), env=env, timeout=None)
