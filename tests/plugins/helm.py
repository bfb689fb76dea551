"""The real helm of this test run, and a private helm home.

The helm 4 session of `nox -s tests` runs the whole suite with HELM_BIN=.tools/bin/helm4, the helm 3
session the ``needs_helm`` tests not marked ``one_helm`` again with HELM_BIN=.tools/bin/helm3. Run alone, pytest uses HELM_BIN
when set, otherwise `.tools/bin/helm` (helm 4).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.plugins.needs import needs


@pytest.fixture(scope="session")
@needs("helm")
def helm_bin() -> Path:
    """The real helm binary this test run uses (HELM_BIN or .tools/bin/helm)."""
    explicit = os.environ.get("HELM_BIN")
    path = Path(explicit) if explicit else ROOT / ".tools" / "bin" / "helm"
    if not path.is_file():
        pytest.fail(f"helm not found at {path}: run `ci/bootstrap` (or `invoke tools.install`) first")
    return path.resolve()


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A private helm home per test module, and no kubeconfig, so nothing reaches a cluster."""
    home = tmp_path_factory.mktemp("helm-home")
    env = dict(os.environ)
    env.update(
        {
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"),
            "KUBECONFIG": str(home / "no-kubeconfig"),
        }
    )
    return env


@pytest.fixture(scope="module")
@needs("helm")
def run_helm(helm_bin: Path, helm_env: dict[str, str]) -> Any:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(helm_bin), *args], capture_output=True, text=True, env=helm_env, timeout=120, check=False)

    return run


# Child processes (invoke in temp projects) find the same helm as the tests.
os.environ.setdefault("HELM_BIN", str(ROOT / ".tools" / "bin" / "helm"))
