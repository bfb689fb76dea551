"""chartship tasks: `invoke --list` (or `chartship --list`). Written by `chartship init`.

Add this repository's own tasks below (`@task def x(c): ...` then `ns.add_task(x)`); they
appear next to chartship's."""

from pathlib import Path

from chartship.tasks import namespace

ns = namespace(Path(__file__).resolve().parent)
