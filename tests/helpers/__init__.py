"""Plain helpers the tests import by name (fixtures live in tests/conftest.py and tests/plugins/).

- ``tests.helpers``           the project root, the real ``invoke`` of this environment, a free port
- ``tests.helpers.charts``    small hand-written Chart.yaml files (app, umbrella, cache)
- ``tests.helpers.hooks``     a repository for the pre-commit hook tests, a recording helm
- ``tests.helpers.pipeline``  temp git projects with `helm create` charts for the build pipeline
- ``tests.helpers.registry``  docker-registry processes, built packages (the fault proxy: tests.adversarial.faultproxy)
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# The `invoke` next to this interpreter: temp projects run the real entry point of this checkout.
INVOKE = str(Path(sys.executable).parent / "invoke")


def run_invoke(cwd: Path, *args: str, env: Mapping[str, str] | None = None,
               timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """``invoke ARGS`` in ``cwd`` with exactly ``env`` (None: this process's environment), output captured."""
    return subprocess.run([INVOKE, *args], cwd=cwd, capture_output=True, text=True, check=False,
                          env=None if env is None else dict(env), timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
