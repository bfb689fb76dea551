"""Run work over a dependency graph on a thread pool: each item starts once the items it needs are done."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from chartship.errors import ChartError, ChartshipError

T = TypeVar("T")


class SubchartFailed(ChartError):
    """Not attempted: a file:// subchart of this chart failed first."""


def run_graph(names: Sequence[str], needs: Mapping[str, Sequence[str]], work: Callable[[str], T],
              jobs: int) -> dict[str, T | ChartshipError]:
    """Run ``work(name)`` for ``names`` (already in dependency order) on ``jobs`` threads; each
    waits for the names it ``needs``. A ChartshipError is returned in place of a result."""

    def step(name: str, waits: list[Future[T | ChartshipError]]) -> T | ChartshipError:
        for w in waits:
            if isinstance(w.result(), ChartshipError):
                return SubchartFailed(f"{name}: a chart it needs failed")  # prepare() names which and why
        try:
            return work(name)
        except ChartshipError as exc:
            return exc

    futures: dict[str, Future[T | ChartshipError]] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for name in names:  # FIFO + dependency order: whatever a task waits for already runs
            waits = [futures[n] for n in needs.get(name, ()) if n in futures]
            futures[name] = pool.submit(step, name, waits)
        return {name: f.result() for name, f in futures.items()}
