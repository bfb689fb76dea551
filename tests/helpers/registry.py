"""Real registry processes for publish tests: docker-registry with htpasswd and temp projects with
built packages (the fault-injecting proxy is tests/adversarial/faultproxy.py).
The fixtures that start registries (``registries``, ``auth_registry``) are in tests/plugins/registry.py."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from chartship.tools import registry_server
from tests.helpers import free_port, run_invoke


@dataclass
class Registry:
    host: str
    state: Path
    port: int
    htpasswd: Path | None

    def restart(self) -> None:
        registry_server.stop(self.state)
        registry_server.start(self.state, self.port, htpasswd=self.htpasswd)

    def uploads(self) -> int:
        """Blob upload sessions started, counted from the registry's access log."""
        log = (self.state / "registry.log").read_text(errors="replace")
        return sum(1 for line in log.splitlines() if '"POST /v2/' in line and "/blobs/uploads/" in line)


StartRegistry = Callable[[dict[str, str] | None], Registry]  # the ``registries`` fixture


def start_registry(tmp: Path, users: dict[str, str] | None = None) -> Registry:
    htpasswd = None
    if users:
        htpasswd = tmp / "htpasswd"
        htpasswd.write_text("".join(f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
                                    for u, p in users.items()))
    port = free_port()
    registry_server.start(tmp / "registry", port, htpasswd=htpasswd)
    return Registry(f"127.0.0.1:{port}", tmp / "registry", port, htpasswd)


def make_project(tmp: Path, project_root: Path, targets: str, default: str = "local") -> Path:
    root = tmp / "repo"
    root.mkdir()
    shutil.copy2(project_root / "tasks.py", root / "tasks.py")
    shutil.copytree(project_root / "tag-templates", root / "tag-templates")
    (root / "version").write_text("0.1.0\n")
    (root / "invoke.yaml").write_text(f"chartship:\n  default_target: {default}\n  targets:\n{targets}")
    return root


def make_dist(root: Path, helm_bin: Path, chart: str = "demo", version: str = "0.1.0", description: str = "demo") -> Path:
    """Package a `helm create` chart into dist/charts under a non-helm file name, with manifest.json."""
    src = root / "charts" / chart
    if not src.exists():
        src.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(helm_bin), "create", str(src)], check=True, capture_output=True)
    text = (src / "Chart.yaml").read_text().splitlines()
    out = [f"version: {version}" if ln.startswith("version:") else
           f"description: {description}" if ln.startswith("description:") else ln for ln in text]
    (src / "Chart.yaml").write_text("\n".join(out) + "\n")
    dist = root / "dist" / "charts"
    dist.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(helm_bin), "package", str(src), "-d", str(dist)], check=True, capture_output=True)
    file = f"{chart}-release-{version}.tgz"
    (dist / f"{chart}-{version}.tgz").rename(dist / file)
    sha = hashlib.sha256((dist / file).read_bytes()).hexdigest()
    manifest = dist / "manifest.json"
    entries = json.loads(manifest.read_text())["packages"] if manifest.exists() else []
    entries = [e for e in entries if e["chart"] != chart]
    entries.append({"file": file, "chart": chart, "version": version, "tag": version, "kind": "version",
                    "sha256": sha, "path": f"dist/charts/{file}"})
    manifest.write_text(json.dumps({"packages": entries}))
    return dist / file


def invoke(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "AWS_"))}
    base = {"CHARTSHIP_RETRY_BACKOFF": "0.01", "CHARTSHIP_RETRIES": "3"}
    return run_invoke(root, *args, env={**clean, **base, **(env or {})})
