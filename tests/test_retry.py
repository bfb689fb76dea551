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
from tests.helpers.registry import FaultProxy, Registry, start_registry


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

    def fault(method: str, path: str, n: int) -> int | None:
        if path.endswith("/tags/list") and left["n"] > 0:
            left["n"] -= 1
            return 429  # the proxy sends Retry-After: 0
        if "/manifests/" in path:
            return 404
        return None

    proxy = FaultProxy(registry.host, fault)
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
    proxy = FaultProxy(registry.host, lambda m, p, n: 503)
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
