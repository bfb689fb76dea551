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
ANONYMOUS = "(anonymous)"  # the name of the target made for a reference that no configured target serves


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


def matching_target(cfg: Config, host: str, repository: str = "") -> Target | None:
    """The configured target whose host is ``host`` (host:port, exactly); among several, the one whose
    path is the longest prefix of ``repository``, then the first by name. None when no target matches."""
    found = []
    for name in sorted(cfg.targets):
        tgt = cfg.targets[name]
        if tgt.host != host:
            continue
        base = oci.Ref.parse_base(tgt.url).repository
        inside = not base or repository == base or repository.startswith(base + "/")
        found.append((len(base) if inside else -1, name, tgt))
    if not found:
        return None
    return max(found, key=lambda f: f[0])[2]  # the first (by name) of the longest


def _set(var: str, environ: Mapping[str, str] | None) -> str:
    return f"{var} ({'set' if config.env(var, environ) else 'not set'})"


def auth_hint(target: Target | None, host: str, environ: Mapping[str, str] | None = None) -> str:
    """What a 401/403 means for ``target`` (None: no configured target has ``host``): the target, the
    variables it reads and whether they are set -- never their values."""
    if target is None:
        return (f"no target in invoke.yaml has the host {host}, so the request went without credentials; add one "
                f"(url: oci://{host}/..., auth: basic) or pass --target")
    if target.auth == "none":
        return (f"target {target.name!r} has auth: none, so the request went without credentials; set auth: basic "
                f"(it reads {USER_ENV} and {PASSWORD_ENV}) or auth: ecr")
    if target.auth == "ecr":
        return (f"target {target.name!r} (auth: ecr) logs in with the AWS credentials of boto3 "
                f"({_set('AWS_REGION', environ)}); check that they may read and write {host}")
    return (f"target {target.name!r} (auth: basic) reads {_set(USER_ENV, environ)} and {_set(PASSWORD_ENV, environ)}; "
            "the registry refused them: check their values and the account's permissions")


def helm_login(helm: Helm, target: Target, creds: tuple[str, str], folder: Path) -> Path:
    """Log helm in to ``target`` with a registry config inside ``folder``; returns that config file."""
    registry_config = folder / "config.json"
    try:
        helm.login(target.host, creds[0], creds[1], target.plain_http, registry_config)
    except ToolError as exc:
        from chartship.tools.helmerrors import RegistryAuthError

        hint = f"; {auth_hint(target, target.host)}" if isinstance(exc, RegistryAuthError) else ""
        raise RegistryError(f"target {target.name!r}: {secrets.redact(str(exc))}{hint}") from None
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
                            retry=retry.Policy.from_config(cfg),
                            auth_hint=auth_hint(None if target.name == ANONYMOUS else target, target.host, environ))
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
