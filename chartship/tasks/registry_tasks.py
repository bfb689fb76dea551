"""invoke registry.*: the embedded local OCI registry behind the `local` target.

Ours or nothing: the registry chartship starts carries this data folder's token in every answer
(see :mod:`chartship.tools.registry_server`); a port held by anything else is reported, never used.
The port is the `local` target's (default 5000), or CHARTSHIP_LOCAL_REGISTRY_PORT."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.tasks import task

from chartship.tasks.common import config, edge

if TYPE_CHECKING:
    from chartship.config import Config


def _local(c: Context) -> tuple[Config, int, str]:
    from chartship.errors import ConfigError
    from chartship.publish import deploy

    cfg = config(c)
    target = deploy.local_target(cfg.target("local"))
    port = deploy.local_port(target)
    if port is None:
        raise ConfigError(f"target 'local' ({target.url}) is not on 127.0.0.1/localhost; the embedded registry serves only there")
    return cfg, port, target.host.partition(":")[0]


@task
@edge
def up(c: Context) -> None:
    """Start the local registry (docker-registry on 127.0.0.1, data in .cache/registry); never on a port another program holds."""
    from chartship import report
    from chartship.config import REGISTRY_STATE
    from chartship.tools import registry_server

    cfg, port, host = _local(c)
    st = registry_server.start(cfg.root / REGISTRY_STATE, port, host)
    report.out(f"local registry running at {st.url} (ours, pid {st.pid}, data folder {REGISTRY_STATE / 'data'})")


@task
@edge
def down(c: Context) -> None:
    """Stop the local registry (its data stays in .cache/registry)."""
    from chartship import report
    from chartship.config import REGISTRY_STATE
    from chartship.tools import registry_server

    cfg, _port, _host = _local(c)
    stopped = registry_server.stop(cfg.root / REGISTRY_STATE)
    report.out("local registry stopped" if stopped else "local registry was not running")


@task(help={"json": "print as JSON"})
@edge
def status(c: Context, json: bool = False) -> None:
    """Who holds the local registry's port: ours (up), foreign (another program or checkout), or free."""
    from chartship import report
    from chartship.config import REGISTRY_STATE
    from chartship.tools import registry_server

    cfg, port, host = _local(c)
    st = registry_server.status(cfg.root / REGISTRY_STATE, port, host)
    data = REGISTRY_STATE / "data"
    if json:
        report.emit_json(st.as_dict())
    elif st.owner == registry_server.OURS:
        report.out(f"local registry: ours, up at {st.url} (port {port}, data folder {data}"
                   + (f", pid {st.pid})" if st.pid else ")"))
    elif st.owner == registry_server.FOREIGN:
        report.out(f"local registry: foreign: port {port} answers but is not this repository's registry; "
                   f"choose another port with {registry_server.PORT_ENV}")
    else:
        report.out(f"local registry: free: nothing listens on port {port} (data folder {data})")
