"""What the hooks share: the error edge, and which chart each passed file belongs to."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from chartship.errors import ChartshipError

if TYPE_CHECKING:
    from chartship.config import Config


def edge(body: Callable[[], int]) -> int:
    """Run a hook body; a ChartshipError becomes one ``error:`` line and its exit code."""
    try:
        return body()
    except ChartshipError as exc:
        if str(exc):
            from chartship.report import error

            error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr, flush=True)
        return 130
    except OSError as exc:
        from chartship.errors import os_error_line
        from chartship.report import error

        error(os_error_line(exc))
        return 1


def root() -> Path:
    """The repository the hook checks: the current directory (pre-commit runs hooks at the top)."""
    return Path.cwd()


def files_by_chart(cfg: Config, files: Iterable[str]) -> dict[Path, list[str]]:
    """Chart folder -> the given files inside it (relative to the chart), charts in discovery order."""
    from chartship.charts import chart

    dirs = chart.chart_dirs(cfg)
    found: dict[Path, list[str]] = {}
    for name in files:
        path = Path(os.path.normpath(cfg.root / name))
        for d in dirs:
            if path.is_relative_to(d) and path != d:
                found.setdefault(d, []).append(path.relative_to(d).as_posix())
                break
    return {d: found[d] for d in dirs if d in found}


def rel(cfg: Config, path: Path) -> str:
    return path.relative_to(cfg.root).as_posix() if path.is_relative_to(cfg.root) else str(path)
