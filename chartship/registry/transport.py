"""One HTTP exchange with a registry, done the way a careful OCI client does it.

- Credentials stay with their origin: a redirect (301/302/303/307/308) to another scheme, host or
  port is followed *without* the ``Authorization`` header (what the OCI distribution spec expects for
  blob redirects to storage, and what helm/ORAS and docker do). Redirects are followed at most
  ``MAX_REDIRECTS`` times, only for GET and HEAD.
- Separate connect and read timeouts: connecting may take ``connect_timeout`` seconds; after that
  every read of the socket may wait ``read_timeout`` seconds (a stalled server is a timeout, not a hang).
- Bodies are read up to ``limit`` bytes; a bigger one is a malformed response.
- Every failure is either :class:`Transient` (worth another attempt: connection refused/reset,
  timeouts, truncated bodies, garbage status lines, 429 and 5xx) or a :class:`Response`.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chartship.registry import retry as retrymod
from chartship.registry.retry import Transient

MAX_REDIRECTS = 5
DEFAULT_LIMIT = 4 * 1024 * 1024  # the manifest size limit of CNCF distribution and most registries


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str = ""


class Malformed(Exception):
    """A response no retry will fix (too big, a redirect loop, a redirect off HTTP)."""


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    read: float = 30.0


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of ``url``: credentials are issued for exactly one of these."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def _connection(base: type[http.client.HTTPConnection], timeouts: Timeouts) -> type[http.client.HTTPConnection]:
    class Connection(base):  # type: ignore[valid-type, misc]
        def connect(self) -> None:
            self.timeout = timeouts.connect
            super().connect()
            self.sock.settimeout(timeouts.read)

    return Connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, timeouts: Timeouts) -> None:
        super().__init__()
        self._conn = _connection(http.client.HTTPConnection, timeouts)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._conn, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, timeouts: Timeouts) -> None:
        super().__init__()
        self._conn = _connection(http.client.HTTPSConnection, timeouts)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._conn, req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by :func:`send` itself, which decides what travels with them."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None


def _opener(timeouts: Timeouts) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_HTTPHandler(timeouts), _HTTPSHandler(timeouts), _NoRedirect())


def _read(resp: Any, limit: int) -> bytes:
    data: bytes = resp.read(limit + 1)
    if len(data) > limit:
        raise Malformed(f"response body larger than {limit} bytes")
    length = resp.headers.get("Content-Length") if resp.headers is not None else None
    if length is not None and length.isdigit() and int(length) != len(data):
        raise Transient(f"response body truncated ({len(data)} of {length} bytes)")
    return data


def _once(opener: urllib.request.OpenerDirector, method: str, url: str, headers: Mapping[str, str],
          body: bytes | None, limit: int) -> Response:
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310 - registry URL
    try:
        with opener.open(req) as resp:
            data = b"" if method == "HEAD" else _read(resp, limit)  # a HEAD answer has headers only
            return Response(int(resp.status), {k.lower(): v for k, v in resp.headers.items()}, data, url)
    except urllib.error.HTTPError as exc:
        headers_out = {k.lower(): v for k, v in (exc.headers or {}).items()}
        if retrymod.transient_status(exc.code):
            raise Transient(f"HTTP {exc.code}", headers_out.get("retry-after")) from None
        try:
            resp_body = _read(exc, limit) if exc.fp is not None and method != "HEAD" else b""
        except (OSError, http.client.HTTPException, Transient, Malformed):
            resp_body = b""
        return Response(exc.code, headers_out, resp_body, url)
    except TimeoutError:
        raise Transient("timed out waiting for the registry") from None
    except http.client.IncompleteRead as exc:
        raise Transient(f"response body truncated ({len(exc.partial)} bytes read)") from None
    except http.client.BadStatusLine as exc:  # RemoteDisconnected is one, too
        text = str(exc).strip() or "empty"
        raise Transient(f"malformed HTTP status line ({text[:60]!r})") from None
    except http.client.HTTPException as exc:
        raise Transient(f"malformed HTTP response ({type(exc).__name__})") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise Transient("timed out connecting to the registry") from None
        raise Transient(str(getattr(reason, "strerror", None) or reason)) from None
    except (ConnectionError, OSError) as exc:
        raise Transient(str(exc.strerror or exc)) from None


def send(method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeouts: Timeouts,
         limit: int = DEFAULT_LIMIT) -> Response:
    """One request, following redirects for GET/HEAD; ``Authorization`` never leaves its origin."""
    opener = _opener(timeouts)
    start = origin(url)
    hdrs = dict(headers)
    for _ in range(MAX_REDIRECTS + 1):
        resp = _once(opener, method, url, hdrs, body, limit)
        if resp.status not in (301, 302, 303, 307, 308) or method not in ("GET", "HEAD"):
            return resp
        location = resp.headers.get("location")
        if not location:
            return resp
        url = urllib.parse.urljoin(url, location)
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise Malformed(f"redirect to a non-HTTP location {location[:80]!r}")
        if origin(url) != start:
            hdrs = {k: v for k, v in hdrs.items() if k.lower() != "authorization"}
    raise Malformed(f"more than {MAX_REDIRECTS} redirects")
