"""chartship benchmarks: every figure is a ratio against a baseline command measured in the same run.

    .venv/bin/nox -s bench -- --charts 40          # or: .venv/bin/python bench/run.py --charts 40

Writes results.md and results.json (default into bench/). See results.md for what each id measures.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path[:0] = [str(BENCH), str(PROJECT)]

import measure  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402
import synth  # noqa: E402
from measure import BenchError, Cmd  # noqa: E402

VENV_BIN = Path(sys.executable).parent
INVOKE = str(VENV_BIN / "invoke")
CLI_PATH = ["env", "CHARTSHIP_HELM_BATCH=0"]  # the helm CLI path of a row, beside the batch helper's
HOOK = str(VENV_BIN / "chartship-version-sync")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--charts", type=int, default=40, help="charts in the synthetic repository (ours + scaffolds); default 40")
    p.add_argument("--hook-charts", type=int, default=30, help="charts in the repository for P1; default 30")
    p.add_argument("--runs", type=int, default=5, help="timed runs of the fast benchmarks (P1, P4); default 5")
    p.add_argument("--slow-runs", type=int, default=3, help="timed runs of the slow ones (P2, P3, scaling); default 3")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs of each command before timing; default 1")
    p.add_argument("--scale", default="10,40,160", help="chart counts for the helm.build scaling figure; default 10,40,160")
    p.add_argument("--scale-runs", type=int, default=0, help="timed runs per scaling point (default: --slow-runs)")
    p.add_argument("--out", type=Path, default=BENCH, help="where results.md / results.json go; default bench/")
    p.add_argument("--only", default="", help="comma-separated subset of P1,P2 (or P2a,P2b: lint only),P3,P4,peers,rss,scale "
                   "(default: all)")
    p.add_argument("--profile", action="store_true", help="run pyinstrument on every candidate that misses its target")
    p.add_argument("--wait-load", type=float, default=0.0,
                   help="before starting, wait (up to 10 min) for the 1-minute load average to fall below this")
    p.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    return p.parse_args(argv)


def helm_path() -> Path:
    explicit = os.environ.get("HELM_BIN")
    path = Path(explicit) if explicit else PROJECT / ".tools" / "bin" / "helm"
    if not path.is_file():
        raise BenchError(f"helm not found at {path}: run ci/bootstrap (or invoke tools.install), or set HELM_BIN")
    return path.resolve()


def child_env(helm: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTSHIP_", "AWS_"))}
    env["HELM_BIN"] = str(helm)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), str(helm.parent), env.get("PATH", "")])
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rm_dist(repo: Path) -> Any:
    """dist/ holds dist/charts and the dist/.charts-inputs.json record: removing it forces a real rebuild."""
    return lambda: shutil.rmtree(repo / "dist", ignore_errors=True)


# ---------------------------------------------------------------- baselines: sequential bash loops

def environment_files(repo: Path) -> list[str]:
    from chartship import config

    cfg = config.load(repo, environ={})
    files = []
    for env, names in cfg.environments.items():
        if len(names) != 1:
            raise BenchError(f"environment {env} has {len(names)} values files; the baseline loop expects one")
        files.append(names[0])
    return files


def lint_loop(repo: Path) -> str:
    """What the seed's build.sh did for lint, with the helm invocations chartship runs: a copy of charts/,
    `helm dependency build` for charts with dependencies, then per chart `helm lint --strict` with the
    defaults and once per environment file the chart has."""
    envs = " ".join(environment_files(repo))
    return f"""set -euo pipefail
helm="$HELM_BIN"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r charts "$tmp/"
for c in "$tmp"/charts/*/; do
  if grep -q '^dependencies:' "$c/Chart.yaml"; then "$helm" dependency build "$c" --skip-refresh >/dev/null; fi
done
for c in "$tmp"/charts/*/; do
  "$helm" lint --strict "$c" >/dev/null
  for f in {envs}; do
    if [ -f "$c/$f" ]; then "$helm" lint --strict "$c" --values "$c/$f" >/dev/null; fi
  done
done
"""


def package_loop(lint_first: str = "") -> str:
    """`helm package` for every chart (after `helm dependency build`), optionally after the lint loop."""
    return f"""set -euo pipefail
{lint_first}
{peers.COPY_WITH_DEPS}for c in "$tmp"/charts/*/; do
  "$helm" package "$c" --destination "$tmp/out" >/dev/null
done
"""


def script(work: Path, name: str, text: str) -> str:
    path = work / name
    path.write_text(text)
    return str(path)


# ---------------------------------------------------------------- results

def result(id_: str, what: str, cand: Cmd, base: Cmd, speedup: bool, target: float, runs: int, load: list[float],
           **extra: Any) -> dict[str, Any]:
    c, b = cand.median, base.median
    ratio = b / c if speedup else c / b
    met = ratio >= target if speedup else ratio <= target
    cores = os.cpu_count() or 1
    cpu = {"candidate_cpu_median_s": round(cand.cpu_median, 3), "baseline_cpu_median_s": round(base.cpu_median, 3),
           # how many cores the baseline kept busy on its own (helm is Go: more than 1 even in a sequential loop)
           "baseline_cores_used": round(base.cpu_median / b, 2)}
    if speedup and id_.startswith("P2"):  # CPU-bound work (P3 waits on the registry, which is not in the tree)
        # the best speed-up `cores` cores allow: the candidate's CPU work spread perfectly, and with no
        # work beyond the baseline's own (chartship's extra checks and bookkeeping cost nothing)
        cpu["ceiling_with_candidate_cpu"] = round(b / max(cand.cpu_median / cores, 1e-9), 2)
        cpu["ceiling_with_baseline_cpu"] = round(b / max(base.cpu_median / cores, 1e-9), 2)
    return {"id": id_, "what": what, "command": " ".join(Path(a).name if a in (INVOKE, HOOK) else a for a in cand.argv),
            "baseline": base.name, "runs": runs, "candidate_s": [round(x, 4) for x in cand.samples],
            "baseline_s": [round(x, 4) for x in base.samples], "candidate_median_s": round(c, 4),
            "baseline_median_s": round(b, 4), "ratio": round(ratio, 3),
            "ratio_is": "baseline / candidate (speed-up)" if speedup else "candidate / baseline",
            "target": f"{'>=' if speedup else '<='} {target}", "target_value": target, "met": met, "load_1m": load,
            **cpu, **extra}


def bench_p1(work: Path, helm: Path, env: dict[str, str], runs: int) -> list[dict[str, Any]]:
    repo = synth.make(work / "hook-repo", args.hook_charts, helm)
    cand = Cmd("chartship-version-sync", [HOOK], repo)
    base = Cmd("python -c pass", [sys.executable, "-c", "pass"], repo)
    before = measure.load()
    measure.sample([cand, base], runs, env, args.warmup)
    return [result("P1", f"`chartship-version-sync` (check, no files) on a {args.hook_charts}-chart repository", cand, base,
                   False, 2.5, runs, [before, measure.load()])]


def bench_p2(work: Path, repo: Path, env: dict[str, str], runs: int, builds: bool = True) -> list[dict[str, Any]]:
    lint_sh = script(work, "lint-loop.sh", lint_loop(repo))
    pkg_sh = script(work, "package-loop.sh", package_loop())
    both_sh = script(work, "lint-package-loop.sh", package_loop(lint_loop(repo).replace("set -euo pipefail\n", "")))
    n = len(synth.chart_names(repo))
    out: list[dict[str, Any]] = []

    loop = Cmd("bash lint-loop.sh", ["bash", lint_sh], repo)
    lint2 = Cmd("helm.lint", [INVOKE, "helm.lint", "--all"], repo)
    lint1 = Cmd("helm.lint --jobs 1", [INVOKE, "helm.lint", "--all", "--jobs", "1"], repo)
    # the same through the helm CLI (CHARTSHIP_HELM_BATCH=0), so the batch helper's gain shows
    lint2cli = Cmd("helm.lint (helm CLI)", [*CLI_PATH, INVOKE, "helm.lint", "--all"], repo)
    lint1cli = Cmd("helm.lint --jobs 1 (helm CLI)", [*CLI_PATH, INVOKE, "helm.lint", "--all", "--jobs", "1"], repo)
    before = measure.load()
    measure.sample([loop, lint2, lint1, lint2cli, lint1cli], runs, env, args.warmup)
    load = [before, measure.load()]
    for suffix, cand2, cand1 in (("", lint2, lint1), ("-cli", lint2cli, lint1cli)):
        how = " with `CHARTSHIP_HELM_BATCH=0`" if suffix else ""
        out.append(result(f"P2a{suffix}", f"`invoke helm.lint --all`{how} on {n} charts (default jobs = "
                                          f"{os.cpu_count()} cores)", cand2, loop, True, 3.0, runs, load, charts=n))
        out.append(result(f"P2b{suffix}", f"`invoke helm.lint --all --jobs 1`{how} on {n} charts", cand1, loop, False,
                          0.7, runs, load, charts=n))

    for lint_flag, base_name, base_sh, suffix in (("--no-lint", "bash package-loop.sh", pkg_sh, ""),
                                                  ("", "bash lint-package-loop.sh", both_sh, "-lint"))[:2 if builds else 0]:
        flags = [lint_flag] if lint_flag else []
        loop = Cmd(base_name, ["bash", base_sh], repo)
        build2 = Cmd("helm.build", [INVOKE, "helm.build", *flags], repo, prep=rm_dist(repo))
        build1 = Cmd("helm.build --jobs 1", [INVOKE, "helm.build", *flags, "--jobs", "1"], repo, prep=rm_dist(repo))
        before = measure.load()
        measure.sample([loop, build2, build1], runs, env, args.warmup)
        load = [before, measure.load()]
        label = "without lint (`--no-lint`)" if lint_flag else "with lint (the default)"
        # P2c is issue 16's row; the -jobs1 and -lint rows take the targets of P2b and P2a
        out.append(result(f"P2c{suffix}", f"`invoke helm.build` {label}, {n} charts, dist/ removed before each run",
                          build2, loop, True, 3.0 if suffix else 4.0, runs, load, charts=n))
        out.append(result(f"P2c{suffix}-jobs1", f"`invoke helm.build --jobs 1` {label}, {n} charts", build1, loop,
                          False, 0.7, runs, load, charts=n))
    return out


def bench_p3(work: Path, repo: Path, env: dict[str, str], runs: int) -> list[dict[str, Any]]:
    from chartship.tools import registry_server

    state = repo / ".cache" / "registry"  # the repository's own: deploy reuses only the registry of its data folder
    port = free_port()
    synth.set_registry_port(repo, port)
    log = state / "registry.log"

    def uploads() -> int:
        text = log.read_text(errors="replace") if log.exists() else ""
        return sum(1 for ln in text.splitlines() if '"POST /v2/' in ln and "/blobs/uploads/" in ln)

    def empty_registry() -> None:
        registry_server.stop(state)
        shutil.rmtree(state / "data", ignore_errors=True)
        registry_server.start(state, port)

    deploy = [INVOKE, "helm.deploy", "--latest"]
    fresh = Cmd("first helm.deploy, fresh clone (no dist/)", deploy, repo)
    first = Cmd("first helm.deploy (build reused, empty registry)", deploy, repo)
    again = Cmd("helm.deploy again", deploy, repo)
    counts: dict[str, list[int]] = {"fresh": [], "first": [], "again": []}
    before = measure.load()
    try:
        for _ in range(runs):
            for cmd, key in ((fresh, "fresh"), (first, "first"), (again, "again")):
                if key != "again":
                    empty_registry()
                if key == "fresh":
                    rm_dist(repo)()
                n0 = uploads()
                measure.run_once(cmd, env, record=True)
                counts[key].append(uploads() - n0)
        if args.profile and first.median / again.median < 10:  # while the registry still holds the release
            profiled["P3"] = profile(deploy, repo, env, args.out / "profile-P3.txt")
    finally:
        registry_server.stop(state)
    load = [before, measure.load()]
    if min(counts["first"]) == 0:
        raise BenchError("P3: the first push uploaded no blob: the registry was not empty, the figure would be wrong")
    res = result("P3", "re-running `invoke helm.deploy --latest` for an unchanged, published version", again, first,
                 True, 10.0, runs, load, uploads_first=counts["first"], uploads_again=counts["again"],
                 registry=f"docker-registry on 127.0.0.1:{port}; blob uploads counted in its access log")
    res["met"] = res["met"] and max(counts["again"]) == 0
    res["target"] += "; 0 blobs uploaded"
    extra = result("P3-fresh", "the same, against a first deploy from a fresh clone (build + push)", again, fresh,
                   True, 10.0, runs, load, uploads_fresh=counts["fresh"], uploads_again=counts["again"])
    extra["met"] = extra["met"] and max(counts["again"]) == 0
    return [res, extra]


def bench_p4(work: Path, repo: Path, env: dict[str, str], runs: int) -> list[dict[str, Any]]:
    empty = synth.empty_tasks_project(work / "empty-tasks")
    cand = Cmd("invoke --list", [INVOKE, "--list"], repo)
    base = Cmd("invoke --list, empty tasks.py", [INVOKE, "--list"], empty, ok_codes=(1,))  # "No tasks found", exit 1
    before = measure.load()
    measure.sample([cand, base], runs, env, args.warmup)
    out = [result("P4", "`invoke --list` in the synthetic repository", cand, base, False, 1.3, runs,
                  [before, measure.load()])]
    script_path = VENV_BIN / "chartship"  # an older editable install may lack the console script: same program
    program = Cmd("chartship --list", [str(script_path)] if script_path.exists() else [sys.executable, "-m", "chartship"],
                  repo)
    program.argv.append("--list")
    base2 = Cmd("invoke --list, empty tasks.py", [INVOKE, "--list"], empty, ok_codes=(1,))
    measure.sample([program, base2], runs, env, args.warmup)
    out.append(result("P4-chartship", "`chartship --list` in the synthetic repository", program, base2, False, 1.3, runs,
                      [before, measure.load()]))
    return out


def helm_start_cpu(helm: Path, env: dict[str, str], runs: int) -> float:
    """CPU seconds of one helm start that does nothing (`helm version`): the cost a process per chart pays."""
    cmd = Cmd("helm version", [str(helm), "version", "--short"], PROJECT)
    measure.sample([cmd], max(runs, 5), env, 1)
    return round(cmd.cpu_median, 4)


def unavailable(id_: str, what: str, baseline: str, target: str, why: str) -> dict[str, Any]:
    return {"id": id_, "what": what, "baseline": baseline, "target": target, "met": False, "unavailable": why,
            "load_1m": [measure.load()], "runs": 0}


def bench_peers(work: Path, repo: Path, helm: Path, env: dict[str, str], runs: int) -> list[dict[str, Any]]:
    """P2d (chart-testing), P5 (helm-docs), P6 (helm template + kubeconform) against the peers built from Go."""
    built = peers.build(lambda msg: print(f"bench: {msg}", file=sys.stderr))
    n = len(synth.chart_names(repo))
    out: list[dict[str, Any]] = []
    ct, docs, kc = built["chart-testing"], built["helm-docs"], built["kubeconform"]
    what = f"`invoke helm.lint --all` on {n} charts (3 values sets per scaffold; ct: its ci/ values, here the defaults)"
    base_name = f"`ct lint --all` ({peers.version_of('chart-testing')})"
    if isinstance(ct, Path):
        ct_repo = work / "ct-repo"
        shutil.copytree(repo, ct_repo, symlinks=True)
        peers.ct_setup(ct_repo)
        (work / "helm-bin").mkdir(exist_ok=True)
        if not (work / "helm-bin" / "helm").exists():
            (work / "helm-bin" / "helm").symlink_to(helm)  # ct runs `helm` from PATH (chartship takes HELM_BIN)
        ct_env = {**env, "PATH": os.pathsep.join([str(work / "helm-bin"), env["PATH"]])}
        base = Cmd(base_name, [str(ct), "lint", "--all", "--config", "ct.yaml", "--lint-conf", ".yamllint.yaml"], ct_repo)
        cand = Cmd("helm.lint", [INVOKE, "helm.lint", "--all"], repo)
        before = measure.load()
        measure.sample([cand, base], runs, ct_env, args.warmup)
        out.append(result("P2d", what, cand, base, True, 8.0, runs, [before, measure.load()], charts=n))
    else:
        out.append(unavailable("P2d", what, base_name, ">= 8.0", ct))

    what = f"chart-docs hook on {n} charts, READMEs current"
    base_name = f"`helm-docs` ({peers.version_of('helm-docs')})"
    if isinstance(docs, Path):
        docs_repo = work / "docs-repo"
        shutil.copytree(repo, docs_repo, symlinks=True)
        base = Cmd(base_name, [str(docs), "--chart-search-root", "charts", "--log-level", "warning"], docs_repo)
        measure.run_once(base, env)  # writes its READMEs: current from here on
        ours = work / "docs-ours"
        shutil.copytree(repo, ours, symlinks=True)
        subprocess.run([INVOKE, "helm.docs"], cwd=ours, env=env, check=True, capture_output=True)
        files = [f"charts/{c}/Chart.yaml" for c in synth.chart_names(ours)]
        cand = Cmd("chartship-chart-docs", [str(VENV_BIN / "chartship-chart-docs"), *files], ours)
        before = measure.load()
        measure.sample([cand, base], max(runs, 5), env, args.warmup)
        out.append(result("P5", what, cand, base, False, 2.0, max(runs, 5), [before, measure.load()], charts=n))
    else:
        out.append(unavailable("P5", what, base_name, "<= 2.0", docs))

    what = f"`invoke helm.validate` on {n} charts x their values sets (schemas and security rules; the loop: schemas only)"
    base_name = f"`helm template` per set + kubeconform ({peers.version_of('kubeconform')}), same schemas"
    if isinstance(kc, Path):
        from chartship import config

        versions = list(config.load(repo, environ={}).kubernetes_versions)
        renders = work / "p6-renders"
        peers.render_all(repo, helm, environment_files(repo), renders)
        location = peers.kubeconform_schemas(work / "kubeconform-schemas", versions, peers.rendered_kinds(renders))
        loop_sh = script(work, "validate-loop.sh", peers.validate_loop(environment_files(repo), versions, kc, location))
        base = Cmd(base_name, ["bash", loop_sh], repo)
        cand = Cmd("helm.validate", [INVOKE, "helm.validate"], repo, ok_codes=(0, 1))  # scaffolds have security findings
        cli = Cmd("helm.validate (helm CLI)", [*CLI_PATH, INVOKE, "helm.validate"], repo, ok_codes=(0, 1))
        before = measure.load()
        measure.sample([cand, base, cli], runs, env, args.warmup)
        load = [before, measure.load()]
        out.append(result("P6", what, cand, base, False, 0.8, runs, load, charts=n))
        out.append(result("P6-cli", f"{what}, with `CHARTSHIP_HELM_BATCH=0`", cli, base, False, 0.8, runs, load, charts=n))
        data_scripts["validate-loop.sh"] = Path(loop_sh).read_text()
    else:
        out.append(unavailable("P6", what, base_name, "<= 0.8", kc))
    return out


def bench_rss(repo: Path, env: dict[str, str]) -> dict[str, Any]:
    rm_dist(repo)()
    before = measure.load()
    rss = measure.peak_rss([INVOKE, "helm.build"], repo, env)
    return {"command": "invoke helm.build", "charts": len(synth.chart_names(repo)), "max_single_process_MiB":
            round(rss.max_single_kib / 1024, 1), "peak_tree_sum_MiB": round(rss.peak_tree_kib / 1024, 1),
            "seconds": round(rss.seconds, 2), "polls": rss.polls, "load_1m": [before, measure.load()]}


def bench_scale(work: Path, repos: dict[int, Path], helm: Path, env: dict[str, str], sizes: list[int],
                runs: int) -> dict[str, Any]:
    points: list[dict[str, Any]] = []
    before = measure.load()
    for n in sizes:
        repo = repos.get(n) or synth.make(work / f"scale-{n}", n, helm)
        cmd = Cmd(f"helm.build {n}", [INVOKE, "helm.build"], repo, prep=rm_dist(repo))
        measure.sample([cmd], runs, env, args.warmup)
        points.append({"charts": n, "samples_s": [round(x, 3) for x in cmd.samples], "median_s": round(cmd.median, 3),
                       "s_per_chart": round(cmd.median / n, 4)})
        if n not in repos:
            shutil.rmtree(repo, ignore_errors=True)
    xs, ys = [p["charts"] for p in points], [p["median_s"] for p in points]
    fit: dict[str, float] = {}
    if len(set(xs)) > 1:
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
        icpt = my - slope * mx
        ss_tot = sum((y - my) ** 2 for y in ys) or 1e-12
        r2 = 1 - sum((y - (icpt + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True)) / ss_tot
        fit = {"fixed_s": round(icpt, 3), "s_per_extra_chart": round(slope, 4), "r2": round(r2, 4)}
    spc = [p["s_per_chart"] for p in points]
    growth = round(spc[-1] / spc[0], 3) if spc else None
    # linear (or better): the time per chart does not grow between consecutive sizes by more than 15 %
    linear = all(b <= a * 1.15 for a, b in itertools.pairwise(spc))
    return {"command": "invoke helm.build (lint included, dist/ removed before each run)", "runs": runs,
            "points": points, "fit": fit, "s_per_chart_last_over_first": growth, "linear": linear,
            "load_1m": [before, measure.load()]}


def profile(cmd_argv: list[str], repo: Path, env: dict[str, str], dest: Path, prep: Any = None) -> str:
    if prep is not None:
        prep()
    argv = [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(dest), *cmd_argv]
    proc = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, check=False)
    return str(dest) if dest.exists() else f"pyinstrument failed: {proc.stderr.strip()[-200:]}"


def build_helper(helm_version: str) -> str:
    """Build (or take from the cache) the helm batch helper for the bench's helm, so P2a/P2b/P2d/P6 measure it."""
    from chartship.errors import ChartshipError
    from chartship.tools import helmbatch

    version = helm_version.removeprefix("v")
    major = int(version.split(".")[0])
    try:
        if helmbatch.pinned_version(major) != version:
            return f"not used: helm {version} is not the locked helm{major}"
        built = helmbatch.build(major, log=lambda msg: print(f"bench: {msg}", file=sys.stderr))
    except ChartshipError as exc:
        return f"not built ({exc}): every row runs the helm CLI"
    return f"helm {version} batch helper ({built.how}; `-cli` rows: `CHARTSHIP_HELM_BATCH=0`)"


def wait_for_load(limit: float) -> None:
    deadline = time.monotonic() + 600
    while limit and measure.load() >= limit and time.monotonic() < deadline:
        time.sleep(10)


def precompile(env: dict[str, str]) -> None:
    """Byte-compile the chartship the candidates import, as `pip install` does for an installed package: with
    PYTHONDONTWRITEBYTECODE=1 (set on some machines) an editable checkout would otherwise be compiled anew in
    every timed run."""
    code = ("import chartship, compileall, os, sys; "
            "sys.exit(not compileall.compile_dir(os.path.dirname(chartship.__file__), quiet=1))")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def main(argv: Sequence[str] | None = None) -> int:
    global args
    args = parse(argv)
    only = set(filter(None, args.only.split(","))) or {"P1", "P2", "P3", "P4", "peers", "rss", "scale"}
    helm = helm_path()
    env = child_env(helm)
    helm_version = subprocess.run([str(helm), "version", "--template", "{{.Version}}"], capture_output=True, text=True,
                                  check=True).stdout.strip()
    batch = build_helper(helm_version)
    precompile(env)
    wait_for_load(args.wait_load)
    work = Path(tempfile.mkdtemp(prefix="chartship-bench-"))
    started = time.time()
    data: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), "helm": helm_version,
        "helm_bin": str(helm), "python": platform.python_version(), "cores": os.cpu_count(),
        "charts": args.charts, "hook_charts": args.hook_charts, "runs": args.runs, "slow_runs": args.slow_runs,
        "warmup": args.warmup,
        "load_1m_start": measure.load(), "results": [], "helm_batch": batch,
    }
    try:
        repo = synth.make(work / "repo", args.charts, helm)
        data["scripts"] = data_scripts
        data_scripts.update({"lint-loop.sh": lint_loop(repo), "package-loop.sh": package_loop()})
        data["helm_start_cpu_s"] = helm_start_cpu(helm, env, args.runs)
        if "P1" in only:
            data["results"] += bench_p1(work, helm, env, args.runs)
        if "P4" in only:
            data["results"] += bench_p4(work, repo, env, args.runs)
        if "P2" in only or {"P2a", "P2b"} & only:  # P2a/P2b alone: the lint rows without the builds (P2c)
            data["results"] += bench_p2(work, repo, env, args.slow_runs, builds="P2" in only)
        if "peers" in only:
            data["results"] += bench_peers(work, repo, helm, env, args.slow_runs)
        if "P3" in only:
            data["results"] += bench_p3(work, repo, env, args.slow_runs)
            synth.set_registry_port(repo, 5000)
        if "rss" in only:
            data["rss"] = bench_rss(repo, env)
        if "scale" in only:
            sizes = [int(s) for s in args.scale.split(",") if s.strip()]
            data["scale"] = bench_scale(work, {args.charts: repo}, helm, env, sizes, args.scale_runs or args.slow_runs)
        if args.profile:
            data["profiles"] = {k: profile_name(v) for k, v in {**profiled, **profiles(data["results"], repo, env)}.items()}
    finally:
        data["load_1m_end"] = measure.load()
        data["seconds"] = round(time.time() - started, 1)
        if args.keep:
            data["workdir"] = str(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    previous = args.out / "results.json"
    if previous.exists():  # bench/coldstart.py's figures (P0, P7) are measured separately and kept
        data["coldstart"] = json.loads(previous.read_text()).get("coldstart", {})
    (args.out / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.out / "results.md").write_text(report.markdown(data))
    print(report.summary(data))
    return 0


def profiles(results: list[dict[str, Any]], repo: Path, env: dict[str, str]) -> dict[str, str]:
    found = {}
    for r in results:
        if r["met"] or "command" not in r or not r["command"].startswith("invoke") or "helm.deploy" in r["command"]:
            continue
        argv = [INVOKE, *r["command"].split()[1:]]
        prep = rm_dist(repo) if "helm.build" in r["command"] else None
        found[r["id"]] = profile(argv, repo, env, args.out / f"profile-{r['id']}.txt", prep)
    return found


def profile_name(path: str) -> str:
    return Path(path).name if path.startswith(str(args.out)) else path


args: argparse.Namespace
profiled: dict[str, str] = {}  # id -> pyinstrument report, for profiles that must run inside a benchmark
data_scripts: dict[str, str] = {}  # the baseline scripts, listed in results.md

if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
