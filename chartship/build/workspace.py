"""A temporary copy of the charts folder, patched and with dependencies built.

lint, build and test work on this copy so the working tree never changes; a
branch build's dev version is written into the copy's Chart.yaml files only.
``helm.deps`` runs the same dependency step in place (that is its purpose).
Dependencies are built in dependency order, in parallel where the graph allows:
a chart starts once the file:// subcharts it uses are done.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from chartship.build import content, package, patches, vendored
from chartship.build.graph import SubchartFailed, run_graph
from chartship.charts import chart as chartmod
from chartship.config import PATCHES_DIR, Config
from chartship.errors import ChartError, ChartshipError, ToolError
from chartship.registry import authfile, credentials, oci
from chartship.tools.helmerrors import DependencyError, HelmError
from chartship.version import sync
from chartship.version.semver import SemVer


def closure(charts: Sequence[chartmod.Chart], names: Sequence[str]) -> list[chartmod.Chart]:
    """``names`` plus every chart they use through file://, in build order."""
    wanted = set(names)
    by_name = {c.name: c for c in charts}
    queue = list(names)
    while queue:
        for _dep, sub in chartmod.local_dependencies(by_name[queue.pop()], charts):
            if sub.name not in wanted:
                wanted.add(sub.name)
                queue.append(sub.name)
    return [c for c in chartmod.build_order(charts) if c.name in wanted]


def _needs(charts: Sequence[chartmod.Chart]) -> dict[str, list[str]]:
    return {c.name: [sub.name for _d, sub in chartmod.local_dependencies(c, charts)] for c in charts}


@dataclass
class Deps:
    """How dependency builds log in: helm is logged in to the target (once, on first use) when a chart
    has OCI dependencies on it; the same credentials as publishing (environment, or an ECR token)."""

    cfg: Config
    target: str | None = None
    environ: Mapping[str, str] | None = None
    _login: credentials.HelmLogin | None = None

    def __post_init__(self) -> None:
        authfile.protect()  # logins happen on worker threads; signal handlers need the main thread

    def env_for(self, c: chartmod.Chart) -> tuple[dict[str, str] | None, bool]:
        """(extra env, plain_http) for ``c``'s dependency build."""
        t = self.cfg.target(self.target)
        prefix = t.url.rstrip("/") + "/"
        uses = [d for d in c.dependencies if (d.repository.rstrip("/") + "/").startswith(prefix)
                or oci.Ref.host_of(d.repository) == t.host]
        if not uses:
            return None, False
        if self._login is None:
            self._login = credentials.HelmLogin(self.cfg, t, self.environ)
        return (self._login.env() or None), t.plain_http

    def close(self) -> None:
        if self._login is not None:
            self._login.close()


def _local_archives(charts_dir: Path, name: str) -> list[Path]:
    """Archives of the chart ``name`` in ``charts_dir`` (``name-<semver>.tgz``, not ``name-other-1.0.0.tgz``)."""
    found = []
    for archive in sorted(charts_dir.glob(f"{name}-*.tgz")):
        rest = archive.name[len(name) + 1:-len(".tgz")]
        if rest[:1].isdigit() and vendored.satisfies(rest, None):
            found.append(archive)
    return found


def _missing_error(c: chartmod.Chart, plan: vendored.Plan, reason: str) -> ChartError:
    what = "; ".join(f"{d.name} {d.version or '*'} from {d.repository or '(no repository)'}: {why}"
                     for d, why in plan.missing)
    return ChartError(f"{c.rel}: dependency {what}; and helm could not fetch it ({reason}). Fix: put the chart "
                      f"under {c.rel}/charts/ (`invoke helm.deps --chart {c.name}` where the repository is reachable, "
                      "then commit the archive and Chart.lock), or correct the version in Chart.yaml")


def build_one(cfg: Config, c: chartmod.Chart, source_root: Path, deps: Deps, lock: threading.Lock) -> None:
    """A chart's dependencies: when every non-file:// one is vendored (under charts/, satisfying Chart.yaml
    and Chart.lock) they are used as they are and file:// subcharts are packaged from the (prepared) working
    tree; otherwise ``helm dependency build`` runs (it also checks Chart.lock against Chart.yaml).
    file:// archives are then made reproducible."""
    if not c.dependencies:
        return
    for dep in c.dependencies:
        if dep.local_path is not None and not (c.path / dep.local_path / "Chart.yaml").is_file():
            raise ChartError(f"{c.where}: dependency {dep.name!r} points to {dep.repository}, which has no Chart.yaml; "
                             "fix the repository path")
    plan = vendored.plan(c)
    local = [d for d in c.dependencies if d.local_path is not None]
    if plan.complete and plan.vendored:  # nothing to fetch: helm dependency build would try to download them all
        (c.path / "charts").mkdir(exist_ok=True)
        for dep in local:
            for stale in _local_archives(c.path / "charts", dep.name):
                stale.unlink()
            cfg.helm.package((c.path / str(dep.local_path)).resolve(), c.path / "charts", f"{c.rel}: {dep.name}")
    else:
        with lock:  # one login at a time
            env, plain_http = deps.env_for(c)
        had_lock = (c.path / "Chart.lock").exists()
        refresh = any(d.repository.startswith(("http://", "https://")) for d, _why in plan.missing)
        try:
            cfg.helm.dependency_build(c.path, c.rel, env=env, plain_http=plain_http, refresh=refresh)
        except ToolError as exc:
            _blame_subchart(cfg, c)
            if not isinstance(exc, HelmError) or not plan.missing:
                raise
            stale_lock = isinstance(exc, DependencyError) and "Chart.lock is out of date" in str(exc)
            raise _missing_error(c, plan, str(exc) if stale_lock else exc.reason.removeprefix("Error: ")) from None
        if not had_lock:
            (c.path / "Chart.lock").unlink(missing_ok=True)  # helm wrote one with a time stamp; it was not there before
    for dep in local:
        sub_dir = (c.path / str(dep.local_path)).resolve()
        rel = sub_dir.relative_to(source_root).as_posix() if sub_dir.is_relative_to(source_root) else str(sub_dir)
        epoch = package.source_epoch(cfg.root, [rel, f"{PATCHES_DIR}/{sub_dir.name}"])
        for archive in _local_archives(c.path / "charts", dep.name):
            package.repack(archive, archive, epoch)


def _blame_subchart(cfg: Config, c: chartmod.Chart) -> None:
    """When the dependency build of ``c`` failed, a file:// subchart helm cannot load is the culprit: name it."""
    for dep in c.dependencies:
        if dep.local_path is None:
            continue
        sub = (c.path / dep.local_path).resolve()
        problem = cfg.helm.load_problem(sub)
        if problem:
            rel = Path(os.path.normpath(Path(c.rel) / dep.local_path)).as_posix()
            raise ChartError(f"{rel}: {problem} (found while building the dependencies of {c.rel}, which uses it "
                             f"through {dep.repository}); fix {rel}")


def build_dependencies(cfg: Config, charts: Sequence[chartmod.Chart], all_charts: Sequence[chartmod.Chart],
                       source_root: Path, jobs: int, target: str | None = None,
                       environ: Mapping[str, str] | None = None) -> dict[str, ChartshipError | None]:
    """Dependency builds for ``charts`` (and nothing else), subcharts before umbrellas."""
    deps = Deps(cfg, target, environ)
    lock = threading.Lock()
    ordered = [c for c in chartmod.build_order(all_charts) if c.name in {x.name for x in charts}]
    by_name = {c.name: c for c in ordered}
    try:
        return run_graph([c.name for c in ordered], _needs(all_charts),
                         lambda n: build_one(cfg, by_name[n], source_root, deps, lock), jobs)
    finally:
        deps.close()


def _skip(charts: Sequence[chartmod.Chart]) -> content.Skip:
    """Skip archives of file:// dependencies (always packaged again from the working tree, so a stale archive
    never decides) and helm's scratch folders. Vendored copies of other dependencies are kept."""
    owned = {c.name: {d.name for d in c.dependencies if d.local_path is not None} for c in charts if c.dependencies}

    def skip(rel: PurePosixPath) -> bool:
        parts = rel.parts
        if any(p in (".git", "tmpcharts") for p in parts[:-1]) or parts[-1] == ".git":
            return True
        deps = owned.get(parts[0]) if len(parts) == 3 and parts[1] == "charts" else None
        return bool(deps) and parts[2].endswith(".tgz") and any(
            parts[2].startswith(f"{d}-") and parts[2][len(d) + 1:][:1].isdigit() for d in deps or ())

    return skip


@dataclass
class Workspace:
    root: Path
    cfg: Config
    charts: list[chartmod.Chart]
    source: dict[str, chartmod.Chart]
    prepared: dict[str, ChartshipError | None] = field(default_factory=dict)
    patched: dict[str, list[str]] = field(default_factory=dict)

    def chart(self, name: str) -> chartmod.Chart:
        return next(c for c in self.charts if c.name == name)

    def problem(self, name: str) -> ChartshipError | None:
        result = self.prepared.get(name)
        return result if isinstance(result, ChartshipError) else None


def _check_local_paths(cfg: Config, charts: Sequence[chartmod.Chart]) -> dict[str, str]:
    """file:// dependencies must stay inside the repository; returns those outside the charts folder
    (repository-relative folder -> the chart that uses it), which the temp copy then carries at the
    same place, under the content policy."""
    root = cfg.root.resolve()
    base = (cfg.root / cfg.charts_dir).resolve()
    outside: dict[str, str] = {}
    for c in charts:
        for dep in c.dependencies:
            if dep.local_path is None:
                continue
            target = (c.path / dep.local_path).resolve()
            if not target.is_relative_to(root):
                raise ChartError(f"{c.where}: dependency {dep.name!r} ({dep.repository}) is outside the repository; "
                                 "chartship builds from a copy of the repository, so move the chart into it")
            if not target.is_relative_to(base):
                outside.setdefault(target.relative_to(root).as_posix(), c.name)
    return outside


def _patch(cfg: Config, c: chartmod.Chart, root: Path) -> list[str]:
    """Apply ``c``'s patch series to its copy; what the patches made obeys the content policy too."""
    applied = patches.apply_series(cfg.root, c.name, root / cfg.charts_dir / c.name)
    if applied:
        problems = content.check_copy(root / cfg.charts_dir / c.name, c.rel, c.name,
                                      cfg.chart_settings(c.name).content_policy, f"after {PATCHES_DIR}/{c.name}/")
        if problems:
            raise ChartError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return applied


def _copied(source: chartmod.Chart, path: Path, root: Path) -> chartmod.Chart:
    """The copy of ``source`` at ``path``: parsed again only when its Chart.yaml differs from the one already read
    (a chart that was not copied, an untracked one, keeps what was read; its problem is recorded)."""
    try:
        same = (path / "Chart.yaml").read_bytes() == source.text.encode("utf-8")
    except OSError:
        same = True
    if same:
        return dataclasses.replace(source, path=path, rel=path.relative_to(root).as_posix())
    return chartmod.read_chart(path, root)


@contextmanager
def prepare(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], jobs: int,
            target: str | None = None, environ: Mapping[str, str] | None = None,
            version: SemVer | None = None) -> Iterator[Workspace]:
    """Copy the charts folder to a temp dir, apply patch series, set ``version`` (a dev build) in the
    copies, and build dependencies for ``names`` and the subcharts they use. Per-chart problems are kept
    in ``Workspace.prepared``."""
    needed = closure(all_charts, names)
    outside = _check_local_paths(cfg, needed)
    with tempfile.TemporaryDirectory(prefix="chartship-") as tmp:
        root = Path(tmp)
        copied = content.copy_charts(cfg, root, [c.name for c in needed], _skip(all_charts))
        for rel, user in outside.items():  # file:// charts elsewhere in the repository, at the same relative place
            for problem in content.copy_folder(cfg, root, rel, user):
                copied.add(user, problem)
        copies = [_copied(c, root / cfg.charts_dir / c.name, root) for c in all_charts]
        ws = Workspace(root, cfg, copies, {c.name: c for c in all_charts})
        failed: dict[str, ChartshipError] = {c.name: e for c in needed if (e := copied.error(c.name)) is not None}
        for c in needed:
            if c.name not in failed:
                try:
                    ws.patched[c.name] = _patch(cfg, c, root)
                except ChartshipError as exc:
                    failed[c.name] = exc
        for c in needed:  # build order: an umbrella of a chart that already failed is not attempted
            if c.name not in failed and any(sub.name in failed for _d, sub in chartmod.local_dependencies(c, all_charts)):
                failed[c.name] = SubchartFailed(f"{c.rel}: a chart it needs failed")
        ws.charts = [chartmod.read_chart(c.path, root) if ws.patched.get(c.name) else c for c in copies]
        if version is not None:
            changed = {f.chart for f in sync.sync(cfg, version, ws.charts)}
            ws.charts = [chartmod.read_chart(c.path, root) if c.name in changed else c for c in ws.charts]
        ok = [ws.chart(c.name) for c in needed if c.name not in failed]
        ws.prepared = {**build_dependencies(cfg, ok, ws.charts, root, jobs, target, environ), **failed}
        for c in needed:  # an umbrella whose subchart failed cannot be right either (needed is in build order)
            for _d, sub in chartmod.local_dependencies(c, all_charts):
                own, theirs = ws.problem(c.name), ws.problem(sub.name)
                if theirs is not None and (own is None or isinstance(own, SubchartFailed)):
                    ws.prepared[c.name] = SubchartFailed(f"{c.rel}: not prepared because its subchart {sub.rel} "
                                                         f"failed: {theirs}")
        yield ws


def deps_in_place(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], jobs: int,
                  target: str | None = None) -> list[chartmod.Chart]:
    """``helm.deps``: build dependencies in the working tree (writes only charts/<chart>/charts/*.tgz)."""
    needed = closure(all_charts, names)
    _check_local_paths(cfg, needed)
    results = build_dependencies(cfg, needed, all_charts, cfg.root, jobs, target)
    for c in needed:
        problem = results.get(c.name)
        if isinstance(problem, ChartshipError):
            raise problem
    return [c for c in needed if c.dependencies]
