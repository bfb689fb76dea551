"""results.md from the results.json data of one benchmark run."""

from __future__ import annotations

from typing import Any

EXPLAIN = """\
## How to read this

Every figure is a ratio of two medians measured in this same run, so machine speed and most of the
background load cancel out. `ratio_is` says which way round: *candidate / baseline* (lower is better,
target `<=`) or *baseline / candidate* (a speed-up, higher is better, target `>=`). The commands of a
group run interleaved and rotated (A B C, B C A, C A B, ...) after one untimed warm-up run each.

- **Byte code.** The chartship the candidates import is byte-compiled before the first run, as `pip install`
  does for an installed package (an editable checkout under PYTHONDONTWRITEBYTECODE=1 would be compiled anew
  in every run).
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
  `P4-chartship` is the `chartship` program (the same tasks without a tasks.py) against the same baseline.
- **Peers** (P2d, P5, P6) are built from their Go modules at the versions of chartship/data/peers.lock.toml
  (bench/peers.py, cached in ~/.cache/chartship/peers/). P2d runs `ct lint --all` in a copy of the synthetic
  repository with a ct.yaml (no maintainer or version-increment checks: they need the network; no Chart.yaml
  schema check: yamale is not installed here; its yamllint rules are the repository's .yamllint.yaml). P5 times
  the chart-docs hook on every chart's Chart.yaml after `invoke helm.docs`, against helm-docs on a copy whose
  READMEs it wrote itself, so both find their READMEs current. P6's loop renders every chart and values set with
  `helm template` and runs kubeconform over the renders once per Kubernetes version helm.validate checks, with
  the schemas helm.validate uses (kubernetes-validate's strict schemas and chartship's CRD schemas, with their
  shared definitions inlined, because kubeconform's file loader does not follow refs into other files).
- **How chartship runs helm**: one `helm lint` process for the defaults set of all charts and one per environment
  for the charts whose values files are byte-identical (the scaffolds'), one `helm package` per worker for all
  charts; a chart a batch does not pass is linted alone again for helm's own words.
"""


def _row(r: dict[str, Any]) -> str:
    if r.get("unavailable"):
        return (f"| {r['id']} | {r['what']} | {r['baseline']} | - | - | - | {r['target']} | **not measured**: "
                f"{r['unavailable']} | 0 | - |")
    verdict = "met" if r["met"] else "**missed**"
    load = "-".join(f"{x:.1f}" for x in r["load_1m"])
    return (f"| {r['id']} | {r['what']} | {r['baseline']} | {r['candidate_median_s']:.3f} | {r['baseline_median_s']:.3f} "
            f"| **{r['ratio']:.2f}x** ({r['ratio_is']}) | {r['target']} | {verdict} | {r['runs']} | {load} |")


def floor(r: dict[str, Any], cores: int) -> str:
    """The ratio from CPU seconds alone, so the machine's load drops out: the baseline (a sequential loop) on one
    core against the candidate's CPU spread over every core (a speed-up), or, for a one-job row, CPU against CPU."""
    c, b = r.get("candidate_cpu_median_s"), r.get("baseline_cpu_median_s")
    if r.get("unavailable") or not c or not b:
        return ""
    value = b / (c / cores) if r["ratio_is"].startswith("baseline") else c / b
    return f"{value:.2f}x"


def per_chart(r: dict[str, Any], key: str) -> str:
    return f"{r[key] / r['charts']:.4f}" if r.get("charts") and r.get(key) is not None else ""


def coldstart(d: dict[str, Any]) -> list[str]:
    rows = d.get("coldstart") or {}
    if not rows:
        return []
    lines = ["", "## Fresh clone (bench/coldstart.py)", "", "| id | what | seconds | target | verdict | notes |",
             "|---|---|---|---|---|---|"]
    for rid in sorted(rows):
        r = rows[rid]
        notes = f"exit {r['exit']}"
        if "again_seconds" in r:
            notes += f"; run again: {r['again_seconds']} s"
        if r.get("built"):
            notes += "; left in the empty caches: " + "; ".join(r["built"])
        notes += f"; load {r.get('load_1m', 0):.1f}"
        lines.append(f"| {rid} | {r['what']} | {r['seconds']} | <= {r['target_s']:.0f} s | "
                     f"{'met' if r['met'] else '**missed**'} | {notes} |")
    return lines


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
        *([f"helm lint/template/package: {d['helm_batch']}.", ""] if d.get("helm_batch") else []),
        *([f"P2d, P5 and P6 come from a second run ({d['peers_run']['date']}, load {d['peers_run']['load_1m_start']} -> "
           f"{d['peers_run']['load_1m_end']}, {d['peers_run']['seconds']} s).", ""] if d.get("peers_run") else []),
        "| id | what | baseline | candidate median s | baseline median s | ratio | target | verdict | runs | load 1m |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(_row(r) for r in d["results"]),
        "",
    ]
    cores = d["cores"]
    lines += ["## CPU (user + system seconds of the whole process tree, median)", "",
              f"One helm start that does nothing (`helm version`) costs **{d.get('helm_start_cpu_s', '?')} CPU s** here; "
              "a loop pays it once per chart and values set.", "",
              "| id | candidate CPU s | baseline CPU s | candidate CPU s per chart | baseline CPU s per chart | cores the "
              "baseline kept busy | ratio at the CPU floor |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['id']} | {r['candidate_cpu_median_s']} | {r['baseline_cpu_median_s']} | "
              f"{per_chart(r, 'candidate_cpu_median_s')} | {per_chart(r, 'baseline_cpu_median_s')} | "
              f"{r['baseline_cores_used']} | {floor(r, cores)} |" for r in d["results"] if not r.get("unavailable")]
    lines += ["", "The ratio at the CPU floor uses CPU seconds only, so the load of a shared machine drops out: the "
              f"baseline loop on one core against the candidate's CPU spread over all {cores} cores with no waiting "
              "(for `--jobs 1` rows and P1/P4/P5/P6: CPU against CPU). A target beyond it needs less CPU, not more "
              "parallelism; one within it is lost to waiting and to the cores the machine's other work takes.", ""]
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
    lines += coldstart(d)
    missed = [r for r in d["results"] if not r["met"] and not r.get("unavailable")]
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
        if r.get("unavailable"):
            out.append(f"{r['id']:>16}  not measured: {r['unavailable']}")
            continue
        out.append(f"{r['id']:>16}  {r['ratio']:7.2f}x  target {r['target']:<24} {'met' if r['met'] else 'MISSED'}")
    if "rss" in d:
        out.append(f"{'rss':>16}  single {d['rss']['max_single_process_MiB']} MiB, tree {d['rss']['peak_tree_sum_MiB']} MiB")
    if "scale" in d:
        pts = ", ".join(f"{p['charts']}: {p['s_per_chart']:.3f} s/chart" for p in d["scale"]["points"])
        out.append(f"{'scale':>16}  {pts}; linear: {d['scale']['linear']}")
    return "\n".join(out)


WHY = {
    "lint": ("the helm lints run in the batch helper (one process per worker); besides them chartship copies charts/ "
             "to a temporary folder (with `helm dependency build` for the umbrella), runs yamllint (one Python process "
             "over every chart YAML file, the largest part) and, in its own process, the Chart.yaml rules and the "
             "values-schema check per values set; the loop does none of that"),
    "build": ("chartship also copies every chart to a temporary folder (a file created per chart file), hashes every "
              "file for the build-cache key, asks one `git log` for every chart's commit time, repacks helm's archive "
              "reproducibly (tarfile + gzip -9 in Python) and writes SHA256SUMS and manifest.json; these steps run "
              "one after the other in one Python process, so the second core works only while helm packages"),
    "ct": ("ct lints each chart once (its ci/ values; the scaffolds have none) where helm.lint runs three values sets, "
           "plus the steps of the lint rows"),
    "docs": ("the hook is a Python process that hashes every chart's inputs against the record of current READMEs; "
             "most of it is Python's start-up"),
    "validate": ("helm.validate renders every set (through the batch helper when it is built, else one `helm template` "
                 "per chart and set) and checks every object against two Kubernetes versions and the security rules "
                 "in Python (jsonschema-rs decides validity, jsonschema words the findings)"),
    "start": "start-up (Python, invoke, the tasks' imports) before any work",
}


def analysis(r: dict[str, Any], by_id: dict[str, dict[str, Any]], d: dict[str, Any]) -> str:
    """Why ``r`` missed its target, from this run's own figures: CPU per chart, helm's start cost, the CPU floor."""
    rid = r["id"]
    topic = ("ct" if rid == "P2d" else "docs" if rid == "P5" else "validate" if rid == "P6" else
             "build" if rid.startswith("P2c") else "lint" if rid.startswith("P2") else "start")
    head = f"- **{rid}** ({r['ratio']}x, target {r['target']}): "
    cpu = (f"chartship used {r['candidate_cpu_median_s']} CPU s ({per_chart(r, 'candidate_cpu_median_s') or '-'} per "
           f"chart) where the baseline used {r['baseline_cpu_median_s']} ({per_chart(r, 'baseline_cpu_median_s') or '-'}"
           f" per chart); the ratio at the CPU floor is {floor(r, d['cores']) or '-'}")
    if rid.startswith("P3"):
        return (head + f"the re-run takes {r['candidate_median_s']} s against {r['baseline_median_s']} s for a first push "
                "whose build is already in dist/; the re-run is start-up (Python, invoke, the imports, invoke.yaml read "
                "with ruamel), reading every Chart.yaml, the build-cache key (a hash of every file) and one registry "
                "lookup per tag, 8 at a time.")
    return head + cpu + f". What stands between: {WHY[topic]}."
