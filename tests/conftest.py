"""Shared pytest set-up. Fixtures live in the plugins below (tests/plugins/), plain helpers in
tests/helpers/; test files import helpers, never fixtures.

Markers (pyproject.toml): ``needs_helm``, ``needs_registry``, ``needs_cluster``; tests/plugins/needs.py
derives them from the fixtures a test uses. `nox -s tests` runs the whole suite with helm 4 and the
``needs_helm`` tests again with helm 3, but those marked ``one_helm`` (helm used only incidentally).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ROOT

# pytester: tests/test_harness.py runs pytest on sample suites
pytest_plugins = ["tests.plugins.needs", "tests.plugins.helm", "tests.plugins.registry", "tests.plugins.cluster",
                  "pytester"]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT
