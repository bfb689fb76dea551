"""A temporary copy of the charts folder, patched and with dependencies built.

lint, build and test work on this copy so the working tree never changes.
``helm.deps`` runs the same dependency step in place (that is its purpose).
Dependencies are built in dependency order, in parallel where the graph allows:
a chart starts once the file:// subcharts it uses are done.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from chartship.build import package, patches, vendored
from chartship.build.graph import run_graph
from chartship.charts import chart as chartmod
from chartship.config import PATCHES_DIR, Config
from chartship.errors import ChartError, ChartshipError
from chartship.registry import credentials, oci
from chartship.tools.helm import DependencyError, HelmError


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
        except HelmError as exc:
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


def _ignore(charts: Sequence[chartmod.Chart]) -> Callable[[str, list[str]], set[str]]:
    """Skip archives of file:// dependencies (always packaged again from the working tree, so a stale archive
    never decides) and helm's scratch folders. Vendored copies of other dependencies are kept."""
    owned = {str(c.path / "charts"): {d.name for d in c.dependencies if d.local_path is not None}
             for c in charts if c.dependencies}

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in {".git", "tmpcharts"}}
        deps = owned.get(folder)
        if deps:
            skip |= {n for n in names if n.endswith(".tgz") and any(
                n.startswith(f"{d}-") and n[len(d) + 1:][:1].isdigit() for d in deps)}
        return skip

    return ignore


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


def _check_local_paths(cfg: Config, charts: Sequence[chartmod.Chart]) -> list[str]:
    """file:// dependencies must stay inside the repository; returns those outside the charts folder
    (repository-relative), which the temp copy then carries at the same place."""
    root = cfg.root.resolve()
    base = (cfg.root / cfg.charts_dir).resolve()
    outside: list[str] = []
    for c in charts:
        for dep in c.dependencies:
            if dep.local_path is None:
                continue
            target = (c.path / dep.local_path).resolve()
            if not target.is_relative_to(root):
                raise ChartError(f"{c.where}: dependency {dep.name!r} ({dep.repository}) is outside the repository; "
                                 "chartship builds from a copy of the repository, so move the chart into it")
            rel = target.relative_to(root).as_posix()
            if not target.is_relative_to(base) and rel not in outside:
                outside.append(rel)
    return outside


def _copied(source: chartmod.Chart, path: Path, root: Path) -> chartmod.Chart:
    """The copy of ``source`` at ``path``: parsed again only when its Chart.yaml differs from the one already read."""
    try:
        same = (path / "Chart.yaml").read_bytes() == source.text.encode("utf-8")
    except OSError:
        same = False
    if same:
        return dataclasses.replace(source, path=path, rel=path.relative_to(root).as_posix())
    return chartmod.read_chart(path, root)


@contextmanager
def prepare(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], jobs: int,
            target: str | None = None, environ: Mapping[str, str] | None = None) -> Iterator[Workspace]:
    """Copy the charts folder to a temp dir, apply patch series and build dependencies for
    ``names`` and the subcharts they use. Per-chart problems are kept in ``Workspace.prepared``."""
    needed = closure(all_charts, names)
    outside = _check_local_paths(cfg, needed)
    with tempfile.TemporaryDirectory(prefix="chartship-") as tmp:
        root = Path(tmp)
        shutil.copytree(cfg.root / cfg.charts_dir, root / cfg.charts_dir, symlinks=True, ignore=_ignore(all_charts))
        for rel in outside:  # file:// charts elsewhere in the repository, at the same relative place
            shutil.copytree(cfg.root / rel, root / rel, symlinks=True, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".git", "tmpcharts"))
        copies = [_copied(c, root / cfg.charts_dir / c.name, root) for c in all_charts]
        ws = Workspace(root, cfg, copies, {c.name: c for c in all_charts})
        failed: dict[str, ChartshipError] = {}
        for c in needed:
            try:
                ws.patched[c.name] = patches.apply_series(cfg.root, c.name, root / cfg.charts_dir / c.name)
            except ChartshipError as exc:
                failed[c.name] = exc
        ws.charts = [chartmod.read_chart(c.path, root) if ws.patched.get(c.name) else c for c in copies]
        ok = [ws.chart(c.name) for c in needed if c.name not in failed]
        ws.prepared = {**build_dependencies(cfg, ok, ws.charts, root, jobs, target, environ), **failed}
        for c in needed:  # an umbrella whose subchart failed cannot be right either
            for _d, sub in chartmod.local_dependencies(c, all_charts):
                if ws.problem(sub.name) and not ws.problem(c.name):
                    ws.prepared[c.name] = ChartError(f"{c.rel}: subchart {sub.name} could not be prepared")
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
