"""GitHub Actions: a Markdown summary appended to ``$GITHUB_STEP_SUMMARY`` and workflow-command
annotations (``::error file=…,line=…::message``) on stderr when ``GITHUB_ACTIONS=true``
(the runner reads workflow commands from both output streams; stdout stays parseable for --json)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from chartship.ci_report import FAIL, OK, SKIP, Check
from chartship.secrets import redact

MAX_ROWS = 200


def _cell(text: str) -> str:
    return redact(text).replace("|", "\\|").replace("\n", " ")


def table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell("" if v is None else str(v)) for v in row) + " |" for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"| … {len(rows) - MAX_ROWS} more rows (see the JUnit report) |" + " |" * (len(columns) - 1))
    return "\n".join(lines)


def append_summary(markdown: str, environ: Mapping[str, str]) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(redact(markdown).rstrip("\n") + "\n\n")
    except OSError as exc:
        print(f"warning: GITHUB_STEP_SUMMARY={path}: cannot append ({exc.strerror or exc})", file=sys.stderr)


def summary(task: str, checks: Sequence[Check], environ: Mapping[str, str], notes: Sequence[str] = ()) -> None:
    if not environ.get("GITHUB_STEP_SUMMARY"):
        return
    counts = {s: sum(c.status == s for c in checks) for s in (OK, FAIL, SKIP)}
    icon = "❌" if counts[FAIL] else "✅"
    head = f"### {icon} chartship {task}: {counts[OK]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped"
    groups: dict[str, dict[str, int]] = {}
    for c in checks:
        groups.setdefault(c.group, {OK: 0, FAIL: 0, SKIP: 0})[c.status] += 1
    parts = [head, "", table(["chart", "passed", "failed", "skipped"],
                             [(g, n[OK], n[FAIL], n[SKIP]) for g, n in groups.items()])]
    failed = [c for c in checks if c.status == FAIL]
    if failed:
        parts += ["", "**Failures**", "", table(["chart", "check", "where", "message"],
                                                [(c.group, c.name, _where(c), c.message) for c in failed])]
    parts += ["", *notes] if notes else []
    append_summary("\n".join(parts), environ)


def _where(c: Check) -> str:
    return f"{c.file}:{c.line}" if c.file and c.line else c.file


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(c: Check) -> str:
    props = []
    if c.file:
        props.append(f"file={_escape_property(c.file)}")
        if c.line:
            props.append(f"line={c.line}")
    props.append(f"title={_escape_property(redact(f'{c.group} {c.name}'))}")
    level = "warning" if c.level == "warning" else "error"
    return f"::{level} {','.join(props)}::{_escape_data(redact(c.message))}"


def annotate(checks: Sequence[Check], environ: Mapping[str, str]) -> None:
    if environ.get("GITHUB_ACTIONS") != "true":
        return
    for c in checks:
        if c.status == FAIL or (c.level == "warning" and c.message and c.status != SKIP):
            print(command(c), file=sys.stderr, flush=True)


def publish_summary(title: str, rows: Sequence[Sequence[object]], environ: Mapping[str, str]) -> None:
    """What helm.push / helm.deploy did: chart, version, reference, result, digest, note."""
    if not environ.get("GITHUB_STEP_SUMMARY"):
        return
    failed = sum(1 for r in rows if str(r[3]) in ("refused", "failed"))
    pushed = sum(1 for r in rows if str(r[3]) not in ("refused", "failed", "skipped", "planned"))
    head = f"### {'❌' if failed else '✅'} chartship {title}: {pushed} pushed, {failed} refused or failed"
    body = table(["chart", "version", "reference", "result", "digest", "note"],
                 [(r[0], r[1], f"`{r[2]}`", r[3], f"`{r[4]}`" if r[4] else "", r[5]) for r in rows])
    append_summary(f"{head}\n\n{body}", environ)
