"""The OCI client's copy primitives against a real docker-registry: blob HEAD, upload, mount,
manifest put, each with its digest check; and redirects that never carry credentials elsewhere."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chartship.errors import RegistryError
from chartship.registry import oci
from chartship.tools import registry_server
from tests.helpers.registry import Registry, start_registry

PASSWORD = "s3cr3t-Passw0rd"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[oci.Client, Registry]]:
    reg = start_registry(tmp_path, {"alice": PASSWORD})
    yield oci.Client(reg.host, plain_http=True, username="alice", password=PASSWORD), reg
    registry_server.stop(reg.state)


def test_upload_head_mount_and_manifest_put(client: tuple[oci.Client, Registry]) -> None:
    c, _reg = client
    data = b'{"name":"demo","version":"0.1.0","apiVersion":"v2"}'
    digest = oci.sha256_digest(data)
    assert c.blob_exists("a/demo", digest) is False
    c.upload_blob("a/demo", digest, data)
    assert c.blob_exists("a/demo", digest) is True
    assert c.blob("a/demo", digest) == data
    assert c.mount_blob("b/demo", digest, "a/demo") is None  # linked, not uploaded
    assert c.blob_exists("b/demo", digest) is True
    raw = json.dumps({"schemaVersion": 2, "mediaType": oci.MANIFEST_TYPES[0],
                      "config": {"mediaType": oci.HELM_CONFIG_TYPE, "digest": digest, "size": len(data)},
                      "layers": []}).encode()
    m = oci.Manifest(oci.sha256_digest(raw), oci.MANIFEST_TYPES[0], raw)
    assert c.put_manifest("b/demo", "0.1.0", m) == m.digest
    back = c.manifest("b/demo", "0.1.0")
    assert back is not None and back.raw == raw


def test_a_mount_from_a_repository_without_the_blob_opens_an_upload(client: tuple[oci.Client, Registry]) -> None:
    c, _reg = client
    data = b"layer bytes"
    digest = oci.sha256_digest(data)
    location = c.mount_blob("b/demo", digest, "nowhere/demo")
    assert location is not None
    c.upload_blob("b/demo", digest, data, location)
    assert c.blob("b/demo", digest) == data


def test_digest_checks_refuse_before_anything_is_written(client: tuple[oci.Client, Registry]) -> None:
    c, reg = client
    with pytest.raises(RegistryError, match="the data is not blob"):
        c.upload_blob("a/demo", oci.sha256_digest(b"one"), b"two")
    assert reg.uploads() == 0
    raw = b'{"schemaVersion": 2}'
    with pytest.raises(RegistryError, match="not written"):
        c.put_manifest("a/demo", "x", oci.Manifest(oci.sha256_digest(b"other"), oci.MANIFEST_TYPES[0], raw))
    assert c.tags("a/demo") == []
    with pytest.raises(RegistryError, match="is not a sha256 digest"):
        c.blob_exists("a/demo", "sha256:../../v2/_catalog")


def test_redirects_drop_credentials_for_another_host() -> None:
    seen: list[str | None] = []

    class Target(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    target = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    where = f"http://127.0.0.1:{target.server_address[1]}/blob"

    class Redirect(Target):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(307)
            self.send_header("Location", where)
            self.send_header("Content-Length", "0")
            self.end_headers()

    front = ThreadingHTTPServer(("localhost", 0), Redirect)
    for server in (target, front):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        c = oci.Client(f"localhost:{front.server_address[1]}", plain_http=True, username="alice", password=PASSWORD)
        resp = c.request("GET", "/v2/demo/blobs/x", "demo")
    finally:
        front.shutdown()
        target.shutdown()
    assert resp.status == 200 and resp.body == b"ok"
    assert seen[0] is not None and seen[0].startswith("Basic ")
    assert seen[1] is None  # the other host never saw the registry credentials
