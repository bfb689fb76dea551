"""The kwok cluster provider: a real API server, controller manager and scheduler with one
fake node, started by ``kwokctl --runtime binary``. The only module that runs ``kwokctl``.

    with kwok.start(root) as cluster:        # stopped on leaving unless keep=True
        helm ... --kubeconfig cluster.kubeconfig --kube-context cluster.context

Each cluster gets a unique name and a private ``KWOK_WORKDIR`` in a temp folder, binds
127.0.0.1 on free ports, and never touches ``~/.kube/config`` or ``~/.kwok``. Pods change
state through ``kwok/stages.yaml``; ``kwok/node.yaml`` is the node; ``crds/`` is applied
before :func:`start` returns (all package data, ``chartship/data/``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from chartship import data, proc
from chartship.errors import ToolError
from chartship.tools import clusterbin, install, kubectl
from chartship.tools.summary import summarise

STAGES = data.path("kwok", "stages.yaml")
NODE = data.path("kwok", "node.yaml")
VOLUMES = data.path("kwok", "volumes.yaml")  # pre-provisioned PersistentVolumes (no provisioner in kwok)
CRDS = data.path("crds")
NODE_NAME = "kwok-node-0"
CONFIG_NAME = "kwokctl.yaml"
BIND = "127.0.0.1"
CREATE_TIMEOUT = 180.0
READY_TIMEOUT = 120.0
PORT_OPTIONS = ("kubeApiserverPort", "etcdPort", "etcdPeerPort", "kubeControllerManagerPort", "kubeSchedulerPort",
                "kwokControllerPort")
# our option name -> kwokctl configuration option holding that binary's path
BINARY_OPTIONS = {
    "kube-apiserver": "kubeApiserverBinary",
    "kube-controller-manager": "kubeControllerManagerBinary",
    "kube-scheduler": "kubeSchedulerBinary",
    "etcd": "etcdBinary",
    "kwok": "kwokControllerBinary",
}


@dataclass
class Cluster:
    root: Path
    name: str
    workdir: Path  # the private KWOK_WORKDIR
    kubeconfig: Path
    context: str
    kwokctl: Path
    keep: bool = False
    stopped: bool = field(default=False, repr=False)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self.keep:
            stop(self)

    @property
    def server(self) -> str:
        """The API server URL from the kubeconfig, e.g. ``https://127.0.0.1:40123``."""
        for line in self.kubeconfig.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("server:"):
                return line.split(":", 1)[1].strip()
        raise ToolError(f"{self.kubeconfig}: no server URL; the cluster was not created completely")

    def processes(self) -> list[int]:
        """Pids of processes still running from this cluster's workdir (its components)."""
        return processes_under(self.workdir)


def processes_under(workdir: Path) -> list[int]:
    marker = str(workdir).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie whose threads have all exited
    (a Go program's leader turns zombie while its other threads still hold its sockets)."""
    try:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    except OSError:
        return False
    return not (status.get("State", "").strip().startswith("Z") and status.get("Threads", "1").strip() in ("0", "1"))


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that are free on 127.0.0.1 right now (chosen by the kernel)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((BIND, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_open(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or BIND, parts.port or 443), timeout=1):
            return True
    except OSError:
        return False


def configuration(mode: str, binaries: Mapping[str, Path], kubectl_bin: Path, ports: list[int],
                  kube_version: str, download_cache: Path) -> str:
    """The kwokctl --config file: our KwokctlConfiguration, then the stage list."""
    options: dict[str, object] = {
        "runtime": "binary",
        "bindAddress": BIND,
        "kubeVersion": f"v{kube_version}",
        "kubectlBinary": str(kubectl_bin),
        "securePort": True,
        "quietPull": True,
        **dict(zip(PORT_OPTIONS, ports, strict=True)),
    }
    if mode == "build":
        options.update({opt: str(binaries[name]) for name, opt in BINARY_OPTIONS.items()})
    else:
        options["cacheDir"] = str(download_cache)
    doc = {"apiVersion": "config.kwok.x-k8s.io/v1alpha1", "kind": "KwokctlConfiguration", "options": options}
    stages = STAGES.read_text(encoding="utf-8")
    return json.dumps(doc, indent=2) + "\n---\n" + stages


def _kwokctl(cluster: Cluster, args: list[str], timeout: float) -> proc.Result:
    env = {"KWOK_WORKDIR": str(cluster.workdir)}
    try:
        return proc.run([str(cluster.kwokctl), *args, "--name", cluster.name], env=env, timeout=timeout)
    except FileNotFoundError:
        raise ToolError(f"{cluster.kwokctl}: cannot run it; {clusterbin.INSTALL_HINT}") from None


def _delete(cluster: Cluster) -> proc.Result:
    return _kwokctl(cluster, ["delete", "cluster", "--config", str(cluster.workdir / CONFIG_NAME),
                              "--kubeconfig", str(cluster.kubeconfig)], 120)


def _kwokctl_path(root: Path, mode: str) -> tuple[Path, dict[str, Path]]:
    try:
        found = clusterbin.locate(root, mode)
        return found["kwokctl"], found
    except ToolError:
        on_path = shutil.which("kwokctl")
        if mode == "download" and on_path:
            return Path(on_path), {}
        raise


def start(
    root: Path,
    name: str | None = None,
    keep: bool = False,
    binaries: str | None = None,
    environ: Mapping[str, str] | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> Cluster:
    """Create a kwok cluster with one Ready fake node and our CRDs; use it as a context manager."""
    mode = clusterbin.binaries_mode(binaries, environ)
    kwokctl_bin, found = _kwokctl_path(root, mode)
    kubectl_bin = kubectl.find(root, environ)
    pins = clusterbin.read_lock()
    workdir = Path(tempfile.mkdtemp(prefix="chartship-kwok-"))
    cluster = Cluster(root=root, name=name or f"chartship-{secrets.token_hex(4)}", workdir=workdir,
                      kubeconfig=workdir / "kubeconfig.yaml", context="", kwokctl=kwokctl_bin, keep=keep)
    cluster.context = f"kwok-{cluster.name}"
    config_file = workdir / CONFIG_NAME
    try:
        started = time.monotonic()
        for attempt in (1, 2):  # a free port can be taken between choosing and binding it: retry once
            config_file.write_text(
                configuration(mode, found, kubectl_bin, free_ports(len(PORT_OPTIONS)),
                              pins["kubernetes"].version, install.cache_dir(environ) / "kwok-downloads"),
                encoding="utf-8")
            result = _kwokctl(cluster, ["create", "cluster", "--config", str(config_file), "--kubeconfig",
                                        str(cluster.kubeconfig), "--wait", f"{int(READY_TIMEOUT)}s"], CREATE_TIMEOUT)
            if result.ok:
                break
            _delete(cluster)
            if attempt == 2:
                raise ToolError(f"kwokctl create cluster {cluster.name} failed: "
                                f"{summarise(result.stderr or result.stdout)} (start it with keep=True to keep its logs in "
                                f"{workdir / 'clusters' / cluster.name / 'logs'})")
        kubectl.apply(root, cluster.kubeconfig, paths=[NODE, *([VOLUMES] if VOLUMES.is_file() else [])])
        kubectl.wait(root, cluster.kubeconfig, ["node", NODE_NAME], "condition=Ready", READY_TIMEOUT)
        crds = sorted(CRDS.glob("*.yaml"))
        if crds:
            kubectl.apply(root, cluster.kubeconfig, paths=crds)
            kubectl.wait(root, cluster.kubeconfig, ["crd", "--all"], "condition=Established", READY_TIMEOUT)
        # pods can be created only once the controller manager has made the default service account
        kubectl.wait(root, cluster.kubeconfig, ["serviceaccount", "default"], "create", READY_TIMEOUT, namespace="default")
        log(f"kwok cluster {cluster.name} up in {time.monotonic() - started:.1f} s ({cluster.server})")
    except BaseException:
        if not keep:
            stop(cluster)
        raise
    return cluster


def stop(cluster: Cluster) -> None:
    """Delete the cluster, make sure none of its processes is left, remove its workdir."""
    if cluster.stopped:
        return
    running = set(cluster.processes())
    try:
        server = cluster.server
    except (OSError, ToolError):
        server = ""
    result = _delete(cluster)
    deadline = time.monotonic() + 60
    # kwokctl signals the components and returns; wait until they have exited and let go of the port
    left = sorted(pid for pid in running | set(cluster.processes()) if _alive(pid))
    while (left or (server and port_open(server))) and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [pid for pid in left if _alive(pid)]
    if left or (server and port_open(server)):
        what = f"processes {left}" if left else f"the API server port ({server})"
        raise ToolError(f"kwok cluster {cluster.name}: {what} still in use after `kwokctl delete cluster` "
                        f"({summarise(result.stderr) or 'no error'}); stop them and remove {cluster.workdir}")
    cluster.stopped = True
    shutil.rmtree(cluster.workdir, ignore_errors=True)
