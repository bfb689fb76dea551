"""Classic chart repositories for the helm.index and pages tests: a small hand-written chart, a static
file server on 127.0.0.1 (python's http.server in a thread), a private helm repository config, and
throwaway gpg keys for signed packages."""

from __future__ import annotations

import functools
import gzip
import io
import os
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.helpers.pipeline import GIT, commit, new_repo

SIGNER = "Repo Signer <repo-signer@example.com>"
PASSPHRASE = "index-pages-passphrase-7"


def demo_chart(root: Path, version: str, greeting: str = "hello") -> None:
    """charts/demo at ``version`` (Chart.yaml and the version file), rendering one ConfigMap."""
    d = root / "charts" / "demo"
    (d / "templates").mkdir(parents=True, exist_ok=True)
    (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: demo\ndescription: a demo chart\ntype: application\n"
                                  f"version: {version}\nappVersion: \"{version}\"\n")
    (d / "values.yaml").write_text(f"greeting: {greeting}\n")
    (d / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n")
    (root / "version").write_text(f"{version}\n")


def demo_repo(root: Path, config: str = "") -> Path:
    """A git project (branch main, identity configured) with charts/demo 0.1.0 committed."""
    new_repo(root, config=config)
    subprocess.run([*GIT, "-C", str(root), "config", "user.name", "t"], check=True)
    subprocess.run([*GIT, "-C", str(root), "config", "user.email", "t@example.com"], check=True)
    demo_chart(root, "0.1.0")
    commit(root, "init")
    return root


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


@contextmanager
def serve(folder: Path, port: int) -> Iterator[str]:
    """``folder`` served over HTTP on 127.0.0.1:``port`` while the block runs; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def helm_repo_env(tmp: Path) -> dict[str, str]:
    """A private helm home: repository config and cache in ``tmp``, no kubeconfig."""
    env = dict(os.environ)
    env.update({"HELM_REPOSITORY_CONFIG": str(tmp / "repositories.yaml"), "HELM_REPOSITORY_CACHE": str(tmp / "cache"),
                "HELM_CACHE_HOME": str(tmp / "helm-cache"), "HELM_CONFIG_HOME": str(tmp / "helm-config"),
                "HELM_DATA_HOME": str(tmp / "helm-data"), "KUBECONFIG": str(tmp / "no-kubeconfig")})
    return env


def helm(helm_bin: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm_bin), *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def _gpg(home: Path, *args: str, stdin: str | None = None) -> bytes:
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", *args],
                          input=stdin.encode() if stdin is not None else None, capture_output=True, check=True,
                          timeout=120).stdout


@contextmanager
def gpg_keys(base: Path) -> Iterator[tuple[Path, Path]]:
    """A throwaway RSA signing key (helm reads RSA) in a private GNUPGHOME: (secret keyring, public keyring)."""
    if not shutil.which("gpg"):
        raise AssertionError("gpg not found: install Debian's gnupg (ci/bootstrap does)")
    home = base / "gnupg"
    home.mkdir(mode=0o700, parents=True)
    try:
        _gpg(home, "--passphrase-fd", "0", "--quick-gen-key", SIGNER, "rsa2048", "sign", "never", stdin=PASSPHRASE)
        (base / "secring.gpg").write_bytes(_gpg(home, "--passphrase-fd", "0", "--export-secret-keys", SIGNER,
                                                stdin=PASSPHRASE))
        (base / "pubring.gpg").write_bytes(_gpg(home, "--export", SIGNER))
        yield base / "secring.gpg", base / "pubring.gpg"
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False)


def tamper(archive: Path, edit: Callable[[bytes], bytes]) -> None:
    """Rewrite the chart's values.yaml inside the package with ``edit`` (it stays a valid chart archive)."""
    with tarfile.open(archive, "r:gz") as tin:
        members = [(m, tin.extractfile(m).read() if m.isfile() else b"") for m in tin.getmembers()]  # type: ignore[union-attr]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tout:
        for m, data in members:
            if m.name.endswith("/values.yaml"):
                data = edit(data)
                m.size = len(data)
            tout.addfile(m, io.BytesIO(data))
    archive.write_bytes(gzip.compress(raw.getvalue()))
