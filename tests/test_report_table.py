"""report.table off a terminal (CI logs, captured output) writes the table rich draws, line for line, without
rich and without wrapping; secrets in cells are redacted either way."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from rich.console import Console
from rich.table import Table

from chartship import report

COLUMNS = ["chart", "version", "reference", "result", "digest", "note"]
ROWS = [
    ["web", "1.2.3", "oci://127.0.0.1:5000/charts/web:1.2.3", "up to date", "sha256:" + "ab" * 32, ""],
    ["a-much-longer-chart-name", "0.1.0-rc.1+build.7", "oci://127.0.0.1:5000/charts/x", "pushed", "", "two\nlines"],
    ["ünïcode", "1", "", "skipped", "", "note with [brackets] and : colons"],
]


def rich_text(title: str, columns: list[str], rows: list[list[str]]) -> str:
    t = Table(title=title, title_justify="left", show_lines=False)
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*row)
    buf = io.StringIO()
    Console(file=buf, highlight=False, soft_wrap=False, width=1000, markup=False).print(t)
    return buf.getvalue()


@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], []])
def test_the_plain_table_is_the_table_rich_draws(rows: list[list[str]]) -> None:
    plain = report.plain_table("Publish (dry run)", COLUMNS, rows)
    assert plain.splitlines() == rich_text("Publish (dry run)", COLUMNS, rows).splitlines()


def test_off_a_terminal_rows_are_never_wrapped_and_secrets_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    from chartship import secrets

    secrets.register("hunter2-secret-value")
    long = "x" * 300
    report.table("T", ["a", "b"], [[long, "token=hunter2-secret-value"], [None, 7]])
    out = capsys.readouterr().out
    assert any(long in ln for ln in out.splitlines())
    assert "hunter2-secret-value" not in out
    assert out.splitlines()[-2].startswith("│    ") and "│ 7 " in out.splitlines()[-2]


def test_the_table_of_a_command_in_a_pipe_has_the_columns_tests_and_people_read() -> None:
    code = ("from chartship import report; "
            "report.table('Plan', ['chart', 'version'], [['web', '1.0.0'], ['db', '2.0.0']])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert [ln.split("│")[1:3] for ln in out.splitlines() if ln.startswith("│")] == [[" web   ", " 1.0.0   "],
                                                                                   [" db    ", " 2.0.0   "]]
    assert "rich" not in subprocess.run([sys.executable, "-c", code + "; import sys; print(sorted(sys.modules))"],
                                        capture_output=True, text=True, check=True).stdout.splitlines()[-1]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_table_prints_brackets_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    term = _Terminal()
    monkeypatch.setattr(sys, "stdout", term)
    report.table("Findings [dev]", ["where"], [["spec.containers[svc-001].securityContext"], ["[bold]x[/bold]"]])
    text = term.getvalue()
    assert "containers[svc-001].securityContext" in text and "[bold]x[/bold]" in text and "Findings [dev]" in text
