"""Where a chart's templates use ``.Chart.AppVersion`` as an image tag.

Public charts often render ``image: repo:{{ .Values.image.tag | default .Chart.AppVersion }}``:
changing such a chart's appVersion changes the image it deploys. This finds those places
(a line that mentions both ``.Chart.AppVersion`` and an image or tag, or any use inside a
``define`` whose name mentions an image or tag) so a version sync can say so before it writes.
"""

from __future__ import annotations

import re
from pathlib import Path

from chartship.charts.chart import Chart

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt", ".json")
_APP_VERSION = re.compile(r"\.Chart\.AppVersion\b")
_IMAGE = re.compile(r"image|tag", re.IGNORECASE)
_LABEL = re.compile(r"app\.kubernetes\.io/version|helm\.sh/chart")
_DEFINE = re.compile(r"\{\{-?\s*define\s+\"([^\"]+)\"")
_END = re.compile(r"\{\{-?\s*end\s*-?\}\}")


def image_uses(chart: Chart) -> list[str]:
    """``templates/FILE:LINE`` for every place that uses .Chart.AppVersion in an image reference."""
    base = chart.path / "templates"
    if not base.is_dir():
        return []
    found: list[str] = []
    for path in sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in TEMPLATE_SUFFIXES):
        found += [f"{path.relative_to(chart.path).as_posix()}:{n}" for n in _lines(path)]
    return found


def _lines(path: Path) -> list[int]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    hits: list[int] = []
    define: str | None = None
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        started = _DEFINE.search(line)
        if started:
            define, depth = started.group(1), 0
        if define is not None:
            depth += len(re.findall(r"\{\{-?\s*(?:if|range|with|block)\b", line)) - len(_END.findall(line))
        if _APP_VERSION.search(line) and not _LABEL.search(line) and (
                _IMAGE.search(line) or (define is not None and _IMAGE.search(define))):
            hits.append(number)
        if define is not None and depth < 0:
            define = None  # the define's own `end`
    return hits
