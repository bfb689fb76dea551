"""chartship tasks. All logic lives in the chartship package; run `invoke --list`."""

from pathlib import Path

from chartship.tasks import namespace

ns = namespace(Path(__file__).resolve().parent)
