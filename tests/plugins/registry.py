"""Real docker-registry processes on 127.0.0.1 (a free port each), stopped after the test (``registries``)
or after the test module (``module_registries``: for a module whose tests only read what one set-up pushed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chartship.tools import registry_server
from tests.helpers.registry import Registry, StartRegistry, start_registry
from tests.plugins.needs import needs


@pytest.fixture
@needs("registry")
def registries(tmp_path: Path) -> Iterator[StartRegistry]:
    """``registries(users)`` starts a registry (htpasswd auth when ``users`` is given); all are stopped after the test.
    The first one keeps its state in ``tmp_path`` (registry/, htpasswd), later ones in ``tmp_path/registry-N``."""
    yield from _registries(tmp_path)


@pytest.fixture(scope="module")
@needs("registry")
def module_registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartRegistry]:
    """``registries`` for a whole test module (state in a folder of the module's own), stopped after its last test."""
    yield from _registries(tmp_path_factory.mktemp("module-registry"))


def _registries(tmp_path: Path) -> Iterator[StartRegistry]:
    started: list[Registry] = []

    def start(users: dict[str, str] | None = None) -> Registry:
        home = tmp_path if not started else tmp_path / f"registry-{len(started) + 1}"
        home.mkdir(exist_ok=True)
        started.append(start_registry(home, users))
        return started[-1]

    yield start
    for reg in reversed(started):
        registry_server.stop(reg.state)


@pytest.fixture
def registry(registries: StartRegistry) -> Registry:
    """An anonymous registry, stopped after the test."""
    return registries(None)


@pytest.fixture
def auth_registry(registries: StartRegistry) -> Registry:
    """A registry that lets in alice / s3cr3t-Passw0rd only."""
    return registries({"alice": "s3cr3t-Passw0rd"})
