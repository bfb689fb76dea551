"""Shared checks for the adversarial suite: every bad input or fault ends with exit code != 0, one
``error:`` line naming the thing and the fix, no traceback, no file half-written, the registry unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.helpers.pipeline import GIT
from tests.helpers.registry import Registry

INVOKE = str(Path(sys.executable).parent / "invoke")


def git(root: Path, *args: str) -> str:
    return subprocess.run([*GIT, "-C", str(root), *args], capture_output=True, text=True, check=True).stdout.strip()


def chart(root: Path, name: str, version: str = "0.1.0", extra: str = "") -> Path:
    """A small chart of our own (no third-party content): one ConfigMap template."""
    d = root / "charts" / name
    (d / "templates").mkdir(parents=True, exist_ok=True)
    (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\ndescription: test chart\ntype: application\n"
                                  f"version: {version}\nappVersion: \"{version}\"\n{extra}")
    (d / "values.yaml").write_text("greeting: hello\n")
    (d / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-" + name +
        "\ndata:\n  greeting: {{ .Values.greeting | quote }}\n")
    return d


def project(root: Path, config: str = "", charts: tuple[str, ...] = ("web",), use_git: bool = True,
            version: str = "0.1.0") -> Path:
    """A chartship project (tasks.py, version, invoke.yaml, charts), committed when ``use_git``."""
    here = Path(__file__).resolve().parents[2]
    root.mkdir(parents=True, exist_ok=True)
    (root / "tasks.py").write_text((here / "tasks.py").read_text())
    (root / "version").write_text(f"{version}\n")
    (root / "invoke.yaml").write_text("chartship:\n  base_branch: main\n" + config)
    (root / ".gitignore").write_text("dist/\n")
    for name in charts:
        chart(root, name, version)
    if use_git:
        subprocess.run([*GIT, "init", "-q", "-b", "main", str(root)], check=True)
        commit(root)
    return root


def commit(root: Path, message: str = "change") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def invoke(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "GITHUB_", "CI_", "AWS_"))}
    return subprocess.run([INVOKE, *args], cwd=root, capture_output=True, text=True, check=False,
                          env={**clean, "CHARTSHIP_RETRY_BACKOFF": "0.01", "CHARTSHIP_RETRIES": "2", **(env or {})},
                          timeout=timeout)


def tree(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file and link outside .git: (mode, mtime_ns, content or link target)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(folder, d)))]:
            p = Path(folder) / name
            st = p.lstat()
            if p.is_symlink():
                data = os.readlink(p).encode()
            elif p.is_file():
                data = p.read_bytes()
            else:
                data = b""
            found[str(p.relative_to(root))] = (st.st_mode, st.st_mtime_ns, data)
    return found


def refused(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """exit != 0, no traceback, exactly one ``error:`` line, and one line holding every needle: the error line
    itself, or (for helm.lint / helm.validate, which report per chart and end with ``error: lint failed for X``)
    the chart's line of the report. Returns the line with the needles."""
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "Traceback" not in out, out
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    if not errors and result.stdout.lstrip().startswith("{"):  # --json: the JSON says ok: false, one finding a line
        assert json.loads(result.stdout)["ok"] is False, out
        errors = ["error: (json) failed for"]
    assert len(errors) == 1, out
    if all(n in errors[0] for n in needles):
        return errors[0]
    lines = [ln for ln in out.splitlines() if all(n in ln for n in needles)]
    assert lines and ("failed for" in errors[0] or "finding" in errors[0]), out
    return lines[0]


def tags(reg: Registry) -> dict[str, list[str]]:
    """Every repository of the registry and its tags (the registry's own API)."""
    with urllib.request.urlopen(f"http://{reg.host}/v2/_catalog", timeout=10) as resp:
        repos = json.load(resp).get("repositories") or []
    found = {}
    for repo in repos:
        with urllib.request.urlopen(f"http://{reg.host}/v2/{repo}/tags/list", timeout=10) as resp:
            found[repo] = sorted(json.load(resp).get("tags") or [])
    return found


def target(reg: Registry, auth: str = "none") -> str:
    return (f"  default_target: test\n  targets:\n    test:\n      url: oci://{reg.host}/charts\n      auth: {auth}\n"
            "      plain_http: true\n")
