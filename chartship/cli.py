"""The ``chartship`` command (and ``python -m chartship``): an invoke ``Program`` over chartship's
collection, the way invoke distributes a CLI. It needs no tasks.py: tasks find the repository by
walking up from the current folder to the nearest ``invoke.yaml`` with a ``chartship:`` section
(``chartship init`` writes one). A repository's own tasks.py keeps working with ``invoke``.
"""

from __future__ import annotations

from collections.abc import Sequence

NAME = "chartship"


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version(NAME)
    except metadata.PackageNotFoundError:
        from chartship import __version__

        return __version__


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command; ``argv`` includes the program name (as ``sys.argv`` does)."""
    from invoke.program import Program

    from chartship.tasks import namespace

    program = Program(version=version(), namespace=namespace(None), name=NAME, binary=NAME, binary_names=[NAME])
    try:
        program.run(list(argv) if argv is not None else None)
    except BrokenPipeError:  # the reader went away (`chartship --list | head`): stop quietly
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
