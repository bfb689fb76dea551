"""The peer tools of the bench (P2d chart-testing, P5 helm-docs, P6 kubeconform): built from their Go modules at the
versions of chartship/data/peers.lock.toml (`used_by = "bench"`) with the machine's Go and cached like the cluster
binaries (~/.cache/chartship/peers/), plus what each needs around it (ct.yaml, kubeconform's schema folder).
A peer that cannot be built is reported with the reason; its row says so."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

NAMES = ("chart-testing", "helm-docs", "kubeconform")
CT_YAML = """\
# chart-testing configuration of the synthetic repository (bench/peers.py)
chart-dirs:
  - charts
target-branch: main
# no network: maintainers are checked against GitHub accounts, version increments against a remote
validate-maintainers: false
check-version-increment: false
# yamale (Chart.yaml schema) is not installed here; ct still runs yamllint and helm lint per chart
validate-chart-schema: false
"""


# the shell loops' common start: the charts copied to a temp folder, their dependencies built there
COPY_WITH_DEPS = """helm="$HELM_BIN"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r charts "$tmp/"
mkdir "$tmp/out"
for c in "$tmp"/charts/*/; do
  if grep -q '^dependencies:' "$c/Chart.yaml"; then "$helm" dependency build "$c" --skip-refresh >/dev/null; fi
done
"""

def build(log: Callable[[str], None] = print) -> dict[str, Path | str]:
    """name -> the built binary, or why it could not be built."""
    from chartship.errors import ChartshipError
    from chartship.tools import gobuild, install, peers

    found: dict[str, Path | str] = {}
    try:
        pins = peers.read_lock()
        go = gobuild.go_env()
    except ChartshipError as exc:
        return dict.fromkeys(NAMES, f"not built: {exc}")
    cache = install.cache_dir() / "peers"
    for name in NAMES:
        pin = pins.get(name)
        if pin is None:
            found[name] = f"not built: {name} is not in chartship/data/peers.lock.toml"
            continue
        try:
            built = peers.ensure(pin, go, cache, 2, log)
            found[name] = built.directory / pin.binary
            log(f"{name} {pin.version}: {built.how}")
        except ChartshipError as exc:
            found[name] = f"not built: {exc}"
    return found


def version_of(name: str) -> str:
    from chartship.tools import peers

    pin = peers.read_lock().get(name)
    return f"{name} {pin.version}" if pin else name


def ct_setup(repo: Path) -> None:
    """ct.yaml, and ct's yamllint rules = the repository's own .yamllint.yaml (chartship's yamllint config)."""
    (repo / "ct.yaml").write_text(CT_YAML)


# ---------------------------------------------------------------- kubeconform with kubernetes-validate's schemas

def kv_schema_root() -> Path:
    import kubernetes_validate  # type: ignore[import-untyped]

    return Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _external(ref: str) -> tuple[str, str] | None:
    """(base, name) of a ref into a shared definitions file: kubernetes-validate's `/api/_definitions.json#/$defs/X`,
    chartship's `urn:chartship:crd:_common#/$defs/X`; None for a local `#/...` ref."""
    base, sep, frag = ref.partition("#/$defs/")
    return (base, frag) if sep and base else None


def _rewrite(node: Any, shared: bool) -> Any:
    """Refs into shared definitions -> `#/$defs/ext.X`; inside a shared definition (``shared``) its own `#/$defs/X`
    refs too."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                ext = _external(v)
                name = ext[1] if ext else (v.removeprefix("#/$defs/") if shared and v.startswith("#/$defs/") else None)
                out[k] = f"#/$defs/ext.{name}" if name else v
            else:
                out[k] = _rewrite(v, shared)
        return out
    if isinstance(node, list):
        return [_rewrite(v, shared) for v in node]
    return node


def standalone(schema: dict[str, Any], shared: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """One schema with the shared definitions it uses inlined as `#/$defs/ext.X` (kubeconform's file loader does not
    resolve refs into other files or URNs); ``shared(base)`` gives the `$defs` of a definitions file."""
    needed: dict[str, Any] = {}
    todo = [ext for ref in _refs(schema) if (ext := _external(ref))]
    while todo:
        base, name = todo.pop()
        defs = shared(base)
        if f"ext.{name}" in needed or name not in defs:
            continue
        needed[f"ext.{name}"] = _rewrite(defs[name], shared=True)
        for ref in _refs(defs[name]):
            ext = _external(ref)
            todo.append(ext if ext else (base, ref.removeprefix("#/$defs/")))
    out: dict[str, Any] = _rewrite(schema, shared=False)
    out["$defs"] = {**out.get("$defs", {}), **needed}
    return out


def kind_file(api_version: str, kind: str) -> str:
    """kubeconform's file name for an object: kind, then the API group's first label (if any), then the version."""
    group, _, version = api_version.rpartition("/")
    return "-".join([kind.lower(), *([group.split(".")[0]] if group else []), version])


def rendered_kinds(folder: Path) -> set[tuple[str, str]]:
    """(apiVersion, kind) of every object rendered into ``folder``."""
    import yaml

    found = set()
    for path in folder.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind"):
                found.add((str(doc["apiVersion"]), str(doc["kind"])))
    return found


def kubeconform_schemas(dest: Path, versions: Iterable[str], kinds: Iterable[tuple[str, str]]) -> str:
    """The schemas helm.validate uses (kubernetes-validate's strict ones per version, chartship's CRD schemas) for
    ``kinds``, converted into kubeconform's layout under ``dest``; returns the -schema-location template."""
    from chartship import data

    src, crds = kv_schema_root(), data.path("crd-schemas")
    common = json.loads((crds / "_common.json").read_text())["$defs"]
    for version in versions:
        folder = src / f"v{version.removeprefix('v')}-local-strict"
        k8s = json.loads((folder / "_definitions.json").read_text())["$defs"]
        out = dest / f"v{version.removeprefix('v')}-standalone-strict"
        out.mkdir(parents=True, exist_ok=True)
        for api_version, kind in kinds:
            name = kind_file(api_version, kind) + ".json"
            group = api_version.rpartition("/")[0]
            path = crds / group / f"{kind}.json" if group and (crds / group / f"{kind}.json").is_file() else folder / name
            if path.is_file() and not (out / name).exists():
                def shared(base: str, k8s: dict[str, Any] = k8s) -> dict[str, Any]:
                    return common if "_common" in base else k8s

                schema = standalone(json.loads(path.read_text()), shared)
                (out / name).write_text(json.dumps(schema))
    return str(dest / "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}"
               "{{ .KindSuffix }}.json")


def validate_loop(envs: list[str], versions: list[str], kubeconform: Path, location: str) -> str:
    """The baseline of P6: a copy of charts/, `helm dependency build` where needed, `helm template` per chart and
    values set (defaults, then each environment file the chart has), then kubeconform over every render, once per
    Kubernetes version chartship checks."""
    files = " ".join(envs)
    checks = "\n".join(f'"{kubeconform}" -strict -summary -kubernetes-version {v} -schema-location \'{location}\' '
                       '"$tmp/out" >/dev/null' for v in versions)
    return f"""set -euo pipefail
{COPY_WITH_DEPS}for c in "$tmp"/charts/*/; do
  n=$(basename "$c")
  "$helm" template rel "$c" > "$tmp/out/$n-defaults.yaml"
  for f in {files}; do
    if [ -f "$c/$f" ]; then "$helm" template rel "$c" --values "$c/$f" > "$tmp/out/$n-$f"; fi
  done
done
{checks}
"""


def render_all(repo: Path, helm: Path, envs: list[str], dest: Path) -> None:
    """The renders of the P6 loop, once, to learn which kinds need a converted schema."""
    import subprocess

    work = dest / "charts"
    shutil.copytree(repo / "charts", work)
    for chart in sorted(p for p in work.iterdir() if (p / "Chart.yaml").is_file()):
        if "dependencies:" in (chart / "Chart.yaml").read_text():
            subprocess.run([str(helm), "dependency", "build", str(chart), "--skip-refresh"], check=True,
                           capture_output=True, timeout=300)
        sets = [[]] + [["--values", str(chart / f)] for f in envs if (chart / f).is_file()]
        for i, extra in enumerate(sets):
            out = subprocess.run([str(helm), "template", "rel", str(chart), *extra], check=True, capture_output=True,
                                 text=True, timeout=300).stdout
            (dest / f"{chart.name}-{i}.yaml").write_text(out)
    shutil.rmtree(work)
