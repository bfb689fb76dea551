"""Limits for parsed YAML: an alias bomb (anchors referring to anchors, a "billion laughs")
parses into a small shared graph that expands to billions of nodes for whoever walks it
(merging values, schema checks, READMEs), and a recursive alias never ends.

:func:`check` counts the nodes the data expands to, sharing counted once per use
(an O(distinct nodes) walk), and refuses more than :data:`MAX_NODES` or a cycle.
Text without an anchor (``&``) cannot share nodes, so it is not walked at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chartship.errors import ChartshipError

MAX_NODES = 1_000_000  # a 5 MiB values.yaml has far fewer; a billion-laughs document has ~10^9
MAX_BYTES = 16 * 1024 * 1024  # YAML chartship reads itself (Chart.yaml, values, invoke.yaml)
MAX_DEPTH = 200  # flow collections inside each other; real charts use a handful
_BRACKETS = re.compile(r"[\[\]{}]")


def _children(obj: Any) -> Iterable[Any]:
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    return list(obj)


def expanded_size(data: Any, limit: int = MAX_NODES) -> int:
    """Nodes ``data`` expands to (each use of a shared node counted); raises ValueError past ``limit`` or on a cycle."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        obj, done = stack.pop()
        if not isinstance(obj, dict | list | tuple):
            continue
        oid = id(obj)
        if done:
            on_path.discard(oid)
            size = 1 + sum(sizes.get(id(c), 1) for c in _children(obj))
            if size > limit:
                raise ValueError(f"expands to more than {limit:,} nodes through its aliases")
            sizes[oid] = size
            continue
        if oid in sizes:
            continue
        if oid in on_path:
            raise ValueError("an alias refers to a node that contains it (a recursive alias)")
        on_path.add(oid)
        stack.append((obj, True))
        stack.extend((c, False) for c in _children(obj) if isinstance(c, dict | list | tuple) and id(c) not in sizes)
    return sizes.get(id(data), 1)


def check(text: str, data: Any, where: str, error: type[ChartshipError]) -> None:
    """Refuse ``data`` (parsed from ``text``) when its aliases expand it beyond the limit or into a cycle."""
    if "&" not in text:
        return
    try:
        expanded_size(data)
    except ValueError as exc:
        raise error(f"{where}: {exc}; remove the anchors (&) and aliases (*) or write the values out") from None


def check_bytes(size: int, where: str, error: type[ChartshipError]) -> None:
    if size > MAX_BYTES:
        raise error(f"{where}: {size:,} bytes, more than the {MAX_BYTES // (1024 * 1024)} MiB chartship reads as YAML; "
                    "split or shrink it")


def check_text(text: str, where: str, error: type[ChartshipError]) -> None:
    """Size, and flow nesting (``[[[[...``), which the parsers would recurse into for a long time before failing."""
    check_bytes(len(text), where, error)
    depth = 0
    for m in _BRACKETS.finditer(text):
        depth += 1 if m[0] in "[{" else -1
        if depth > MAX_DEPTH:
            raise error(f"{where}: nested more than {MAX_DEPTH} levels deep; flatten the structure")


def file_problem(path: Path, where: str) -> str | None:
    """:func:`check_text`'s refusal of the file at ``path`` as one line (naming ``where``), else None, also when
    it cannot be read (whoever reads it says why). Run before yamllint is given the file: its parser spends
    seconds of CPU on thousands of nested brackets before it gives up."""
    try:
        check_bytes(path.stat().st_size, where, ChartshipError)  # before reading a huge file
        check_text(path.read_text(encoding="utf-8"), where, ChartshipError)
    except (OSError, UnicodeDecodeError):
        return None
    except ChartshipError as exc:
        return str(exc)
    return None
