"""invoke helm.index: the index.yaml of a classic (HTTP) chart repository from the built packages."""

from __future__ import annotations

from pathlib import Path

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import config, edge


@task(iterable=["chart"], help={
    "url": "base URL the repository is served from (the packages' URLs in the index; default: the pages "
           "target's url, else relative URLs)",
    "merge": "the current index.yaml to merge into: a file or an http(s) URL (default: OUT/index.yaml when it "
             "exists, or the branch of --target)",
    "target": "a pages target: merge into the index on its branch and use its url",
    "out": "folder to write index.yaml and the new packages (.tgz, .prov) into (default dist/repo)",
    "chart": "only this chart (repeatable)",
    "json": "print what was written as JSON"})
@edge
def index(c: Context, url: str = "", merge: str = "", target: str = "", out: str = "dist/repo",
          chart: list[str] | None = None, json: bool = False) -> None:
    """Build or merge the index.yaml of a classic chart repository from dist/charts; a version already in the
    index with another digest is refused and nothing is written."""
    from chartship import report
    from chartship.errors import ConfigError
    from chartship.pagestarget import PagesTarget
    from chartship.publish import index as indexmod
    from chartship.publish import pages
    from chartship.publish import push as pushmod

    cfg = config(c)
    packages = pushmod.load_packages(cfg.dist_dir, chart or [])
    old = indexmod.read_old(merge, cfg.root) if merge else None
    if target:
        tgt = cfg.target(target)
        if not isinstance(tgt, PagesTarget):
            raise ConfigError(f"--target {target}: not a pages target (type: pages); give --url and --merge instead")
        url = url or tgt.url
        old = old or pages.read_index(cfg, tgt)
    folder = Path(out) if Path(out).is_absolute() else cfg.root / out
    written = indexmod.build(cfg.helm, packages, folder, url or None, old)
    if json:
        report.emit_json(written.as_dict())
        return
    shown = folder.relative_to(cfg.root) if folder.is_relative_to(cfg.root) else folder
    report.table(f"chart repository ({shown})", ["chart", "version", "result", "digest"],
                 [(p.chart, p.version, "added", f"sha256:{p.sha256}"[:19]) for p in written.added]
                 + [(p.chart, p.version, "already in the index", f"sha256:{p.sha256}"[:19]) for p in written.same])
    report.out(f"wrote {shown}/{indexmod.INDEX}" if written.index_changed else f"{shown}/{indexmod.INDEX} is up to date")
