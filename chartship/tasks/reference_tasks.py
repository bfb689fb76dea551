"""invoke docs.*: the reference pages generated from the code (tasks, configuration)."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import edge, root


@task(help={"check": "exit 1, naming the stale page, if a generated page differs from the code; write nothing"})
@edge
def reference(c: Context, check: bool = False) -> None:
    """Write docs/reference/tasks.md (every task and flag) and docs/reference/configuration.md (every setting)."""
    from chartship import config, report
    from chartship import reference as ref
    from chartship.tasks import namespace

    top = root(c)
    wanted = ref.pages(namespace(top), config.SETTINGS)
    if check:
        ref.check(top, wanted)
        report.out(f"ok: {len(wanted)} reference page(s) up to date")
        return
    changed = ref.write(top, wanted)
    for path in changed:
        report.out(f"wrote {path}")
    if not changed:
        report.out(f"{len(wanted)} reference page(s) already up to date")
