"""Registry faults against chartship's OCI client: a real docker-registry (htpasswd) behind the fault
proxy. Credentials never leave their origin on a redirect; transient faults are retried (Retry-After
honoured, bounded); every malformed answer is ONE RegistryError line naming the registry and the
request; the registry is never changed by a failed read."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartship.errors import RegistryError
from chartship.registry import oci, retry, transport
from chartship.tools import registry_server
from tests.adversarial import faultproxy as fp
from tests.helpers.registry import Registry, start_registry

USER, PASSWORD = "alice", "s3cr3t-Passw0rd"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
REPO, TAG = "charts/demo", "0.1.0"


def _put(host: str, method: str, path: str, data: bytes, ctype: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request(method, path, body=data, headers={"Authorization": BASIC, "Content-Type": ctype,
                                                   "Content-Length": str(len(data))})
    resp = conn.getresponse()
    resp.read()
    return resp


def seed(host: str, repo: str = REPO, tag: str = TAG, version: str = TAG) -> str:
    """Upload a tiny helm-shaped artifact (config + layer + manifest); its manifest digest."""
    config = json.dumps({"name": repo.rsplit("/", 1)[-1], "version": version, "apiVersion": "v2"}).encode()
    layer = b"\x1f\x8b" + version.encode() * 20
    descs = []
    for blob, media in ((config, oci.HELM_CONFIG_TYPE), (layer, oci.CHART_LAYER_TYPE)):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        start = _put(host, "POST", f"/v2/{repo}/blobs/uploads/", b"", "application/octet-stream")
        location = start.headers["Location"]
        location = location.split(host, 1)[-1]
        sep = "&" if "?" in location else "?"
        assert _put(host, "PUT", f"{location}{sep}digest={digest}", blob, "application/octet-stream").status == 201
        descs.append({"mediaType": media, "digest": digest, "size": len(blob)})
    manifest = json.dumps({"schemaVersion": 2, "mediaType": oci.MANIFEST_TYPES[0], "config": descs[0],
                           "layers": [descs[1]]}).encode()
    assert _put(host, "PUT", f"/v2/{repo}/manifests/{tag}", manifest, oci.MANIFEST_TYPES[0]).status == 201
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, str]]:
    reg = start_registry(tmp_path_factory.mktemp("faults"), {USER: PASSWORD})
    digest = seed(reg.host)
    yield reg, digest
    registry_server.stop(reg.state)


def client(host: str, attempts: int = 3, waits: list[float] | None = None, read: float = 5.0,
           user: str | None = USER) -> oci.Client:
    sink = waits if waits is not None else []
    return oci.Client(host, plain_http=True, username=user, password=PASSWORD if user else None,
                      retry=retry.Policy(attempts=attempts, base=0.0, sleep=sink.append, retry_after_cap=7.0),
                      timeouts=transport.Timeouts(connect=2.0, read=read))


def one_line(exc: pytest.ExceptionInfo[RegistryError], *words: str) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    assert PASSWORD not in text and BASIC.split()[1] not in text
    for word in words:
        assert word in text, (word, text)
    return text


def tags_of(reg: Registry) -> list[str]:
    return client(reg.host).tags(REPO)


# ---------------------------------------------------------------- credentials and redirects


def test_same_origin_redirect_keeps_the_credentials(registry: tuple[Registry, str]) -> None:
    reg, digest = registry
    proxy = fp.FaultProxy(reg.host, lambda s: fp.redirect(f"http://{reg.host}{s.path}") if s.n == 1 else None)
    try:
        # the proxy redirects to the registry itself: a different port, so credentials must go
        manifest_via_other = None
        with pytest.raises(RegistryError) as exc:
            manifest_via_other = client(proxy.host).manifest(REPO, TAG)
        one_line(exc, proxy.host, "401", REPO)
        assert manifest_via_other is None
    finally:
        proxy.close()
    same = fp.FaultProxy(reg.host)
    same.rule = lambda s: fp.redirect(f"http://{same.host}/v2/{REPO}/manifests/{TAG}") if s.path.endswith("/first") else None
    try:
        got = client(same.host).request("GET", f"/v2/{REPO}/manifests/first", REPO,
                                        {"Accept": ", ".join(oci.MANIFEST_TYPES)})
        assert got.status == 200 and hashlib.sha256(got.body).hexdigest() == digest.split(":")[1]
        assert same.authorizations() == [BASIC, BASIC]  # same origin: the credentials follow
    finally:
        same.close()


@pytest.mark.parametrize("where", ["other-port", "other-host-name"])
def test_cross_origin_redirect_drops_the_authorization_header(registry: tuple[Registry, str], where: str) -> None:
    reg, _ = registry
    sink = fp.FaultProxy(reg.host)
    port = sink.host.split(":")[1]
    target = {"other-port": f"http://{sink.host}", "other-host-name": f"http://localhost:{port}"}[where]
    front = fp.FaultProxy(reg.host, lambda s: fp.redirect(target + s.path) if s.n == 1 else None)
    try:
        with pytest.raises(RegistryError) as exc:
            client(front.host).manifest(REPO, TAG)
        one_line(exc, front.host, "401")
        assert sink.seen, "the redirect was not followed"
        assert sink.authorizations() == []  # nothing reached the other origin
        assert front.authorizations() == [BASIC]
    finally:
        front.close()
        sink.close()
    assert TAG in tags_of(reg)


def test_cross_origin_blob_redirect_is_followed_anonymously(registry: tuple[Registry, str]) -> None:
    """What storage-backed registries do for blobs: 307 to a pre-signed URL that needs no credentials."""
    reg, _ = registry
    anon_root = Path(str(reg.state)).parent / "anon"
    anon = start_registry(anon_root)
    try:
        seed(anon.host)
        front = fp.FaultProxy(reg.host)
        front.rule = lambda s: fp.redirect(f"http://{anon.host}{s.path}") if "/blobs/" in s.path else None
        try:
            c = client(front.host)
            manifest = c.manifest(REPO, TAG)
            assert manifest is not None and manifest.config_digest is not None
            assert json.loads(c.blob(REPO, manifest.config_digest))["version"] == TAG
        finally:
            front.close()
    finally:
        registry_server.stop(anon.state)


def test_token_realm_gets_basic_but_a_redirect_off_the_registry_gets_no_bearer(registry: tuple[Registry, str]) -> None:
    reg, _ = registry
    realm = fp.FaultProxy(reg.host, lambda s: fp.body(json.dumps({"token": "tok-123"}).encode(),
                                                      headers={"Content-Type": "application/json"}))
    sink = fp.FaultProxy(reg.host, lambda s: fp.status(404))
    challenge = f'Bearer realm="http://{realm.host}/token",service="reg"'

    def rule(s: fp.Seen) -> fp.Action | None:
        if s.headers.get("Authorization") != "Bearer tok-123":
            return fp.Action("status", 401, {"WWW-Authenticate": challenge})
        return fp.redirect(f"http://{sink.host}{s.path}")

    front = fp.FaultProxy(reg.host, rule)
    try:
        assert client(front.host).manifest(REPO, TAG) is None  # the sink says 404
        assert realm.authorizations() == [BASIC]  # the realm is where credentials are exchanged
        assert sink.authorizations() == []  # neither Basic nor the token went to the other origin
    finally:
        for p in (front, realm, sink):
            p.close()


def test_redirect_loop_and_non_http_redirect_are_one_line(registry: tuple[Registry, str]) -> None:
    reg, _ = registry
    loop = fp.FaultProxy(reg.host)
    loop.rule = lambda s: fp.redirect(f"http://{loop.host}/v2/{REPO}/manifests/{TAG}")
    odd = fp.FaultProxy(reg.host, lambda s: fp.redirect("file:///etc/passwd"))
    try:
        with pytest.raises(RegistryError) as exc:
            client(loop.host).manifest(REPO, TAG)
        one_line(exc, loop.host, "more than 5 redirects", f"/v2/{REPO}/manifests/{TAG}")
        with pytest.raises(RegistryError) as exc2:
            client(odd.host).manifest(REPO, TAG)
        one_line(exc2, odd.host, "non-HTTP location")
    finally:
        loop.close()
        odd.close()


# ---------------------------------------------------------------- transient faults


@pytest.mark.parametrize("code", [429, 500, 502, 503, 504])
def test_transient_status_is_retried_then_succeeds(registry: tuple[Registry, str], code: int) -> None:
    reg, digest = registry
    proxy = fp.FaultProxy(reg.host, lambda s: fp.status(code, "1") if s.n <= 2 else None)
    waits: list[float] = []
    try:
        manifest = client(proxy.host, attempts=3, waits=waits).manifest(REPO, TAG)
        assert manifest is not None and manifest.digest == digest
        assert waits == [1.0, 1.0]  # Retry-After: 1 honoured
    finally:
        proxy.close()


def test_retry_after_is_bounded(registry: tuple[Registry, str]) -> None:
    reg, _ = registry
    proxy = fp.FaultProxy(reg.host, lambda s: fp.status(429, "86400") if s.n == 1 else None)
    waits: list[float] = []
    try:
        assert client(proxy.host, waits=waits).manifest(REPO, TAG) is not None
        assert waits == [7.0]  # capped at retry_after_cap, not a day
    finally:
        proxy.close()


@pytest.mark.parametrize("code", [500, 503])
def test_persistent_5xx_is_one_line_after_the_attempts(registry: tuple[Registry, str], code: int) -> None:
    reg, _ = registry
    proxy = fp.FaultProxy(reg.host, lambda s: fp.status(code, body=b"<html><body>oops\nline2</body></html>"))
    try:
        with pytest.raises(RegistryError) as exc:
            client(proxy.host, attempts=3).manifest(REPO, TAG)
        one_line(exc, proxy.host, f"GET /v2/{REPO}/manifests/{TAG}", "after 3 attempts", f"HTTP {code}", "retry")
        assert len(proxy.seen) == 3
    finally:
        proxy.close()


@pytest.mark.parametrize(("action", "words"), [
    (fp.reset(), "attempts"),
    (fp.reset(after=40), "reset"),
    (fp.stall(4.0), "timed out"),
    (fp.raw(b"GARBAGE NOT HTTP\r\n\r\n"), "malformed HTTP status line"),
    (fp.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"schemaVersion\": 2"), "truncated"),
    (fp.raw(b""), "attempts"),
])
def test_connection_faults_are_retried_then_one_line(registry: tuple[Registry, str], action: fp.Action,
                                                     words: str) -> None:
    reg, digest = registry
    proxy = fp.FaultProxy(reg.host, lambda s: action)
    try:
        with pytest.raises(RegistryError) as exc:
            client(proxy.host, attempts=2, read=1.0).manifest(REPO, TAG)
        one_line(exc, proxy.host, f"GET /v2/{REPO}/manifests/{TAG}", words)
        assert len(proxy.seen) == 2  # retried once
        proxy.rule = lambda s: action if s.n == 3 else None
        manifest = client(proxy.host, attempts=2, read=1.0).manifest(REPO, TAG)  # a single fault: retried, succeeds
        assert manifest is not None and manifest.digest == digest
    finally:
        proxy.close()


# ---------------------------------------------------------------- malformed answers


JSON = {"Content-Type": "application/json"}
MANIFEST_CT = {"Content-Type": oci.MANIFEST_TYPES[0]}


@pytest.mark.parametrize(("data", "headers", "words"), [
    (b"<html><body>Welcome to nginx</body></html>", {"Content-Type": "text/html"}, "not a JSON object"),
    (b"", MANIFEST_CT, "not a JSON object"),
    (b"not json at all {", MANIFEST_CT, "not a JSON object"),
    (b"[1, 2, 3]", MANIFEST_CT, "not a JSON object"),
    (b'{"schemaVersion": 1}', MANIFEST_CT, "schemaVersion is not 2"),
    (b'{"schemaVersion": 2, "config": {}}', MANIFEST_CT, "no layers list"),
    (b'{"schemaVersion": 2, "layers": [], "config": {"digest": "md5:x", "mediaType": "a"}}', MANIFEST_CT,
     "config has no sha256 digest"),
    (b'{"schemaVersion": 2, "layers": ["x"], "config": {"digest": "sha256:' + b"0" * 64 + b'", "mediaType": "a"}}',
     MANIFEST_CT, "layers[0] is not an object"),
    (b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "layers": [], '
     b'"config": {"digest": "sha256:' + b"0" * 64 + b'", "mediaType": "a"}}', JSON, "not an image manifest"),
    (b"\xff\xfe\x00garbage", MANIFEST_CT, "not a JSON object"),
])
def test_malformed_manifest_is_one_line(registry: tuple[Registry, str], data: bytes, headers: dict[str, str],
                                        words: str) -> None:
    reg, _ = registry
    proxy = fp.FaultProxy(reg.host, lambda s: fp.body(data, headers=headers))
    try:
        with pytest.raises(RegistryError) as exc:
            client(proxy.host).manifest(REPO, TAG)
        one_line(exc, proxy.host, f"{REPO}:{TAG}", "malformed manifest" if "image manifest" not in words else "", words)
    finally:
        proxy.close()
    assert TAG in tags_of(reg)


def test_manifest_digest_header_that_lies_is_refused(registry: tuple[Registry, str]) -> None:
    reg, _ = registry
    body = b'{"schemaVersion": 2, "layers": [], "config": {"digest": "sha256:' + b"1" * 64 + b'", "mediaType": "a"}}'
    proxy = fp.FaultProxy(reg.host, lambda s: fp.body(body, headers={**MANIFEST_CT,
                                                                      "Docker-Content-Digest": "sha256:" + "2" * 64}))
    try:
        with pytest.raises(RegistryError) as exc:
            client(proxy.host).manifest(REPO, TAG)
        one_line(exc, proxy.host, "does not match its body", "altered")
    finally:
        proxy.close()


def test_oversized_body_is_refused_without_reading_it_all(registry: tuple[Registry, str]) -> None:
    reg, _ = registry
    big = b"{" + b" " * (transport.DEFAULT_LIMIT + 10) + b"}"
    proxy = fp.FaultProxy(reg.host, lambda s: fp.body(big, headers=MANIFEST_CT))
    try:
        with pytest.raises(RegistryError) as exc:
            client(proxy.host).manifest(REPO, TAG)
        one_line(exc, proxy.host, "malformed response", "larger than")
    finally:
        proxy.close()


@pytest.mark.parametrize(("data", "code", "words"), [
    (b"<html>login</html>", 200, "not a JSON object with a token"),
    (b"", 200, "not a JSON object with a token"),
    (b'{"token": ""}', 200, "not a JSON object with a token"),
    (b'{"token": 42}', 200, "not a JSON object with a token"),
    (b'{"token": "a b\\r\\nX-Injected: 1"}', 200, "not a JSON object with a token"),
    (b'["token"]', 200, "not a JSON object with a token"),
    (b'{"errors": []}', 403, "refused (HTTP 403)"),
])
def test_malformed_token_response_is_one_line(registry: tuple[Registry, str], data: bytes, code: int,
                                              words: str) -> None:
    reg, _ = registry
    realm = fp.FaultProxy(reg.host, lambda s: fp.body(data, code, JSON))
    front = fp.FaultProxy(reg.host, lambda s: fp.Action(
        "status", 401, {"WWW-Authenticate": f'Bearer realm="http://{realm.host}/token",service="x"'}))
    try:
        with pytest.raises(RegistryError) as exc:
            client(front.host).manifest(REPO, TAG)
        one_line(exc, front.host, words)
    finally:
        front.close()
        realm.close()


@pytest.mark.parametrize("challenge", ['Bearer service="x"', 'Bearer realm="ftp://127.0.0.1/t"'])
def test_bad_bearer_challenge_is_one_line(registry: tuple[Registry, str], challenge: str) -> None:
    reg, _ = registry
    front = fp.FaultProxy(reg.host, lambda s: fp.Action("status", 401, {"WWW-Authenticate": challenge}))
    try:
        with pytest.raises(RegistryError) as exc:
            client(front.host).manifest(REPO, TAG)
        one_line(exc, front.host, "realm")
    finally:
        front.close()


@pytest.mark.parametrize("data", [b"<html></html>", b'{"tags": "latest"}', b'{"tags": [1, 2]}', b"[]"])
def test_malformed_tag_list_is_one_line(registry: tuple[Registry, str], data: bytes) -> None:
    reg, _ = registry
    proxy = fp.FaultProxy(reg.host, lambda s: fp.body(data, headers=JSON))
    try:
        with pytest.raises(RegistryError) as exc:
            client(proxy.host).tags(REPO)
        one_line(exc, proxy.host, f"/v2/{REPO}/tags/list", "not a tag list")
    finally:
        proxy.close()


def test_an_echoed_authorization_header_is_never_repeated(registry: tuple[Registry, str]) -> None:
    reg, _ = registry
    proxy = fp.FaultProxy(reg.host, lambda s: fp.echo())
    try:
        with pytest.raises(RegistryError) as exc:
            client(proxy.host).manifest(REPO, TAG)
        text = one_line(exc, proxy.host, "HTTP 400")
        assert "Authorization" not in text and "Basic" not in text
    finally:
        proxy.close()


def test_blob_truncated_or_altered_is_one_line(registry: tuple[Registry, str]) -> None:
    reg, _ = registry
    c = client(reg.host)
    manifest = c.manifest(REPO, TAG)
    assert manifest is not None and manifest.config_digest
    proxy = fp.FaultProxy(reg.host, lambda s: fp.body(b'{"version": "9.9.9"}', headers=JSON) if "/blobs/" in s.path else None)
    try:
        with pytest.raises(RegistryError) as exc:
            client(proxy.host).blob(REPO, manifest.config_digest)
        one_line(exc, proxy.host, "does not match its digest")
    finally:
        proxy.close()
