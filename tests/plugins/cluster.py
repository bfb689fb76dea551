"""A real Kubernetes API server: kwok with the cluster binaries this checkout built
(`invoke tools.install --cluster`). Where they are not built, the tests that need them are skipped,
with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chartship.cluster import providers
from chartship.errors import ToolError
from chartship.tools import clusterbin, kwok
from tests.helpers import ROOT
from tests.plugins.needs import needs


@pytest.fixture(scope="module")
@needs("cluster")
def kwok_binaries(project_root: Path) -> None:
    """Skips the test unless the kwok cluster binaries are built."""
    try:
        clusterbin.locate(project_root, "build")
    except ToolError as exc:
        pytest.skip(f"kwok cluster binaries are not built; run `invoke tools.install --cluster` ({exc})")


@pytest.fixture(scope="module")
@needs("cluster")
def kwok_cluster() -> Iterator[kwok.Cluster]:
    """One kwok cluster for the test module (skipped where the kwok provider is unusable)."""
    unusable = providers.why_unusable(ROOT, "kwok")
    if unusable is not None:
        pytest.skip(f"kwok provider unusable here: {unusable}")
    with kwok.start(ROOT) as c:
        yield c
