"""``helm template`` for helm.validate and helm.test: every chart x values set rendered ahead through the helm
batch helper when it is built for the helm in use (:func:`chartship.tools.helmbatch.for_helm`), one helper
process per worker; what the helper did not render cleanly (and everything, without the helper) runs through
the helm CLI, so the manifests, the errors and their wording are the CLI's."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from chartship.errors import ToolError
from chartship.tools import helmbatch
from chartship.tools.helm import Helm, HelmResult

# release, chart folder, values files, namespace, extra API versions
Item = tuple[str, Path, tuple[Path, ...], str, tuple[str, ...]]


def _key(item: Item) -> tuple[str, str, tuple[str, ...], str, tuple[str, ...]]:
    release, chart, files, namespace, apis = item
    return release, str(chart), tuple(map(str, files)), namespace, tuple(apis)


@dataclass
class Renderer:
    helm: Helm
    done: dict[tuple[str, str, tuple[str, ...], str, tuple[str, ...]], helmbatch.Output] = field(default_factory=dict)

    def template(self, release: str, chart: Path, files: tuple[Path, ...], namespace: str,
                 api_versions: tuple[str, ...] = ()) -> HelmResult:
        """What :meth:`Helm.template` returns (or raises) for these arguments."""
        out = self.done.get(_key((release, chart, files, namespace, api_versions)))
        if out is not None and out.ok:
            return HelmResult(("helmbatch", "template", release, str(chart)), out.stdout, out.stderr)
        return self.helm.template(release, chart, files, namespace, api_versions)


def prefetch(helm: Helm, items: Sequence[Item], workers: int) -> Renderer:
    """A renderer that already holds the helper's output for ``items`` (none without the helper)."""
    renderer = Renderer(helm)
    helper = helmbatch.for_helm(helm)
    if helper is None or not items:
        return renderer
    jobs = [helmbatch.Job(str(i), "template", str(chart), tuple(map(str, files)), release=release,
                          namespace=namespace, api_versions=tuple(apis))
            for i, (release, chart, files, namespace, apis) in enumerate(items)]
    by_id = {job.id: item for job, item in zip(jobs, items, strict=True)}

    def part(chunk: list[helmbatch.Job]) -> dict[str, helmbatch.Output]:
        try:
            return helmbatch.run(helper, chunk, helm.env)
        except ToolError:
            return {}  # the CLI renders them

    chunks = helmbatch.split(jobs, workers)
    with ThreadPoolExecutor(max_workers=max(1, len(chunks))) as pool:
        for outputs in pool.map(part, chunks):
            for job_id, out in outputs.items():
                if job_id in by_id:
                    renderer.done[_key(by_id[job_id])] = out
    return renderer
