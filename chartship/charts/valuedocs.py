"""The configuration table of a chart README: values.yaml's keys and helm-docs' comment conventions.

A key's documentation is the comment block directly above it (the ``#`` lines up to the key, no
blank line between). The conventions of helm-docs that public charts use are honoured:

- ``# -- text`` starts the description; the ``#`` lines after it continue it (multi-line);
- ``# -- (type) text`` also sets the Type column (``(int)``, ``(object)``, ``(tpl/array)`` ...);
- ``# @default -- text`` shows ``text`` as the default instead of the value;
- ``# @ignored`` (or ``# -- @ignored``) leaves the key, and everything under it, out of the table;
- other ``# @name`` annotations (``@section``, ``@raw``, ``@notationType``) end the description and are
  not shown.

Rows are the leaves of values.yaml (scalars, lists, empty maps), dotted by path; a documented map
whose children carry no ``# --`` comment of their own is one row with the whole map as its default.
Defaults are JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship import yamlio
from chartship.errors import ChartError

DOC_PREFIX = "# --"
_TYPE = re.compile(r"^\((?P<type>[A-Za-z][\w/.-]*)\)\s*(?P<rest>.*)$")
_ANNOTATION = re.compile(r"^#\s*@(?P<name>[A-Za-z]+)\b\s*(?:--\s*)?(?P<text>.*)$")


@dataclass(frozen=True)
class ValueRow:
    """One row of the configuration table."""

    key: str
    type: str
    default: str
    description: str


@dataclass(frozen=True)
class KeyDoc:
    """What the comment block above one key says."""

    description: str | None  # None: no ``# --`` line (undocumented)
    type: str | None = None
    default: str | None = None
    ignored: bool = False


UNDOCUMENTED = KeyDoc(None)


def plain(value: Any) -> Any:
    """ruamel round-trip objects -> plain JSON-able Python values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if value is None:
        return "null"
    return "string"


def parse_block(block: list[str]) -> KeyDoc:
    """The helm-docs reading of the stripped comment lines above a key."""
    ignored = any(text in ("# @ignored", "# -- @ignored") for text in block)
    default = None
    for text in block:
        m = _ANNOTATION.match(text)
        if m and m["name"] == "default":
            default = m["text"].strip()
    starts = [n for n, text in enumerate(block) if text.startswith(DOC_PREFIX)]
    if not starts:
        return KeyDoc(None, None, default, ignored)
    first = block[starts[-1]][len(DOC_PREFIX):].strip()
    rest: list[str] = []
    for text in block[starts[-1] + 1:]:
        if _ANNOTATION.match(text):
            break
        rest.append(text.lstrip("#").strip())
    kind = None
    m = _TYPE.match(first)
    if m:
        kind, first = m["type"], m["rest"]
    if first == "@ignored":
        first = ""
    return KeyDoc(" ".join(part for part in [first, *rest] if part), kind, default, ignored)


def key_doc(lines: list[str], node: Any, key: Any) -> KeyDoc:
    """The documentation of ``key`` of ``node`` (a ruamel mapping read from ``lines``)."""
    try:
        line_no, col = node.lc.key(key)
    except (AttributeError, KeyError, TypeError):
        return UNDOCUMENTED
    if line_no >= len(lines) or lines[line_no][:col].strip():
        return UNDOCUMENTED  # not the first thing on its line (flow mapping): no comment block of its own
    block: list[str] = []
    i = line_no - 1
    while i >= 0 and lines[i].lstrip().startswith("#"):
        block.insert(0, lines[i].strip())
        i -= 1
    return parse_block(block)


def _key_text(key: Any) -> str:
    text = str(key)
    return f'"{text}"' if re.search(r"[.\s\"]", text) else text


def _has_documented_child(lines: list[str], node: Any) -> bool:
    for key, value in node.items():
        doc = key_doc(lines, node, key)
        if doc.ignored:
            continue
        if doc.description is not None:
            return True
        if isinstance(value, dict) and _has_documented_child(lines, value):
            return True
    return False


def _walk(lines: list[str], node: Any, prefix: str) -> Iterator[ValueRow]:
    for key, value in node.items():
        path = f"{prefix}{_key_text(key)}"
        doc = key_doc(lines, node, key)
        if doc.ignored:
            continue
        if isinstance(value, dict) and value and (doc.description is None or _has_documented_child(lines, value)):
            yield from _walk(lines, value, f"{path}.")
            continue
        value = plain(value)
        yield ValueRow(
            key=path,
            type=doc.type or type_name(value),
            default=doc.default if doc.default is not None else json.dumps(value, ensure_ascii=False,
                                                                             separators=(",", ":")),
            description=doc.description or "",
        )


def value_rows(chart_dir: Path) -> list[ValueRow]:
    """The configuration table of ``chart_dir/values.yaml``, in file order."""
    path = chart_dir / "values.yaml"
    if not path.is_file():
        raise ChartError(f"{path}: file not found; a chart needs values.yaml (an empty file is fine) to document it")
    text, data = yamlio.load_file(path, str(path), ChartError)
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ChartError(f"{path}: must be a mapping of keys at the top level, got {type(data).__name__}; fix the file")
    return list(_walk(text.splitlines(), data, ""))
