"""Console output: tables (rich on a terminal, plain box-drawn text elsewhere, e.g. CI logs), JSON for machines.
rich is imported lazily."""

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


def _width(text: str) -> int:
    import unicodedata

    return len(text) if text.isascii() else sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def plain_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The table rich draws (its default box, title above), without wrapping: a cell keeps its whole text."""
    lines = [[cell.splitlines() or [""] for cell in row] for row in rows]
    widths = [max([_width(col), *(_width(part) for row in lines for part in row[i])]) for i, col in enumerate(columns)]

    def rule(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def line(edge: str, cells: Sequence[str]) -> str:
        return edge + edge.join(f" {c}{' ' * (w - _width(c))} " for c, w in zip(cells, widths, strict=True)) + edge

    top = rule("┏", "━", "┳", "┓")
    out = [title + " " * max(0, len(top) - _width(title)), top, line("┃", columns), rule("┡", "━", "╇", "┩")]
    for row in lines:
        for k in range(max(len(cell) for cell in row)):
            out.append(line("│", [cell[k] if k < len(cell) else "" for cell in row]))
    out.append(rule("└", "─", "┴", "┘"))
    return "\n".join(out)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], stderr: bool = False) -> None:
    stream = sys.stderr if stderr else sys.stdout
    cells = [["" if v is None else redact(str(v)) for v in row] for row in rows]
    if not stream.isatty():  # rich costs ~10 ms a row; a log needs no colours or wrapping
        print(plain_table(redact(title), columns, cells), file=stream, flush=True)
        return
    from rich.markup import escape
    from rich.table import Table

    # cells are data, not markup: `containers[svc-001]` must print as it is
    t = Table(title=escape(redact(title)), title_justify="left", show_lines=False)
    for col in columns:
        t.add_column(escape(col), overflow="fold")
    for row in cells:
        t.add_row(*map(escape, row))
    _console(stderr).print(t)
