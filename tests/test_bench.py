"""The benchmark harness (bench/run.py) end to end on a tiny synthetic repository: every id gets
a ratio and a verdict, P3 really uploads on the first push and nothing on the re-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDS = {"P1", "P2a", "P2b", "P2c", "P2c-jobs1", "P2c-lint", "P2c-lint-jobs1", "P3", "P3-fresh", "P4"}


def test_bench_harness_on_a_tiny_repository(tmp_path: Path, helm_bin: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "bench").glob("results.*")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--charts", "3", "--hook-charts", "3", "--runs", "1",
         "--slow-runs", "1", "--warmup", "0", "--scale", "3", "--out", str(tmp_path)],
        capture_output=True, text=True, check=False, env={**os.environ, "HELM_BIN": str(helm_bin)},
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    version = subprocess.run([str(helm_bin), "version", "--template", "{{.Version}}"], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert data["helm"] == version and data["charts"] == 3
    results = {r["id"]: r for r in data["results"]}
    assert set(results) == IDS
    for r in results.values():
        assert isinstance(r["ratio"], float) and r["ratio"] > 0, r
        assert isinstance(r["met"], bool) and r["target"].startswith((">=", "<=")), r
        assert len(r["candidate_s"]) == len(r["baseline_s"]) == 1
        expected = r["baseline_median_s"] / r["candidate_median_s"] if "speed-up" in r["ratio_is"] else \
            r["candidate_median_s"] / r["baseline_median_s"]
        assert abs(r["ratio"] - expected) < 0.01 * expected + 1e-3
    # the first deploy uploaded blobs (a chart layer and a config per chart), the re-run none
    assert results["P3"]["uploads_first"][0] >= 6 and results["P3"]["uploads_again"] == [0]
    assert data["rss"]["max_single_process_MiB"] > 0 and data["rss"]["peak_tree_sum_MiB"] > 0
    assert [p["charts"] for p in data["scale"]["points"]] == [3]
    text = (tmp_path / "results.md").read_text()
    assert all(f"| {i} |" in text for i in IDS) and version in text
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "bench").glob("results.*")} == before  # bench/ untouched
