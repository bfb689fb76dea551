"""The markers ``needs_helm``, ``needs_registry`` and ``needs_cluster`` (registered in pyproject.toml).

A test gets them automatically from the fixtures it uses, directly or through other fixtures (pytest's
fixture closure): each plugin fixture that starts helm, a registry or a cluster says so with ``@needs(...)``.
A test that reaches one of them some other way (an ``invoke`` task in a temp project runs helm, deploy starts
the local registry) carries the marker itself. ``nox -s tests`` relies on ``needs_helm``: the helm 4 session
runs every test, the helm 3 session only ``-m "needs_helm and not one_helm"`` (``one_helm``, set by hand:
helm is used, but nothing the test checks differs between helm 3 and 4). The markers are right when, with no helm at all,
``HELM_BIN=/nonexistent pytest -m "not needs_helm"`` passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

KINDS = ("helm", "registry", "cluster")
F = TypeVar("F", bound=Callable[..., object])
# fixture name -> what it needs; filled by @needs on the plugin fixtures (fixture name == function name)
FIXTURE_NEEDS: dict[str, tuple[str, ...]] = {}


def needs(*kinds: str) -> Callable[[F], F]:
    """Declare that a plugin fixture needs helm, a registry and/or a cluster; put it under ``@pytest.fixture``."""
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown needs {unknown}: expected some of {', '.join(KINDS)}")

    def declare(func: F) -> F:
        FIXTURE_NEEDS[func.__name__] = (*FIXTURE_NEEDS.get(func.__name__, ()), *kinds)
        return func

    return declare


def markers_for(fixturenames: list[str] | tuple[str, ...]) -> list[str]:
    """The needs_* markers implied by a test's fixture closure, in KINDS order."""
    wanted = {kind for name in fixturenames for kind in FIXTURE_NEEDS.get(name, ())}
    return [f"needs_{kind}" for kind in KINDS if kind in wanted]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Before -m deselects anything: mark each test with what its fixtures need."""
    for item in items:
        have = {m.name for m in item.iter_markers()}
        for marker in markers_for(getattr(item, "fixturenames", ())):
            if marker not in have:
                item.add_marker(marker)
