"""values.release.yaml: pin the images of a published chart for installing it (``-f values.release.yaml``).

Several image mappings in one call; an existing file is merged into (its other keys and comments kept);
a repository that names a registry host goes into the mapping's ``registry`` when it has one, so the
rendered reference never holds the host twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship import yamlio
from chartship.charts.chart import Chart
from chartship.charts.imagetag import check_tag, image_node
from chartship.errors import ChartError, ConfigError


@dataclass
class Pin:
    key: str
    tag: str | None = None
    repository: str | None = None


def parse_pins(tags: Sequence[str], repos: Sequence[str], keys: Sequence[str]) -> list[Pin]:
    """``--image-tag`` / ``--image-repo`` values (``VALUE`` for every ``--key``, or ``KEY=VALUE``) -> one pin per key."""
    pins: dict[str, Pin] = {k: Pin(k) for k in keys}
    plain: dict[str, str] = {}
    for flag, values in (("tag", tags), ("repository", repos)):
        for raw in values:
            key, sep, value = raw.partition("=")
            if not sep:
                if flag in plain:
                    raise ConfigError(f"--image-{'tag' if flag == 'tag' else 'repo'} given twice without KEY=; "
                                      "write KEY=VALUE (e.g. --image-tag image=1.4.0 --image-tag sidecar.image=2.1)")
                plain[flag] = raw
                continue
            if not key or not value:
                raise ConfigError(f"--image-{'tag' if flag == 'tag' else 'repo'} {raw!r}: expected KEY=VALUE, e.g. image=1.4.0")
            setattr(pins.setdefault(key, Pin(key)), flag, value)
    if plain and not pins:
        pins["image"] = Pin("image")
    for pin in pins.values():
        for flag, value in plain.items():
            if getattr(pin, flag) is None:
                setattr(pin, flag, value)
    if not pins:
        raise ConfigError("nothing to pin: pass --image-tag TAG (and --key for an image mapping other than `image`)")
    for pin in pins.values():
        if pin.tag is None:
            raise ConfigError(f"--key {pin.key}: no tag to pin; pass --image-tag TAG or --image-tag {pin.key}=TAG")
        check_tag(pin.tag)
    return list(pins.values())


def _looks_like_host(part: str) -> bool:
    return "." in part or ":" in part or part == "localhost"


def _fields(pin: Pin, node: Any) -> dict[str, str]:
    """The keys to set under the image mapping: tag, and repository (split into registry when it names a host)."""
    out: dict[str, str] = {}
    if pin.repository:
        host, sep, rest = pin.repository.partition("/")
        if "registry" in node and sep and _looks_like_host(host):
            out["registry"], out["repository"] = host, rest
        elif "registry" in node and node.get("registry") and pin.repository.startswith(f"{node['registry']}/"):
            out["repository"] = pin.repository[len(str(node["registry"])) + 1:]
        else:
            out["repository"] = pin.repository
    assert pin.tag is not None
    out["tag"] = pin.tag
    return out


def render(chart: Chart, pins: Sequence[Pin], existing: Path | None, shown: str) -> str:
    """The text of values.release.yaml: ``existing`` (if any) with every pin set in it."""
    from ruamel.yaml.comments import CommentedMap

    where = f"{chart.rel}/values.yaml"
    _text, values = yamlio.load_file(chart.path / "values.yaml", where, ChartError)
    data: Any = None
    if existing is not None and existing.exists():
        _old, data = yamlio.load_file(existing, shown, ConfigError)
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"{shown}: must be a mapping of values to merge into; fix it or pass another --output")
    if data is None:
        data = CommentedMap()
        data.yaml_set_start_comment(
            f"Release values for {chart.name}: pin the images published for this release.\n"
            f"helm install {chart.name} oci://<registry>/{chart.name} --version <chart version> -f {Path(shown).name}")
    for pin in pins:
        fields = _fields(pin, image_node(values, pin.key, where))
        node = data
        for part in pin.key.split("."):
            if part not in node or node[part] is None:
                node[part] = CommentedMap()
            if not isinstance(node[part], dict):
                raise ConfigError(f"{shown}: `{part}` (in {pin.key}) is not a mapping; fix it or pass another --output")
            node = node[part]
        for k, v in fields.items():
            node[k] = v
    return yamlio.dumps(data)
