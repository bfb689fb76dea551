"""Release operations in a cluster: install/upgrade (rolling back on failure), rollback,
status, history, uninstall, test. The chart comes from the working tree (a temp copy with
dependencies built) or from the OCI target, where alias tags such as ``latest`` are resolved
to the concrete version first."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartship.build import workspace
from chartship.charts import chart as chartmod
from chartship.charts import values
from chartship.config import Config, Target
from chartship.errors import ConfigError, ReleaseError, VersionError
from chartship.pagestarget import PagesTarget
from chartship.publish import push
from chartship.registry import credentials
from chartship.tools.helm import HelmError
from chartship.version import semver, versioning

SOURCES = ("local", "oci")


@dataclass(frozen=True)
class Place:
    """Where a release lives."""

    release: str
    namespace: str
    kube_context: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # e.g. KUBECONFIG for a test cluster


@dataclass(frozen=True)
class Outcome:
    release: str
    namespace: str
    chart: str
    version: str
    revision: int | None
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"release": self.release, "namespace": self.namespace, "chart": self.chart, "version": self.version,
                "revision": self.revision, "status": self.status}


@contextmanager
def chart_source(cfg: Config, chart: chartmod.Chart, source: str, wanted: str | None, target: Target | None,
                 verify_keyring: Path | None = None) -> Iterator[tuple[str, str, str | None, Target | None, Path | None]]:
    """Yields (chart path or OCI ref, concrete version, --version for helm, target, registry config). With
    ``verify_keyring`` the published chart is pulled with ``--verify`` first and that archive is installed."""
    if source not in SOURCES:
        raise ConfigError(f"--source {source!r}: expected local or oci")
    if verify_keyring is not None and source != "oci":
        raise ConfigError("--verify checks the provenance of a published chart: add --source oci (a chart in the "
                          "working tree is not signed)")
    current = str(versioning.versions(cfg, [chart])[chart.name])
    if source == "local":
        if wanted not in (None, "", "latest", current):
            raise ConfigError(f"--version {wanted}: the working tree holds {current}; use --source oci for other versions")
        with workspace.prepare(cfg, chartmod.discover(cfg), [chart.name], cfg.jobs) as ws:
            problem = ws.problem(chart.name)
            if problem is not None:
                raise problem
            yield str(ws.root / cfg.charts_dir / chart.name), current, None, None, None
        return
    assert target is not None
    if isinstance(target, PagesTarget):
        raise ConfigError(f"--source oci: target {target.name} is a classic chart repository (type: pages); install "
                          f"from it with `helm repo add {target.name} {target.url}` and `helm install {target.name}/CHART`")
    with credentials.session(cfg, target) as s:
        repo = s.repository(chart.name)
        concrete = wanted or current
        try:
            semver.parse(semver.from_oci_tag(concrete))
        except VersionError:
            concrete = push.resolve(s.client, repo, concrete)
        if verify_keyring is None:
            yield s.base(chart.name), concrete, concrete, target, s.registry_config
            return
        with tempfile.TemporaryDirectory(prefix="chartship-verified-") as tmp:
            archive = cfg.helm.pull(s.base(chart.name), concrete, Path(tmp), target.plain_http, s.registry_config,
                                    verify_keyring).archive
            yield str(archive), concrete, None, target, s.registry_config


def _failed(what: str, place: Place, exc: HelmError) -> ReleaseError:
    """The one translation of a helm failure into a ReleaseError naming the release and its namespace."""
    return ReleaseError(f"{what} {place.release} in {place.namespace} failed: {exc.reason}")


def last_revision(cfg: Config, place: Place) -> dict[str, Any] | None:
    """The release's newest revision; None when there is none (or it cannot be read)."""
    try:
        data = cfg.helm.history(place.release, place.namespace, place.kube_context, place.env).data
    except HelmError:
        return None
    return dict(data[-1]) if data else None


def upgrade(cfg: Config, chart: chartmod.Chart, place: Place, env: str | None, source: str = "local",
            wanted: str | None = None, target: Target | None = None, timeout: str = "5m",
            extra_values: tuple[Path, ...] = (), verify_keyring: Path | None = None) -> Outcome:
    """``helm upgrade --install --wait`` with the environment's values; on failure helm rolls back
    (--atomic / --rollback-on-failure) and this raises ReleaseError saying so."""
    chosen = values.values_set(cfg, chart.path, env).files if env is not None else ()
    files = tuple(chart.path / f for f in chosen) + extra_values
    failure: HelmError | None = None
    with chart_source(cfg, chart, source, wanted, target, verify_keyring) as (ref, concrete, helm_version, tgt, registry_config):
        try:
            cfg.helm.upgrade_install(place.release, ref, place.namespace, files, version=helm_version, timeout=timeout,
                                     plain_http=bool(tgt and tgt.plain_http), registry_config=registry_config,
                                     kube_context=place.kube_context, env=place.env)
        except HelmError as exc:
            failure = exc
    last = last_revision(cfg, place)
    if failure is not None:
        after = (f"; rolled back, release is at revision {last['revision']} ({last['status']})" if last
                 else "; nothing was left installed")
        raise ReleaseError(f"{place.release} ({chart.name} {concrete}) in namespace {place.namespace}: "
                           f"{failure.reason}{after}")
    return Outcome(place.release, place.namespace, chart.name, concrete, last["revision"] if last else None,
                   str(last["status"]) if last else "deployed")


def rollback(cfg: Config, place: Place, revision: int | None = None, timeout: str = "5m") -> Outcome:
    try:
        cfg.helm.rollback(place.release, place.namespace, revision, timeout, place.kube_context, place.env)
    except HelmError as exc:
        raise _failed("rollback of", place, exc) from None
    last = last_revision(cfg, place) or {}
    return Outcome(place.release, place.namespace, str(last.get("chart", "")), str(last.get("app_version", "")),
                   last.get("revision"), str(last.get("status", "")))


def status(cfg: Config, place: Place) -> dict[str, Any]:
    """helm status -o json; helm 4 leaves out the chart, so ``chart_ref``/``app_version`` come from the last revision."""
    try:
        out = dict(cfg.helm.status(place.release, place.namespace, place.kube_context, place.env).data)
    except HelmError as exc:
        raise _failed("status of", place, exc) from None
    metadata = (out.get("chart") or {}).get("metadata") or {}
    if metadata.get("name") and metadata.get("version"):
        out.setdefault("chart_ref", f"{metadata['name']}-{metadata['version']}")
        out.setdefault("app_version", metadata.get("appVersion"))
    else:
        last = last_revision(cfg, place) or {}
        out.setdefault("chart_ref", last.get("chart"))
        out.setdefault("app_version", last.get("app_version"))
    return out


def status_line(data: dict[str, Any]) -> str:
    """One line for people: release, status, revision, namespace, chart, app version, last deployed."""
    info = data.get("info") or {}
    chart = data.get("chart_ref") or "(chart unknown)"
    app = f", app {data['app_version']}" if data.get("app_version") else ""
    return (f"{data.get('name')}: {info.get('status')} revision {data.get('version')} in {data.get('namespace')} "
            f"(chart {chart}{app}, updated {info.get('last_deployed')})")


def history(cfg: Config, place: Place) -> list[dict[str, Any]]:
    try:
        data = cfg.helm.history(place.release, place.namespace, place.kube_context, place.env).data
    except HelmError as exc:
        raise _failed("history of", place, exc) from None
    return [dict(d) for d in data or []]


def uninstall(cfg: Config, place: Place, timeout: str = "5m") -> None:
    try:
        cfg.helm.uninstall(place.release, place.namespace, timeout, place.kube_context, place.env)
    except HelmError as exc:
        raise _failed("uninstall of", place, exc) from None


def test(cfg: Config, place: Place, timeout: str = "5m") -> str:
    try:
        return cfg.helm.test(place.release, place.namespace, timeout, place.kube_context, place.env).stdout
    except HelmError as exc:
        raise _failed("helm test", place, exc) from None
