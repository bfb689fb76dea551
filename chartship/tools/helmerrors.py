"""What a failed helm run means: the typed errors of :class:`chartship.tools.helm.Helm` and the one
classifier that picks them from helm's whole output (stdout and stderr, not a shortened line).

Callers catch the class they can act on -- retry a ``RegistryUnavailable``, treat a ``NotFoundError``
as "not there", skip a ``ClusterUnreachable`` -- and let the others reach the edge, where they are one line.
"""

from __future__ import annotations

import re
from enum import Enum

from chartship.errors import ToolError


class Op(Enum):
    """The kind of helm command, which decides how its failure reads."""

    VERSION = "version"
    LINT = "lint"
    RENDER = "render"  # template, package, install --dry-run
    DEPENDENCY = "dependency"
    REGISTRY = "registry"  # registry login, push, pull
    RELEASE = "release"  # upgrade --install, rollback, uninstall, test
    QUERY = "query"  # status, history
    OTHER = "other"


class HelmError(ToolError):
    """helm failed; ``str()`` is one line, ``reason`` helm's own explanation (summarised), ``output``
    everything helm printed."""

    transient = False

    def __init__(self, message: str, output: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.output = output
        self.reason = reason or message


class HelmNotFound(HelmError):
    """No usable helm: missing, not runnable, or older than 3.8."""


class HelmTimeout(HelmError):
    """helm did not finish within chartship's time limit for the command."""


class ClusterUnreachable(HelmError):
    """helm could not reach the Kubernetes API server."""


class RegistryAuthError(HelmError):
    """The registry refused the credentials or the permission (401, 403, denied)."""


class RegistryUnavailable(HelmError):
    """A transient registry failure (5xx, 429, connection refused/reset, EOF, timeout): worth a retry."""

    transient = True


class NotFoundError(HelmError):
    """The registry or cluster says the thing does not exist (404, manifest unknown, release: not found)."""


class ChartInvalid(HelmError):
    """The chart does not render or package (template error, schema failure, bad Chart.yaml)."""


class LintFailed(ChartInvalid):
    """``helm lint`` found problems: ``errors`` and ``warnings`` are its messages, one line each."""

    def __init__(self, message: str, output: str = "", reason: str = "", errors: tuple[str, ...] = (),
                 warnings: tuple[str, ...] = ()) -> None:
        super().__init__(message, output, reason)
        self.errors = errors
        self.warnings = warnings


class DependencyError(HelmError):
    """``helm dependency build`` failed (missing subchart, Chart.lock out of date, unreachable repository)."""


class ReleaseFailed(HelmError):
    """An install, upgrade, rollback, uninstall or test in the cluster failed; the message holds the reason."""


_UNREACHABLE = re.compile(r"kubernetes cluster unreachable", re.IGNORECASE)
_AUTH = re.compile(r"\b401\b|\b403\b|unauthori[sz]ed|\bdenied\b|forbidden|basic credential not found|"
                   r"no basic auth credentials|authentication required", re.IGNORECASE)
_NOT_FOUND = re.compile(r"\b404\b|manifest unknown|name unknown|: not found\b|\bnot found$", re.IGNORECASE | re.MULTILINE)
_TRANSIENT = re.compile(r"\b5\d\d\b|\b429\b|too many requests|connection refused|connection reset|broken pipe|"
                        r"\bEOF\b|i/o timeout|timeout awaiting|TLS handshake timeout|no such host|server misbehaving",
                        re.IGNORECASE)
LOCK_OUT_OF_SYNC = "out of sync"

_FALLBACK: dict[Op, type[HelmError]] = {
    Op.LINT: LintFailed, Op.RENDER: ChartInvalid, Op.DEPENDENCY: DependencyError, Op.RELEASE: ReleaseFailed,
    Op.QUERY: ReleaseFailed, Op.VERSION: HelmNotFound,
}


def classify(op: Op, output: str) -> type[HelmError]:
    """The error class for a failed ``op`` that printed ``output`` (all of it)."""
    if _UNREACHABLE.search(output):
        return ClusterUnreachable
    if op in (Op.REGISTRY, Op.DEPENDENCY, Op.OTHER):
        if _AUTH.search(output):
            return RegistryAuthError
        if op is not Op.DEPENDENCY and _NOT_FOUND.search(output):
            return NotFoundError
        if _TRANSIENT.search(output):
            return RegistryUnavailable
    if op is Op.QUERY and _NOT_FOUND.search(output):
        return NotFoundError
    return _FALLBACK.get(op, HelmError)


SCHEMA_HEAD = "values don't meet the specifications of the schema(s) in the following chart(s):"
_HELM4_KEY = re.compile(r"^at '(?P<path>[^']*)':\s*(?P<rule>.*)$")


def schema_failure(lines: list[str], limit: int | None = None) -> str | None:
    """helm's schema failure block (``Error: values don't meet ... chart(s):`` then ``<chart>:`` lines, each
    followed by ``- <key>: <rule>`` lines; helm 4 writes ``- at '/a/b': <rule>``) as one compact line that keeps
    every chart and key: ``Error: values don't meet the schema of: sub: a.b: <rule>, c: <rule>; other: ...``.
    When that is longer than ``limit``, the rules go and the keys stay (with the first rule):
    ``... of: sub: a.b, c; other: d (first: sub: a.b: <rule>)``.
    None when ``lines`` (stripped, as :func:`chartship.tools.summary.error_block` gives them) are not one."""
    if not lines or SCHEMA_HEAD not in lines[0]:
        return None
    charts: list[tuple[str, list[str]]] = []
    for line in lines[1:]:
        if line.startswith("- ") and charts:
            item = line[2:].strip()
            m = _HELM4_KEY.match(item)
            if m:
                key = ".".join(part for part in m["path"].split("/") if part) or "(top level)"
                item = f"{key}: {m['rule']}"
            charts[-1][1].append(item)
        elif line.endswith(":") and not line.startswith("-"):
            charts.append((line[:-1], []))
        elif charts and charts[-1][1]:
            charts[-1][1][-1] += " " + line  # a rule continued on the next line
        else:
            return None  # not the shape we know: leave the block as helm wrote it
    if not charts:
        return None
    head = lines[0].split(SCHEMA_HEAD, 1)[0] + "values don't meet the schema of: "
    full = head + "; ".join(f"{name}: {', '.join(items)}" for name, items in charts)
    if limit is None or len(full) <= limit:
        return full
    keys = "; ".join(f"{name}: {', '.join(item.split(': ', 1)[0] for item in items)}" for name, items in charts)
    first = next((f"{name}: {items[0]}" for name, items in charts if items), "")
    return head + keys + (f" (first: {first})" if first else "")


# ---------------------------------------------------------------- helm push: what a failed upload means

class PushFailed(HelmError):
    """``helm push`` failed for a reason another attempt will not fix (a 4xx such as 400 or 413, or an
    unrecognised error)."""


class PushTransient(RegistryUnavailable):
    """``helm push`` failed in a way worth another attempt: 429 or 5xx, a reset or closed connection, a timeout."""


class PushTimeout(HelmTimeout):
    """``helm push`` ran over the per-push time limit (``push_timeout``) and was stopped; worth another attempt."""

    transient = True


# helm quotes the upload URL (hundreds of characters: upload id, _state, digest); the status code follows it
_PUSH_URL = re.compile(r"\"?\bhttps?://[^\s\"/]+(/[^\s\"?]*)?(\?[^\s\"]*)?\"?")
_DIGESTS = re.compile(r"(?:unknown-)?sha256:[0-9a-f]{64}")
_PUSH_STATUS = (
    re.compile(r"response status code (\d{3})"),  # helm 4 (oras-go v2)
    re.compile(r"unexpected status(?: code)?(?: from \w+ request to \S+)?:? (\d{3})\b"),  # helm 3 (containerd)
    re.compile(r"\bstatus(?: code)?:? (\d{3})\b", re.IGNORECASE),
)
_PUSH_CAUSES = (
    ("connection reset", re.compile(r"connection reset|broken pipe", re.IGNORECASE)),
    ("connection refused", re.compile(r"connection refused", re.IGNORECASE)),
    ("connection closed (EOF)", re.compile(r"\bEOF\b|server closed|connection closed", re.IGNORECASE)),
    ("timeout", re.compile(r"i/o timeout|timeout awaiting|TLS handshake timeout|deadline exceeded|"
                           r"Client\.Timeout", re.IGNORECASE)),
    ("name resolution failed", re.compile(r"no such host|server misbehaving", re.IGNORECASE)),
)
_PUSH_AUTH = re.compile(r"unauthori[sz]ed|\bdenied\b|forbidden|basic credential not found|no basic auth credentials|"
                        r"authentication required", re.IGNORECASE)
_METHOD = re.compile(r"\b(PUT|POST|PATCH|HEAD|GET)\b", re.IGNORECASE)


def _short_urls(text: str) -> str:
    """Every URL reduced to its path (query strings such as the upload's ``_state`` dropped)."""
    return _PUSH_URL.sub(lambda m: m.group(1) or "/", text)


def push_status(output: str) -> int | None:
    """The HTTP status a failed ``helm push`` reports, wherever it sits in the (long) line; None when
    the failure is not an HTTP answer (a reset, a timeout)."""
    text = _DIGESTS.sub("sha256:…", _short_urls(output))
    for pattern in _PUSH_STATUS:
        found = pattern.search(text)
        if found:
            return int(found.group(1))
    return None


def push_failure(output: str) -> tuple[type[HelmError], str]:
    """(error class, cause in a few words, e.g. ``HTTP 503 on PUT /v2/charts/web/blobs/uploads/…``) for a
    failed ``helm push`` that printed ``output`` (all of it, stdout and stderr)."""
    text = _DIGESTS.sub("sha256:…", _short_urls(output))
    where = ""
    paths = [m.group(1) for m in _PUSH_URL.finditer(output) if m.group(1)]
    if paths:
        method = _METHOD.search(text)
        where = f" on {method.group(1).upper() + ' ' if method else ''}{_upload_path(paths[-1])}"
    status = push_status(output)
    if status is not None:
        cause = f"HTTP {status}{where}"
        if status in (401, 403):
            return RegistryAuthError, cause
        if status == 429 or 500 <= status <= 599:
            return PushTransient, cause
        return PushFailed, cause
    if _PUSH_AUTH.search(text):
        return RegistryAuthError, "access denied" + where
    for cause, pattern in _PUSH_CAUSES:
        if pattern.search(text):
            return PushTransient, cause + where
    return PushFailed, ""


def _upload_path(path: str) -> str:
    """``/v2/REPO/blobs/uploads/<id>`` shortened to ``…/uploads/…``: the upload id means nothing to a reader."""
    head, sep, _rest = path.partition("/blobs/uploads/")
    return f"{head}{sep}…" if sep else path
