"""results.md from the results.json data of one benchmark run."""

from __future__ import annotations

from typing import Any

EXPLAIN = """\
## How to read this

Every figure is a ratio of two medians measured in this same run, so machine speed and most of the
background load cancel out. `ratio_is` says which way round: *candidate / baseline* (lower is better,
target `<=`) or *baseline / candidate* (a speed-up, higher is better, target `>=`). The commands of a
group run interleaved and rotated (A B C, B C A, C A B, ...) after one untimed warm-up run each.

- **Synthetic repository.** A temporary git repository with this repository's tasks.py, invoke.yaml,
  version, tag-templates and .yamllint.yaml, its three charts (core-pipeline, redis, platform with
  file:// dependencies on the other two), and `helm create` scaffolds up to the chart count. Each
  scaffold also has values-dev.yaml, values-prod.yaml and a values.schema.json, so helm.lint runs
  `helm lint --strict` three times per scaffold.
- **Baselines** are real `bash` scripts (a sequential shell loop, like the seed's build.sh), listed at
  the end. They copy charts/ to a temp dir, run `helm dependency build` for charts with dependencies,
  then per chart the same `helm lint --strict` invocations chartship runs (defaults, then each
  environment file the chart has) and/or `helm package`. chartship additionally runs yamllint, the
  values-schema checks and the reproducible repack in Python; the baselines do not.
- **P2c** deletes dist/ (dist/charts and the dist/.charts-inputs.json build record) before every run,
  so every run is a real build. `P2c` / `P2c-jobs1` are `--no-lint` against the package loop;
  `P2c-lint` / `P2c-lint-jobs1` are the default build (lint included) against the lint loop followed
  by the package loop.
- **P3** uses a real docker-registry on 127.0.0.1 (random port) as the synthetic repository's `local`
  target (plain HTTP). Each run: empty the registry and delete dist/, time a first deploy (`P3-fresh`
  baseline: build + push); empty the registry again, time a first deploy whose build is reused
  (`P3` baseline: push only); then time the re-run (the candidate of both). Blob uploads are counted
  in the registry's access log (`POST /v2/.../blobs/uploads/`).
- **P4** baseline: `invoke --list` in a folder whose tasks.py is empty (invoke itself, exit 1 "No tasks found").
"""


def _row(r: dict[str, Any]) -> str:
    verdict = "met" if r["met"] else "**missed**"
    load = "-".join(f"{x:.1f}" for x in r["load_1m"])
    return (f"| {r['id']} | {r['what']} | {r['baseline']} | {r['candidate_median_s']:.3f} | {r['baseline_median_s']:.3f} "
            f"| **{r['ratio']:.2f}x** ({r['ratio_is']}) | {r['target']} | {verdict} | {r['runs']} | {load} |")


def markdown(d: dict[str, Any]) -> str:
    lines = [
        "# chartship benchmarks",
        "",
        f"Run {d['date']}: helm {d['helm']} ({d['helm_bin']}), Python {d['python']}, {d['cores']} cores, "
        f"{d['charts']} charts (P1: {d['hook_charts']}), {d['runs']} timed runs for P1/P4 and {d['slow_runs']} for "
        f"P2/P3 (after {d['warmup']} untimed warm-up run(s) each; none for P3); 1-minute load average "
        f"{d['load_1m_start']} at the start, {d['load_1m_end']} at the end; "
        f"{d['seconds']} s in all.",
        "",
        "| id | what | baseline | candidate median s | baseline median s | ratio | target | verdict | runs | load 1m |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(_row(r) for r in d["results"]),
        "",
    ]
    lines += ["## CPU (user + system seconds of the whole process tree, median)", "",
              "| id | candidate CPU s | baseline CPU s | cores the baseline kept busy | speed-up ceiling: baseline's CPU "
              "on all cores | speed-up ceiling: candidate's CPU on all cores |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['id']} | {r['candidate_cpu_median_s']} | {r['baseline_cpu_median_s']} | {r['baseline_cores_used']} | "
              f"{r.get('ceiling_with_baseline_cpu', '')} | {r.get('ceiling_with_candidate_cpu', '')} |" for r in d["results"]]
    lines += ["", "The ceilings are the best speed-up the machine's cores allow: baseline wall time over CPU seconds / cores "
              "(perfectly parallel work, no waiting). A speed-up target above the first ceiling cannot be met by any "
              "tool that runs the same helm commands; above the second, not without doing less work.", ""]
    for r in d["results"]:
        if "uploads_again" in r:
            first = r.get("uploads_first", r.get("uploads_fresh"))
            lines.append(f"- {r['id']}: blobs uploaded per first deploy {first}, per re-run {r['uploads_again']}.")
    if "rss" in d:
        m = d["rss"]
        lines += ["", "## Peak memory of helm.build", "",
                  f"`{m['command']}` on {m['charts']} charts ({m['seconds']} s, dist/ removed first): the largest single "
                  f"process of the tree used **{m['max_single_process_MiB']} MiB** (getrusage(RUSAGE_CHILDREN).ru_maxrss "
                  f"in a wrapper process that ran only this command); the whole tree (invoke's Python process plus the helm "
                  f"and git processes alive at the same moment) peaked at **{m['peak_tree_sum_MiB']} MiB** "
                  f"(/proc polled every 20 ms, {m['polls']} polls, summing RSS over all descendants)."]
    if "scale" in d:
        s = d["scale"]
        lines += ["", "## How helm.build grows with the number of charts", "",
                  f"`{s['command']}`, median of {s['runs']} run(s) per point.", "",
                  "| charts | median s | s per chart | runs (s) |", "|---|---|---|---|"]
        lines += [f"| {p['charts']} | {p['median_s']:.2f} | {p['s_per_chart']:.4f} | {', '.join(map(str, p['samples_s']))} |"
                  for p in s["points"]]
        if s["fit"]:
            f = s["fit"]
            lines += ["", f"Least-squares line: {f['fixed_s']} s fixed + {f['s_per_extra_chart']} s per chart "
                          f"(R² {f['r2']}). Seconds per chart, largest over smallest size: "
                          f"{s['s_per_chart_last_over_first']}x. Linear (per-chart time never grows by more than 15 % "
                          f"from one size to the next): **{'yes' if s['linear'] else 'no'}**."]
    if d.get("profiles"):
        lines += ["", "## Profiles of missed targets (pyinstrument)", ""]
        lines += [f"- {k}: `{v}`" for k, v in d["profiles"].items()]
    missed = [r for r in d["results"] if not r["met"]]
    if missed:
        lines += ["", "## Where the time goes (missed targets)", ""]
        lines += [analysis(r, {x["id"]: x for x in d["results"]}, d) for r in missed]
    lines += ["", EXPLAIN]
    for name, text in d.get("scripts", {}).items():
        lines += [f"### {name}", "", "```bash", text.rstrip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def summary(d: dict[str, Any]) -> str:
    out = [f"helm {d['helm']}, {d['cores']} cores, load {d['load_1m_start']} -> {d['load_1m_end']}"]
    for r in d["results"]:
        out.append(f"{r['id']:>16}  {r['ratio']:7.2f}x  target {r['target']:<24} {'met' if r['met'] else 'MISSED'}")
    if "rss" in d:
        out.append(f"{'rss':>16}  single {d['rss']['max_single_process_MiB']} MiB, tree {d['rss']['peak_tree_sum_MiB']} MiB")
    if "scale" in d:
        pts = ", ".join(f"{p['charts']}: {p['s_per_chart']:.3f} s/chart" for p in d["scale"]["points"])
        out.append(f"{'scale':>16}  {pts}; linear: {d['scale']['linear']}")
    return "\n".join(out)


SERIAL = ("start-up (Python, invoke, imports), reading every Chart.yaml (ruamel round-trip parser), the temporary "
          "copy of charts/ with `helm dependency build` for the umbrella (workspace.prepare), the result table and "
          "removing the copy")
EXTRA_LINT = "one yamllint process over every chart YAML file and the values-schema validation per environment (jsonschema)"
EXTRA_BUILD = ("the build-cache key (hashing every chart file, `helm version`, a `git rev-parse` and a `git log` per chart "
               "for the package time stamp), the same two git processes per chart again when packaging, the reproducible "
               "repack of every archive (Python tarfile + gzip) and SHA256SUMS/manifest.json")
FIX_LINT = "start the one yamllint process at once and collect it at the end, beside the helm workers"
FIX_BUILD = ("compute each chart's commit time once, with one git process for all charts, instead of twice with two "
             "processes per chart")
FIX_PREPARE = "overlap workspace.prepare (copy, dependency builds) with the charts that need no dependency build"


def analysis(r: dict[str, Any], by_id: dict[str, dict[str, Any]], d: dict[str, Any]) -> str:
    """Why ``r`` missed its target, from this run's own figures (CPU, ceilings) and the profiled code paths."""
    rid = r["id"]
    lint, build = "lint" in rid or rid in ("P2a", "P2b"), rid.startswith("P2c")
    extra = "; ".join([x for x, on in ((EXTRA_BUILD, build), (EXTRA_LINT, lint)) if on])
    fixes = [x for x, on in ((FIX_BUILD, build), (FIX_LINT, lint)) if on]
    cpu = (f"chartship used {r['candidate_cpu_median_s']} CPU seconds where the loop used {r['baseline_cpu_median_s']}; "
           f"the loop alone kept {r['baseline_cores_used']} cores busy (helm is a Go program: its runtime threads run "
           "beside the main one, so even a sequential loop uses more than one core)")
    head = f"- **{rid}** ({r['ratio']}x, target {r['target']}): "
    if rid.startswith("P2") and "ceiling_with_baseline_cpu" in r:
        above = r["ceiling_with_baseline_cpu"] < r["target_value"]
        return (head + f"{cpu}. On {d['cores']} cores the same helm work can be at most {r['ceiling_with_baseline_cpu']}x "
                f"faster than the loop even if chartship cost nothing, and {r['ceiling_with_candidate_cpu']}x with the CPU "
                f"chartship really spends ({extra}). The rest of the gap is serial: {SERIAL}. Fix: "
                + ("no tool that runs the same helm commands can reach the target on this machine, because it is above the "
                   "first ceiling (it needs more cores, or a target relative to the ceiling); to approach the ceiling, "
                   if above else "the target is below the first ceiling: ")
                + "; ".join([FIX_PREPARE, *fixes]) + ".")
    if rid.startswith("P2"):
        return (head + f"with one job, chartship's extra work adds to the loop's time: {cpu}. The extra is {extra}, plus "
                f"{SERIAL}. These are checks and guarantees the loop does not give. Fix, for part of it: "
                + "; ".join(fixes) + (" (that makes --jobs 1 run two processes at a time)" if lint else "") + ".")
    if rid.startswith("P3"):
        fresh = by_id.get("P3-fresh", {})
        return (head.replace("): ", f"; blobs uploaded on re-runs: {r['uploads_again']}): ")
                + f"the re-run takes {r['candidate_median_s']} s against {r['baseline_median_s']} s for a first push whose "
                f"build is already in dist/ ({d['charts']} sequential `helm push` runs plus verification). "
                "The re-run's time is start-up and imports, reading every Chart.yaml with ruamel's round-trip parser, "
                "the build-cache key (a `git rev-parse` and a `git log` per chart, `helm version`), then three sequential "
                "registry GETs per chart (the version tag; for latest the version tag again and the alias) and two rich "
                "tables (profile-P3.txt, written with --profile). Against a first deploy from a fresh clone (build + push) "
                f"the ratio is {fresh.get('ratio')}x (P3-fresh). Fix: one git process for all charts' commit times, a "
                "C-accelerated read-only YAML parse in discover, no repeated manifest GET in publish._alias, and the "
                "manifest lookups of all charts in parallel.")
    return head + cpu + "."
