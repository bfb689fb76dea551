"""A small, fast reader for the plain subset of YAML that Chart.yaml and invoke.yaml use.

It exists so that the version-sync hook can check a repository of many charts in
about the time the interpreter takes to start: importing and running ruamel.yaml
costs more than everything else the check does. It is only ever used to *check*;
every edit goes through ruamel (:mod:`chartship.yamlio`).

The reader is exact or it declines. It understands block mappings with plain keys,
block sequences, one-line plain and quoted scalars, one-line flow collections,
comments, and block scalars (``|``/``>``, whose text it skips and reports as
:data:`OPAQUE`). Anything else -- anchors, aliases, tags, multi-line flow or quoted
scalars, document markers, tabs, CR line endings, duplicate keys -- raises
:class:`Unsupported`, and the caller uses the full parser instead. Plain scalars
that YAML could resolve to something other than a string (numbers, booleans,
dates, null words) are :data:`OPAQUE` too, except semantic versions, which are
strings for every YAML resolver. Only genuine strings compare equal to a version.
"""

from __future__ import annotations

import re
from typing import Any


class Unsupported(Exception):
    """The text uses YAML this reader does not handle (or is not valid YAML)."""


class _Opaque:
    """A value the reader did not turn into Python: a block scalar or a non-string plain scalar."""

    def __repr__(self) -> str:
        return "OPAQUE"


OPAQUE: Any = _Opaque()

_KEY_RE = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_./-]*):(?: +(.*))?$")
_FLOW_KEY_RE = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_./-]*): +")
_BLOCK_SCALAR_RE = re.compile(r"[|>][-+]?(?: +#.*)?$")
_SEMVER_LIKE_RE = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)(?:[-+][0-9A-Za-z.+-]*)?")
_NON_STRING_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"}
_INDICATORS = "&*!|>%@`?,[]{}#'\""
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/"}


def _plain(text: str) -> Any:
    """A one-line plain scalar: a string when YAML surely reads it as one, else OPAQUE."""
    if ": " in text or text.endswith(":") or " #" in text or text[0] in _INDICATORS:
        raise Unsupported(text)
    if text[0] in "-:" and text[1:2] in ("", " "):
        raise Unsupported(text)
    if text.lower() in _NON_STRING_WORDS:
        return OPAQUE
    if text[0] in "0123456789+-." and not _SEMVER_LIKE_RE.fullmatch(text):
        return OPAQUE
    return text


def _key(text: str) -> str:
    if _plain(text) is OPAQUE:
        raise Unsupported(f"key {text!r} is not a plain string")
    return text


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The quoted scalar starting at ``text[start]`` and the index just past it."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if quote == "'" and ch == "'":
            if text[i + 1 : i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), i + 1
        if quote == '"' and ch == "\\":
            escaped = _SIMPLE_ESCAPES.get(text[i + 1 : i + 2])
            if escaped is None:
                raise Unsupported(text)
            out.append(escaped)
            i += 2
            continue
        if quote == '"' and ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise Unsupported(text)  # the scalar continues on the next line


def _rest_is_comment(text: str, i: int) -> None:
    rest = text[i:]
    if rest.strip() and not (rest.startswith(" ") and rest.lstrip().startswith("#")):
        raise Unsupported(text)


def _strip_comment(text: str) -> str:
    if text.startswith("#"):
        return ""
    cut = text.find(" #")
    return (text if cut == -1 else text[:cut]).rstrip()


class _Flow:
    """One-line flow collection: ``[a, "b"]`` or ``{k: v, k2: [x]}``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def _skip_spaces(self) -> None:
        while self.i < len(self.text) and self.text[self.i] == " ":
            self.i += 1

    def node(self) -> Any:
        self._skip_spaces()
        if self.i >= len(self.text):
            raise Unsupported(self.text)
        ch = self.text[self.i]
        if ch in "[{":
            return self.collection()
        if ch in "'\"":
            value, self.i = _quoted(self.text, self.i)
            return value
        end = self.i
        while end < len(self.text) and self.text[end] not in ",[]{}":
            end += 1
        word = self.text[self.i : end].rstrip()
        if not word or ":" in word or "#" in word:
            raise Unsupported(self.text)
        self.i = end
        return _plain(word)

    def collection(self) -> Any:
        opening = self.text[self.i]
        closing = "]" if opening == "[" else "}"
        self.i += 1
        items: list[Any] = []
        mapping: dict[str, Any] = {}
        while True:
            self._skip_spaces()
            if self.text.startswith(closing, self.i):
                self.i += 1
                return items if opening == "[" else mapping
            if opening == "{":
                m = _FLOW_KEY_RE.match(self.text, self.i)
                if m is None or _key(m[1]) in mapping:
                    raise Unsupported(self.text)
                self.i = m.end()
                mapping[m[1]] = self.node()
            else:
                items.append(self.node())
            self._skip_spaces()
            if self.text.startswith(",", self.i):
                self.i += 1
            elif not self.text.startswith(closing, self.i):
                raise Unsupported(self.text)


def _inline(text: str) -> Any:
    """The value written after ``key:`` or ``-`` on one line (comment already allowed for)."""
    if text[0] in "'\"":
        value, end = _quoted(text, 0)
        _rest_is_comment(text, end)
        return value
    if text[0] in "[{":
        flow = _Flow(text)
        value = flow.collection()
        _rest_is_comment(text, flow.i)
        return value
    plain = _strip_comment(text)
    return None if not plain else _plain(plain)


class _Reader:
    def __init__(self, text: str) -> None:
        if "\t" in text or "\r" in text or text.startswith("\ufeff"):
            raise Unsupported("tabs, CR line endings or a byte-order mark")
        self.lines = text.split("\n")
        self.pos = 0
        self.override: tuple[int, int, str] | None = None
        for i, line in enumerate(self.lines):
            if line.strip() and not line.lstrip(" ").startswith("#"):
                if line == "---" or line.startswith("--- #"):
                    self.pos = i + 1  # an explicit start of the one document
                break

    def peek(self) -> tuple[int, str] | None:
        """(indent, content) of the next line that is not blank or a comment."""
        if self.override is not None and self.override[0] == self.pos:
            return self.override[1], self.override[2]
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            content = line.lstrip(" ")
            if content and not content.startswith("#"):
                if line.startswith(("---", "...", "%")):
                    raise Unsupported("document markers and directives")
                return len(line) - len(content), content.rstrip(" ")
            self.pos += 1
        return None

    def take(self) -> None:
        self.pos += 1

    def node(self, parent: int, under_key: bool) -> Any:
        """The block node below a key or dash at indentation ``parent`` (None when empty).

        A sequence under a key may sit at the key's own indentation."""
        nxt = self.peek()
        if nxt is None:
            return None
        indent, content = nxt
        is_item = content == "-" or content.startswith("- ")
        if indent > parent or (under_key and indent == parent and is_item):
            if is_item:
                return self.sequence(indent)
            return self.mapping(indent)
        return None

    def mapping(self, indent: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while (nxt := self.peek()) is not None and nxt[0] >= indent:
            at, content = nxt
            if at > indent:
                raise Unsupported(content)
            m = _KEY_RE.match(content)
            if m is None:
                if content == "-" or content.startswith("- "):
                    break  # the next item of the sequence this mapping sits in
                raise Unsupported(content)
            key, rest = _key(m[1]), m[2]
            if key in result:
                raise Unsupported(f"duplicate key {key}")
            self.take()
            result[key] = self.value(indent, rest, under_key=True)
        return result

    def sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while (nxt := self.peek()) is not None and nxt[0] >= indent:
            at, content = nxt
            if at > indent:
                raise Unsupported(content)
            if not (content == "-" or content.startswith("- ")):
                break  # a key of the mapping that holds this sequence
            rest = content[1:].lstrip(" ")
            if rest and not rest.startswith("#") and (_KEY_RE.match(rest) or rest == "-" or rest.startswith("- ")):
                column = at + len(content) - len(rest)
                self.override = (self.pos, column, rest)
                items.append(self.node(at, under_key=False))
                continue
            self.take()
            items.append(self.value(at, rest, under_key=False))
        return items

    def value(self, indent: int, rest: str | None, under_key: bool) -> Any:
        """The value after a key or dash at ``indent``: on the same line, or the block below."""
        if not rest or rest.startswith("#"):
            return self.node(indent, under_key)
        if _BLOCK_SCALAR_RE.fullmatch(rest):
            self._skip_block_scalar(indent)
            return OPAQUE
        value = _inline(rest)
        nxt = self.peek()
        if nxt is not None and nxt[0] > indent:
            raise Unsupported(nxt[1])  # a plain scalar continued on the next line
        return value

    def _skip_block_scalar(self, indent: int) -> None:
        """Step over a ``|``/``>`` scalar's lines; its indentation is that of its first non-blank line."""
        content_indent = None
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            at = len(line) - len(line.lstrip(" "))
            if not line.strip():
                if content_indent is None and line:
                    raise Unsupported("spaces on a blank line before a block scalar's text")
            elif at <= indent:
                return
            elif content_indent is None:
                content_indent = at
            elif at < content_indent:
                raise Unsupported(line)  # ends the scalar at a depth no node can continue
            self.pos += 1


def load(text: str) -> Any:
    """Parse ``text``; raises :class:`Unsupported` for anything outside the subset."""
    reader = _Reader(text)
    first = reader.peek()
    if first is not None and first[0] != 0:
        raise Unsupported(first[1])
    data = reader.node(-1, under_key=False)
    if reader.peek() is not None:
        raise Unsupported("content after the document")
    return data
