"""nox sessions. They run in the environment `ci/bootstrap` prepared (.venv), so
they start instantly; run them as `ci/bootstrap nox -s lint tests` or, after set-up,
`.venv/bin/nox -s ...`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
# Sessions use the tools of the environment nox runs in (.venv) and the pinned helm.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(ROOT / ".tools" / "bin"), os.environ["PATH"]])
nox.options.sessions = ["lint", "tests"]
nox.options.default_venv_backend = "none"
nox.options.error_on_missing_interpreters = True


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict on chartship/; the version file agrees with every chart."""
    session.run("ruff", "check", "chartship", "tests", "tasks.py", "noxfile.py")
    session.run("mypy", "--strict", "chartship")
    session.run("invoke", "version.check")


@nox.session
@nox.parametrize("helm", ["3", "4"])
def tests(session: nox.Session, helm: str) -> None:
    """pytest against real helm 3 and helm 4 (HELM_BIN=.tools/bin/helm3 or helm4)."""
    helm_bin = ROOT / ".tools" / "bin" / f"helm{helm}"
    if not helm_bin.exists():
        session.error(f"{helm_bin} is missing: run ci/bootstrap (or invoke tools.install)")
    workers = os.environ.get("PYTEST_WORKERS", "auto")
    session.run("pytest", "-n", workers, "--dist", "loadfile", *session.posargs, env={"HELM_BIN": str(helm_bin)})
