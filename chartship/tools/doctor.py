"""`invoke tools.doctor`: what is found where, the versions, and what is missing."""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from chartship.errors import ToolError
from chartship.tools import git, helm
from chartship.tools import install as installmod


@dataclass(frozen=True)
class Row:
    tool: str
    status: str  # ok | missing | unusable
    version: str | None
    path: str | None
    source: str | None
    note: str
    required: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _helm_row(name: str, path: Path | None, source: str, required: bool, want: str | None) -> Row:
    if path is None or not path.exists():
        return Row(name, "missing", None, str(path) if path else None, source, "run `invoke tools.install`", required)
    try:
        found = helm.binary_version(path)
        helm.parse_version(found)
    except ToolError as exc:
        return Row(name, "unusable", None, str(path), source, str(exc), required)
    if helm.parse_version(found) < helm.MIN_VERSION:
        return Row(name, "unusable", found, str(path), source, "older than 3.8; chartship refuses it", required)
    note = "" if want is None or found.lstrip("v") == want else f"lock pins {want}"
    return Row(name, "ok", found, str(path), source, note, required)


def _cluster_row(root: Path) -> Row:
    """The kwok cluster binaries (optional: only the kwok cluster test needs them)."""
    from chartship.tools import clusterbin

    try:
        found = clusterbin.locate(root)
        pins = clusterbin.read_lock()
    except ToolError as exc:
        return Row("kwok cluster", "missing", None, str(root / clusterbin.TOOLS_DIR), None, str(exc), False)
    versions = ", ".join(f"{name} {pin.version}" for name, pin in pins.items())
    return Row("kwok cluster", "ok", versions, str(root / clusterbin.TOOLS_DIR), ".tools/cluster",
               f"{len(found)} binaries", False)


def diagnose(root: Path) -> list[Row]:
    try:
        pins: dict[str, installmod.Pin] = installmod.read_lock()
    except ToolError:
        pins = {}
    bindir = root / ".tools" / "bin"
    path, source = helm.find_path(root)
    rows = [_helm_row("helm", path, source, True, None)]
    for name in ("helm3", "helm4"):
        pin = pins.get(name)
        rows.append(_helm_row(name, bindir / name, ".tools/bin", False, pin.version if pin else None))

    kubectl = bindir / "kubectl" if (bindir / "kubectl").exists() else None
    kubectl_source = ".tools/bin"
    if kubectl is None and shutil.which("kubectl"):
        kubectl, kubectl_source = Path(str(shutil.which("kubectl"))), "PATH"
    if kubectl is None:
        rows.append(Row("kubectl", "missing", None, None, None, "run `invoke tools.install`", False))
    else:
        pinned = installmod.pinned_version(kubectl)
        rows.append(Row("kubectl", "ok", pinned, str(kubectl), kubectl_source,
                        "" if pinned else "not the pinned build", False))

    rows.append(_cluster_row(root))
    git_version = git.version()
    rows.append(Row("git", "ok" if git_version else "missing", git_version, shutil.which("git"), "PATH",
                    "" if git_version else "install git (hooks, changed-chart detection)", False))
    for name in ("docker-registry", "registry"):
        found = shutil.which(name)
        if found:
            rows.append(Row("docker-registry", "ok", None, found, "PATH", "local OCI registry for tests", False))
            break
    else:
        rows.append(Row("docker-registry", "missing", None, None, None,
                        "apt-get install docker-registry (local registry, tests)", False))
    return rows
