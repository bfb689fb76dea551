"""Pin application image tags: in values.yaml in place (round-trip, comment-preserving),
or in a separate values.release.yaml for installing a published chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chartship import yamlio
from chartship.charts.chart import Chart
from chartship.errors import ChartError, ConfigError
from chartship.version import semver


@dataclass(frozen=True)
class Change:
    file: str
    key: str
    found: str | None
    expected: str


def check_tag(tag: str) -> str:
    if not semver.is_oci_tag(tag):
        raise ConfigError(f"image tag {tag!r} is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9._-], at most 128 characters)")
    if tag == "latest":
        raise ConfigError("image tag 'latest' is not a pin; use an immutable tag such as 1.4.0 or a commit SHA")
    return tag


IMAGE_FIELDS = ("repository", "tag", "registry", "digest")


def image_keys(data: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """Values paths of the image mappings in ``data`` (mappings with a repository or tag)."""
    if not isinstance(data, dict) or depth > 5:
        return []
    found = [prefix] if prefix and ("repository" in data or "tag" in data) else []
    for k, v in data.items():
        if isinstance(v, dict):
            found += image_keys(v, f"{prefix}.{k}" if prefix else str(k), depth + 1)
    return found


def image_node(data: Any, key: str, where: str) -> Any:
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            known = image_keys(data)
            hint = (f"pass --key with one of its image mappings: {', '.join(known[:6])}" if known
                    else "it has no image mapping (repository/tag), so there is nothing to pin")
            raise ChartError(f"{where}: has no `{key}` mapping; {hint}")
        node = node[part]
    if not isinstance(node, dict):
        raise ChartError(f"{where}: `{key}` is not a mapping with repository/tag")
    return node


def set_tag(chart: Chart, tag: str, key: str = "image", dry_run: bool = False) -> Change:
    """Set ``<key>.tag`` in the chart's values.yaml, changing nothing else in the file."""
    path = chart.path / "values.yaml"
    where = f"{chart.rel}/values.yaml"
    text, data = yamlio.load_file(path, where, ChartError)
    node = image_node(data, key, where)
    found = None if node.get("tag") is None else str(node.get("tag"))
    if "tag" in node:
        line, col = node.lc.value("tag")
        quoted = text.splitlines()[line][col:col + 1] in ("'", '"')
        value = f'"{tag}"' if not quoted and _needs_quotes(tag) else tag
        new = text if found == tag else yamlio.replace_scalar(text, node, "tag", value)
    else:
        last = list(node.keys())[-1]
        line, col = node.lc.key(last)
        lines = text.splitlines(keepends=True)
        lines.insert(int(line) + 1, " " * int(col) + f'tag: "{tag}"\n')
        new = "".join(lines)
    after = image_node(yamlio.loads(new, where, ChartError), key, where)
    if str(after.get("tag")) != tag:
        raise ChartError(f"{where}: could not set {key}.tag safely; edit it by hand")
    if not dry_run and new != text:
        from chartship.version.versionfile import write_atomic

        write_atomic(path, new)
    return Change(where, f"{key}.tag", found, tag)


def _needs_quotes(tag: str) -> bool:
    from ruamel.yaml import YAML

    return not isinstance(YAML(typ="safe", pure=True).load(f"x: {tag}")["x"], str)
