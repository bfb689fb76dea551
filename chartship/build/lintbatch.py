"""``helm lint --strict`` of many charts in one helm process: every chart's defaults set in one call, and
the charts of one environment whose values files are byte-identical in one call each.

A helm start costs about 40 ms of CPU, the lint of a chart about 9 ms, so a process per chart and values
set spends most of its time starting helm. One process lints a batch; helm's report is split at its
``==> Linting PATH`` headers (:func:`chartship.tools.helmtext.lint_sections`). A chart whose section is not
clean (anything beyond [INFO] lines), or that a batch did not report, is linted again on its own by the
caller, so the findings, their wording and the outcomes are exactly those of the single-chart lint.

When the helm batch helper for the helm in use is built (:func:`chartship.tools.helmbatch.for_helm`), :func:`choose`
sends every (chart, values set) lint to it instead, split over the workers: one helper process lints them all,
each as its own ``helm lint --strict CHART -f ...``. What it does not report clean is linted again with the CLI.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Callable, Sequence

from chartship.charts.chart import Chart
from chartship.charts.values import ValuesSet
from chartship.errors import ToolError
from chartship.tools import helmbatch
from chartship.tools.helm import Helm
from chartship.tools.helmtext import lint_section_clean, lint_sections

MIN_BATCH = 2  # a group of one chart gains nothing: it is linted alone
CHUNK = 8  # at least this many charts per helm process before a batch is split over workers

Job = tuple[Chart, ValuesSet]
Linter = Callable[[Helm, Sequence[Job]], set[tuple[str, str]]]
_PASSED = re.compile(r"^\d+ chart\(s\) linted, 0 chart\(s\) failed$")


def content_key(c: Chart, vs: ValuesSet) -> tuple[str, ...] | None:
    """What the lint of ``vs`` depends on beyond the chart: its values files' bytes (None: a file cannot be read,
    so the single lint reports it)."""
    digests = []
    for f in vs.files:
        try:
            digests.append(hashlib.sha256((c.path / f).read_bytes()).hexdigest())
        except OSError:
            return None
    return tuple(digests)


def groups(jobs: Sequence[Job]) -> list[list[Job]]:
    """``jobs`` that one helm process can lint together: the same values set and byte-identical values files."""
    by_key: dict[tuple[str, tuple[str, ...]], list[Job]] = {}
    for c, vs in jobs:
        key = content_key(c, vs)
        if key is not None:
            by_key.setdefault((vs.name, key), []).append((c, vs))
    return [g for g in by_key.values() if len(g) >= MIN_BATCH]


def chunks(group: Sequence[Job], workers: int) -> list[list[Job]]:
    """``group`` split into at most ``workers`` parts of at least CHUNK charts (in order)."""
    parts = max(1, min(workers, len(group) // CHUNK))
    size = math.ceil(len(group) / parts)
    return [list(group[i:i + size]) for i in range(0, len(group), size)]


def plan(jobs: Sequence[Job], workers: int) -> list[list[Job]]:
    """The helm processes for ``jobs``: each a list of (chart, values set) linted together."""
    return [chunk for group in groups(jobs) for chunk in chunks(group, workers)]


def lint_chunk(helm: Helm, chunk: Sequence[Job]) -> set[tuple[str, str]]:
    """Lint ``chunk`` in one helm process: the (chart, values set) names that passed."""
    first_chart, vs = chunk[0]
    files = tuple(first_chart.path / f for f in vs.files)  # byte-identical for every chart of the chunk
    sections = helm.lint_batch([c.path for c, _vs in chunk], files, strict=True)
    return {(c.name, vs.name) for c, vs in chunk if lint_section_clean(sections.get(c.path))}


def helper_chunk(helper: helmbatch.Helper, helm: Helm, chunk: Sequence[Job]) -> set[tuple[str, str]]:
    """Lint ``chunk`` in one batch helper process, each job as its own ``helm lint --strict``: the names that
    passed with nothing but [INFO] lines (a helper that cannot run passes nothing: the CLI lints them all)."""
    jobs = [helmbatch.Job(str(i), "lint", str(c.path), tuple(str(c.path / f) for f in vs.files), strict=True)
            for i, (c, vs) in enumerate(chunk)]
    try:
        outputs = helmbatch.run(helper, jobs, helm.env)
    except ToolError:
        return set()
    passed = set()
    for job, (c, vs) in zip(jobs, chunk, strict=True):
        out = outputs.get(job.id)
        if out is None or not out.ok:
            continue
        section = lint_sections(out.stdout, [c.path]).get(c.path)
        if section is not None and lint_section_clean([ln for ln in section if not _PASSED.match(ln)]):
            passed.add((c.name, vs.name))
    return passed


def choose(helm: Helm, jobs: Sequence[Job], workers: int) -> tuple[list[list[Job]], Linter]:
    """The batches for ``jobs`` and the function that lints one: every job through the batch helper when it is
    built for ``helm``'s version (and not turned off), else the CLI batches of :func:`plan`."""
    helper = helmbatch.for_helm(helm)
    if helper is None:
        return plan(jobs, workers), lint_chunk
    parts = max(1, min(workers, math.ceil(len(jobs) / CHUNK)))
    size = max(1, math.ceil(len(jobs) / parts))
    return [list(jobs[i:i + size]) for i in range(0, len(jobs), size)], functools.partial(helper_chunk, helper)
