"""The one summariser of a failed program's output: the line(s) that explain the failure, as one line.

Every module under ``chartship/tools`` that reports a failure of its program uses :func:`summarise`.
It keeps the last ``Error:`` line together with the lines that continue it (helm chains a
message over several lines: an umbrella's schema failure names the subchart and the key on the
lines after ``Error: values don't meet the specifications ...``), up to the next blank line.
Without such a line it keeps the last non-empty line. A schema failure too long to keep whole is
written compactly first (:func:`chartship.tools.helmerrors.schema_failure`: every subchart and key
stays). A summary that is still too long loses the noise first -- URL query strings, then the object
dumps an API server quotes (``{...}``) -- and only then its middle, never its end: the status code or
reason sits at the end of the line.
"""

from __future__ import annotations

import re

LIMIT = 400
_QUERY = re.compile(r"(\bhttps?://[^\s\"'?]+)\?[^\s\"']*")
ELLIPSIS = "…"


def error_block(text: str) -> list[str]:
    """The stripped lines of the last block that starts with ``error`` (any case), up to a blank line;
    else the last non-empty line; [] for empty output."""
    lines = text.splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.strip().lower().startswith("error")]
    if not starts:
        last = [ln.strip() for ln in lines if ln.strip()][-1:]
        return last
    block = []
    for ln in lines[starts[-1]:]:
        if not ln.strip():
            break
        block.append(ln.strip())
    return block


def _collapse_objects(text: str) -> str:
    """``{...}`` object dumps (nested braces) replaced by ``{…}``; unbalanced braces stay."""
    out: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                out.append("{" + ELLIPSIS + "}")
        elif depth == 0:
            out.append(ch)
    if depth:  # an unclosed brace: keep what followed it
        out.append(text[start:])
    return "".join(out)


def shorten(text: str, limit: int = LIMIT) -> str:
    """``text`` within ``limit`` characters: query strings, then object dumps, then the middle go."""
    if len(text) <= limit:
        return text
    text = _QUERY.sub(r"\1?" + ELLIPSIS, text)
    if len(text) > limit:
        text = _collapse_objects(text)
    if len(text) > limit:
        tail = max(limit // 2, limit - 120)
        head = limit - tail - 1
        text = text[:head].rstrip() + ELLIPSIS + text[-tail:].lstrip()
    return text


def summarise(text: str, limit: int = LIMIT) -> str:
    """One line saying why a program failed (see the module docstring); '' for empty output. A helm schema
    failure too long for ``limit`` is first written compactly (every chart and key kept), then shortened."""
    block = error_block(text)
    line = " ".join(block)
    if len(line) > limit:
        from chartship.tools.helmerrors import schema_failure

        line = schema_failure(block, limit) or line
    return shorten(line, limit)
