"""Clusters for the cluster test: kind (docker), kwok (no docker: a real API server built
from Go modules), or an existing kube context that matches an allow pattern.
``kind`` and ``docker`` run in :mod:`chartship.tools.kind`."""

from __future__ import annotations

import fnmatch
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chartship import config, data
from chartship.config import Config
from chartship.errors import ToolError
from chartship.tools import kind, kubectl

PROVIDERS = ("kind", "kwok", "existing")
KIND_CONFIG = data.path("kind-config.yaml")


@dataclass(frozen=True)
class Cluster:
    provider: str
    name: str
    kubeconfig: Path
    context: str | None


def kwok_ready(root: Path) -> bool:
    from chartship.tools import clusterbin

    try:
        clusterbin.locate(root)
    except ToolError:
        return False
    return True


def default_provider(root: Path) -> str:
    """kind where docker and kind exist, otherwise kwok."""
    if kind.installed() and kind.docker_usable():
        return "kind"
    return "kwok"


def why_unusable(root: Path, provider: str) -> str | None:
    """None when ``provider`` can run here, else what to install."""
    if provider == "kind":
        if not kind.installed():
            return "kind is not installed (https://kind.sigs.k8s.io; `go install sigs.k8s.io/kind@latest`)"
        if not kind.docker_usable():
            return "kind needs a running docker engine; use --provider kwok where there is none"
    if provider == "kwok" and not kwok_ready(root):
        return "the kwok cluster binaries are not built: run `invoke tools.install --cluster`"
    return None


def _kubeconfig(environ: Mapping[str, str] | None) -> Path:
    first = config.env("KUBECONFIG", environ).split(os.pathsep)[0]
    return Path(first) if first else Path.home() / ".kube" / "config"


def check_context(context: str | None, patterns: tuple[str, ...]) -> str:
    """The existing provider refuses contexts that no allow pattern matches (no prod by accident)."""
    if not context:
        raise ToolError("provider existing: the kubeconfig has no current context; select one with kubectl config use-context")
    if not any(fnmatch.fnmatchcase(context, p) for p in patterns):
        raise ToolError(f"provider existing: context {context!r} matches none of cluster_contexts "
                        f"({', '.join(patterns)}); add a pattern to invoke.yaml if it is really a test cluster")
    return context


@contextmanager
def provide(cfg: Config, provider: str, keep: bool = False, environ: Mapping[str, str] | None = None,
            log: Callable[[str], None] = lambda _m: None) -> Iterator[Cluster]:
    """A cluster for the duration of the block; created ones are deleted after unless ``keep``."""
    if provider not in PROVIDERS:
        raise ToolError(f"--provider {provider!r}: expected one of {', '.join(PROVIDERS)}")
    problem = why_unusable(cfg.root, provider)
    if problem:
        raise ToolError(f"provider {provider}: {problem}")
    if provider == "existing":
        kubeconfig = _kubeconfig(environ)
        context = check_context(kubectl.current_context(cfg.root, kubeconfig), cfg.cluster_contexts)
        yield Cluster("existing", context, kubeconfig, context)
    elif provider == "kwok":
        from chartship.tools import kwok

        with kwok.start(cfg.root, keep=keep, environ=environ, log=log) as c:
            yield Cluster("kwok", c.name, c.kubeconfig, c.context)
        if keep:
            log(f"kept kwok cluster {c.name}: KUBECONFIG={c.kubeconfig}")
    else:
        yield from _kind(cfg, keep, log)


def _kind(cfg: Config, keep: bool, log: Callable[[str], None]) -> Iterator[Cluster]:
    name = f"chartship-{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="chartship-kind-"))
    kubeconfig = tmp / "kubeconfig"
    try:
        kind.create(name, kubeconfig, KIND_CONFIG if KIND_CONFIG.is_file() else None)
    except ToolError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        crds = sorted(data.path("crds").glob("*.yaml"))
        if crds:
            kubectl.apply(cfg.root, kubeconfig, paths=crds)
        yield Cluster("kind", name, kubeconfig, f"kind-{name}")
    finally:
        if keep:
            log(f"kept kind cluster {name}: KUBECONFIG={kubeconfig}")
        else:
            kind.delete(name)
            shutil.rmtree(tmp, ignore_errors=True)
