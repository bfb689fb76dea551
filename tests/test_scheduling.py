"""The unschedulable-pod watcher of cluster.test on in-memory pod lists, and the runner stopping only
the programs it is told to (real child processes)."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from chartship import proc
from chartship.cluster import scheduling


def pod(name: str, reason: str | None, message: str = "0/1 nodes are available: 1 Insufficient cpu.") -> dict[str, Any]:
    conditions = [] if reason is None else [{"type": "PodScheduled", "status": "False", "reason": reason,
                                             "message": message}]
    return {"metadata": {"name": name}, "status": {"phase": "Pending", "conditions": conditions}}


def test_only_unschedulable_pods_are_reported_with_the_message_on_one_line() -> None:
    pods = [pod("a", "Unschedulable", "0/1 nodes are available:\n 1 Insufficient cpu."), pod("b", None),
            pod("c", "SchedulingGated"), {"metadata": {"name": "d"}, "status": {"conditions": [
                {"type": "PodScheduled", "status": "True", "reason": "Unschedulable"}]}}, "not a pod"]
    assert scheduling.unschedulable(pods) == {"a": "0/1 nodes are available: 1 Insufficient cpu."}


def test_a_pod_fails_the_step_only_after_the_grace_and_a_recovered_pod_starts_over() -> None:
    current: list[dict[str, Any]] = [pod("web-1", "Unschedulable")]
    watch = scheduling.Watch("web [prod]", lambda: current, lambda signum: 0, grace=20)
    assert watch.check(100.0) is None
    assert watch.check(119.0) is None
    message = watch.check(120.0)
    assert message is not None and message.startswith("web [prod]: pod web-1 cannot be scheduled: 0/1 nodes are "
                                                      "available: 1 Insufficient cpu.")
    current[:] = [pod("web-1", None)]  # scheduled meanwhile: its clock starts again when it is stuck again
    assert watch.check(121.0) is None
    current[:] = [pod("web-1", "Unschedulable")]
    assert watch.check(130.0) is None and watch.check(149.0) is None
    assert watch.check(150.0) is not None


def test_signal_children_stops_only_the_programs_it_accepts() -> None:
    results: dict[str, proc.Result] = {}

    def run(tag: str) -> None:
        results[tag] = proc.run([sys.executable, "-c", "import time; time.sleep(60)", tag], timeout=120)

    threads = [threading.Thread(target=run, args=(tag,)) for tag in ("ns-a", "ns-b")]
    for t in threads:
        t.start()
    while proc.signal_children(0, lambda argv: argv[-1] in ("ns-a", "ns-b")) < 2:  # signal 0: both are running
        threading.Event().wait(0.05)
    assert proc.signal_children(signal.SIGTERM, lambda argv: "ns-a" in argv) == 1
    threads[0].join(timeout=30)
    assert results["ns-a"].returncode == -signal.SIGTERM
    assert threads[1].is_alive()
    assert proc.signal_children(signal.SIGKILL, lambda argv: "ns-b" in argv) == 1
    threads[1].join(timeout=30)
    assert results["ns-b"].returncode == -signal.SIGKILL
