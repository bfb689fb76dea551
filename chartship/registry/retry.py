"""The one retry policy for registry traffic (our OCI client and ``helm push``).

- attempts: ``CHARTSHIP_RETRIES`` (config ``retries``, default 5), counting the first try;
- backoff: ``CHARTSHIP_RETRY_BACKOFF`` seconds (config ``retry_backoff``, default 0.5), doubled per
  attempt, capped at ``cap`` seconds, with jitter (each wait is 50-100 % of its step) so parallel
  pushes do not retry in lockstep;
- a ``Retry-After`` header (seconds) is honoured up to ``retry_after_cap`` seconds;
- transient: HTTP 429 and 5xx, connection refused/reset, EOF, timeouts -- a failure whose
  exception says ``transient = True`` (helm's output is classified by ``tools.helm``);
  401, 403 and 404 are never retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from chartship.config import Config

T = TypeVar("T")
NEVER = frozenset({401, 403, 404})


def transient_status(status: int) -> bool:
    """HTTP statuses worth another attempt: 429 Too Many Requests and 5xx."""
    return status not in NEVER and (status == 429 or 500 <= status <= 599)


def is_transient(exc: BaseException) -> bool:
    return bool(getattr(exc, "transient", False))


class Transient(Exception):
    """A failed attempt worth repeating (raised inside a retried call)."""

    transient = True

    def __init__(self, reason: str, retry_after: str | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header given in seconds; None when absent or an HTTP date (then the backoff applies)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


@dataclass(frozen=True)
class Policy:
    attempts: int = 5
    base: float = 0.5
    cap: float = 8.0
    retry_after_cap: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    @classmethod
    def from_config(cls, cfg: Config) -> Policy:
        return cls(attempts=cfg.retries, base=cfg.retry_backoff)

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """The wait after failed attempt number ``attempt`` (0 = the first try)."""
        asked = retry_after_seconds(retry_after)
        if asked is not None:
            return min(asked, self.retry_after_cap)
        step = min(self.cap, self.base * (2**attempt))
        return float(step * (0.5 + 0.5 * self.jitter()))

    def call(self, attempt: Callable[[], T]) -> T:
        """``attempt()`` until it returns, at most ``attempts`` times; a failure that is not transient,
        or the last one, is raised as it is."""
        failed = 0
        while True:
            try:
                return attempt()
            except Exception as exc:
                if not is_transient(exc) or failed + 1 >= self.attempts:
                    raise
                self.sleep(self.delay(failed, getattr(exc, "retry_after", None)))
                failed += 1
