"""A small threaded HTTP proxy on 127.0.0.1 in front of a real registry, that misbehaves on demand.

``rule(request) -> Action | None`` decides per request; None forwards it unchanged. Actions:
``status`` (429/5xx, with Retry-After), ``reset`` (close the connection, optionally mid-body after
sending part of the upstream answer), ``stall`` (say nothing for N seconds), ``redirect`` (307 to
another URL), ``body`` (replace the upstream body/headers with garbage, HTML, truncated or non-JSON
content), ``raw`` (write raw bytes such as a garbage status line), ``echo`` (answer the request's
own headers, Authorization included), ``cut`` (read only ``after`` bytes of the request body, then
reset the connection: a reset mid-upload) and ``call`` (run a function -- kill the registry, let
another writer in -- then forward the request). Every request is recorded with its headers
(``seen``), and every answer as (method, path, status) in ``log`` (0: no answer). An upstream that
cannot be reached answers 502.

This is the one fault proxy of the test suite (tests/adversarial and tests/test_*.py use it).
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    n: int


@dataclass(frozen=True)
class Action:
    kind: str  # status | reset | stall | redirect | body | raw | echo | cut | call
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    seconds: float = 0.0
    location: str = ""
    after: int = -1  # reset: bytes of the real answer sent first (-1: before any answer)
    declared: int | None = None  # body: the Content-Length to claim (truncation)
    run: Callable[[], None] | None = None  # call: what to do before forwarding


def status(code: int, retry_after: str | None = None, body: bytes = b"") -> Action:
    return Action("status", code, {"Retry-After": retry_after} if retry_after is not None else {}, body)


def reset(after: int = -1) -> Action:
    return Action("reset", after=after)


def stall(seconds: float) -> Action:
    return Action("stall", seconds=seconds)


def redirect(location: str, code: int = 307) -> Action:
    return Action("redirect", code, location=location)


def body(data: bytes, code: int = 200, headers: dict[str, str] | None = None, declared: int | None = None) -> Action:
    return Action("body", code, headers or {}, data, declared=declared)


def raw(data: bytes) -> Action:
    return Action("raw", body=data)


def echo() -> Action:
    return Action("echo")


def cut(after: int = 0) -> Action:
    """Read ``after`` bytes of the request body, then reset the connection (the upload breaks mid-body)."""
    return Action("cut", after=after)


def call(run: Callable[[], None]) -> Action:
    """Run ``run`` (e.g. kill the registry, or write a tag as another client), then forward the request."""
    return Action("call", run=run)


def when(method: str, part: str, action: Action, times: int | None = None) -> Rule:
    """A rule: ``action`` for requests with ``method`` whose path holds ``part`` (the first ``times`` of them,
    or all when None); everything else is forwarded."""
    left = [times]

    def rule(seen: Seen) -> Action | None:
        if seen.method != method or part not in seen.path or left[0] == 0:
            return None
        if left[0] is not None:
            left[0] -= 1
        return action

    return rule


Rule = Callable[[Seen], "Action | None"]
HOP = ("transfer-encoding", "connection", "content-length", "date", "server", "keep-alive")


class FaultProxy:
    def __init__(self, upstream: str, rule: Rule | None = None) -> None:
        self.upstream = upstream
        self.rule: Rule = rule or (lambda seen: None)
        self.seen: list[Seen] = []
        self.log: list[tuple[str, str, int]] = []
        self.faults = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up first: nothing to answer
                    self.close_connection = True

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _answer(self, code: int, headers: dict[str, str], data: bytes, declared: int | None = None) -> None:
                proxy._record(self.command, self.path, code)
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data) if declared is None else declared))
                self.end_headers()
                self.wfile.write(data)
                if declared is not None:
                    self.close_connection = True

            def _forward(self, data: bytes) -> tuple[int, dict[str, str], bytes]:
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "transfer-encoding")}
                headers["Content-Length"] = str(len(data))
                send = data if data or self.command in ("PUT", "POST", "PATCH") else None
                try:
                    conn.request(self.command, self.path, body=send, headers=headers)
                    resp = conn.getresponse()
                    out = resp.read()
                except OSError:
                    conn.close()
                    return 502, {}, b""
                hdrs = {k: v.replace(f"http://{proxy.upstream}", f"http://{proxy.host}") for k, v in resp.getheaders()
                        if k.lower() not in HOP}
                conn.close()
                return resp.status, hdrs, out

            def _handle(self) -> None:
                with proxy._lock:
                    seen = Seen(self.command, self.path, dict(self.headers.items()), len(proxy.seen) + 1)
                    proxy.seen.append(seen)
                action = proxy.rule(seen)
                if action is not None and action.kind == "cut":
                    with proxy._lock:
                        proxy.faults += 1
                    self.rfile.read(min(action.after, int(self.headers.get("Content-Length") or 0)))
                    proxy._record(self.command, self.path, 0)
                    self._reset()
                    return
                data = self._read_body()
                if action is not None and action.kind == "call":
                    assert action.run is not None
                    action.run()
                    action = None
                if action is not None:
                    with proxy._lock:
                        proxy.faults += 1
                    self._fault(action, data)
                    return
                code, hdrs, out = self._forward(data)
                self._answer(code, hdrs, out if self.command != "HEAD" else b"")

            def _reset(self) -> None:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.close_connection = True
                self.connection.close()

            def _fault(self, action: Action, data: bytes) -> None:
                if action.kind in ("reset", "stall", "raw"):
                    proxy._record(self.command, self.path, 0)
                if action.kind == "status":
                    self._answer(action.status, action.headers, action.body)
                elif action.kind == "reset":
                    if action.after >= 0:
                        code, hdrs, out = self._forward(data)
                        self.send_response(code)
                        for k, v in hdrs.items():
                            self.send_header(k, v)
                        self.send_header("Content-Length", str(len(out) + 1000))
                        self.end_headers()
                        self.wfile.write(out[: action.after])
                        self.wfile.flush()
                    self._reset()
                elif action.kind == "stall":
                    proxy._stop.wait(action.seconds)
                    self.close_connection = True
                elif action.kind == "redirect":
                    self._answer(action.status, {"Location": action.location}, b"")
                elif action.kind == "body":
                    self._answer(action.status, action.headers, action.body, action.declared)
                elif action.kind == "raw":
                    self.wfile.write(action.body)
                    self.wfile.flush()
                    self.close_connection = True
                elif action.kind == "echo":
                    text = "".join(f"{k}: {v}\n" for k, v in self.headers.items()).encode()
                    self._answer(400, {"Content-Type": "text/plain"}, text)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _record(self, method: str, path: str, code: int) -> None:
        with self._lock:
            self.log.append((method, path, code))

    def statuses(self, method: str, part: str) -> list[int]:
        """The statuses answered to ``method`` requests whose path holds ``part``, in order (0: no answer)."""
        return [code for m, p, code in self.log if m == method and part in p]

    def authorizations(self) -> list[str]:
        """Every Authorization header this proxy received."""
        return [v for s in self.seen for k, v in s.headers.items() if k.lower() == "authorization"]

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
