"""AWS ECR through boto3 (imported here only, and only when a target uses ``auth: ecr``).

Profile and region come from the target or the usual AWS variables
(AWS_PROFILE, AWS_REGION / AWS_DEFAULT_REGION); boto3 honours
AWS_ENDPOINT_URL_ECR by itself.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from chartship import config
from chartship.errors import RegistryError

_HOST_RE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def region_for(host: str, region: str | None) -> str:
    if region:
        return region
    m = _HOST_RE.match(host)
    if m:
        return m["region"]
    env = config.aws_region()
    if env:
        return env
    raise RegistryError(f"{host}: no AWS region; set `region:` on the target or AWS_REGION")


def _client(region: str) -> Any:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise RegistryError("ECR targets need boto3: pip install boto3 (ci/bootstrap installs it)") from None
    try:
        return boto3.session.Session(region_name=region).client("ecr")
    except BotoCoreError as exc:
        raise RegistryError(f"ECR: {exc}; check AWS_PROFILE and the AWS configuration") from None


def _call(client: Any, op: str, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(client, op)(**kwargs)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise _ClientError(str(err.get("Code", "")), str(err.get("Message", exc))) from None
    except BotoCoreError as exc:
        raise RegistryError(f"ECR {op}: {exc}; check AWS credentials, region and network") from None


class _ClientError(RegistryError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"ECR: {code}: {message}")
        self.code = code


def login(host: str, region: str | None) -> Credentials:
    """A registry login from get_authorization_token (user AWS, a 12-hour token)."""
    client = _client(region_for(host, region))
    try:
        data = _call(client, "get_authorization_token")
    except _ClientError as exc:
        raise RegistryError(f"{exc}; the AWS identity needs ecr:GetAuthorizationToken") from None
    token = data["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    from chartship import secrets

    secrets.register_login(user, password)
    secrets.register(token)
    return Credentials(user, password)


def ensure_repository(host: str, region: str | None, repository: str, create: bool) -> str:
    """The repository's tag mutability (MUTABLE, IMMUTABLE, ...); created when missing and ``create``."""
    client = _client(region_for(host, region))
    try:
        data = _call(client, "describe_repositories", repositoryNames=[repository])
        return str(data["repositories"][0].get("imageTagMutability", "MUTABLE"))
    except _ClientError as exc:
        if exc.code != "RepositoryNotFoundException":
            raise
    if not create:
        raise RegistryError(
            f"ECR repository {repository!r} does not exist; create it or set `create_repository: true` on the target"
        )
    data = _call(client, "create_repository", repositoryName=repository)
    return str(data["repository"].get("imageTagMutability", "MUTABLE"))
