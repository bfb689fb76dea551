"""Console output: rich tables for people, JSON for machines. rich is imported lazily."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from chartship.secrets import redact


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160
    return Console(file=stream, highlight=False, soft_wrap=False, width=width)


def out(message: str) -> None:
    print(redact(message), flush=True)


def note(message: str) -> None:
    """Progress and notes go to stderr so stdout stays parseable."""
    print(redact(message), file=sys.stderr, flush=True)


def error(message: str) -> None:
    print(redact(f"error: {message}"), file=sys.stderr, flush=True)


def emit_json(data: Any) -> None:
    print(redact(json.dumps(data, indent=2, sort_keys=False)), flush=True)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], stderr: bool = False) -> None:
    from rich.table import Table

    t = Table(title=title, title_justify="left", show_lines=False)
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*("" if v is None else redact(str(v)) for v in row))
    _console(stderr).print(t)
