"""``adopt(root)``: discover, render, write; returns what it found and what it did."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chartship.adopt import discover, render, write
from chartship.errors import ChartError

NEXT_STEPS = ("chartship tools.install", "chartship setup-dev", "chartship helm.lint --all")


@dataclass(frozen=True)
class Result:
    findings: discover.Findings
    outcomes: list[write.Outcome]


def adopt(root: Path, chartship_version: str, force: bool = False, dry_run: bool = False, port: int = 5000) -> Result:
    """Make ``root`` a chartship repository without changing a chart file: lockstep with a ``version``
    file when every chart has the same version, otherwise per-chart (each Chart.yaml keeps its own)."""
    if not root.is_dir():
        raise ChartError(f"{root}: no such folder; pass the repository to adopt (`chartship init PATH`)")
    if not 0 < port < 65536:
        raise ChartError(f"--port {port}: expected a TCP port (1-65535)")
    found = discover.discover(root)
    files = render.files(found, chartship_version, port)
    return Result(found, write.apply(root, files, force=force, dry_run=dry_run))
