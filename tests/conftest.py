"""Shared pytest fixtures.

The suite runs once per helm major version: `nox -s tests` sets HELM_BIN to
`.tools/bin/helm3` or `.tools/bin/helm4`. Run alone, pytest uses HELM_BIN when
set, otherwise `.tools/bin/helm` (helm 4).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    """The real helm binary this test run uses (HELM_BIN or .tools/bin/helm)."""
    explicit = os.environ.get("HELM_BIN")
    path = Path(explicit) if explicit else ROOT / ".tools" / "bin" / "helm"
    if not path.is_file():
        pytest.fail(f"helm not found at {path}: run `ci/bootstrap` (or `invoke tools.install`) first")
    return path.resolve()


# Child processes (invoke in temp projects) find the same helm as the tests.
os.environ.setdefault("HELM_BIN", str(ROOT / ".tools" / "bin" / "helm"))
