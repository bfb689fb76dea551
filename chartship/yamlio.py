"""YAML reading with positions, and surgical edits that change only one scalar.

Edits replace the characters of a single scalar in the original text, so
comments, key order, quoting, indentation and line endings stay byte-for-byte
as they were. Every edit is verified by parsing the result again.
"""

from __future__ import annotations

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
    yamllimits.check(text, data, where, error)
    return data


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
    return text, loads(text, where, error)


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
