"""Registry credentials and login sessions: the one place that knows how to log in to a target.

Credentials come from the environment (basic auth) or an ECR token (boto3), never from argv.
helm is logged in to a private, temporary registry config that is always removed afterwards.
Publishing, releases, the cluster test and dependency builds all log in through here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chartship import config, secrets
from chartship.config import Target
from chartship.errors import RegistryError, ToolError
from chartship.registry import authfile, oci, retry

if TYPE_CHECKING:
    from chartship.config import Config
    from chartship.tools.helm import Helm

USER_ENV = "CHARTSHIP_REGISTRY_USERNAME"
PASSWORD_ENV = "CHARTSHIP_REGISTRY_PASSWORD"  # noqa: S105 - a variable name


def credentials(target: Target, environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(user, password) for ``target``: none, from the environment (basic), or an ECR token (boto3)."""
    if target.auth == "none":
        return None
    if target.auth == "ecr":
        from chartship.registry import ecr

        creds = ecr.login(target.host, target.region)
        return creds.username, creds.password
    user, password = config.env(USER_ENV, environ), config.env(PASSWORD_ENV, environ)
    if not user or not password:
        raise RegistryError(f"target {target.name!r} ({target.host}) needs a login: set {USER_ENV} and {PASSWORD_ENV}")
    secrets.register_login(user, password)
    return user, password


def helm_login(helm: Helm, target: Target, creds: tuple[str, str], folder: Path) -> Path:
    """Log helm in to ``target`` with a registry config inside ``folder``; returns that config file."""
    registry_config = folder / "config.json"
    try:
        helm.login(target.host, creds[0], creds[1], target.plain_http, registry_config)
    except ToolError as exc:
        raise RegistryError(f"target {target.name!r}: {secrets.redact(str(exc))}") from None
    return registry_config


@dataclass
class Session:
    """An authenticated connection to one target: our OCI client plus helm's private login."""

    cfg: Config
    target: Target
    client: oci.Client
    registry_config: Path | None
    mutability: dict[str, str] = field(default_factory=dict)

    @property
    def helm(self) -> Helm:
        """The run's helm (located only when a session really runs helm)."""
        return self.cfg.helm

    @property
    def base_path(self) -> str:
        return oci.Ref.parse_base(self.target.url).repository

    def repository(self, chart: str) -> str:
        return f"{self.base_path}/{chart}" if self.base_path else chart

    def base(self, chart: str) -> str:
        """``oci://host/path/chart``: what helm install/pull take."""
        return str(oci.Ref(self.target.host, self.repository(chart)))

    def ref(self, chart: str, tag: str) -> str:
        return f"{self.base(chart)}:{tag}"

    def tag_mutability(self, chart: str) -> str:
        """ECR: ensure the repository exists and read its tag mutability; elsewhere MUTABLE."""
        repo = self.repository(chart)
        if repo not in self.mutability:
            if self.target.auth == "ecr":
                from chartship.registry import ecr

                self.mutability[repo] = ecr.ensure_repository(self.target.host, self.target.region, repo,
                                                              self.target.create_repository)
            else:
                self.mutability[repo] = "MUTABLE"
        return self.mutability[repo]


@contextmanager
def session(cfg: Config, target: Target, login_helm: bool = True,
            environ: Mapping[str, str] | None = None) -> Iterator[Session]:
    """Log in (helm into a private, temporary HELM_REGISTRY_CONFIG) and always clean up. Registry calls
    retry transient failures as configured (``retries``, ``retry_backoff``: :mod:`chartship.registry.retry`)."""
    creds = credentials(target, environ)
    tmp = authfile.create()
    try:
        registry_config = helm_login(cfg.helm, target, creds, tmp) if creds is not None and login_helm else None
        client = oci.Client(target.host, target.plain_http, creds[0] if creds else None, creds[1] if creds else None,
                            retry=retry.Policy.from_config(cfg))
        yield Session(cfg, target, client, registry_config)
    finally:
        authfile.remove(tmp)


@dataclass
class HelmLogin:
    """helm logged in to one target for dependency builds, on first use; ``close()`` removes the login."""

    cfg: Config
    target: Target
    environ: Mapping[str, str] | None = None
    _env: dict[str, str] | None = None
    _dir: Path | None = None

    def env(self) -> dict[str, str]:
        """The environment helm needs to use the login ({} when the target needs none)."""
        if self._env is None:
            creds = credentials(self.target, self.environ)
            if creds is None:
                self._env = {}
            else:
                self._dir = authfile.create()
                self._env = {"HELM_REGISTRY_CONFIG": str(helm_login(self.cfg.helm, self.target, creds, self._dir))}
        return self._env

    def close(self) -> None:
        if self._dir is not None:
            authfile.remove(self._dir)
