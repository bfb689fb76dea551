"""The only module that runs ``helm``: one :class:`Helm` object per run.

Which helm (:meth:`Helm.locate`): ``HELM_BIN`` > ``.tools/bin/helm`` > ``helm`` on PATH; helm older
than 3.8 (no OCI support by default) is refused. The run's configuration locates it once
(``cfg.helm``) and everything below passes that object along.

Every method returns a :class:`HelmResult` or raises one of the typed errors of
:mod:`chartship.tools.helmerrors`, classified here from helm's whole output; the message is one
line made by :func:`chartship.tools.summary.summarise`.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartship import config, proc, secrets
from chartship.tools.helmerrors import (
    LOCK_OUT_OF_SYNC,
    ChartInvalid,
    ClusterUnreachable,
    DependencyError,
    HelmError,
    HelmNotFound,
    HelmTimeout,
    LintFailed,
    NotFoundError,
    Op,
    PushFailed,
    PushTimeout,
    PushTransient,
    RegistryAuthError,
    RegistryUnavailable,
    ReleaseFailed,
    classify,
    push_failure,
)
from chartship.tools.helmtext import lint_messages, lint_sections, seconds
from chartship.tools.summary import summarise

__all__ = ["ChartInvalid", "ClusterUnreachable", "DependencyError", "Helm", "HelmError", "HelmNotFound", "HelmResult",
           "HelmTimeout", "LintFailed", "NotFoundError", "Op", "PushFailed", "PushTimeout",
           "PushTransient", "RegistryAuthError", "RegistryUnavailable",
           "ReleaseFailed", "find_path", "lint_messages", "parse_version", "seconds"]

MIN_VERSION = (3, 8, 0)
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")
_DIGEST_RE = re.compile(r"Digest:\s*(sha256:[0-9a-f]{64})")
WAIT_MARGIN = 120.0  # seconds beyond helm's own --timeout before chartship stops waiting for it


UNVERIFIED = "the chart is unsigned, tampered with or signed by a key not in the keyring"


@dataclass(frozen=True)
class HelmResult:
    """What a helm command that succeeded printed, plus what chartship read from it."""

    argv: tuple[str, ...]
    stdout: str
    stderr: str
    data: Any = None  # parsed ``--output json``
    path: Path | None = None  # the archive written (package, pull)
    digest: str | None = None  # the manifest digest helm reported (push)

    @property
    def archive(self) -> Path:
        """The archive this command wrote (package, pull)."""
        if self.path is None:
            raise HelmError(f"{' '.join(self.argv[1:3])} wrote no chart archive")
        return self.path


def parse_version(text: str) -> tuple[int, int, int]:
    m = _VERSION_RE.match(text.strip())
    if m is None:
        raise HelmNotFound(f"helm reported version {text.strip()!r}, which chartship cannot read; install helm >= 3.8")
    return int(m[1]), int(m[2]), int(m[3])


def find_path(root: Path, environ: Mapping[str, str] | None = None) -> tuple[Path | None, str]:
    """(path, how it was found) without running it; path is None when nothing is found."""
    if config.env("HELM_BIN", environ):
        return Path(config.env("HELM_BIN", environ)), "HELM_BIN"
    local = root / ".tools" / "bin" / "helm"
    if local.exists():
        return local, ".tools/bin"
    found = shutil.which("helm", path=config.env("PATH", environ) or None)
    return (Path(found), "PATH") if found else (None, "not found")


def binary_version(path: Path) -> str:
    """``helm version`` of a given binary, e.g. 'v3.17.2'."""
    try:
        result = proc.run([str(path), "version", "--template", "{{.Version}}"], timeout=60)
    except proc.TimeoutExpired:
        raise HelmTimeout(f"{path}: `{path.name} version` did not finish within {proc.effective_timeout(60):g}s") from None
    except OSError as exc:
        raise HelmNotFound(f"{path}: cannot run helm ({exc.strerror or exc}); run `invoke tools.install`") from None
    if not result.ok:
        raise HelmNotFound(f"{path}: `helm version` failed: {summarise(result.stderr)}", result.stderr)
    return result.stdout.strip()


_PACKAGED = re.compile(r"^Successfully packaged chart and saved it to: (.+\.tgz)$")
BATCH_SECONDS_PER_CHART = 30.0  # timeout of a batch: 600 s + this per chart beyond the first


def _batch_timeout(count: int) -> float:
    return 600 + BATCH_SECONDS_PER_CHART * max(0, count - 1)


def _values_args(values_files: tuple[Path, ...]) -> list[str]:
    return [arg for values in values_files for arg in ("--values", str(values))]


def _registry_env(registry_config: Path | None) -> dict[str, str]:
    return {"HELM_REGISTRY_CONFIG": str(registry_config)} if registry_config else {}


def _kube(args: list[str], namespace: str, kube_context: str | None) -> list[str]:
    args = [*args, "--namespace", namespace]
    if kube_context:
        args += ["--kube-context", kube_context]
    return args


def _new_archive(dest: Path, before: set[Path], what: str) -> Path:
    new = sorted(set(dest.glob("*.tgz")) - before)
    if len(new) != 1:
        raise HelmError(f"{what} wrote {len(new)} archives into {dest}; expected one")
    return new[0]


@dataclass(frozen=True)
class Helm:
    """One helm binary, its version, and the environment every call gets (e.g. a private helm home)."""

    path: Path
    source: str
    version: str
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def locate(cls, root: Path, environ: Mapping[str, str] | None = None) -> Helm:
        """The helm chartship uses, checked to be >= 3.8. Call it once per run and pass the object on."""
        path, source = find_path(root, environ)
        if path is None:
            raise HelmNotFound("helm not found: run `invoke tools.install`, put helm on PATH, or set HELM_BIN")
        if not path.exists():
            raise HelmNotFound(f"{source}={path}: no such file; fix {source} or run `invoke tools.install`")
        version = binary_version(path)
        if parse_version(version) < MIN_VERSION:
            raise HelmNotFound(f"{path} is helm {version}; chartship needs helm >= 3.8 (OCI support): run "
                               "`invoke tools.install` or set HELM_BIN to a newer helm")
        return cls(path=path, source=source, version=version)

    @property
    def major(self) -> int:
        return parse_version(self.version)[0]

    @property
    def dry_run_flag(self) -> str:
        """Client-side dry run: helm >= 3.13 and helm 4 take ``--dry-run=client``; older helm 3 ``--dry-run``."""
        return "--dry-run=client" if parse_version(self.version) >= (3, 13, 0) else "--dry-run"

    # ------------------------------------------------------------------ the one runner

    def run(self, args: list[str], op: Op = Op.OTHER, what: str = "", cwd: Path | None = None,
            env: Mapping[str, str] | None = None, stdin: str | None = None, timeout: float = 600) -> HelmResult:
        """``helm ARGS`` (an argv list, never a shell string). A failure raises the HelmError that
        :func:`classify` picks, with the message ``WHAT failed: <helm's reason>``."""
        argv = [str(self.path), *args]
        what = what or f"helm {args[0]}"
        full_env = {**self.env, **(env or {})} or None
        try:
            result = proc.run(argv, cwd=cwd, env=full_env, stdin=stdin, timeout=timeout)
        except proc.TimeoutExpired:
            limit = proc.effective_timeout(timeout)
            raise HelmTimeout(f"{what}: helm did not finish within {limit:g}s; check the registry or cluster "
                              "it talks to, or raise the timeout") from None
        except OSError as exc:
            raise HelmNotFound(f"{self.path}: cannot run helm ({exc.strerror or exc})") from None
        if result.ok:
            return HelmResult(result.argv, result.stdout, result.stderr)
        output = result.stdout + "\n" + result.stderr
        reason = secrets.redact(summarise(result.stderr or result.stdout) or f"exit code {result.returncode}")
        raise classify(op, output)(f"{what} failed: {reason}", output, reason)

    def _json(self, args: list[str], what: str, env: Mapping[str, str] | None) -> HelmResult:
        result = self.run([*args, "--output", "json"], Op.QUERY, what, env=env)
        try:
            data = json.loads(result.stdout or "null")
        except ValueError:
            raise HelmError(f"helm {args[0]} printed something that is not JSON; is HELM_BIN a real helm?") from None
        return HelmResult(result.argv, result.stdout, result.stderr, data=data)

    # ------------------------------------------------------------------ charts

    def lint(self, chart_dir: Path, values_files: tuple[Path, ...] = (), strict: bool = True) -> HelmResult:
        """``helm lint [--strict] CHART -f V1 ...``; a failure is LintFailed with helm's [ERROR]/[WARNING] lines."""
        args = ["lint", str(chart_dir), *(["--strict"] if strict else []), *_values_args(values_files)]
        try:
            return self.run(args, Op.LINT, f"helm lint {chart_dir.name}")
        except LintFailed as exc:
            errors, warnings = lint_messages(exc.output)
            raise LintFailed(str(exc), exc.output, exc.reason, errors, warnings) from None

    def lint_batch(self, chart_dirs: Sequence[Path], values_files: tuple[Path, ...] = (),
                   strict: bool = True) -> dict[Path, list[str] | None]:
        """One ``helm lint [--strict] C1 C2 ... -f V1 ...`` for charts sharing ``values_files``: each chart's
        section of the report (:func:`chartship.tools.lintoutput.lint_sections`). A failed lint is no exception here (the sections
        say which chart failed); a timeout or a missing helm is."""
        args = ["lint", *map(str, chart_dirs), *(["--strict"] if strict else []), *_values_args(values_files)]
        try:
            output = self.run(args, Op.LINT, f"helm lint of {len(chart_dirs)} charts",
                              timeout=_batch_timeout(len(chart_dirs))).stdout
        except (HelmTimeout, HelmNotFound):
            raise
        except HelmError as exc:
            output = exc.output
        return lint_sections(output, chart_dirs)

    def package_batch(self, chart_dirs: Sequence[Path], dest: Path) -> dict[Path, Path]:
        """One ``helm package C1 C2 ... -d DEST``: the archive written for each chart. helm stops at the
        first chart it cannot package: that HelmError is raised (package each chart alone to learn which)."""
        before = set(dest.glob("*.tgz"))
        result = self.run(["package", *map(str, chart_dirs), "--destination", str(dest)], Op.RENDER,
                          f"helm package of {len(chart_dirs)} charts", timeout=_batch_timeout(len(chart_dirs)))
        written = [Path(m.group(1)).resolve() for ln in result.stdout.splitlines() if (m := _PACKAGED.match(ln.strip()))]
        new = {p.resolve() for p in set(dest.glob("*.tgz")) - before}
        if len(written) != len(chart_dirs) or len(set(written)) != len(written) or set(written) != new:
            raise HelmError(f"helm package of {len(chart_dirs)} charts reported {len(written)} archives and wrote "
                            f"{len(new)} into {dest}; expected one per chart")
        return dict(zip(chart_dirs, written, strict=True))

    def dependency_build(self, chart_dir: Path, where: str, env: Mapping[str, str] | None = None,
                         plain_http: bool = False, refresh: bool = False) -> HelmResult:
        """``helm dependency build`` (uses Chart.lock when present); repository indexes are refreshed
        only when ``refresh`` (a dependency from an http(s) repository)."""
        args = ["dependency", "build", str(chart_dir), *([] if refresh else ["--skip-refresh"]),
                *(["--plain-http"] if plain_http else [])]
        try:
            return self.run(args, Op.DEPENDENCY, f"{where}: dependency build", env=env)
        except HelmError as exc:
            if LOCK_OUT_OF_SYNC in exc.output:
                raise DependencyError(f"{where}/Chart.lock is out of date with {where}/Chart.yaml: run `helm dependency "
                                      f"update {where}` and commit the new Chart.lock", exc.output) from None
            raise type(exc)(f"{where}: dependency build failed: {exc.reason.removeprefix('Error: ')}; check the "
                            "dependencies in Chart.yaml", exc.output, exc.reason) from None

    def package(self, chart_dir: Path, dest: Path, where: str) -> HelmResult:
        """``helm package CHART -d DEST``; ``path`` is the archive helm wrote."""
        before = set(dest.glob("*.tgz"))
        result = self.run(["package", str(chart_dir), "--destination", str(dest)], Op.RENDER, f"{where}: helm package")
        return HelmResult(result.argv, result.stdout, result.stderr, path=_new_archive(dest, before, f"{where}: helm package"))

    def load_problem(self, chart_dir: Path) -> str | None:
        """Why helm cannot load the chart folder ``chart_dir`` (``helm show chart`` loads every file), or None."""
        try:
            self.run(["show", "chart", str(chart_dir)], Op.RENDER, f"helm show chart {chart_dir.name}", timeout=120)
        except HelmError as exc:
            return exc.reason.removeprefix("Error: ")
        return None

    def template(self, release: str, chart_dir: Path, values_files: tuple[Path, ...], namespace: str,
                 api_versions: tuple[str, ...] = ()) -> HelmResult:
        """``helm template RELEASE CHART -f ...`` (client-side, no cluster); ``api_versions`` render as a
        cluster serving those APIs would (``.Capabilities.APIVersions``)."""
        extra = [arg for api in api_versions for arg in ("--api-versions", api)]
        return self.run(["template", release, str(chart_dir), "--namespace", namespace, *_values_args(values_files),
                         *extra], Op.RENDER, "helm template")

    def install_dry_run(self, release: str, chart_dir: Path, values_files: tuple[Path, ...], namespace: str,
                        env: Mapping[str, str] | None = None) -> HelmResult:
        """``helm install --dry-run=client``. helm 4 renders without a cluster; helm 3 still asks the
        cluster for its version and raises ClusterUnreachable when there is none."""
        return self.run(["install", release, str(chart_dir), self.dry_run_flag, "--namespace", namespace,
                         *_values_args(values_files)], Op.RENDER, "helm install --dry-run", env=env)

    # ------------------------------------------------------------------ registries

    def login(self, host: str, username: str, password: str, plain_http: bool, registry_config: Path) -> HelmResult:
        """``helm registry login HOST --password-stdin`` into a private registry config. The password
        travels on stdin only; helm 4 takes ``--plain-http`` for HTTP registries, helm 3 ``--insecure``."""
        args = ["registry", "login", host, "--username", username, "--password-stdin"]
        if plain_http:
            args.append("--plain-http" if self.major >= 4 else "--insecure")
        return self.run(args, Op.REGISTRY, f"helm registry login {host}", env=_registry_env(registry_config),
                        stdin=password + "\n", timeout=120)

    def push(self, package: Path, url: str, plain_http: bool, registry_config: Path | None,
             timeout: float = 300.0) -> HelmResult:
        """``helm push PACKAGE oci://…`` within ``timeout`` seconds; ``digest`` is the one helm reported.
        A failure is classified from helm's whole output (:func:`push_failure`): PushTransient (429, 5xx,
        reset, EOF) and PushTimeout are worth another attempt, RegistryAuthError and PushFailed are not."""
        args = ["push", str(package), url, *(["--plain-http"] if plain_http else [])]
        what = f"helm push {package.name} to {url}"
        try:
            result = self.run(args, Op.REGISTRY, what, env=_registry_env(registry_config), timeout=timeout)
        except HelmTimeout:
            limit = proc.effective_timeout(timeout)
            raise PushTimeout(f"{what}: did not finish within {limit:g}s and was stopped (push_timeout, env "
                              f"{config.SETTINGS['push_timeout'].env}); check the registry, or raise the limit") from None
        except HelmError as exc:
            if isinstance(exc, HelmNotFound):
                raise
            kind, cause = push_failure(exc.output)
            raise kind(f"{what} failed: {cause or exc.reason}", exc.output, exc.reason) from None
        digest = next(iter(_DIGEST_RE.findall(result.stdout + "\n" + result.stderr)), None)
        return HelmResult(result.argv, result.stdout, result.stderr, digest=digest)

    def pull(self, ref: str, version: str, dest: Path, plain_http: bool, registry_config: Path | None,
             verify_keyring: Path | None = None) -> HelmResult:
        """``helm pull REF --version V -d DEST``; ``path`` is the downloaded archive. ``verify_keyring``:
        ``--verify --keyring K``, so an unsigned or tampered chart is refused."""
        dest.mkdir(parents=True, exist_ok=True)
        before = set(dest.glob("*.tgz"))
        args = ["pull", ref, "--version", version, "--destination", str(dest), *(["--plain-http"] if plain_http else [])]
        if verify_keyring is not None:
            args += ["--verify", "--keyring", str(verify_keyring)]
        try:
            result = self.run(args, Op.REGISTRY, f"helm pull {ref} --version {version}", env=_registry_env(registry_config))
        except HelmError as exc:
            if verify_keyring is None:
                raise
            raise HelmError(f"verification of {ref} --version {version} failed: {exc.reason}; {UNVERIFIED}",
                            exc.output, exc.reason) from None
        new = sorted(set(dest.glob("*.tgz")) - before) or sorted(dest.glob("*.tgz"))
        return HelmResult(result.argv, result.stdout, result.stderr, path=new[-1])

    def verify(self, archive: Path, keyring: Path) -> str:
        """``helm verify ARCHIVE --keyring K``: the signer line, or a one-line HelmError."""
        try:
            result = self.run(["verify", str(archive), "--keyring", str(keyring)], Op.OTHER, f"helm verify {archive.name}",
                              timeout=120)
        except HelmError as exc:
            raise HelmError(f"{archive.name}: verification failed: {exc.reason}; {UNVERIFIED}", exc.output,
                            exc.reason) from None
        return " ".join(ln.strip() for ln in result.stdout.splitlines() if ln.strip())

    def repo_index(self, directory: Path, url: str | None, merge: Path | None) -> HelmResult:
        """``helm repo index DIR [--url URL] [--merge OLD]``: writes DIR/index.yaml for the packages in DIR;
        with ``merge`` the entries of OLD that DIR does not have are kept as they are."""
        args = ["repo", "index", str(directory), *(["--url", url] if url else []),
                *(["--merge", str(merge)] if merge is not None else [])]
        return self.run(args, Op.OTHER, "helm repo index", timeout=300)

    # ------------------------------------------------------------------ releases in a cluster

    def upgrade_install(self, release: str, chart: str, namespace: str, values_files: tuple[Path, ...],
                        version: str | None = None, timeout: str = "5m", plain_http: bool = False,
                        registry_config: Path | None = None, kube_context: str | None = None,
                        env: Mapping[str, str] | None = None) -> HelmResult:
        """``helm upgrade --install --wait`` that rolls back on failure: ``--atomic`` on helm 3,
        ``--rollback-on-failure`` on helm 4 (which renamed it)."""
        rollback_flag = "--rollback-on-failure" if self.major >= 4 else "--atomic"
        args = ["upgrade", release, chart, "--install", "--create-namespace", "--wait", "--wait-for-jobs", "--timeout",
                timeout, rollback_flag, *_values_args(values_files)]
        if version:
            args += ["--version", version]
        if plain_http:
            args.append("--plain-http")
        return self.run(_kube(args, namespace, kube_context), Op.RELEASE, "helm upgrade --install",
                        env={**(env or {}), **_registry_env(registry_config)}, timeout=seconds(timeout) + WAIT_MARGIN)

    def rollback(self, release: str, namespace: str, revision: int | None = None, timeout: str = "5m",
                 kube_context: str | None = None, env: Mapping[str, str] | None = None) -> HelmResult:
        args = ["rollback", release, *([str(revision)] if revision is not None else []), "--wait", "--timeout", timeout]
        return self.run(_kube(args, namespace, kube_context), Op.RELEASE, "helm rollback", env=env,
                        timeout=seconds(timeout) + WAIT_MARGIN)

    def status(self, release: str, namespace: str, kube_context: str | None = None,
               env: Mapping[str, str] | None = None) -> HelmResult:
        """``helm status -o json``; ``data`` is the parsed JSON."""
        return self._json(_kube(["status", release], namespace, kube_context), "helm status", env)

    def history(self, release: str, namespace: str, kube_context: str | None = None,
                env: Mapping[str, str] | None = None) -> HelmResult:
        """``helm history -o json``; ``data`` is the list of revisions."""
        return self._json(_kube(["history", release], namespace, kube_context), "helm history", env)

    def uninstall(self, release: str, namespace: str, timeout: str = "5m", kube_context: str | None = None,
                  env: Mapping[str, str] | None = None) -> HelmResult:
        return self.run(_kube(["uninstall", release, "--wait", "--timeout", timeout], namespace, kube_context),
                        Op.RELEASE, "helm uninstall", env=env, timeout=seconds(timeout) + WAIT_MARGIN)

    def test(self, release: str, namespace: str, timeout: str = "5m", kube_context: str | None = None,
             env: Mapping[str, str] | None = None) -> HelmResult:
        """``helm test RELEASE``: runs the chart's test hooks and waits for them."""
        return self.run(_kube(["test", release, "--timeout", timeout], namespace, kube_context), Op.RELEASE,
                        "helm test", env=env, timeout=seconds(timeout) + WAIT_MARGIN)
