"""helm's text, read: Go durations (``--timeout``), lint messages one line each, and the per-chart sections
of a batched ``helm lint C1 C2 ...``. Text only; :mod:`chartship.tools.helm` runs helm."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from chartship.errors import ConfigError

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")


def seconds(duration: str) -> float:
    """A Go duration such as ``5m`` or ``1m30s`` in seconds (what helm's ``--timeout`` takes)."""
    parts = _DURATION_RE.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration.strip():
        raise ConfigError(f"--timeout {duration!r}: expected a duration such as 5m, 90s or 1m30s")
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    return sum(float(n) * scale[u] for n, u in parts)


def lint_messages(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """helm lint's [ERROR] and [WARNING] messages, one line each. A message continues on the lines
    after it until a blank line or the next message (helm 4 indents them; a schema failure names the
    subchart and the key on unindented lines)."""
    errors: list[str] = []
    warnings: list[str] = []
    last: list[str] | None = None
    for ln in text.splitlines():
        if "[ERROR]" in ln or ln.startswith("Error:"):
            last = errors
            errors.append(ln.strip())
        elif "[WARNING]" in ln:
            last = warnings
            warnings.append(ln.strip())
        elif last is not None and ln.strip() and not ln.startswith(("==>", "[")):
            last[-1] += " " + ln.strip()
        else:
            last = None
    return tuple(errors), tuple(warnings)


# "Error: " only when a chart failed; a clean batch ends with the bare count
_LINT_SUMMARY = re.compile(r"^(?:Error: )?\d+ chart\(s\) linted, \d+ chart\(s\) failed$")


def lint_sections(text: str, chart_dirs: Sequence[Path]) -> dict[Path, list[str] | None]:
    """Split the report of one ``helm lint C1 C2 ...`` by its ``==> Linting C`` headers: each chart's lines
    (None for a chart with no header). helm's closing ``[Error: ]N chart(s) linted, M chart(s) failed`` is
    dropped; any other line outside a section goes to the section before it."""
    by_arg = {str(d): d for d in chart_dirs}
    found: dict[Path, list[str] | None] = dict.fromkeys(chart_dirs)
    current: list[str] | None = None
    for ln in text.splitlines():
        if ln.startswith("==> Linting ") and ln[len("==> Linting "):] in by_arg:
            current = found[by_arg[ln[len("==> Linting "):]]] = []
        elif current is not None and not _LINT_SUMMARY.match(ln):
            current.append(ln)
    return found


def lint_section_clean(lines: Sequence[str] | None) -> bool:
    """True when a chart's section holds nothing but [INFO] lines: ``helm lint --strict`` of that chart
    alone passes. Anything else ([WARNING], [ERROR], ``Error ...``) is for the single-chart lint to report."""
    return lines is not None and all(not ln.strip() or ln.startswith("[INFO]") for ln in lines)
