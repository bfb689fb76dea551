"""Package data: everything chartship needs at run time, shipped inside the wheel.

``tools.lock.toml`` (helm 3, helm 4, kubectl), ``cluster.lock.toml`` and ``cluster/`` (the Go
wrapper modules of the kwok cluster binaries), ``crd-schemas/`` (JSON schemas of the custom
resources ``helm.validate`` knows), ``crds/`` (CRD manifests applied to test clusters),
``kwok/`` (node, stages, volumes), ``kind-config.yaml`` and ``templates/`` (what
``chartship init`` writes). Nothing here is read from the current checkout.
"""

from __future__ import annotations

from pathlib import Path

DIR = Path(__file__).resolve().parent


def path(*parts: str) -> Path:
    """A file or folder of the package data."""
    return DIR.joinpath(*parts)


def label(file: Path) -> str:
    """How messages name a data file: ``chartship/data/<rel>`` for the package's own, else its path."""
    try:
        return f"chartship/data/{file.resolve().relative_to(DIR).as_posix()}"
    except ValueError:
        return str(file)
