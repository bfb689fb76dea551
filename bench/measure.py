"""Timing, interleaved sampling and peak-RSS measurement for the benchmarks."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class BenchError(RuntimeError):
    """A benchmarked command failed: the figure would be meaningless."""


@dataclass
class Cmd:
    name: str
    argv: list[str]
    cwd: Path
    prep: Callable[[], None] | None = None  # untimed, before every run
    ok_codes: tuple[int, ...] = (0,)
    samples: list[float] = field(default_factory=list)  # wall seconds
    cpu: list[float] = field(default_factory=list)  # user + system seconds of the whole process tree

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(cmd: Cmd, env: Mapping[str, str], record: bool = False) -> float:
    """Wall seconds of one run; with ``record`` also appends them, and the tree's CPU seconds, to ``cmd``."""
    if cmd.prep is not None:
        cmd.prep()
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd.argv, cwd=cmd.cwd, env=dict(env), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    if proc.returncode not in cmd.ok_codes:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise BenchError(f"{cmd.name}: `{' '.join(cmd.argv)}` in {cmd.cwd} exited {proc.returncode}: {tail}")
    if record:
        cmd.samples.append(elapsed)
        cmd.cpu.append(cpu)
    return elapsed


def sample(cmds: Sequence[Cmd], runs: int, env: Mapping[str, str], warmup: int = 1) -> None:
    """``runs`` timings of each command, interleaved and rotated (A B C, B C A, ...) so that a
    change of machine load during the group hits every command alike, after ``warmup`` untimed runs each."""
    for _ in range(warmup):
        for cmd in cmds:
            run_once(cmd, env)
    for i in range(runs):
        for j in range(len(cmds)):
            run_once(cmds[(i + j) % len(cmds)], env, record=True)


def load() -> float:
    return round(os.getloadavg()[0], 2)


# ---------------------------------------------------------------- peak RSS

_WRAPPER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(r.returncode)\n"
)
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root_pid: int) -> int:
    """Sum of the resident set sizes (bytes) of every descendant of ``root_pid`` (not itself)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * PAGE
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    total, queue = 0, list(children.get(root_pid, []))
    while queue:
        pid = queue.pop()
        total += rss.get(pid, 0)
        queue += children.get(pid, [])
    return total


@dataclass(frozen=True)
class Rss:
    max_single_kib: int  # getrusage(RUSAGE_CHILDREN).ru_maxrss: the largest single process of the tree
    peak_tree_kib: int  # /proc polled every interval: the largest sum over all live processes of the tree
    seconds: float
    polls: int


def peak_rss(argv: Sequence[str], cwd: Path, env: Mapping[str, str], interval: float = 0.02) -> Rss:
    """Run ``argv`` under a small wrapper process: its getrusage(RUSAGE_CHILDREN).ru_maxrss covers only
    this command's tree, and /proc is polled meanwhile for the summed RSS of the whole tree."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, *argv], cwd=cwd, env=dict(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak, polls = 0, 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak, polls
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            polls += 1
            stop.wait(interval)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    out, err = proc.communicate()
    stop.set()
    poller.join()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(f"`{' '.join(argv)}` exited {proc.returncode}: {' | '.join(err.strip().splitlines()[-3:])}")
    return Rss(int(out.strip().splitlines()[-1]), peak // 1024, elapsed, polls)
