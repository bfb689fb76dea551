"""chartship init: adopt an existing repository (top-level task)."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import edge


@task(
    positional=["path"],
    help={
        "path": "the repository to adopt (default: the current folder)",
        "force": "replace files that exist and differ (default: keep them and show the difference)",
        "dry_run": "print what would be written; write nothing",
        "port": "port of the embedded registry target `local` (default 5000)",
    },
)
@edge
def init(c: Context, path: str = ".", force: bool = False, dry_run: bool = False, port: int = 5000) -> None:
    """Turn a repository with Helm charts into a chartship repository; no chart file changes."""
    from pathlib import Path

    from chartship import report
    from chartship.adopt import adopt, write
    from chartship.cli import version

    result = adopt.adopt(Path(path).resolve(), version(), force=force, dry_run=dry_run, port=port)
    found = result.findings
    report.out(f"charts in {found.charts_dir}/: " + ", ".join(f"{ch.name} {ch.version}" for ch in found.charts))
    how = f"version file {found.version}" if found.versioning == "lockstep" else \
        "the charts have different versions: each Chart.yaml keeps its own, no version file"
    report.out(f"versioning: {found.versioning} ({how}); appVersion: pinned")
    envs = found.environments
    report.out("environments: " + (", ".join(envs) if envs else "none (no values-<env>.yaml)"))
    tests = [f"{ch.name}/{t}" for ch in found.charts for t in ch.test_values]
    if tests:
        report.out("chart-testing values: " + ", ".join(tests))
    verb = "would be " if dry_run else ""
    for o in result.outcomes:
        report.out(f"  {o.path}: {verb}{o.status}" if o.changed else f"  {o.path}: {o.status}")
        if o.diff:
            report.out(o.diff.rstrip("\n"))
    if any(o.status == write.DIFFERS for o in result.outcomes):
        report.note("files that differ were kept; merge the difference by hand, or run again with --force")
    if not dry_run:
        report.out("next:")
        for step in adopt.NEXT_STEPS:
            report.out(f"  {step}")
