"""The one retry policy: backoff with jitter and bounds, Retry-After, what is transient; the OCI client
against a real docker-registry behind a fault-injecting proxy; its settings in chartship.config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chartship import config
from chartship.errors import ConfigError, RegistryError
from chartship.registry import oci, retry
from chartship.tools import registry_server
from tests.adversarial import faultproxy as fp
from tests.helpers.registry import Registry, start_registry


class Flaky(Exception):
    transient = True


def test_backoff_doubles_within_jitter_and_cap() -> None:
    low = retry.Policy(base=0.5, cap=3.0, jitter=lambda: 0.0)
    high = retry.Policy(base=0.5, cap=3.0, jitter=lambda: 1.0)
    assert [low.delay(n) for n in range(5)] == [0.25, 0.5, 1.0, 1.5, 1.5]
    assert [high.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_retry_after_is_honoured_up_to_its_bound() -> None:
    policy = retry.Policy(base=0.5, retry_after_cap=10.0, jitter=lambda: 1.0)
    assert policy.delay(0, "0") == 0.0
    assert policy.delay(3, "2") == 2.0
    assert policy.delay(0, "3600") == 10.0
    assert policy.delay(1, "Wed, 21 Oct 2015 07:28:00 GMT") == 1.0  # a date: the backoff applies


def test_transient_failures_are_repeated_up_to_the_attempts() -> None:
    waits: list[float] = []
    policy = retry.Policy(attempts=4, base=1.0, sleep=waits.append, jitter=lambda: 1.0)
    calls = {"n": 0}

    def twice_then_ok() -> str:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise Flaky("503")
        return "ok"

    assert policy.call(twice_then_ok) == "ok" and calls["n"] == 3 and waits == [1.0, 2.0]

    def always() -> str:
        raise Flaky("503")

    with pytest.raises(Flaky):
        policy.call(always)
    assert waits == [1.0, 2.0, 1.0, 2.0, 4.0]  # 4 attempts, 3 waits


def test_other_failures_are_not_repeated() -> None:
    waits: list[float] = []
    policy = retry.Policy(attempts=5, sleep=waits.append)
    calls = {"n": 0}

    def denied() -> None:
        calls["n"] += 1
        raise RegistryError("401 Unauthorized")

    with pytest.raises(RegistryError):
        policy.call(denied)
    assert calls["n"] == 1 and waits == []
    assert [s for s in (200, 401, 403, 404, 408, 429, 500, 502, 503, 504) if retry.transient_status(s)] == \
        [429, 500, 502, 503, 504]


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = start_registry(tmp_path)
    yield reg
    registry_server.stop(reg.state)


def test_oci_client_honours_retry_after_and_never_retries_404(registry: Registry) -> None:
    left = {"n": 2}

    def fault(seen: fp.Seen) -> fp.Action | None:
        if seen.path.endswith("/tags/list") and left["n"] > 0:
            left["n"] -= 1
            return fp.status(429, "0")
        if "/manifests/" in seen.path:
            return fp.status(404)
        return None

    proxy = fp.FaultProxy(registry.host, fault)
    try:
        waits: list[float] = []
        client = oci.Client(proxy.host, plain_http=True,
                            retry=retry.Policy(attempts=5, base=30.0, sleep=waits.append, jitter=lambda: 1.0))
        assert client.tags("charts/demo") == []  # unknown repository: 404 from the registry itself
        assert waits == [0.0, 0.0]  # Retry-After: 0 instead of a 30 s backoff
        assert client.manifest("charts/demo", "1.0.0") is None
        assert [s for m, p, s in proxy.log if "/manifests/" in p] == [404]
    finally:
        proxy.close()


def test_oci_client_gives_up_after_the_attempts(registry: Registry) -> None:
    proxy = fp.FaultProxy(registry.host, lambda seen: fp.status(503))
    try:
        waits: list[float] = []
        client = oci.Client(proxy.host, plain_http=True, retry=retry.Policy(attempts=3, sleep=waits.append))
        with pytest.raises(RegistryError, match=r"GET /v2/charts/demo/tags/list failed after 3 attempts \(HTTP 503\)"):
            client.tags("charts/demo")
        assert len(proxy.log) == 3 and len(waits) == 2
    finally:
        proxy.close()


def test_settings_come_from_config(tmp_path: Path) -> None:
    (tmp_path / "invoke.yaml").write_text("chartship:\n  retries: 2\n  retry_backoff: 1.5\n")
    cfg = config.load(tmp_path, environ={})
    assert (cfg.retries, cfg.retry_backoff) == (2, 1.5)
    policy = retry.Policy.from_config(config.load(tmp_path, environ={"CHARTSHIP_RETRIES": "7"}))
    assert (policy.attempts, policy.base) == (7, 1.5)
    assert config.load(tmp_path / "none", environ={}).retries == 5
    with pytest.raises(ConfigError, match="CHARTSHIP_RETRIES: expected a whole number >= 1"):
        config.load(tmp_path, environ={"CHARTSHIP_RETRIES": "0"})
    with pytest.raises(ConfigError, match="CHARTSHIP_RETRY_BACKOFF: expected a number of seconds >= 0"):
        config.load(tmp_path, environ={"CHARTSHIP_RETRY_BACKOFF": "soon"})
    (tmp_path / "invoke.yaml").write_text("chartship:\n  retry_backoff: .nan\n")
    with pytest.raises(ConfigError, match="retry_backoff: expected a number of seconds >= 0"):
        config.load(tmp_path, environ={})


# ---------------------------------------------------------------- helm push failures, read from the whole output

_STATE = ("_state=R1cjH-401-JvJxUiwtd0S9teh-503-B4vKJJ7sq-kB08X54e-nV457Ik5hbWUiOiJjaGFydHMvZGVtbyIsIlVVSUQiOiI3YjMwYjI3"
          "Mi05MWRiLTQ5ZTItYTRlNS0yMDZlMTRlOTRkYmIiLCJPZmZzZXQiOjAsIlN0YXJ0ZWRBdCI6IjIwMjYtMTItMDJUMDE6MTU6MDUuOTQyWiJ9"
          "&digest=sha256%3A93d92bb8d91b953413c83fa15843d643af10c393aa1ec83c95c9fb7b8d00356c")
H3 = ('Error: failed commit on ref "unknown-sha256:' + "9" * 64 + '": unexpected status from PUT request to '
      "http://127.0.0.1:36861/v2/charts/demo/blobs/uploads/7b30b272-91db-49e2-a4e5-206e14e94dbb?" + _STATE + ": {}\n")
H4 = ('Error: failed to perform "Push" on destination: PUT "http://127.0.0.1:46553/v2/charts/demo/blobs/uploads/'
      'cb5f4629-976d-42c1-b69f-fec5307b120c?' + _STATE + '": response status code {}\n')
RESET = ('Error: failed to perform "Push" on destination: Put "http://127.0.0.1:38339/v2/charts/demo/blobs/uploads/'
         'db53?' + _STATE + '": read tcp 127.0.0.1:48270->127.0.0.1:38339: read: connection reset by peer\n')


@pytest.mark.parametrize("template", [H3, H4], ids=["helm3", "helm4"])
@pytest.mark.parametrize(("status", "kind"), [
    ("500 Internal Server Error", "PushTransient"), ("502 Bad Gateway", "PushTransient"),
    ("503 Service Unavailable", "PushTransient"), ("429 Too Many Requests", "PushTransient"),
    ("403 Forbidden", "RegistryAuthError"), ("401 Unauthorized", "RegistryAuthError"),
    ("413 Request Entity Too Large", "PushFailed"), ("400 Bad Request", "PushFailed"),
])
def test_a_push_failure_is_classified_by_the_status_at_the_end_of_the_long_line(template: str, status: str,
                                                                                kind: str) -> None:
    from chartship.tools import helmerrors

    output = template.format(status)
    assert len(output) > 300  # the status code sits beyond what a shortened line keeps
    cls, cause = helmerrors.push_failure(output)
    assert cls.__name__ == kind
    assert cause == f"HTTP {status[:3]} on PUT /v2/charts/demo/blobs/uploads/…"  # not the 401/503 inside _state
    assert cls.transient == (kind == "PushTransient")


@pytest.mark.parametrize(("output", "cause"), [
    (RESET, "connection reset on PUT /v2/charts/demo/blobs/uploads/…"),
    ('Error: Put "http://h:1/v2/x/blobs/uploads/u?a=b": EOF', "connection closed (EOF) on PUT /v2/x/blobs/uploads/…"),
    ('Error: Head "http://h:1/v2/x/blobs/sha256:' + "1" * 64 + '": dial tcp 127.0.0.1:1: connect: connection refused',
     "connection refused on HEAD /v2/x/blobs/sha256:" + "1" * 64),
    ("Error: net/http: TLS handshake timeout", "timeout"),
])
def test_connection_failures_of_a_push_are_transient(output: str, cause: str) -> None:
    from chartship.tools import helmerrors

    assert helmerrors.push_failure(output) == (helmerrors.PushTransient, cause)
    assert helmerrors.push_failure("Error: chart name is invalid") == (helmerrors.PushFailed, "")


def test_push_timeout_setting(tmp_path: Path) -> None:
    assert config.load(tmp_path, environ={}).push_timeout == 300.0
    (tmp_path / "invoke.yaml").write_text("chartship:\n  push_timeout: 90\n")
    assert config.load(tmp_path, environ={}).push_timeout == 90.0
    assert config.load(tmp_path, environ={"CHARTSHIP_PUSH_TIMEOUT": "12.5"}).push_timeout == 12.5
    with pytest.raises(ConfigError, match="CHARTSHIP_PUSH_TIMEOUT: expected a number of seconds >= 0"):
        config.load(tmp_path, environ={"CHARTSHIP_PUSH_TIMEOUT": "forever"})
