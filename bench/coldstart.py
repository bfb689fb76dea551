"""P0 and P7: the README's commands from a fresh clone, timed end to end.

    .venv/bin/python bench/coldstart.py p0     # ci/bootstrap invoke helm.deploy --latest, empty caches
    .venv/bin/python bench/coldstart.py p7     # .ci/run (nox -s lint template tests), warm caches

P0 runs in a fresh `git clone` of this repository with an empty HOME, XDG_CACHE_HOME, GOCACHE and GOMODCACHE (so
nothing chartship or Go built before is used; pip's download cache stays warm through PIP_CACHE_DIR), and reports
what set-up built or downloaded. P7 runs in a fresh clone with the caches of this machine. The local registry of
the quick start listens on 127.0.0.1:5000; P0 refuses to start when something else listens there. The figures are
merged into bench/results.json (key "coldstart") and shown by results.md.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
P0_TARGET_S = 120.0
P7_TARGET_S = 240.0


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def clone(dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(PROJECT), str(dest)], check=True)
    return dest


def timed(argv: list[str], cwd: Path, env: dict[str, str], log: Path, timeout: float) -> tuple[float, int]:
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False, timeout=timeout)
    return time.perf_counter() - start, proc.returncode


def cache_listing(home: Path) -> list[str]:
    """What set-up left in the empty caches: chartship's cache folders and whether Go built anything."""
    found = []
    chartship = home / ".cache" / "chartship"
    for sub in sorted(chartship.iterdir()) if chartship.is_dir() else []:
        found.append(f"~/.cache/chartship/{sub.name}: {', '.join(sorted(p.name for p in sub.iterdir())[:4])}")
    for name in ("go-build", "gomod"):
        d = home / name
        files = sum(1 for _ in d.rglob("*")) if d.is_dir() else 0
        found.append(f"{name}: {files} files")
    return found


def p0(work: Path) -> dict[str, Any]:
    if not port_free(5000):
        raise SystemExit("P0: something listens on 127.0.0.1:5000 (the quick start's registry); stop it first")
    repo = clone(work / "clone")
    home = work / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "HELM_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "GOCACHE": str(home / "go-build"),
                "GOMODCACHE": str(home / "gomod"), "PIP_CACHE_DIR": str(Path.home() / ".cache" / "pip")})
    seconds, rc = timed(["ci/bootstrap", "invoke", "helm.deploy", "--latest"], repo, env, work / "p0.log", 1800)
    again, rc2 = timed(["ci/bootstrap", "invoke", "helm.deploy", "--latest"], repo, env, work / "p0-again.log", 600)
    subprocess.run([str(repo / ".venv/bin/invoke"), "registry.down"], cwd=repo, env=env, check=False,
                   capture_output=True, timeout=120)
    tail = (work / "p0.log").read_text(errors="replace").strip().splitlines()[-3:]
    return {"id": "P0", "what": "README quick start `ci/bootstrap invoke helm.deploy --latest`, fresh clone, empty "
            "chartship and Go caches (pip's download cache warm)", "seconds": round(seconds, 1), "exit": rc,
            "again_seconds": round(again, 1), "again_exit": rc2, "target_s": P0_TARGET_S,
            "met": rc == 0 and seconds <= P0_TARGET_S, "built": cache_listing(home), "log_tail": tail}


def p7(work: Path) -> dict[str, Any]:
    repo = clone(work / "clone")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "HELM_", "VIRTUAL_ENV", "PYTHONPATH"))}
    seconds, rc = timed([".ci/run"], repo, env, work / "p7.log", 7200)
    tail = (work / "p7.log").read_text(errors="replace").strip().splitlines()[-3:]
    return {"id": "P7", "what": "`.ci/run` (ci/bootstrap nox -s lint template tests), fresh clone, warm caches",
            "seconds": round(seconds, 1), "exit": rc, "target_s": P7_TARGET_S,
            "met": rc == 0 and seconds <= P7_TARGET_S, "log_tail": tail}


def main(argv: list[str]) -> int:
    which = argv[0] if argv else "p0"
    work = Path(tempfile.mkdtemp(prefix=f"chartship-{which}-"))
    row = p0(work) if which == "p0" else p7(work)
    row["load_1m"] = os.getloadavg()[0]
    results = BENCH / "results.json"
    data = json.loads(results.read_text()) if results.exists() else {}
    data.setdefault("coldstart", {})[row["id"]] = row
    results.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(row, indent=2))
    subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0 if row["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
