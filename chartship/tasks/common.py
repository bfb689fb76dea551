"""What every task shares: the error edge and the project root."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from invoke.context import Context
from invoke.exceptions import Exit

if TYPE_CHECKING:
    from chartship.charts.chart import Chart
    from chartship.config import Config

SHARD_HELP = ("I/N: only shard I of N (e.g. 1/2) of the selected charts, an umbrella with its file:// subcharts; "
              "N runners given 1/N .. N/N cover every chart exactly once")

P = ParamSpec("P")
R = TypeVar("R")


def edge(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a ChartshipError into one line on stderr and its exit code; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from chartship.errors import ChartshipError
        from chartship.report import error

        try:
            return func(*args, **kwargs)
        except ChartshipError as exc:
            if str(exc):
                error(str(exc))
            raise Exit(code=exc.exit_code) from None
        except KeyboardInterrupt:
            error("interrupted")
            raise Exit(code=130) from None
        except BrokenPipeError:
            # the reader went away (e.g. `| head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise Exit(code=1) from None
        except OSError as exc:  # a full disk, a permission, a read-only file system: one line with the path
            from chartship.errors import os_error_line

            error(os_error_line(exc))
            raise Exit(code=1) from None

    return wrapper


def root(c: Context) -> Path:
    """The repository: the tasks.py's folder, else the nearest folder with a chartship configuration."""
    value = c.config.get("chartship_root")
    if value:
        return Path(value)

    from chartship import configfile

    return configfile.find_root(Path.cwd())


def config(c: Context, **flags: Any) -> Config:
    from chartship import config as cfgmod

    return cfgmod.load(root(c), flags)


def shard_names(charts: list[Chart], names: list[str], shard: str) -> list[str]:
    """The part of ``names`` that ``--shard I/N`` keeps (all of them without the flag); says which."""
    from chartship.charts import shard as shardmod

    spec = shardmod.parse(shard)
    if spec is None:
        return names
    kept = shardmod.pick(charts, names, spec)
    if names:
        from chartship import report

        report.note(f"shard {spec}: {', '.join(kept) or 'no chart in this shard'} ({len(kept)} of {len(names)} charts)")
    return kept
