"""Values sets: which values files make up each set of a chart (the one answer every stage uses),
merged the way helm merges them, and checked against the chart's values.schema.json with jsonschema."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship import yamllimits
from chartship.config import Config
from chartship.errors import ChartError, ConfigError

SCHEMA_FILE = "values.schema.json"
DEFAULTS = "defaults"
TEST = "test"
CI_DIR = "ci"  # chart-testing's ci/*-values.yaml: one values set each, named ci/<file>
TEST_VALUES = "values-test.yaml"  # the cluster test's values; a set of its own unless an environment uses it


@dataclass(frozen=True)
class ValuesSet:
    """One values set of one chart: values.yaml, then ``files`` (relative to the chart folder) in order."""

    name: str
    files: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.name if not self.files else f"{self.name} ({', '.join(self.files)})"


Environments = Mapping[str, Sequence[str]]


def values_sets(cfg: Config | Environments, chart_dir: Path) -> list[ValuesSet]:
    """Every values set of the chart at ``chart_dir``: the defaults (values.yaml alone), then each
    configured environment with at least one of its files in this chart (just the files present), then
    ``test`` (values-test.yaml) when the chart has one that no environment uses, then one set per
    chart-testing ``ci/*-values.yaml`` file, named ``ci/<file>``."""
    environments = cfg.environments if isinstance(cfg, Config) else cfg
    result = [ValuesSet(DEFAULTS, ())]
    for env, files in environments.items():
        present = tuple(f for f in files if (chart_dir / f).is_file())
        if present:
            result.append(ValuesSet(env, present))
    used = {f for s in result for f in s.files}
    if (chart_dir / TEST_VALUES).is_file() and TEST_VALUES not in used:
        result.append(ValuesSet(TEST if all(s.name != TEST for s in result) else TEST_VALUES, (TEST_VALUES,)))
    for ci_file in sorted((chart_dir / CI_DIR).glob("*-values.yaml")):  # chart-testing's convention
        result.append(ValuesSet(f"{CI_DIR}/{ci_file.name}", (f"{CI_DIR}/{ci_file.name}",)))
    return result


def unmatched(cfg: Config | Environments, chart_dir: Path, rel: str) -> list[str]:
    """Warnings for ``values-<name>.yaml`` files of the chart that no environment (and no test set) uses:
    they would be silently ignored, so each names the file and the config key to add it to."""
    environments = cfg.environments if isinstance(cfg, Config) else cfg
    used = {f for files in environments.values() for f in files} | {TEST_VALUES}
    warnings = []
    for f in sorted([*chart_dir.glob("values-*.yaml"), *chart_dir.glob("values-*.yml")]):
        if f.name not in used:
            env = f.stem.removeprefix("values-")
            warnings.append(f"{rel}/{f.name} matches no environment, so nothing lints, validates or tests it; "
                            f"add it to chartship.environments.<env> in invoke.yaml (for example "
                            f"`environments: {{{env}: [{f.name}]}}`)")
    return warnings


def values_set(cfg: Config, chart_dir: Path, name: str) -> ValuesSet:
    """The set ``name`` of the chart at ``chart_dir`` (see :func:`values_sets`); a ConfigError names the
    known sets when the chart has no such set."""
    sets = values_sets(cfg, chart_dir)
    for s in sets:
        if s.name == name:
            return s
    if name in cfg.environments:
        raise ConfigError(f"--env {name}: {chart_dir.name} has none of {', '.join(cfg.environments[name])}")
    raise ConfigError(f"--env {name!r}: not one of the configured environments ({', '.join(cfg.environments)}) "
                      f"nor a values set of {chart_dir.name} ({', '.join(s.name for s in sets[1:]) or 'none'})")


def plain(data: Any) -> Any:
    """ruamel's round-trip types as plain JSON-like Python values."""
    if isinstance(data, Mapping):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, int):
        return int(data)
    if isinstance(data, float):
        return float(data)
    return str(data)


def merge(base: Any, over: Any) -> Any:
    """helm's coalescing: maps merge key by key, anything else replaces, null deletes a key."""
    if not isinstance(base, dict) or not isinstance(over, dict):
        return over
    result = dict(base)
    for key, value in over.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def _load(text: str, where: str) -> Any:
    """YAML 1.1 like helm's parser (yes/no are booleans), with libyaml when available for speed."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    yamllimits.check_text(text, where, ChartError)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except RecursionError:
        raise ChartError(f"{where}: nested too deeply to read; flatten the structure") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        pos = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise ChartError(f"{where}{pos}: invalid YAML ({exc.problem}); fix the syntax") from None
    except yaml.YAMLError as exc:
        raise ChartError(f"{where}: invalid YAML ({exc}); fix the syntax") from None
    yamllimits.check(text, data, where, ChartError)
    return data


def load_values(chart_dir: Path, rel: str, name: str) -> dict[str, Any]:
    path = chart_dir / name
    if not path.is_file():
        return {}
    where = f"{rel}/{name}"
    try:
        data = _load(path.read_text(encoding="utf-8"), where)
    except UnicodeDecodeError:
        raise ChartError(f"{where}: not UTF-8 text; save it as UTF-8") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ChartError(f"{where}: the top level must be a mapping of values")
    result: dict[str, Any] = plain(data)
    return result


def _path_text(path: Sequence[Any]) -> str:
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _has(data: Any, path: Sequence[Any]) -> bool:
    node = data
    for part in path:
        in_map = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if not (in_map or in_list):
            return False
        node = node[part]
    return True


def _blame(layers: Sequence[tuple[str, dict[str, Any]]], path: Sequence[Any]) -> str:
    """The last file of the set that sets ``path`` (or the deepest part of it that exists)."""
    for depth in range(len(path), 0, -1):
        for name, data in reversed(layers):
            if _has(data, path[:depth]):
                return str(name)
    return str(layers[-1][0])


@functools.lru_cache(maxsize=64)
def _compiled(text: str) -> tuple[Any, str]:
    """(validator, "") for a values.schema.json's text, or (None, what is wrong with it). Checking a schema
    against its meta-schema costs far more than using it, and charts share schemas: once per text."""
    from jsonschema import exceptions, validators

    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc}); fix the file"
    if not isinstance(schema, dict):
        return None, "the schema must be a JSON object"
    cls = validators.validator_for(schema, default=validators.Draft7Validator)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError as exc:
        return None, f"not a valid JSON schema ({exc.message}) at {_path_text(exc.absolute_path)}"
    return cls(schema), ""


def validate(chart_dir: Path, rel: str, values: ValuesSet,
             loaded: dict[str, dict[str, Any] | ChartError] | None = None) -> list[str] | None:
    """Schema problems of one merged values set, or None when the chart has no values.schema.json.
    ``loaded`` (one dict per chart, shared by its sets) keeps each values file read once."""
    schema_path = chart_dir / SCHEMA_FILE
    if not schema_path.is_file():
        return None
    try:
        validator, problem = _compiled(schema_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        validator, problem = None, f"not valid JSON ({exc}); fix the file"
    if validator is None:
        return [f"{rel}/{SCHEMA_FILE}: {problem}"]
    files = {} if loaded is None else loaded
    layers: list[tuple[str, dict[str, Any]]] = []
    for name in ("values.yaml", *values.files):
        if name not in files:
            try:
                files[name] = load_values(chart_dir, rel, name)
            except ChartError as exc:
                files[name] = exc
        data = files[name]
        if isinstance(data, ChartError):
            return [str(data)]
        layers.append((name, data))
    merged: dict[str, Any] = {}
    for _name, data in layers:
        merged = merge(merged, data)
    problems = []
    for err in sorted(validator.iter_errors(merged), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        path = list(err.absolute_path)
        problems.append(f"{rel} {_blame(layers, path)}: {_path_text(path)}: {err.message}")
    return problems
