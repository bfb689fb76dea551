"""helm.unittest: the helm-unittest suites of every chart (``tests/*_test.yaml`` and
``unittests/*_test.yaml`` by default), run by the pinned plugin from chartship's private
``HELM_PLUGINS`` folder with whichever helm chartship uses (3 or 4).

Charts run on a temporary copy with dependencies built (an umbrella's suites can assert on its
subcharts' templates). Results come from the plugin's JUnit file, per chart, suite and test; a
chart without suites is reported as ``no suites``, never as a pass. ``--update-snapshot``
passes through, and the updated ``__snapshot__`` folders are copied back next to the suites.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartship.build import workspace
from chartship.charts import chart as chartmod
from chartship.config import Config
from chartship.outcome import FAILED as FAIL
from chartship.outcome import OK
from chartship.outcome import SKIPPED as SKIP
from chartship.tools import peers
from chartship.tools.helm import HelmError
from chartship.tools.summary import summarise

PEER = "helm-unittest"
NO_SUITES = "no suites"
SNAPSHOT_DIR = "__snapshot__"
_SUITE_KEY = re.compile(r"^suite:\s*(.+?)\s*$", re.MULTILINE)


@dataclass
class Test:
    name: str
    status: str
    message: str = ""


@dataclass
class Suite:
    name: str
    file: str  # relative to the project root
    tests: list[Test] = field(default_factory=list)

    @property
    def status(self) -> str:
        return FAIL if any(t.status == FAIL for t in self.tests) or not self.tests else OK


@dataclass
class ChartRun:
    chart: str
    rel: str
    status: str = OK
    suites: list[Suite] = field(default_factory=list)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"chart": self.chart, "path": self.rel, "status": self.status, "message": self.message,
                "suites": [{"suite": s.name, "file": s.file, "status": s.status,
                            "tests": [{"test": t.name, "status": t.status, "message": t.message} for t in s.tests]}
                           for s in self.suites]}


@dataclass
class Result:
    helm_version: str
    charts: list[ChartRun]

    @property
    def ok(self) -> bool:
        return all(c.status != FAIL for c in self.charts)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "helm": self.helm_version, "charts": [c.as_dict() for c in self.charts]}


def suite_files(chart_dir: Path, globs: Sequence[str]) -> list[Path]:
    return sorted({p for g in globs for p in chart_dir.glob(g) if p.is_file()})


def suite_name(path: Path) -> str:
    m = _SUITE_KEY.search(path.read_text(encoding="utf-8", errors="replace"))
    return m.group(1).strip("'\"") if m else path.name


def one_line(text: str, limit: int = 400) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def parse_junit(text: str, files: Mapping[str, str]) -> list[Suite]:
    """helm-unittest's JUnit report as suites; ``files`` maps suite names to their files."""
    suites = []
    # the report is written by the pinned plugin into our own temp folder, not fetched from anywhere
    for ts in ET.fromstring(text).iter("testsuite"):  # noqa: S314
        name = ts.get("name", "")
        suite = Suite(name, files.get(name, ""))
        for tc in ts.iter("testcase"):
            bad = tc.find("failure")
            if bad is None:
                bad = tc.find("error")
            if bad is not None:
                suite.tests.append(Test(tc.get("name", ""), FAIL, one_line(bad.text or bad.get("message") or "")))
            elif tc.find("skipped") is not None:
                suite.tests.append(Test(tc.get("name", ""), SKIP))
            else:
                suite.tests.append(Test(tc.get("name", ""), OK))
        suites.append(suite)
    return suites


def _run_chart(cfg: Config, c: chartmod.Chart, source: chartmod.Chart, globs: Sequence[str], update_snapshot: bool,
               env: Mapping[str, str]) -> ChartRun:
    run = ChartRun(c.name, source.rel)
    files = {suite_name(p): f"{source.rel}/{p.relative_to(c.path).as_posix()}" for p in suite_files(c.path, globs)}
    with tempfile.TemporaryDirectory(prefix="chartship-unittest-") as tmp:
        report = Path(tmp) / "junit.xml"
        args = ["unittest", "--output-type", "JUnit", "--output-file", str(report)]
        args += [a for g in globs for a in ("--file", g)]
        if update_snapshot:
            args.append("--update-snapshot")
        ok = True
        try:
            out = cfg.helm.run([*args, str(c.path)], what=f"helm unittest {source.rel}", env=env, timeout=900)
            text = out.stdout + "\n" + out.stderr
        except HelmError as exc:
            ok, text = False, exc.output
        text = text.replace(str(c.path), source.rel)
        if report.is_file() and report.stat().st_size:
            try:
                run.suites = parse_junit(report.read_text(encoding="utf-8"), files)
            except ET.ParseError as exc:
                run.message = f"helm-unittest wrote an unreadable JUnit report ({exc})"
    if update_snapshot:
        _copy_snapshots(c.path, source.path)
    if not ok or run.message or any(s.status == FAIL for s in run.suites) or not run.suites:
        run.status = FAIL
        if not run.message:
            failed = [t for s in run.suites for t in s.tests if t.status == FAIL]
            run.message = (f"{len(failed)} test(s) failed" if failed
                           else f"helm unittest failed: {summarise(text)}")
    return run


def _copy_snapshots(copy: Path, source: Path) -> None:
    for snap in copy.rglob(SNAPSHOT_DIR):
        if snap.is_dir() and "charts" not in snap.relative_to(copy).parts[:1]:
            dest = source / snap.relative_to(copy)
            shutil.copytree(snap, dest, dirs_exist_ok=True)


def run(cfg: Config, all_charts: Sequence[chartmod.Chart], names: Sequence[str], jobs: int, globs: Sequence[str],
        update_snapshot: bool = False, target: str | None = None, environ: Mapping[str, str] | None = None) -> Result:
    """Every chart in ``names`` with suites, in parallel; the others are reported as ``no suites``."""
    version = cfg.helm.version
    by_name = {c.name: c for c in all_charts}
    with_suites = [n for n in names if suite_files(by_name[n].path, globs)]
    runs = {n: ChartRun(n, by_name[n].rel, NO_SUITES, message=f"no file matches {', '.join(globs)}")
            for n in names if n not in with_suites}
    if with_suites:
        env = peers.plugin_env(cfg.root, PEER)
        with workspace.prepare(cfg, all_charts, with_suites, jobs, target, environ) as ws:
            todo = []
            for name in with_suites:
                problem = ws.problem(name)
                if problem is not None:
                    runs[name] = ChartRun(name, by_name[name].rel, FAIL, message=str(problem))
                else:
                    todo.append(name)
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                done = pool.map(lambda n: _run_chart(cfg, ws.chart(n), by_name[n], globs, update_snapshot, env), todo)
                runs.update({r.chart: r for r in done})
    return Result(version, [runs[n] for n in names])
