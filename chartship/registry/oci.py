"""A small OCI distribution API client (standard library only).

Used to look up tags, verify what was pushed, copy a manifest to an alias tag
(no blob is re-uploaded) and read a chart's config blob. Authentication: HTTP
Basic (docker-registry htpasswd, ECR) and the Bearer token flow (GHCR, Docker
Hub). Retries: bounded exponential backoff on connection errors, 429 and 5xx;
never on 401, 403 or 404.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chartship.errors import RegistryError

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
CHART_LAYER_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
HELM_CONFIG_TYPE = "application/vnd.cncf.helm.config.v1+json"


@dataclass(frozen=True)
class Retry:
    attempts: int = 5
    base: float = 0.5
    cap: float = 8.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Retry:
        env = os.environ if environ is None else environ
        try:
            attempts = int(env.get("CHARTSHIP_RETRIES", "5"))
            base = float(env.get("CHARTSHIP_RETRY_BACKOFF", "0.5"))
        except ValueError:
            raise RegistryError("CHARTSHIP_RETRIES must be a whole number and CHARTSHIP_RETRY_BACKOFF seconds") from None
        if attempts < 1 or base < 0:
            raise RegistryError("CHARTSHIP_RETRIES must be >= 1 and CHARTSHIP_RETRY_BACKOFF >= 0")
        return cls(attempts=attempts, base=base)

    def delay(self, attempt: int) -> float:
        return float(min(self.cap, self.base * (2**attempt)))


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    raw: bytes

    @property
    def data(self) -> Any:
        return json.loads(self.raw)

    def layer_digest(self, media_type: str = CHART_LAYER_TYPE) -> str | None:
        for layer in self.data.get("layers", []):
            if layer.get("mediaType") == media_type:
                return str(layer.get("digest"))
        return None

    @property
    def config_digest(self) -> str | None:
        cfg = self.data.get("config") or {}
        return str(cfg["digest"]) if "digest" in cfg else None


def _is_transient(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


@dataclass
class Client:
    host: str
    plain_http: bool = False
    username: str | None = None
    password: str | None = None
    retry: Retry = field(default_factory=Retry)
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    _bearer: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.host}"

    def _basic(self) -> str | None:
        if self.username is None or self.password is None:
            return None
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def _send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        """One HTTP exchange with retries for transient failures."""
        last = ""
        for attempt in range(self.retry.attempts):
            req = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - registry URL
                    return Response(int(resp.status), {k.lower(): v for k, v in resp.headers.items()}, resp.read())
            except urllib.error.HTTPError as exc:
                resp_body = exc.read() if exc.fp is not None else b""
                headers_out = {k.lower(): v for k, v in (exc.headers or {}).items()}
                if not _is_transient(exc.code):
                    return Response(exc.code, headers_out, resp_body)
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                last = str(getattr(exc, "reason", exc))
            if attempt + 1 < self.retry.attempts:
                self.sleep(self.retry.delay(attempt))
        raise RegistryError(f"{self.host}: {method} {urllib.parse.urlsplit(url).path} failed after "
                            f"{self.retry.attempts} attempts ({last}); check the registry and retry")

    def request(self, method: str, path: str, repo: str, headers: Mapping[str, str] | None = None,
                body: bytes | None = None, push: bool = False) -> Response:
        scope = f"repository:{repo}:{'pull,push' if push else 'pull'}"
        hdrs = dict(headers or {})
        auth = self._bearer.get(scope) or self._basic()
        if auth:
            hdrs["Authorization"] = auth
        resp = self._send(method, self.base + path, hdrs, body)
        if resp.status == 401:
            challenge = resp.headers.get("www-authenticate", "")
            if challenge.lower().startswith("bearer") and scope not in self._bearer:
                self._bearer[scope] = "Bearer " + self._token(challenge, scope)
                hdrs["Authorization"] = self._bearer[scope]
                resp = self._send(method, self.base + path, hdrs, body)
        if resp.status == 401:
            who = "credentials were rejected" if self._basic() else "it needs credentials"
            raise RegistryError(f"{self.host}: 401 Unauthorized for {repo} ({who}); check "
                                "CHARTSHIP_REGISTRY_USERNAME / CHARTSHIP_REGISTRY_PASSWORD or the target's auth")
        if resp.status == 403:
            raise RegistryError(f"{self.host}: 403 Forbidden for {repo}; the credentials lack permission for it")
        return resp

    def _token(self, challenge: str, scope: str) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.get("realm")
        if not realm:
            raise RegistryError(f"{self.host}: bearer challenge without a realm; cannot authenticate")
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        url = f"{realm}?{urllib.parse.urlencode(query)}"
        hdrs = {}
        if self._basic():
            hdrs["Authorization"] = str(self._basic())
        resp = self._send("GET", url, hdrs, None)
        if resp.status != 200:
            raise RegistryError(f"{self.host}: token request refused (HTTP {resp.status}); check the credentials")
        data = json.loads(resp.body or b"{}")
        token = data.get("token") or data.get("access_token")
        if not token:
            raise RegistryError(f"{self.host}: token endpoint returned no token")
        return str(token)

    # ----------------------------------------------------------------- API

    def manifest(self, repo: str, ref: str) -> Manifest | None:
        """The manifest at ``ref``; None only when the registry says it does not exist."""
        resp = self.request("GET", f"/v2/{repo}/manifests/{ref}", repo, {"Accept": ", ".join(MANIFEST_TYPES)})
        if resp.status == 404:
            return None
        if resp.status != 200:
            raise RegistryError(f"{self.host}: reading {repo}:{ref} gave HTTP {resp.status}: {_error_text(resp)}")
        digest = resp.headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(resp.body).hexdigest()
        actual = "sha256:" + hashlib.sha256(resp.body).hexdigest()
        if digest != actual:
            raise RegistryError(f"{self.host}: {repo}:{ref} manifest digest header {digest} does not match its body {actual}")
        media = resp.headers.get("content-type", MANIFEST_TYPES[0]).split(";")[0]
        return Manifest(digest=digest, media_type=media, raw=resp.body)

    def put_manifest(self, repo: str, tag: str, manifest: Manifest) -> str:
        """Store ``manifest`` under ``tag`` (a manifest copy: its blobs are already there)."""
        resp = self.request("PUT", f"/v2/{repo}/manifests/{tag}", repo, {"Content-Type": manifest.media_type},
                            manifest.raw, push=True)
        if resp.status not in (200, 201):
            raise RegistryError(f"{self.host}: tagging {repo}:{tag} gave HTTP {resp.status}: {_error_text(resp)}")
        return resp.headers.get("docker-content-digest", manifest.digest)

    def blob(self, repo: str, digest: str) -> bytes:
        resp = self.request("GET", f"/v2/{repo}/blobs/{digest}", repo)
        if resp.status != 200:
            raise RegistryError(f"{self.host}: blob {digest} of {repo} gave HTTP {resp.status}: {_error_text(resp)}")
        if "sha256:" + hashlib.sha256(resp.body).hexdigest() != digest:
            raise RegistryError(f"{self.host}: blob {digest} of {repo} does not match its digest")
        return resp.body

    def tags(self, repo: str) -> list[str]:
        resp = self.request("GET", f"/v2/{repo}/tags/list", repo)
        if resp.status == 404:
            return []
        if resp.status != 200:
            raise RegistryError(f"{self.host}: listing tags of {repo} gave HTTP {resp.status}: {_error_text(resp)}")
        return list(json.loads(resp.body).get("tags") or [])


def _error_text(resp: Response) -> str:
    try:
        errors = json.loads(resp.body).get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or resp.body[:200].decode(errors="replace")
    except (ValueError, AttributeError):
        return resp.body[:200].decode(errors="replace")


@dataclass(frozen=True)
class Ref:
    """``oci://host[:port]/path/chart`` split into host and repository."""

    host: str
    repository: str

    @classmethod
    def parse(cls, ref: str) -> Ref:
        from chartship import secrets

        secrets.refuse_userinfo(ref, "the chart reference", RegistryError,
                                "pass --target with a target whose credentials come from the environment")
        if not ref.startswith("oci://"):
            raise RegistryError(f"{ref!r}: expected oci://HOST[:PORT]/PATH/CHART")
        rest = ref.removeprefix("oci://").rstrip("/")
        host, _, repo = rest.partition("/")
        if not host or not repo:
            raise RegistryError(f"{ref!r}: expected oci://HOST[:PORT]/PATH/CHART")
        return cls(host, repo)
