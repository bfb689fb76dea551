"""Fail fast on pods that cannot be scheduled.

While helm installs, upgrades or tests a release and waits for it, a watcher asks the API server
for the namespace's pods (``kubectl get pods -o json``, every :data:`POLL` seconds). A pod whose
``PodScheduled`` condition is ``False`` with reason ``Unschedulable`` for longer than
:data:`GRACE` seconds (the scheduler retries; a node may still be coming up) will not start
before helm's timeout either: the watcher stops that helm call (SIGTERM, then SIGKILL) and the
step fails with the scheduler's message in one line naming the chart, the values set and the pod.
The grace is measured on this machine's clock from when the watcher first saw the condition, so
clock skew against the cluster does not matter.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartship import proc
from chartship.tools import kubectl

GRACE = 20.0  # seconds a pod may stay Unschedulable before the step fails
POLL = 2.0
KILL_AFTER = 10.0  # seconds helm gets to exit after SIGTERM


def unschedulable(pods: Sequence[Any]) -> dict[str, str]:
    """pod name -> the scheduler's message, for every pod the scheduler could not place."""
    found: dict[str, str] = {}
    for pod in pods:
        if not isinstance(pod, dict):
            continue
        name = str((pod.get("metadata") or {}).get("name") or "?")
        for cond in (pod.get("status") or {}).get("conditions") or []:
            if (isinstance(cond, dict) and cond.get("type") == "PodScheduled" and cond.get("status") == "False"
                    and cond.get("reason") == "Unschedulable"):
                found[name] = " ".join(str(cond.get("message") or "no message from the scheduler").split())
    return found


@dataclass
class Watch:
    """Watches ``namespace`` while a helm call for ``what`` (chart and values set) runs."""

    what: str
    pods: Callable[[], Sequence[Any]]
    stop_helm: Callable[[int], int]
    grace: float = GRACE
    poll: float = POLL
    problem: str | None = None
    seen: dict[str, float] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)

    def check(self, now: float) -> str | None:
        """One look at the pods; the failure message once a pod has been unschedulable longer than the grace."""
        stuck = unschedulable(self.pods())
        self.seen = {name: self.seen.get(name, now) for name in stuck}
        for name, since in sorted(self.seen.items(), key=lambda item: item[1]):
            if now - since >= self.grace:
                return (f"{self.what}: pod {name} cannot be scheduled: {stuck[name]} (unschedulable for "
                        f"{now - since:.0f}s, so the step was stopped instead of waiting for helm's timeout; give "
                        "the cluster more capacity or lower the pod's resource requests)")
        return None

    def run(self) -> None:
        while not self.done.wait(self.poll):
            try:
                message = self.check(time.monotonic())
            except proc.Interrupted:  # the run is stopping: the main thread says so, this thread just ends
                return
            if message is None:
                continue
            self.problem = message
            self.stop_helm(signal.SIGTERM)
            if not self.done.wait(KILL_AFTER):
                self.stop_helm(signal.SIGKILL)
            return


@contextmanager
def watching(root: Path, kubeconfig: Path, namespace: str, context: str | None, helm: Path,
             what: str, grace: float = GRACE) -> Iterator[Watch]:
    """Watch ``namespace`` for the duration of the block; only helm calls for that namespace are stopped."""

    def ours(argv: Sequence[str]) -> bool:
        return bool(argv) and argv[0] == str(helm) and namespace in argv

    watch = Watch(what, lambda: kubectl.pods(root, kubeconfig, namespace, context),
                  lambda signum: proc.signal_children(signum, ours), grace)
    thread = threading.Thread(target=watch.run, name=f"watch-{namespace}", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        watch.done.set()
        thread.join(timeout=30)
