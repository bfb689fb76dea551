"""Upload faults during ``helm.deploy``: the fault proxy in front of the real registry fails helm's blob
upload. A transient fault once (500, 502, 503 with Retry-After, a reset mid-body, a stall longer than
the per-push timeout) is retried and the registry then holds the package's digest; a permanent one
(always 500, 403, 413) ends with exit != 0, one line, and the registry unchanged (no version tag, no latest).
Run under helm 3 and helm 4 (HELM_BIN)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from chartship.registry import oci
from tests.adversarial import faultproxy as fp
from tests.adversarial.conftest import invoke, project, refused, tags
from tests.helpers.registry import Registry

UPLOAD = "/blobs/uploads/"
FAST = {"CHARTSHIP_PUSH_TIMEOUT": "4", "CHARTSHIP_RETRIES": "3"}


def _target(host: str) -> str:
    return (f"  default_target: test\n  targets:\n    test:\n      url: oci://{host}/charts\n      auth: none\n"
            "      plain_http: true\n")


def _deploy(tmp_path: Path, proxy: fp.FaultProxy) -> tuple[Path, object]:
    root = project(tmp_path / "p", _target(proxy.host))
    result = invoke(root, "helm.deploy", "--latest", env=FAST, timeout=300)
    return root, result


def _package_layer(root: Path) -> str:
    manifest = json.loads((root / "dist" / "charts" / "manifest.json").read_text())
    entry = next(e for e in manifest["packages"] if e["kind"] == "version")
    return "sha256:" + hashlib.sha256((root / "dist" / "charts" / entry["file"]).read_bytes()).hexdigest()


@pytest.mark.parametrize("fault", [
    pytest.param(fp.status(500), id="500"),
    pytest.param(fp.status(502), id="502"),
    pytest.param(fp.status(503, "1"), id="503-retry-after"),
    pytest.param(fp.cut(64), id="reset-mid-body"),
    pytest.param(fp.stall(30), id="stall-over-push-timeout"),
])
def test_a_transient_upload_fault_once_is_retried_and_the_deploy_succeeds(tmp_path: Path, registry: Registry,
                                                                          fault: fp.Action) -> None:
    proxy = fp.FaultProxy(registry.host, fp.when("PUT", UPLOAD, fault, times=1))
    try:
        root, result = _deploy(tmp_path, proxy)
        assert result.returncode == 0, result.stdout + result.stderr
        assert proxy.faults == 1
        ok_uploads = [code for code in proxy.statuses("PUT", UPLOAD) if code == 201]
        assert ok_uploads, proxy.log  # the retry uploaded the blob
    finally:
        proxy.close()
    assert tags(registry) == {"charts/web": ["0.1.0", "latest"]}
    manifest = oci.Client(registry.host, plain_http=True).manifest("charts/web", "0.1.0")
    assert manifest is not None and manifest.layer_digest() == _package_layer(root)
    latest = oci.Client(registry.host, plain_http=True).manifest("charts/web", "latest")
    assert latest is not None and latest.digest == manifest.digest


@pytest.mark.parametrize(("fault", "words", "tries"), [
    pytest.param(fp.status(500), ("HTTP 500 on PUT /v2/charts/web/blobs/uploads/…", "after 3 attempts"), 3,
                 id="always-500"),
    pytest.param(fp.status(403), ("HTTP 403 on PUT /v2/charts/web/blobs/uploads/…",), 1, id="403"),
    pytest.param(fp.status(413), ("HTTP 413 on PUT /v2/charts/web/blobs/uploads/…",), 1, id="413"),
    pytest.param(fp.stall(30), ("did not finish within 4s", "CHARTSHIP_PUSH_TIMEOUT", "after 3 attempts"), 3,
                 id="always-stall"),
])
def test_a_permanent_upload_fault_is_one_line_and_the_registry_is_unchanged(tmp_path: Path, registry: Registry,
                                                                            fault: fp.Action, words: tuple[str, ...],
                                                                            tries: int) -> None:
    proxy = fp.FaultProxy(registry.host, fp.when("PUT", UPLOAD, fault))
    try:
        _root, result = _deploy(tmp_path, proxy)
        line = refused(result, "helm push web-0.1.0.tgz", *words)
        assert "_state=" not in line and len(line) < 400, line
        assert tries <= proxy.faults <= 2 * tries  # helm uploads two blobs at once: one or both fail per attempt
    finally:
        proxy.close()
    assert tags(registry) == {}  # no version tag, no latest
