"""The only module that runs ``kubectl``: argv lists, ``-o json``, an explicit kubeconfig.

Every call names its kubeconfig, so nothing here reads or changes ``~/.kube/config``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chartship import config, proc
from chartship.errors import ToolError
from chartship.tools.summary import summarise

DEFAULT_TIMEOUT = 120.0


def find(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """KUBECTL_BIN, else the pinned ``.tools/bin/kubectl``, else kubectl on PATH."""
    if config.env("KUBECTL_BIN", environ):
        path = Path(config.env("KUBECTL_BIN", environ))
        if not path.is_file():
            raise ToolError(f"KUBECTL_BIN={path}: no such file; fix the variable or unset it")
        return path
    pinned = root / ".tools" / "bin" / "kubectl"
    if pinned.is_file():
        return pinned
    found = shutil.which("kubectl", path=config.env("PATH", environ) or None)
    if found:
        return Path(found)
    raise ToolError("kubectl not found: run `invoke tools.install` (or set KUBECTL_BIN)")


def run(root: Path, kubeconfig: Path, args: Sequence[str], stdin: str | None = None,
        timeout: float = DEFAULT_TIMEOUT, check: bool = True) -> proc.Result:
    """``kubectl --kubeconfig <kubeconfig> <args>``; a failure raises ToolError when ``check``."""
    argv = [str(find(root)), "--kubeconfig", str(kubeconfig), *args]
    try:
        result = proc.run(argv, stdin=stdin, timeout=timeout + 30)
    except FileNotFoundError:
        raise ToolError(f"{argv[0]}: cannot run it; run `invoke tools.install`") from None
    if check and not result.ok:
        raise ToolError(f"kubectl {' '.join(args[:3])} failed: {summarise(result.stderr or result.stdout)}")
    return result


def apply(root: Path, kubeconfig: Path, paths: Sequence[Path] = (), manifest: str | None = None) -> None:
    """Apply manifest files (and/or YAML text via stdin), server side so CRDs of any size fit."""
    args = ["apply", "--server-side", "--force-conflicts"]
    for path in paths:
        args += ["-f", str(path)]
    if manifest is not None:
        args += ["-f", "-"]
    run(root, kubeconfig, args, stdin=manifest)


def get(root: Path, kubeconfig: Path, what: Sequence[str], namespace: str | None = None) -> Any:
    """``kubectl get <what> -o json`` as parsed JSON."""
    ns = ["--namespace", namespace] if namespace else []
    result = run(root, kubeconfig, ["get", *what, *ns, "-o", "json"])
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise ToolError(f"kubectl get {' '.join(what)}: output is not JSON") from None


def wait(root: Path, kubeconfig: Path, what: Sequence[str], condition: str, timeout: float = DEFAULT_TIMEOUT,
         namespace: str | None = None) -> None:
    """``kubectl wait --for=<condition>``; raises ToolError naming the object when it times out."""
    ns = ["--namespace", namespace] if namespace else []
    run(root, kubeconfig, ["wait", *what, *ns, f"--for={condition}", f"--timeout={int(timeout)}s"], timeout=timeout)


def server_version(root: Path, kubeconfig: Path) -> str:
    """The API server's gitVersion, e.g. ``v1.36.3``."""
    result = run(root, kubeconfig, ["version", "-o", "json"])
    try:
        return str(json.loads(result.stdout)["serverVersion"]["gitVersion"])
    except (ValueError, KeyError, TypeError):
        raise ToolError("kubectl version -o json: no serverVersion in the output; is the API server up?") from None


def current_context(root: Path, kubeconfig: Path) -> str | None:
    """The kubeconfig's current context, or None when it has none."""
    result = run(root, kubeconfig, ["config", "current-context"], check=False)
    return result.stdout.strip() or None if result.ok else None


def pods(root: Path, kubeconfig: Path, namespace: str, context: str | None = None, timeout: float = 20) -> list[Any]:
    """The pods of ``namespace`` (``kubectl get pods -o json``); [] when kubectl cannot tell right now
    (the namespace may not exist yet), so a watcher simply asks again."""
    ctx = ["--context", context] if context else []
    result = run(root, kubeconfig, [*ctx, "get", "pods", "--namespace", namespace, "-o", "json"], check=False,
                 timeout=timeout)
    if not result.ok:
        return []
    try:
        items = json.loads(result.stdout).get("items", [])
    except (ValueError, AttributeError):
        return []
    return items if isinstance(items, list) else []


def delete_namespace(root: Path, kubeconfig: Path, namespace: str, context: str | None = None) -> None:
    ctx = ["--context", context] if context else []
    run(root, kubeconfig, [*ctx, "delete", "namespace", namespace, "--ignore-not-found", "--wait=false"], check=False)


def diagnostics(root: Path, kubeconfig: Path, namespace: str, context: str | None = None) -> list[str]:
    """Events, pod status and the last log lines of a namespace, for a failed cluster test."""
    ctx = ["--context", context] if context else []
    lines: list[str] = []
    events = run(root, kubeconfig, [*ctx, "get", "events", "--namespace", namespace, "-o", "json"], check=False)
    if events.ok:
        for item in sorted(json.loads(events.stdout).get("items", []), key=lambda e: str(e.get("lastTimestamp") or "")):
            obj = item.get("involvedObject", {})
            lines.append(f"event {item.get('type')} {obj.get('kind')}/{obj.get('name')}: {item.get('reason')}: "
                         f"{item.get('message')}")
    pods = run(root, kubeconfig, [*ctx, "get", "pods", "--namespace", namespace, "-o", "json"], check=False)
    names = []
    if pods.ok:
        for pod in json.loads(pods.stdout).get("items", []):
            name = pod["metadata"]["name"]
            names.append(name)
            status = pod.get("status", {})
            ready = [f"{c.get('name')}={'ready' if c.get('ready') else 'not ready'}" for c in status.get("containerStatuses", [])]
            lines.append(f"pod {name}: {status.get('phase')} {' '.join(ready)}")
    for name in names:
        logs = run(root, kubeconfig, [*ctx, "logs", "--namespace", namespace, name, "--all-containers", "--tail", "20"],
                   check=False, timeout=30)
        text = (logs.stdout if logs.ok else logs.stderr).strip()
        if text:
            lines += [f"log {name}: {line}" for line in text.splitlines()[-20:]]
    return lines
