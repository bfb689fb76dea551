"""invoke hooks.*: the git hooks (pre-commit) that keep versions, charts and READMEs in step."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import edge, root


@task
@edge
def install(c: Context) -> None:
    """Install the git hooks of .pre-commit-config.yaml into .git/hooks (pre-commit install)."""
    from chartship import report
    from chartship.tools import precommit

    result = precommit.install(root(c))
    report.out(result.stdout.strip() or "pre-commit hooks installed")


@task(help={"hook": "run only this hook id (e.g. version-sync); default: every hook"})
@edge
def run(c: Context, hook: str = "") -> None:
    """Run every hook on every file (pre-commit run --all-files)."""
    from chartship import report
    from chartship.errors import CheckFailed
    from chartship.tools import precommit

    result = precommit.run_all(root(c), hook or None)
    if result.stdout.strip():
        report.out(result.stdout.rstrip())
    if result.stderr.strip():
        report.note(result.stderr.rstrip())
    if not result.ok:
        raise CheckFailed("")
