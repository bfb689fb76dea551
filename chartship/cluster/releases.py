"""Release operations in a cluster: install/upgrade (rolling back on failure), rollback,
status, history, uninstall, test. The chart comes from the working tree (a temp copy with
dependencies built) or from the OCI target, where alias tags such as ``latest`` are resolved
to the concrete version first."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartship import proc
from chartship.build import workspace
from chartship.charts import chart as chartmod
from chartship.config import Config, Target
from chartship.errors import ConfigError, ReleaseError, VersionError
from chartship.publish import push
from chartship.tools import helm
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


def values_files(cfg: Config, chart_dir: Path, env: str | None, extra: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """The environment's values files that exist in the (working tree) chart, then ``extra``."""
    if env is None:
        return extra
    if env not in cfg.environments:
        raise ConfigError(f"--env {env!r}: not one of the configured environments ({', '.join(cfg.environments)})")
    files = tuple(chart_dir / f for f in cfg.environments[env] if (chart_dir / f).is_file())
    if not files:
        raise ConfigError(f"--env {env}: {chart_dir.name} has none of {', '.join(cfg.environments[env])}")
    return files + extra


@contextmanager
def chart_source(cfg: Config, chart: chartmod.Chart, source: str, wanted: str | None,
                 target: Target | None) -> Iterator[tuple[str, str, str | None, Target | None, Path | None]]:
    """Yields (chart path or OCI ref, concrete version, --version for helm, target, registry config)."""
    if source not in SOURCES:
        raise ConfigError(f"--source {source!r}: expected local or oci")
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
    with push.session(cfg.root, target) as s:
        repo = s.repository(chart.name)
        concrete = wanted or current
        try:
            semver.parse(semver.from_oci_tag(concrete))
        except VersionError:
            concrete = push.resolve(s.client, repo, concrete)
        yield f"oci://{target.host}/{repo}", concrete, concrete, target, s.registry_config


def last_revision(cfg: Config, place: Place) -> dict[str, Any] | None:
    result, data = helm.history(cfg.root, place.release, place.namespace, place.kube_context, place.env)
    if not result.ok or not data:
        return None
    return dict(data[-1])


def upgrade(cfg: Config, chart: chartmod.Chart, place: Place, env: str | None, source: str = "local",
            wanted: str | None = None, target: Target | None = None, timeout: str = "5m",
            extra_values: tuple[Path, ...] = ()) -> Outcome:
    """``helm upgrade --install --wait`` with the environment's values; on failure helm rolls back
    (--atomic / --rollback-on-failure) and this raises ReleaseError saying so."""
    files = values_files(cfg, chart.path, env, extra_values)
    with chart_source(cfg, chart, source, wanted, target) as (ref, concrete, helm_version, tgt, registry_config):
        result = helm.upgrade_install(cfg.root, place.release, ref, place.namespace, files, version=helm_version,
                                      timeout=timeout, plain_http=bool(tgt and tgt.plain_http),
                                      registry_config=registry_config, kube_context=place.kube_context, env=place.env)
    last = last_revision(cfg, place)
    if not result.ok:
        message = concise(proc.first_line(result.stderr or result.stdout, limit=2000))
        after = (f"; rolled back, release is at revision {last['revision']} ({last['status']})" if last
                 else "; nothing was left installed")
        raise ReleaseError(f"{place.release} ({chart.name} {concrete}) in namespace {place.namespace}: {message}{after}")
    return Outcome(place.release, place.namespace, chart.name, concrete, last["revision"] if last else None,
                   str(last["status"]) if last else "deployed")


def concise(message: str, limit: int = 400) -> str:
    """helm's error without the object dumps the API server quotes (``Invalid value: {...}``)."""
    out, depth = [], 0
    for ch in message:
        if ch == "{":
            depth += 1
            if depth == 1:
                out.append("{…}")
        elif ch == "}" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rollback(cfg: Config, place: Place, revision: int | None = None, timeout: str = "5m") -> Outcome:
    result = helm.rollback(cfg.root, place.release, place.namespace, revision, timeout, place.kube_context, place.env)
    if not result.ok:
        raise ReleaseError(f"rollback of {place.release} in {place.namespace} failed: "
                           f"{proc.first_line(result.stderr or result.stdout)}")
    last = last_revision(cfg, place) or {}
    return Outcome(place.release, place.namespace, str(last.get("chart", "")), str(last.get("app_version", "")),
                   last.get("revision"), str(last.get("status", "")))


def status(cfg: Config, place: Place) -> dict[str, Any]:
    """helm status -o json; helm 4 leaves out the chart, so ``chart_ref``/``app_version`` come from the last revision."""
    result, data = helm.status(cfg.root, place.release, place.namespace, place.kube_context, place.env)
    if not result.ok:
        raise ReleaseError(f"status of {place.release} in {place.namespace}: {proc.first_line(result.stderr)}")
    out = dict(data)
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
    result, data = helm.history(cfg.root, place.release, place.namespace, place.kube_context, place.env)
    if not result.ok:
        raise ReleaseError(f"history of {place.release} in {place.namespace}: {proc.first_line(result.stderr)}")
    return [dict(d) for d in data or []]


def uninstall(cfg: Config, place: Place, timeout: str = "5m") -> None:
    result = helm.uninstall(cfg.root, place.release, place.namespace, timeout, place.kube_context, place.env)
    if not result.ok:
        raise ReleaseError(f"uninstall of {place.release} in {place.namespace}: {proc.first_line(result.stderr)}")


def test(cfg: Config, place: Place, timeout: str = "5m") -> str:
    result = helm.run_tests(cfg.root, place.release, place.namespace, timeout, place.kube_context, place.env)
    if not result.ok:
        raise ReleaseError(f"helm test {place.release} in {place.namespace} failed: "
                           f"{proc.first_line(result.stderr or result.stdout)}")
    return result.stdout
