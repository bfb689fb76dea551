"""A small OCI distribution API client (standard library only).

Used to look up tags, verify what was pushed, copy a manifest to an alias tag
(no blob is re-uploaded), read a chart's config blob, and copy a chart between
registries (blob HEAD, download, upload, cross-repository mount, manifest put;
every digest is checked on the way in and out). Authentication: HTTP
Basic (docker-registry htpasswd, ECR) and the Bearer token flow (GHCR, Docker
Hub). Retries follow the one policy in :mod:`chartship.registry.retry` (connection errors, 429
and 5xx; never 401, 403 or 404).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chartship import secrets
from chartship.errors import RegistryError
from chartship.registry import retry as retrymod
from chartship.registry import transport
from chartship.registry.transport import Response

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
CHART_LAYER_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
HELM_CONFIG_TYPE = "application/vnd.cncf.helm.config.v1+json"
PROVENANCE_TYPE = "application/vnd.cncf.helm.chart.provenance.v1.prov"
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    raw: bytes

    @property
    def data(self) -> Any:
        return json.loads(self.raw)

    def layer_digest(self, media_type: str = CHART_LAYER_TYPE) -> str | None:
        for layer in self.data.get("layers") or []:
            if layer.get("mediaType") == media_type:
                return str(layer.get("digest"))
        return None

    @property
    def config_digest(self) -> str | None:
        cfg = self.data.get("config") or {}
        return str(cfg["digest"]) if "digest" in cfg else None


@dataclass
class Client:
    host: str
    plain_http: bool = False
    username: str | None = None
    password: str | None = None
    retry: retrymod.Policy = field(default_factory=retrymod.Policy)
    timeouts: transport.Timeouts = field(default_factory=transport.Timeouts)
    # what a 401/403 should tell: which target's credentials were used and which variables it reads
    auth_hint: str = "check CHARTSHIP_REGISTRY_USERNAME / CHARTSHIP_REGISTRY_PASSWORD or the target's auth"
    _bearer: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.host}"

    def _basic(self) -> str | None:
        if self.username is None or self.password is None:
            return None
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def _send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
              limit: int = transport.DEFAULT_LIMIT) -> Response:
        """One HTTP exchange (:func:`chartship.registry.transport.send`: credentials never follow a
        cross-origin redirect, connect and read timeouts), repeated by the retry policy while it fails
        transiently; a malformed response or the last failure is one RegistryError line."""
        what = f"{method} {urllib.parse.urlsplit(url).path}"
        try:
            return self.retry.call(lambda: transport.send(method, url, headers, body, self.timeouts, limit))
        except retrymod.Transient as exc:
            raise RegistryError(f"{self.host}: {what} failed after {self.retry.attempts} attempts ({exc}); "
                                "check that the registry is up and reachable, then retry") from None
        except transport.Malformed as exc:
            raise RegistryError(f"{self.host}: {what}: malformed response ({exc}); is {self.host} an OCI "
                                "registry?") from None

    def request(self, method: str, path: str, repo: str, headers: Mapping[str, str] | None = None,
                body: bytes | None = None, push: bool = False) -> Response:
        """``path`` is a /v2/ path or an absolute URL the registry handed out (an upload location); credentials
        go only to this registry's host."""
        scope = f"repository:{repo}:{'pull,push' if push else 'pull'}"
        hdrs = dict(headers or {})
        url = urllib.parse.urljoin(self.base + "/", path)
        if urllib.parse.urlsplit(url).netloc != self.host:
            return self._send(method, url, hdrs, body)
        auth = self._bearer.get(scope) or self._basic()
        if auth:
            hdrs["Authorization"] = auth
        resp = self._send(method, url, hdrs, body)
        if resp.status == 401:
            challenge = resp.headers.get("www-authenticate", "")
            if challenge.lower().startswith("bearer") and scope not in self._bearer:
                self._bearer[scope] = "Bearer " + self._token(challenge, scope)
                hdrs["Authorization"] = self._bearer[scope]
                resp = self._send(method, url, hdrs, body)
        if resp.status == 401:
            who = "credentials were rejected" if self._basic() else "it needs credentials"
            raise RegistryError(f"{self.host}: 401 Unauthorized for {repo} ({who}); {self.auth_hint}")
        if resp.status == 403:
            raise RegistryError(f"{self.host}: 403 Forbidden for {repo}; the credentials lack permission for it; "
                                f"{self.auth_hint}")
        return resp

    def _token(self, challenge: str, scope: str) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.get("realm")
        if not realm:
            raise RegistryError(f"{self.host}: bearer challenge without a realm; cannot authenticate")
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        url = f"{realm}?{urllib.parse.urlencode(query)}"
        hdrs: dict[str, str] = {}
        if self._basic() and transport.origin(realm)[0] == "http" and not self.plain_http:
            raise RegistryError(f"{self.host}: the bearer realm {realm[:80]!r} is plain HTTP; chartship does not send "
                                "credentials over it (use an HTTPS realm, or plain_http: true for a local registry)")
        if self._basic():
            hdrs["Authorization"] = str(self._basic())
        realm_origin = transport.origin(realm)
        if realm_origin[0] not in ("http", "https") or not realm_origin[1]:
            raise RegistryError(f"{self.host}: bearer challenge names a realm that is not an http(s) URL "
                                f"({realm[:80]!r}); cannot authenticate")
        resp = self._send("GET", url, hdrs, None, TOKEN_LIMIT)
        if resp.status != 200:
            raise RegistryError(f"{self.host}: token request to {realm_origin[1]}:{realm_origin[2]} refused "
                                f"(HTTP {resp.status}); check the credentials")
        data = _json(resp.body)
        token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        if not isinstance(token, str) or not token or any(ch.isspace() for ch in token):
            raise RegistryError(f"{self.host}: token endpoint {realm_origin[1]}:{realm_origin[2]} answered "
                                f"{_shape(resp)}, not a JSON object with a token; check the registry's auth service")
        return token

    # ----------------------------------------------------------------- API

    def manifest(self, repo: str, ref: str) -> Manifest | None:
        """The manifest at ``ref``; None only when the registry says it does not exist."""
        resp = self.request("GET", f"/v2/{repo}/manifests/{ref}", repo, {"Accept": ", ".join(MANIFEST_TYPES)})
        if resp.status == 404:
            return None
        what = f"{self.host}: GET {repo}:{ref}"
        if resp.status != 200:
            raise RegistryError(f"{what} gave HTTP {resp.status}: {_error_text(resp)}")
        actual = "sha256:" + hashlib.sha256(resp.body).hexdigest()
        digest = resp.headers.get("docker-content-digest") or actual
        if digest != actual:
            raise RegistryError(f"{what}: manifest digest header {digest} does not match its body {actual}; "
                                "the registry or a proxy altered it")
        media = resp.headers.get("content-type", MANIFEST_TYPES[0]).split(";")[0].strip()
        data = _json(resp.body)
        problem = _manifest_problem(data)
        if problem:
            raise RegistryError(f"{what}: malformed manifest ({problem}; got {_shape(resp)}); is it an OCI registry?")
        if media not in MANIFEST_TYPES:
            media = str(data.get("mediaType") or MANIFEST_TYPES[0])
            if media not in MANIFEST_TYPES:
                raise RegistryError(f"{what}: not an image manifest (media type {media[:80]!r}); a helm chart has "
                                    f"{MANIFEST_TYPES[0]}")
        return Manifest(digest=digest, media_type=media, raw=resp.body)

    def put_manifest(self, repo: str, tag: str, manifest: Manifest) -> str:
        """Store ``manifest`` under ``tag`` (its blobs must be there already); the digest the registry
        reports must be the digest of the bytes sent."""
        actual = sha256_digest(manifest.raw)
        if manifest.digest != actual:
            raise RegistryError(f"{self.host}: manifest for {repo}:{tag} is {actual}, not {manifest.digest}; not written")
        resp = self.request("PUT", f"/v2/{repo}/manifests/{tag}", repo, {"Content-Type": manifest.media_type},
                            manifest.raw, push=True)
        if resp.status not in (200, 201):
            raise RegistryError(f"{self.host}: tagging {repo}:{tag} gave HTTP {resp.status}: {_error_text(resp)}")
        stored = resp.headers.get("docker-content-digest", actual)
        if stored != actual:
            raise RegistryError(f"{self.host}: {repo}:{tag} was stored as {stored}, but the manifest sent is {actual}")
        return stored

    def blob_exists(self, repo: str, digest: str, push: bool = False) -> bool:
        """HEAD the blob: True when present, False only when the registry says 404."""
        _check_digest(digest)
        resp = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", repo, push=push)
        if resp.status == 404:
            return False
        if resp.status != 200:
            raise RegistryError(f"{self.host}: looking up blob {digest} in {repo} gave HTTP {resp.status}")
        stored = resp.headers.get("docker-content-digest")
        if stored and stored != digest:
            raise RegistryError(f"{self.host}: blob {digest} of {repo} is reported as {stored}")
        return True

    def mount_blob(self, repo: str, digest: str, source_repo: str) -> str | None:
        """Cross-repository mount on this registry: None when the blob was linked into ``repo``, otherwise
        the upload location the registry opened instead (finish it with :meth:`upload_blob`)."""
        _check_digest(digest)
        query = urllib.parse.urlencode({"mount": digest, "from": source_repo})
        resp = self.request("POST", f"/v2/{repo}/blobs/uploads/?{query}", repo, {"Content-Length": "0"}, b"", push=True)
        if resp.status == 201:
            stored = resp.headers.get("docker-content-digest")
            if stored and stored != digest:
                raise RegistryError(f"{self.host}: mounting {digest} into {repo} produced {stored}")
            return None
        if resp.status == 202 and resp.headers.get("location"):
            return resp.headers["location"]
        raise RegistryError(f"{self.host}: mounting blob {digest} into {repo} gave HTTP {resp.status}: {_error_text(resp)}")

    def upload_blob(self, repo: str, digest: str, data: bytes, location: str | None = None) -> None:
        """Upload ``data`` as blob ``digest``: POST opens a session (unless ``location`` is one already),
        one monolithic PUT with ``?digest=`` closes it. Bytes that do not match ``digest`` are never sent."""
        _check_digest(digest)
        if sha256_digest(data) != digest:
            raise RegistryError(f"{self.host}: refusing to upload to {repo}: the data is not blob {digest}")
        if location is None:
            resp = self.request("POST", f"/v2/{repo}/blobs/uploads/", repo, {"Content-Length": "0"}, b"", push=True)
            if resp.status != 202 or not resp.headers.get("location"):
                raise RegistryError(f"{self.host}: starting an upload to {repo} gave HTTP {resp.status}: "
                                    f"{_error_text(resp)}")
            location = resp.headers["location"]
        url = location + ("&" if "?" in location else "?") + urllib.parse.urlencode({"digest": digest})
        resp = self.request("PUT", url, repo, {"Content-Type": "application/octet-stream",
                                               "Content-Length": str(len(data))}, data, push=True)
        if resp.status not in (201, 204):
            raise RegistryError(f"{self.host}: uploading blob {digest} to {repo} gave HTTP {resp.status}: "
                                f"{_error_text(resp)}")
        stored = resp.headers.get("docker-content-digest")
        if stored and stored != digest:
            raise RegistryError(f"{self.host}: blob {digest} was stored in {repo} as {stored}")

    def blob(self, repo: str, digest: str) -> bytes:
        _check_digest(digest)
        resp = self.request("GET", f"/v2/{repo}/blobs/{digest}", repo)
        if resp.status != 200:
            raise RegistryError(f"{self.host}: blob {digest} of {repo} gave HTTP {resp.status}: {_error_text(resp)}")
        if "sha256:" + hashlib.sha256(resp.body).hexdigest() != digest:  # also a truncated or altered body
            raise RegistryError(f"{self.host}: blob {digest} of {repo} does not match its digest")
        return resp.body

    def tags(self, repo: str) -> list[str]:
        resp = self.request("GET", f"/v2/{repo}/tags/list", repo)
        if resp.status == 404:
            return []
        if resp.status != 200:
            raise RegistryError(f"{self.host}: listing tags of {repo} gave HTTP {resp.status}: {_error_text(resp)}")
        data = _json(resp.body)
        found = data.get("tags") if isinstance(data, dict) else None
        if not isinstance(found, list) or not all(isinstance(t, str) for t in found):
            if isinstance(data, dict) and found is None:
                return []
            raise RegistryError(f"{self.host}: GET /v2/{repo}/tags/list answered {_shape(resp)}, not a tag list; "
                                "is it an OCI registry?")
        return list(found)


TOKEN_LIMIT = 64 * 1024
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _json(body: bytes) -> Any:
    """``body`` as JSON, or None when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _shape(resp: Response) -> str:
    """A few words on what a malformed response held (never its text: it may echo headers)."""
    media = resp.headers.get("content-type", "no content type").split(";")[0].strip() or "no content type"
    data = _json(resp.body) if resp.body else None
    kind = "an empty body" if not resp.body else f"JSON {type(data).__name__}" if data is not None else "non-JSON"
    return f"{kind}, {media}, {len(resp.body)} bytes"


def _descriptor_problem(node: Any, where: str) -> str:
    if not isinstance(node, dict):
        return f"{where} is not an object"
    if not isinstance(node.get("digest"), str) or not _DIGEST.match(node["digest"]):
        return f"{where} has no sha256 digest"
    if not isinstance(node.get("mediaType"), str):
        return f"{where} has no mediaType"
    return ""


def _manifest_problem(data: Any) -> str:
    """What is wrong with a manifest's JSON; '' when it has the shape of an image manifest."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if data.get("schemaVersion") != 2:
        return "schemaVersion is not 2"
    layers = data.get("layers")
    if not isinstance(layers, list):
        return "no layers list"
    problem = _descriptor_problem(data.get("config"), "config")
    for i, layer in enumerate(layers):
        problem = problem or _descriptor_problem(layer, f"layers[{i}]")
    return problem


def _check_digest(digest: str) -> None:
    if not DIGEST_RE.match(digest):
        raise RegistryError(f"{digest!r} is not a sha256 digest; refusing to use it in a registry path")


def _error_text(resp: Response) -> str:
    """The registry's structured errors (``{"errors": [{code, message}]}``) on one line, redacted;
    for anything else only its shape (an HTML page or an echo of our headers is not printed)."""
    data = _json(resp.body)
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors):
        text = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        return secrets.redact(" ".join(text.split()))[:300]
    return _shape(resp)


SCHEME = "oci://"


@dataclass(frozen=True)
class Ref:
    """``oci://host[:port]/path/chart`` split into host and repository: the one parser of oci:// URLs."""

    host: str
    repository: str

    @classmethod
    def parse(cls, ref: str) -> Ref:
        """A chart reference: host and repository are both required."""
        from chartship import secrets

        secrets.refuse_userinfo(ref, "the chart reference", RegistryError,
                                "pass --target with a target whose credentials come from the environment")
        parsed = cls.parse_base(ref)
        if not parsed.repository:
            raise RegistryError(f"{ref!r}: expected oci://HOST[:PORT]/PATH/CHART")
        return parsed

    @classmethod
    def parse_base(cls, url: str) -> Ref:
        """A target or repository URL ``oci://HOST[:PORT][/PATH]``: the path may be empty."""
        if not url.startswith(SCHEME):
            raise RegistryError(f"{url!r}: expected oci://HOST[:PORT]/PATH/CHART")
        host, _, repo = url.removeprefix(SCHEME).rstrip("/").partition("/")
        if not host:
            raise RegistryError(f"{url!r}: expected oci://HOST[:PORT]/PATH/CHART")
        return cls(host, repo)

    @classmethod
    def host_of(cls, url: str) -> str | None:
        """The host of an ``oci://`` URL; None for anything else (an https:// or file:// repository)."""
        try:
            return cls.parse_base(url).host
        except RegistryError:
            return None

    def __str__(self) -> str:
        return f"{SCHEME}{self.host}/{self.repository}" if self.repository else f"{SCHEME}{self.host}"
