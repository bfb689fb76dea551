"""The only module that runs ``kind`` and ``docker`` (kind clusters for the cluster test)."""

from __future__ import annotations

import shutil
from pathlib import Path

from chartship import proc
from chartship.errors import ToolError
from chartship.tools.summary import summarise

CREATE_TIMEOUT = 600
DELETE_TIMEOUT = 300


def installed() -> bool:
    return shutil.which("kind") is not None


def docker_usable() -> bool:
    """A docker engine answers (kind runs its nodes as containers)."""
    if shutil.which("docker") is None:
        return False
    try:
        return proc.run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=20).ok
    except (OSError, proc.TimeoutExpired):
        return False


def create(name: str, kubeconfig: Path, config: Path | None = None, wait: str = "180s") -> None:
    """``kind create cluster``; on failure the half-made cluster is deleted and a ToolError says why."""
    args = ["kind", "create", "cluster", "--name", name, "--kubeconfig", str(kubeconfig), "--wait", wait]
    if config is not None:
        args += ["--config", str(config)]
    try:
        result = proc.run(args, timeout=CREATE_TIMEOUT)
    except proc.TimeoutExpired:
        delete(name)
        raise ToolError(f"kind create cluster {name} did not finish within {CREATE_TIMEOUT}s; check docker") from None
    if not result.ok:
        delete(name)
        raise ToolError(f"kind create cluster failed: {summarise(result.stderr)}")


def delete(name: str) -> None:
    """``kind delete cluster`` (a missing cluster is not an error for kind)."""
    try:
        proc.run(["kind", "delete", "cluster", "--name", name], timeout=DELETE_TIMEOUT)
    except proc.TimeoutExpired:
        raise ToolError(f"kind delete cluster {name} did not finish within {DELETE_TIMEOUT}s; "
                        f"remove it with `kind delete cluster --name {name}`") from None
