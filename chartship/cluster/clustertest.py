"""The cluster test, per chart and values set, each in a fresh namespace: with the test set
(values-test.yaml, else the defaults) install the previous published version (if there is one),
upgrade to the working tree, helm test, roll back, uninstall; every other values set (each
environment, each ci/*-values.yaml) is installed, tested and uninstalled. A pod the scheduler
cannot place fails its step fast (:mod:`chartship.cluster.scheduling`). On failure it prints the
namespace's events, pod status and logs."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chartship.charts import chart as chartmod
from chartship.charts import values
from chartship.cluster import releases, scheduling
from chartship.cluster.providers import Cluster
from chartship.config import Config, Target
from chartship.errors import ChartshipError
from chartship.outcome import FAILED, OK, SKIPPED, Outcome
from chartship.registry import credentials
from chartship.tools import kubectl
from chartship.version import semver, versioning


@dataclass(kw_only=True)
class Step(Outcome):
    """One step of one chart's cluster test."""

    chart: str
    step: str
    seconds: float
    values: str = ""  # the values set the step ran with

    def as_dict(self) -> dict[str, object]:
        return {"chart": self.chart, "step": self.step, "values": self.values, "status": self.status,
                "seconds": self.seconds, "message": self.message}


def _step(chart: str, name: str, status: str, seconds: float, message: str = "", values_set: str = "") -> Step:
    return Step(chart=chart, step=name, status=status, seconds=seconds, messages=[message] if message else [],
                values=values_set)


def previous_version(cfg: Config, chart: str, target: Target | None) -> tuple[str | None, str]:
    """The highest published version below the working tree's, and why there is none."""
    if target is None:
        return None, "no target to look for a previous version"
    from chartship.publish import deploy
    from chartship.tools import registry_server

    port = deploy.local_port(target)
    if port is not None and not registry_server.answering(target.host.partition(":")[0], port):
        return None, f"the local registry ({target.url}) is not running"
    current = versioning.versions(cfg, chartmod.discover(cfg, [chart]))[chart]
    try:
        with credentials.session(cfg, target, login_helm=False) as s:
            tags = s.client.tags(s.repository(chart))
    except ChartshipError as exc:
        return None, f"could not list published versions ({exc})"
    older = []
    for tag in tags:
        try:
            v = semver.parse(semver.from_oci_tag(tag))
        except ChartshipError:
            continue  # alias tags such as latest
        if v < current:
            older.append(v)
    if not older:
        return None, f"no published version below {current} on {target.url}"
    return str(max(older)), ""


def run_chart(cfg: Config, ch: chartmod.Chart, cluster: Cluster, target: Target | None,
              log: Callable[[str], None], timeout: str = "3m", grace: float = scheduling.GRACE) -> list[Step]:
    """Every values set of the chart, each in a fresh namespace: the test set (values-test.yaml, else the
    defaults) goes through install previous, upgrade, helm test, rollback and uninstall; every other set
    (environments, ci/*-values.yaml) is installed, tested and uninstalled; its steps carry its name."""
    sets = values.values_sets(cfg, ch.path)
    primary = next((s for s in sets if s.name == values.TEST), sets[0])
    steps = _cycle(cfg, ch, cluster, target, log, timeout, grace, primary, True)
    for vs in sets:
        if vs is not primary:
            steps += _cycle(cfg, ch, cluster, target, log, timeout, grace, vs, False)
    return steps


def _cycle(cfg: Config, ch: chartmod.Chart, cluster: Cluster, target: Target | None, log: Callable[[str], None],
           timeout: str, grace: float, vs: values.ValuesSet, full: bool) -> list[Step]:
    namespace = f"ct-{ch.name}-{secrets.token_hex(3)}"[:63]
    place = releases.Place(ch.name, namespace, cluster.context, {"KUBECONFIG": str(cluster.kubeconfig)})
    files = tuple(ch.path / f for f in vs.files)
    what = f"{ch.name} [{vs.name}]"
    suffix = "" if full else f" [{vs.name}]"
    steps: list[Step] = []

    def step(name: str, action: Callable[[], str]) -> bool:
        name += suffix
        started = time.monotonic()
        with scheduling.watching(cfg.root, cluster.kubeconfig, namespace, cluster.context, cfg.helm.path, what,
                                 grace) as watch:
            try:
                message = action()
                problem = None
            except ChartshipError as exc:
                problem = str(exc)
        if problem is not None or watch.problem is not None:
            problem = watch.problem or problem
            steps.append(_step(ch.name, name, FAILED, time.monotonic() - started, str(problem), vs.name))
            log(f"{what}: {name} failed: {problem}")
            for line in kubectl.diagnostics(cfg.root, cluster.kubeconfig, namespace, cluster.context):
                log(f"  {line}")
            return False
        steps.append(_step(ch.name, name, OK, time.monotonic() - started, message, vs.name))
        log(f"{what}: {name} ok {message}".rstrip())
        return True

    def install(source: str, version: str | None, tgt: Target | None) -> str:
        return _describe(releases.upgrade(cfg, ch, place, None, source, version, tgt, timeout, files))

    try:
        previous, why = previous_version(cfg, ch.name, target) if full else (None, "")
        if previous:
            ok = step("install previous", lambda: install("oci", previous, target))
        else:
            if full:
                steps.append(_step(ch.name, "install previous", SKIPPED, 0.0, why, vs.name))
            ok = step("install", lambda: install("local", None, None))
        if full:
            ok = ok and step("upgrade", lambda: install("local", None, None))
        ok = ok and step("helm test", lambda: _test_summary(releases.test(cfg, place, timeout)))
        if full:
            ok = ok and step("rollback", lambda: _describe(releases.rollback(cfg, place, None, timeout)))
        if releases.last_revision(cfg, place) is not None:
            step("uninstall", lambda: _uninstall(cfg, place, timeout))
        else:
            steps.append(_step(ch.name, "uninstall" + suffix, SKIPPED, 0.0, "nothing is installed", vs.name))
    finally:
        kubectl.delete_namespace(cfg.root, cluster.kubeconfig, namespace, cluster.context)
    return steps


def _uninstall(cfg: Config, place: releases.Place, timeout: str) -> str:
    releases.uninstall(cfg, place, timeout)
    return ""


def _describe(out: releases.Outcome) -> str:
    return f"({out.chart} {out.version}, revision {out.revision}, {out.status})"


def _test_summary(stdout: str) -> str:
    """``(NAME: Succeeded, ...)`` from helm test's output; helm prints ``TEST SUITE: None`` for a chart without tests."""
    suites = [ln.split(":", 1)[1].strip() for ln in stdout.splitlines() if ln.startswith("TEST SUITE:")]
    phases = [ln.split(":", 1)[1].strip() for ln in stdout.splitlines() if ln.strip().startswith("Phase:")]
    named = [s for s in suites if s != "None"]
    if not named:
        return "(no test hooks)" if suites else ""
    return f"({', '.join(named)}: {', '.join(phases) or 'no phase reported'})"


def run(cfg: Config, charts: Sequence[chartmod.Chart], cluster: Cluster, target: Target | None,
        log: Callable[[str], None], timeout: str = "3m") -> list[Step]:
    """Every chart in turn; a chart's failure does not stop the others. ``timeout`` bounds each
    install, upgrade, helm test and rollback (helm's --timeout)."""
    steps: list[Step] = []
    for ch in charts:
        steps += run_chart(cfg, ch, cluster, target, log, timeout)
    return steps


