"""``--shard I/N``: split the selected charts into N disjoint parts so N CI runners cover each chart once.

A chart and its file:// subcharts (and every other chart connected to them through file://
dependencies) form one *unit* that stays on one shard: an umbrella is linted, rendered and
installed beside the subcharts it packages. Units are assigned greedily, largest first (ties by
name), to the shard with the fewest charts so far (ties: the lowest shard), so every runner that
sees the same charts computes the same partition, and the shards differ by at most one unit's size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chartship.charts.chart import Chart, local_dependencies
from chartship.errors import ConfigError

_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse(text: str) -> Shard | None:
    """``"I/N"`` with 1 <= I <= N; ``""`` means no sharding. A bad value is one ConfigError line."""
    if not text:
        return None
    m = _SPEC.fullmatch(text)
    if not m:
        raise ConfigError(f"--shard {text!r}: expected I/N with whole numbers, e.g. --shard 1/2")
    index, total = int(m.group(1)), int(m.group(2))
    if total < 1 or not 1 <= index <= total:
        raise ConfigError(f"--shard {text}: I must be between 1 and N (N >= 1), e.g. --shard 1/{max(total, 2)}")
    return Shard(index, total)


def units(charts: Sequence[Chart], names: Sequence[str]) -> list[list[str]]:
    """``names`` grouped into connected parts of the file:// graph over all ``charts`` (each part sorted)."""
    parent = {c.name: c.name for c in charts}
    for n in names:
        parent.setdefault(n, n)

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for c in charts:
        for _dep, sub in local_dependencies(c, charts):
            a, b = find(c.name), find(sub.name)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for n in dict.fromkeys(names):
        groups.setdefault(find(n), []).append(n)
    return [sorted(g) for g in groups.values()]


def assign(charts: Sequence[Chart], names: Sequence[str], total: int) -> list[list[str]]:
    """The ``total`` shards of ``names`` (each in the order of ``names``)."""
    loads = [0] * total
    owner: dict[str, int] = {}
    for unit in sorted(units(charts, names), key=lambda u: (-len(u), u[0])):
        target = min(range(total), key=lambda i: (loads[i], i))
        loads[target] += len(unit)
        for n in unit:
            owner[n] = target
    return [[n for n in dict.fromkeys(names) if owner[n] == i] for i in range(total)]


def pick(charts: Sequence[Chart], names: Sequence[str], shard: Shard | None) -> list[str]:
    """The names of ``names`` that belong to ``shard`` (all of them without one)."""
    if shard is None:
        return list(names)
    return assign(charts, names, shard.total)[shard.index - 1]
