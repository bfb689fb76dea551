"""invoke registry.*: the embedded local OCI registry behind the `local` target."""

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
    target = cfg.target("local")
    port = deploy.local_port(target)
    if port is None:
        raise ConfigError(f"target 'local' ({target.url}) is not on 127.0.0.1/localhost; the embedded registry serves only there")
    return cfg, port, target.host.partition(":")[0]


@task
@edge
def up(c: Context) -> None:
    """Start the local registry (docker-registry on 127.0.0.1, data in .cache/registry)."""
    from chartship import report
    from chartship.publish import deploy
    from chartship.tools import registry_server

    cfg, port, host = _local(c)
    st = registry_server.start(cfg.root / deploy.REGISTRY_STATE, port, host)
    report.out(f"local registry running at {st.url} (pid {st.pid})")


@task
@edge
def down(c: Context) -> None:
    """Stop the local registry (its data stays in .cache/registry)."""
    from chartship import report
    from chartship.publish import deploy
    from chartship.tools import registry_server

    cfg, _port, _host = _local(c)
    stopped = registry_server.stop(cfg.root / deploy.REGISTRY_STATE)
    report.out("local registry stopped" if stopped else "local registry was not running")


@task(help={"json": "print as JSON"})
@edge
def status(c: Context, json: bool = False) -> None:
    """Show whether the local registry runs and answers."""
    from chartship import report
    from chartship.publish import deploy
    from chartship.tools import registry_server

    cfg, port, host = _local(c)
    st = registry_server.status(cfg.root / deploy.REGISTRY_STATE, port, host)
    if json:
        report.emit_json(st.as_dict())
    else:
        report.out(f"local registry: {'running' if st.running else 'stopped'} at {st.url}"
                   + (f" (pid {st.pid}, {'answering' if st.answering else 'not answering'})" if st.running else ""))
