"""Worker functions behind the publishing-safety rules, on in-memory data (the adversarial suite runs the
same rules through the real entry points)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chartship import proc, secrets, yamllimits
from chartship.errors import ToolError, os_error_line
from chartship.registry import authfile
from chartship.tools import git


def test_redaction_covers_every_length_and_encoding() -> None:
    secrets.register_login("bob", "p1")
    text = f"pw=p1 basic={base64.b64encode(b'bob:p1').decode()} raw={base64.b64encode(b'p1').decode()} url=p1%21"
    out = secrets.redact(text)
    assert "p1" not in out and base64.b64encode(b"bob:p1").decode() not in out
    assert out.count(secrets.MASK) >= 3


def test_user_info_is_detected_and_registered() -> None:
    assert secrets.userinfo("oci://carol:Zz9-q@registry.example.test/charts")
    assert "Zz9-q" not in secrets.redact("Zz9-q")
    assert not secrets.userinfo("oci://127.0.0.1:5000/charts/a@b")  # '@' after the host is not user info


def test_stale_login_folder_of_a_dead_process_is_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{authfile.PREFIX}old"
    stale.mkdir(mode=0o700)
    (stale / authfile.OWNER_FILE).write_text(f"{dead.stdout.strip()} 1\n")
    live = tmp_path / f"{authfile.PREFIX}live"
    live.mkdir(mode=0o700)
    (live / authfile.OWNER_FILE).write_text(f"{os.getppid()} \n")
    assert authfile.remove_stale(tmp_path) == [stale]
    assert live.exists() and not stale.exists()


def test_private_dir_is_0700_and_gone_afterwards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authfile.tempfile, "tempdir", str(tmp_path))
    with authfile.private_dir() as folder:
        assert folder.parent == tmp_path and folder.stat().st_mode & 0o777 == 0o700
    assert not folder.exists()


def test_alias_expansion_is_counted_once_per_use() -> None:
    shared = list(range(10))
    assert yamllimits.expanded_size({"a": shared, "b": shared}) == 1 + 2 + 2 * 11
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="recursive alias"):
        yamllimits.expanded_size(loop)


def test_timeout_is_a_tool_error_naming_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(proc.TIMEOUT_ENV, "0.5")
    with pytest.raises(ToolError, match=r"`sleep 5` did not finish within 0.5s"):
        proc.run(["sleep", "5"])


def test_os_error_line_names_the_path_and_what_to_do() -> None:
    line = os_error_line(OSError(28, "No space left on device", "/tmp/x/file"))
    assert line == ("/tmp/x/file: No space left on device; free some disk space (or set TMPDIR to a folder with room) "
                    "and run again")


@pytest.mark.parametrize(("ref", "shallow", "command"), [
    ("main", True, "git fetch --unshallow origin +main:refs/remotes/origin/main"),
    ("origin/release", False, "git fetch origin +release:refs/remotes/origin/release"),
    ("0123abcd", False, "git fetch origin 0123abcd"),
])
def test_fetch_command(ref: str, shallow: bool, command: str) -> None:
    assert git.fetch_command(ref, shallow) == command
