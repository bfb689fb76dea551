"""invoke helm.install / upgrade / rollback / status / history / uninstall / values-release / set-image-tag."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from invoke.context import Context
from invoke.tasks import Task, task

from chartship.tasks.common import config, edge

if TYPE_CHECKING:
    from chartship.charts.chart import Chart
    from chartship.cluster.releases import Place
    from chartship.config import Config

PLACE_HELP = {
    "chart": "the chart (required when the repository has several)",
    "release": "release name (default: the chart name)",
    "namespace": "namespace (default: default)",
    "kube_context": "kubeconfig context (default: the current one)",
}
INSTALL_HELP = {
    **PLACE_HELP,
    "env": "environment whose values files to apply (dev, staging, prod, ...)",
    "version": "chart version, or an alias tag such as latest (resolved to the real version first)",
    "source": "local (the working tree, default) or oci (the published chart on the target)",
    "target": "release target for --source oci (default: default_target)",
    "timeout": "how long to wait for resources and hooks (default 5m)",
    "values": "extra values file (repeatable), applied after the environment's",
    "json": "print the result as JSON",
    "verify": "with --source oci: install only a chart whose provenance verifies against the public keyring",
    "keyring": "public keyring for --verify (default signing.verify_keyring / CHARTSHIP_VERIFY_KEYRING)",
}


def _chart(cfg: Config, name: str) -> Chart:
    from chartship.charts import chart as chartmod
    from chartship.errors import ChartError

    if name:
        return chartmod.discover(cfg, [name])[0]
    charts = chartmod.discover(cfg)
    if len(charts) != 1:
        raise ChartError(f"--chart is required: this repository has {len(charts)} charts "
                         f"({', '.join(c.name for c in charts) or 'none'})")
    return charts[0]


def _place(chart: str, release: str, namespace: str, kube_context: str) -> Place:
    from chartship.cluster.releases import Place

    return Place(release or chart, namespace or "default", kube_context or None)


def _existing(cfg: Config, chart: str, release: str, namespace: str, kube_context: str) -> Place:
    """The place of an existing release: --release, else the chart's name."""
    return _place(release or _chart(cfg, chart).name, release, namespace, kube_context)


@task(iterable=["values"], help=INSTALL_HELP)
@edge
def install(c: Context, chart: str = "", env: str = "", version: str = "", source: str = "local", target: str = "",
            release: str = "", namespace: str = "", kube_context: str = "", timeout: str = "5m",
            values: list[str] | None = None, json: bool = False, verify: bool = False, keyring: str = "") -> None:
    """helm upgrade --install --wait with an environment's values; rolls back on failure; --verify checks the
    published chart's signature first."""
    from pathlib import Path

    from chartship import report
    from chartship.cluster import releases
    from chartship.config import release_target

    cfg = config(c, default_target=target or None)
    ch = _chart(cfg, chart)
    tgt = release_target(cfg) if source == "oci" else None
    extra = tuple(Path(v).resolve() for v in values or [])
    from chartship.tasks.publish_tasks import _keyring

    ring = _keyring(cfg.root, keyring) if verify else None
    out = releases.upgrade(cfg, ch, _place(ch.name, release, namespace, kube_context), env or None, source,
                          version or None, tgt, timeout, extra, ring)
    if json:
        report.emit_json(out.as_dict())
    else:
        report.out(f"{out.release}: {out.chart} {out.version} {out.status} in namespace {out.namespace} "
                   f"(revision {out.revision})")


# helm.upgrade is the same operation as helm.install (helm upgrade --install)
upgrade: Task[Any] = Task(install.body, name="upgrade", help=INSTALL_HELP, iterable=["values"])


@task(help={**PLACE_HELP, "revision": "revision to return to (default: the previous one)", "timeout": "wait time"})
@edge
def rollback(c: Context, chart: str = "", release: str = "", namespace: str = "", kube_context: str = "",
             revision: int = 0, timeout: str = "5m") -> None:
    """helm rollback to the previous (or a given) revision and wait."""
    from chartship import report
    from chartship.cluster import releases

    cfg = config(c)
    place = _existing(cfg, chart, release, namespace, kube_context)
    out = releases.rollback(cfg, place, revision or None, timeout)
    report.out(f"{out.release}: rolled back, now revision {out.revision} ({out.status})")


@task(help={**PLACE_HELP, "json": "print helm's JSON"})
@edge
def status(c: Context, chart: str = "", release: str = "", namespace: str = "", kube_context: str = "",
           json: bool = False) -> None:
    """Show a release's status (helm status -o json, parsed)."""
    from chartship import report
    from chartship.cluster import releases

    cfg = config(c)
    data = releases.status(cfg, _existing(cfg, chart, release, namespace, kube_context))
    if json:
        report.emit_json(data)
        return
    report.out(releases.status_line(data))


@task(help={**PLACE_HELP, "json": "print helm's JSON"})
@edge
def history(c: Context, chart: str = "", release: str = "", namespace: str = "", kube_context: str = "",
            json: bool = False) -> None:
    """Show a release's revisions (helm history -o json, parsed)."""
    from chartship import report
    from chartship.cluster import releases

    cfg = config(c)
    rows = releases.history(cfg, _existing(cfg, chart, release, namespace, kube_context))
    if json:
        report.emit_json(rows)
        return
    report.table("history", ["revision", "status", "chart", "app version", "updated", "description"],
                 [(r.get("revision"), r.get("status"), r.get("chart"), r.get("app_version"), r.get("updated"),
                   r.get("description")) for r in rows])


@task(help={**PLACE_HELP, "timeout": "wait time"})
@edge
def uninstall(c: Context, chart: str = "", release: str = "", namespace: str = "", kube_context: str = "",
              timeout: str = "5m") -> None:
    """helm uninstall --wait."""
    from chartship import report
    from chartship.cluster import releases

    cfg = config(c)
    place = _existing(cfg, chart, release, namespace, kube_context)
    releases.uninstall(cfg, place, timeout)
    report.out(f"{place.release}: uninstalled from {place.namespace}")


@task(iterable=["image_tag", "image_repo", "key"],
      help={"image_tag": "image tag to pin: TAG for every --key, or KEY=TAG (repeatable)",
            "image_repo": "also pin the repository: REPO for every --key, or KEY=REPO (repeatable); a registry host "
                          "goes into the mapping's registry when it has one",
            "chart": PLACE_HELP["chart"], "key": "values path of an image mapping (repeatable; default image)",
            "output": "file to write or merge into (default values.release.yaml)"})
@edge
def values_release(c: Context, image_tag: list[str] | None = None, image_repo: list[str] | None = None, chart: str = "",
                   key: list[str] | None = None, output: str = "values.release.yaml") -> None:
    """Write (or merge into) values.release.yaml pinning image tags (and repositories) for installing a published chart."""
    from pathlib import Path

    from chartship import report
    from chartship.charts import releasevalues
    from chartship.version.versionfile import write_atomic

    cfg = config(c)
    pins = releasevalues.parse_pins(image_tag or [], image_repo or [], key or [])
    ch = _chart(cfg, chart)
    path = Path(output) if Path(output).is_absolute() else cfg.root / output
    shown = str(path.relative_to(cfg.root) if path.is_relative_to(cfg.root) else path)
    existed = path.exists()
    text = releasevalues.render(ch, pins, path, shown)
    write_atomic(path, text)
    report.out(f"{'updated' if existed else 'wrote'} {shown}: " + ", ".join(f"{p.key}.tag={p.tag}" for p in pins))


@task(iterable=["chart"], help={"tag": "the application image tag", "chart": "chart (repeatable; default: all charts "
                                "whose values.yaml has the key)", "key": "values path of the image mapping (default image)",
                                "dry_run": "show the change, write nothing"})
@edge
def set_image_tag(c: Context, tag: str, chart: list[str] | None = None, key: str = "image", dry_run: bool = False) -> None:
    """Set <key>.tag in values.yaml in place, keeping comments, order and quoting."""
    from chartship import report
    from chartship.charts import chart as chartmod
    from chartship.charts import imagetag
    from chartship.errors import ChartError

    cfg = config(c)
    imagetag.check_tag(tag)
    charts = chartmod.discover(cfg, chart or [])
    changes = []
    for ch in charts:
        try:
            changes.append(imagetag.set_tag(ch, tag, key, dry_run=True))
        except ChartError:
            if chart:
                raise
    if not changes:
        raise ChartError(f"no chart's values.yaml has a `{key}` mapping; pass --key")
    for ch in charts:
        if any(x.file == f"{ch.rel}/values.yaml" for x in changes) and not dry_run:
            imagetag.set_tag(ch, tag, key)
    for x in changes:
        report.out(f"{'would set' if dry_run else 'set'} {x.file}: {x.key} {x.found!r} -> {x.expected!r}")
