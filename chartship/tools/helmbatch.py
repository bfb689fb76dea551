"""The helm batch helper: many ``helm lint``/``template``/``package`` jobs in one process, built from
helm's own Go packages at the locked helm version.

``chartship/data/helmbatch/v3`` and ``v4`` are Go modules (package data) whose go.mod requires
``helm.sh/helm/v3``/``v4`` at exactly the version of ``[helm3]``/``[helm4]`` in tools.lock.toml. Each
job prints what the helm CLI prints for the same command (``tests/test_helmbatch.py`` compares them).

Protocol: the helper reads ``{"workers": 1, "jobs": [{"id", "op", "chart", "values", "strict",
"release", "namespace", "api_versions", "dest"}]}`` on stdin and writes one JSON line per job,
``{"id", "ok", "exit", "stdout", "stderr", "error"}``. helm's packages keep settings and loggers in
package-level state, so a helper runs one job at a time; callers start one helper per worker.

Built with the machine's Go through :func:`chartship.tools.gobuild.cached` into
``<cache>/helmbatch/<key>/`` (key: helm version, Go version, the module's files, :data:`RECIPE`) by
``tools.install --batch`` (and ``ci/bootstrap`` for the test sessions); never inside a lint. :func:`for_helm`
finds the build for one helm's exact version without running Go; ``CHARTSHIP_HELM_BATCH=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chartship import config, data, proc
from chartship.errors import ToolError
from chartship.tools import gobuild
from chartship.tools import install as installmod
from chartship.tools.gobuild import GoEnv
from chartship.tools.helm import Helm, parse_version
from chartship.tools.summary import summarise

MODULES = data.path("helmbatch")
BINARY = "helmbatch"
RECIPE = "2"  # bump when the build recipe changes, so cached builds are not reused
ENV = "CHARTSHIP_HELM_BATCH"
MAJORS = (3, 4)
EXPECTED_BUILD = "5-10 min cold on 2 cores, under a minute once Go's build cache holds helm's packages"
SECONDS_PER_JOB = 30.0  # helper timeout: 120 s + this per job
# The commit of each locked helm release: the official binaries stamp it (``helm version``, and templates see it
# as .Capabilities.HelmVersion.GitCommit), so the helper does too.
GIT_COMMITS = {"3.17.2": "cc0bbbd6d6276b83880042c1ecb34087e84d41eb", "4.3.1": "c0d08d0d6d9424d4a14febb5e8a3e51b0dd00dff"}


@dataclass(frozen=True)
class Job:
    id: str
    op: str  # lint | template | package
    chart: str
    values: tuple[str, ...] = ()
    strict: bool = False
    release: str = ""
    namespace: str = ""
    api_versions: tuple[str, ...] = ()
    dest: str = ""


@dataclass(frozen=True)
class Output:
    """What the helm CLI would have printed for one job (``error``: the helper could not run it)."""

    id: str
    ok: bool
    exit: int
    stdout: str
    stderr: str
    error: str = ""


@dataclass(frozen=True)
class Helper:
    path: Path
    helm_version: str  # "3.17.2"
    directory: Path = field(default_factory=Path)
    how: str = "cache"


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    return config.env(ENV, environ).strip() != "0"


def pinned_version(major: int) -> str:
    table = installmod.read_toml(data.path("tools.lock.toml"))
    entry = table.get(f"helm{major}")
    version = entry.get("version") if isinstance(entry, dict) else None
    if not isinstance(version, str):
        raise ToolError(f"{data.label(data.path('tools.lock.toml'))}: [helm{major}] has no version; "
                        f"{installmod.BROKEN_DATA_HINT}")
    return version


def module_dir(major: int) -> Path:
    return MODULES / f"v{major}"


def check_module(major: int, version: str) -> None:
    """The module's go.mod requires helm.sh/helm/vN at exactly ``version``, and its go.sum exists."""
    folder = module_dir(major)
    where = data.label(folder)
    try:
        text = (folder / "go.mod").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ToolError(f"{where}/go.mod: not found; {installmod.BROKEN_DATA_HINT}") from None
    if not (folder / "go.sum").is_file():
        raise ToolError(f"{where}/go.sum: not found; run `go mod tidy` in {where}")
    upstream = f"helm.sh/helm/v{major}"
    found = [p[-1] for p in (ln.split() for ln in gobuild.go_mod_lines(text)) if len(p) >= 2 and p[-2] == upstream]
    if found != [f"v{version}"]:
        raise ToolError(f"{where}/go.mod: requires {upstream} {found[0] if found else 'nothing'}, tools.lock.toml "
                        f"pins helm{major} {version}; make them agree")


def ldflags(major: int, version: str) -> str:
    """What helm's Makefile stamps into its binary: the version and commit, and for helm 3 the Kubernetes version
    of client-go + 1 (the default .Capabilities.KubeVersion and the deprecation checks)."""
    commit = GIT_COMMITS.get(version)
    if commit is None:
        raise ToolError(f"chartship/tools/helmbatch.py: no git commit known for helm {version}; add the release's "
                        "commit (`helm version`) to GIT_COMMITS")
    base = f"helm.sh/helm/v{major}/internal/version"
    flags = ["-s", "-w", f"-X {base}.version=v{version}", f"-X {base}.gitCommit={commit}", f"-X {base}.gitTreeState=clean"]
    if major == 3:
        text = (module_dir(major) / "go.mod").read_text(encoding="utf-8")
        found = [p[-1] for p in (ln.split() for ln in gobuild.go_mod_lines(text)) if len(p) >= 2 and p[-2] == "k8s.io/client-go"]
        if not found:
            raise ToolError(f"{data.label(module_dir(major))}/go.mod: requires no k8s.io/client-go; run `go mod tidy`")
        kube_major, kube_minor = gobuild.version_tuple(found[0])[:2]
        for pkg in ("helm.sh/helm/v3/pkg/lint/rules", "helm.sh/helm/v3/pkg/chartutil"):
            flags += [f"-X {pkg}.k8sVersionMajor={kube_major + 1}", f"-X {pkg}.k8sVersionMinor={kube_minor}"]
    return " ".join(flags)


def module_hash(major: int) -> str:
    h = hashlib.sha256(RECIPE.encode() + b"\0")
    folder = module_dir(major)
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name in ("go.mod", "go.sum", "main.go")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def cache_key(major: int, version: str, go: GoEnv) -> str:
    h = hashlib.sha256()
    for part in (module_hash(major), version, ldflags(major, version), go.version, go.goos, go.goarch):
        h.update(part.encode() + b"\0")
    return f"helmbatch-{version}-go{go.version}-{h.hexdigest()[:12]}"


def cache(environ: Mapping[str, str] | None = None) -> Path:
    return installmod.cache_dir(environ) / "helmbatch"


def build(major: int, environ: Mapping[str, str] | None = None, jobs: int | None = None,
          log: Callable[[str], None] = lambda _msg: None) -> Helper:
    """The helper for the locked helm ``major``, built first (with a progress line) when it is not cached."""
    version = pinned_version(major)
    check_module(major, version)
    folder = module_dir(major)
    flags = ldflags(major, version)
    go = gobuild.go_env(environ)
    gobuild.require_go(go, (folder / "go.mod").read_text(encoding="utf-8"), f"{data.label(folder)}/go.mod")

    def _build(dest: Path) -> float:
        log(f"building the helm {version} batch helper with go{go.version} ({EXPECTED_BUILD})")
        return gobuild.go_build(go, folder, str(dest / BINARY), ["."], flags, jobs or os.cpu_count() or 1,
                                f"helmbatch {version}", dest.parent)

    manifest = {"helm": version, "module": module_hash(major), "go": go.version}
    final, how = gobuild.cached(cache(environ), cache_key(major, version, go), (BINARY,), _build, manifest)
    return Helper(final / BINARY, version, final, how)


def install(environ: Mapping[str, str] | None = None, jobs: int | None = None,
            log: Callable[[str], None] = lambda _msg: None) -> list[Helper]:
    """``tools.install --batch``: the helper of every locked helm major."""
    return [build(major, environ, jobs, log) for major in MAJORS]


def find(version: str, environ: Mapping[str, str] | None = None) -> Helper | None:
    """A finished build for helm ``version`` ("3.17.2") from the current module files, or None. Runs no Go:
    the Go version that built it does not matter to what it runs."""
    major = parse_version(version)[0]
    if major not in MAJORS or not module_dir(major).is_dir():
        return None
    want = module_hash(major)
    try:
        folders = sorted(cache(environ).glob(f"helmbatch-{version}-go*"))
    except OSError:
        return None
    for folder in folders:
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        binary = folder / BINARY
        if manifest.get("helm") == version and manifest.get("module") == want and os.access(binary, os.X_OK):
            return Helper(binary, version, folder)
    return None


def for_helm(helm: Helm, environ: Mapping[str, str] | None = None) -> Helper | None:
    """The helper to use instead of ``helm``'s CLI: enabled, built, and for exactly ``helm``'s version."""
    if not enabled(environ):
        return None
    version = helm.version.removeprefix("v")
    return find(version, environ)


def timeout(count: int) -> float:
    return 120 + SECONDS_PER_JOB * count


def run(helper: Helper, jobs: Sequence[Job], env: Mapping[str, str] | None = None) -> dict[str, Output]:
    """Run ``jobs`` in one helper process: each job's output by id. A job the helper did not report is
    missing from the result (the caller runs it with the CLI); a helper that cannot start is a ToolError.
    ``env``: what the helm CLI would get beyond the environment (:attr:`Helm.env`)."""
    if not jobs:
        return {}
    request = json.dumps({"workers": 1, "jobs": [asdict(j) for j in jobs]})
    limit = timeout(len(jobs))
    try:
        result = proc.run([str(helper.path)], env=dict(env) if env else None, stdin=request, timeout=limit)
    except proc.TimeoutExpired:
        raise ToolError(f"the helm batch helper did not finish {len(jobs)} jobs within "
                        f"{proc.effective_timeout(limit):g}s; set {ENV}=0 to use the helm CLI") from None
    except OSError as exc:
        raise ToolError(f"{helper.path}: cannot run the helm batch helper ({exc.strerror or exc}); "
                        f"run `invoke tools.install --batch` or set {ENV}=0") from None
    outputs: dict[str, Output] = {}
    for line in result.stdout.splitlines():
        try:
            item = json.loads(line)
            out = Output(str(item["id"]), bool(item["ok"]), int(item["exit"]), str(item["stdout"]),
                         str(item["stderr"]), str(item.get("error", "")))
        except (ValueError, KeyError, TypeError):
            continue
        outputs[out.id] = out
    if not outputs and not result.ok:
        raise ToolError(f"the helm batch helper failed: {summarise(result.stderr) or result.returncode}; "
                        f"set {ENV}=0 to use the helm CLI")
    return outputs


def split(items: Sequence[Job], workers: int, chunk: int = 8) -> list[list[Job]]:
    """``items`` in at most ``workers`` contiguous parts of at least ``chunk`` jobs: one helper process each."""
    if not items:
        return []
    parts = max(1, min(workers, len(items) // chunk))
    size = -(-len(items) // parts)
    return [list(items[i:i + size]) for i in range(0, len(items), size)]
