"""YAML reading with positions, and surgical edits that change only one scalar.

:func:`read_file` is the fast read for callers that only look at the data (every Chart.yaml a run reads):
libyaml (PyYAML's C parser) with chartship's own YAML 1.2 scalar rules, plain dicts and lists. It is exact or
it declines: anything where it could differ from the round-trip reader (anchors, tags, duplicate or merge
keys, dates, non-decimal numbers, a ``%YAML`` directive, tabs, any syntax error) is read by ruamel instead,
so the data and every error stay those of :func:`load_file`.

Edits replace the characters of a single scalar in the original text, so
comments, key order, quoting, indentation and line endings stay byte-for-byte
as they were. Every edit is verified by parsing the result again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from chartship import yamllimits
from chartship.errors import ChartshipError


def _yaml() -> YAML:
    return YAML(typ="rt", pure=True)


def loads(text: str, where: str, error: type[ChartshipError]) -> Any:
    """Parse YAML text; a syntax error becomes ``error`` naming ``where`` and the line."""
    yamllimits.check_text(text, where, error)
    try:
        data = _yaml().load(text)
    except RecursionError:
        raise error(f"{where}: nested too deeply to read; flatten the structure") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        pos = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise error(f"{where}{pos}: invalid YAML ({exc.problem}); fix the syntax") from None
    except YAMLError as exc:
        raise error(f"{where}: invalid YAML ({exc}); fix the syntax") from None
    except TypeError:  # ruamel hashing a key that holds a list (``? {a: [x]}``)
        raise error(f"{where}: invalid YAML (a mapping key that is a list or holds one); use plain keys") from None
    yamllimits.check(text, data, where, error)
    return data


class _Decline(Exception):
    """The fast reader cannot be sure it reads this text as ruamel would."""


_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\.[0-9]+")
_SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)(?:[-+][0-9A-Za-z.+-]*)?")
_TAG = re.compile(r"(?:^|[\s\[{,])[!&*]", re.MULTILINE)  # where a tag, anchor or alias may start
_MARKER = re.compile(r"^%|^\.\.\.|(?<!\A)^---", re.MULTILINE)  # one leading --- is fine; more is ruamel's call
_MAX_FAST_DEPTH = 64  # Chart.yaml files nest a handful of levels
_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


def _plain(value: str) -> Any:
    """A plain scalar as YAML 1.2's core schema (ruamel's) reads it; _Decline where in doubt."""
    if value in _NULLS:
        return None
    if value in _BOOLS:
        return _BOOLS[value]
    if value[0] in "0123456789+-.":
        if _INT.fullmatch(value):
            return int(value)
        if _FLOAT.fullmatch(value):
            return float(value)
        if not _SEMVER.fullmatch(value):  # octal, hex, 1_000, 1e3, .inf, dates, 1:20, ...
            raise _Decline(value)
    if value in ("=", "<<"):
        raise _Decline(value)
    return value


def _tag(value: Any) -> str:
    kind = {bool: "bool", int: "int", float: "float", str: "str"}.get(type(value), "null")
    return f"tag:yaml.org,2002:{kind}"


def _build(node: Any, seen: set[int], depth: int = 0) -> Any:
    import yaml

    if depth > _MAX_FAST_DEPTH:  # where ruamel's recursion gives up is its own affair
        raise _Decline("deep")
    if id(node) in seen:  # an alias: ruamel and yamllimits deal with those
        raise _Decline("alias")
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        value = _plain(node.value) if node.style == "" else node.value
        if node.tag != _tag(value):  # an explicit tag
            raise _Decline("tag")
        return value
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _SEQ:
            raise _Decline("tag")
        return [_build(item, seen, depth + 1) for item in node.value]
    if node.tag != _MAP:
        raise _Decline("tag")
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or (key_node.style == "" and key_node.value == "<<"):
            raise _Decline("key")
        key = _build(key_node, seen, depth + 1)
        if key in out:
            raise _Decline("duplicate key")
        out[key] = _build(value_node, seen, depth + 1)
    return out


def _resolve(_loader: Any, kind: Any, value: Any, implicit: Any) -> str:
    """libyaml's tag for an untagged node: chartship's YAML 1.2 rules instead of PyYAML's YAML 1.1 ones."""
    import yaml

    if kind is yaml.ScalarNode:
        return _tag(_plain(value)) if implicit[0] else _STR
    return _SEQ if kind is yaml.SequenceNode else _MAP


def _fast(text: str) -> Any:
    import yaml

    if "\t" in text or _TAG.search(text) or _MARKER.search(text):
        raise _Decline("a tab, tag, anchor, directive or document marker")  # ruamel keeps a tag, even !!str
    loader = yaml.CSafeLoader(text)
    loader.resolve = _resolve.__get__(loader)  # type: ignore[method-assign]
    try:
        node = loader.get_single_node()
    except yaml.YAMLError:
        raise _Decline("syntax") from None
    finally:
        loader.dispose()
    return None if node is None else _build(node, set())


def read_file(path: Path, where: str, error: type[ChartshipError]) -> tuple[str, Any]:
    """:func:`load_file`'s text and data as plain dicts and lists (no positions), read fast where that is exact."""
    text = _read_text(path, where, error)
    yamllimits.check_text(text, where, error)
    try:
        data = _fast(text)
    except (_Decline, RecursionError):
        return text, loads(text, where, error)
    yamllimits.check(text, data, where, error)
    return text, data


def dumps(data: Any) -> str:
    """Round-trip YAML text of ``data`` (comments of loaded data kept), block style, 2-space indents."""
    import io

    buf = io.StringIO()
    yaml = _yaml()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.dump(data, buf)
    return buf.getvalue()


def load_file(path: Path, where: str, error: type[ChartshipError]) -> tuple[str, Any]:
    """Read and parse a YAML file; returns (text, data)."""
    text = _read_text(path, where, error)
    return text, loads(text, where, error)


def _read_text(path: Path, where: str, error: type[ChartshipError]) -> str:
    try:
        yamllimits.check_bytes(path.stat().st_size, where, error)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{where}: file not found") from None
    except OSError as exc:
        raise error(f"{where}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{where}: not UTF-8 text; save it as UTF-8") from None
    return text


def key_line(node: Any, key: str) -> int:
    """1-based line of ``key`` in its mapping."""
    line, _col = node.lc.key(key)
    return int(line) + 1


def _scalar_end(line: str, col: int, in_flow: bool) -> int:
    """Index just past the scalar that starts at ``col`` of ``line``."""
    quote = line[col]
    if quote == '"':
        i = col + 1
        while i < len(line):
            if line[i] == "\\":
                i += 2
                continue
            if line[i] == '"':
                return i + 1
            i += 1
        return -1
    if quote == "'":
        i = col + 1
        while i < len(line):
            if line[i] == "'":
                if line[i + 1 : i + 2] == "'":
                    i += 2
                    continue
                return i + 1
            i += 1
        return -1
    end = len(line.rstrip("\r\n"))
    stops = [line.find(" #", col)]
    if in_flow:
        stops += [line.find(",", col), line.find("}", col), line.find("]", col)]
    for s in stops:
        if s != -1:
            end = min(end, s)
    return len(line[:end].rstrip())


def replace_scalar(text: str, node: CommentedMap, key: str, new: str, in_flow: bool = False) -> str:
    """Return ``text`` with the scalar value of ``node[key]`` set to ``new``.

    The value keeps its quoting style; ``new`` must be a plain-safe string
    (a version, for example). Raises ``ValueError`` when the value is not a
    one-line scalar.
    """
    line_no, col = node.lc.value(key)
    lines = text.splitlines(keepends=True)
    line = lines[line_no]
    end = _scalar_end(line, col, in_flow)
    if end <= col:
        raise ValueError(f"value of {key!r} is not a one-line scalar")
    quote = line[col] if line[col] in "\"'" else ""
    lines[line_no] = line[:col] + quote + new + quote + line[end:]
    return "".join(lines)


def insert_after_key(text: str, node: CommentedMap, after: str, key: str, value: str) -> str:
    """Insert ``key: "value"`` on the line after top-level key ``after``."""
    line_no, col = node.lc.key(after)
    lines = text.splitlines(keepends=True)
    eol = "\r\n" if lines[line_no].endswith("\r\n") else "\n"
    if not lines[line_no].endswith(("\n", "\r")):
        lines[line_no] += eol
    lines.insert(line_no + 1, " " * col + f'{key}: "{value}"{eol}')
    return "".join(lines)
