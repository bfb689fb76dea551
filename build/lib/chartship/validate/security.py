"""Security rules for every pod spec in rendered manifests (in-memory, no tools).

Workloads: Deployment, StatefulSet, DaemonSet, Job, CronJob and Pod, hook and
``helm test`` pods included. Each violated rule is one :class:`Problem` naming
the object, the container and the field path inside the object.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MIN_UID = 1000
# rule id -> what it asks for (README table and `--json` consumers use these ids)
RULES: dict[str, str] = {
    "run-as-non-root": "securityContext.runAsNonRoot is true (container, or pod when the container leaves it unset)",
    "run-as-user": f"securityContext.runAsUser is set to a UID >= {MIN_UID} (container or pod)",
    "read-only-root": "containers mount the root filesystem read-only",
    "drop-all-capabilities": "securityContext.capabilities.drop contains ALL",
    "no-privilege-escalation": "securityContext.allowPrivilegeEscalation is false",
    "resources": "resources.requests and resources.limits set cpu and memory",
    "probes": "long-running containers have livenessProbe and readinessProbe",
    "image-tag": "images carry a tag other than latest (or a digest)",
}
# kind -> path of the pod spec inside the object
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}
HOOK_ANNOTATION = "helm.sh/hook"


@dataclass(frozen=True)
class Problem:
    """One finding inside one object; ``field`` is a path such as
    ``spec.template.spec.containers[app].securityContext.readOnlyRootFilesystem``."""

    kind: str
    name: str
    field: str
    message: str
    rule: str
    container: str | None = None

    @property
    def object(self) -> str:
        return f"{self.kind}/{self.name}"

    def text(self) -> str:
        return f"{self.object}: {self.field} {self.message} (rule {self.rule})"


def _get(data: Any, path: tuple[str, ...]) -> Any:
    node = data
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def identity(doc: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, metadata.name) of a manifest, with placeholders when missing."""
    return str(doc.get("kind") or "?"), str(_map(doc.get("metadata")).get("name") or "?")


def is_long_running(doc: Mapping[str, Any]) -> bool:
    """Deployments, StatefulSets, DaemonSets and plain pods that restart; not Jobs, hooks or test pods."""
    kind = doc.get("kind")
    if kind in LONG_RUNNING:
        return True
    if kind != "Pod":
        return False
    if HOOK_ANNOTATION in _map(_map(doc.get("metadata")).get("annotations")):
        return False
    return bool(_map(doc.get("spec")).get("restartPolicy", "Always") == "Always")


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """(repository, tag, digest) of an image reference; tag and digest are None when absent."""
    rest, _, digest = image.partition("@")
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = rest.rsplit(":", 1)
        return repo, tag, digest or None
    return rest, None, digest or None


@dataclass(frozen=True)
class _Ctx:
    kind: str
    name: str
    pod_path: str
    pod: Mapping[str, Any]
    long_running: bool

    def problem(self, field: str, message: str, rule: str, container: str | None) -> Problem:
        return Problem(self.kind, self.name, field, message, rule, container)


def _containers(pod: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for group in ("initContainers", "containers"):
        items = pod.get(group)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if isinstance(item, Mapping):
                yield f"{group}[{item.get('name') or index}]", item


def _pod_or_container(ctx: _Ctx, where: str, container: Mapping[str, Any], key: str) -> tuple[Any, str, bool]:
    """Effective value of a securityContext key, the path that sets it (or should) and whether anything sets it."""
    own = _map(container.get("securityContext"))
    pod = _map(ctx.pod.get("securityContext"))
    if key in own:
        return own[key], f"{where}.securityContext.{key}", True
    if key in pod:
        return pod[key], f"{ctx.pod_path}.securityContext.{key}", True
    return None, f"{where}.securityContext.{key}", False


def _check_container(ctx: _Ctx, label: str, container: Mapping[str, Any], init: bool) -> Iterator[Problem]:
    name = str(container.get("name") or label)
    where = f"{ctx.pod_path}.{label}"
    sc = _map(container.get("securityContext"))

    value, path, present = _pod_or_container(ctx, where, container, "runAsNonRoot")
    if value is not True:
        yield ctx.problem(path, "must be true" + ("" if present else f" (here or in {ctx.pod_path}.securityContext)"),
                          "run-as-non-root", name)
    value, path, present = _pod_or_container(ctx, where, container, "runAsUser")
    if not present:
        yield ctx.problem(path, f"must be set to a UID >= {MIN_UID} (here or in {ctx.pod_path}.securityContext)",
                          "run-as-user", name)
    elif isinstance(value, bool) or not isinstance(value, int) or value < MIN_UID:
        yield ctx.problem(path, f"must be >= {MIN_UID}, got {value!r}", "run-as-user", name)
    if sc.get("readOnlyRootFilesystem") is not True:
        yield ctx.problem(f"{where}.securityContext.readOnlyRootFilesystem", "must be true", "read-only-root", name)
    drop = _map(sc.get("capabilities")).get("drop")
    if not isinstance(drop, list) or not any(str(c).upper() == "ALL" for c in drop):
        yield ctx.problem(f"{where}.securityContext.capabilities.drop", "must contain ALL", "drop-all-capabilities", name)
    if sc.get("allowPrivilegeEscalation") is not False:
        yield ctx.problem(f"{where}.securityContext.allowPrivilegeEscalation", "must be false", "no-privilege-escalation",
                          name)

    resources = _map(container.get("resources"))
    for section in ("requests", "limits"):
        values = _map(resources.get(section))
        for res in ("cpu", "memory"):
            if values.get(res) in (None, ""):
                yield ctx.problem(f"{where}.resources.{section}.{res}", "must be set", "resources", name)

    if ctx.long_running and not init:
        for probe in ("livenessProbe", "readinessProbe"):
            if not _map(container.get(probe)):
                yield ctx.problem(f"{where}.{probe}", "must be set for a long-running workload", "probes", name)

    image = container.get("image")
    if not isinstance(image, str) or not image.strip():
        yield ctx.problem(f"{where}.image", "must be set", "image-tag", name)
    else:
        _repo, tag, digest = split_image(image.strip())
        if digest is None and tag is None:
            yield ctx.problem(f"{where}.image", f"{image!r} has no tag; pin a version", "image-tag", name)
        elif tag == "latest" and digest is None:
            yield ctx.problem(f"{where}.image", f"{image!r} uses the latest tag; pin a version", "image-tag", name)


def check(doc: Mapping[str, Any]) -> list[Problem]:
    """Every rule on every container of ``doc``'s pod spec; [] for objects without one."""
    kind, name = identity(doc)
    path = POD_SPEC_PATHS.get(kind)
    if path is None:
        return []
    pod = _get(doc, path)
    if not isinstance(pod, Mapping):
        return [Problem(kind, name, ".".join(path), "must be a pod spec", "pod-spec")]
    ctx = _Ctx(kind, name, ".".join(path), pod, is_long_running(doc))
    problems: list[Problem] = []
    for label, container in _containers(pod):
        problems.extend(_check_container(ctx, label, container, label.startswith("initContainers")))
    return problems
