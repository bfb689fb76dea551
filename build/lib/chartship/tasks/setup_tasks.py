"""invoke setup-dev: a development checkout ready to commit (top-level task)."""

from __future__ import annotations

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import edge


@task
@edge
def setup_dev(c: Context) -> None:
    """Set up a checkout: git hooks (hooks.install), then chart dependencies (helm.deps)."""
    from chartship.tasks import helm_tasks, hooks_tasks

    hooks_tasks.install(c)
    helm_tasks.deps(c)
