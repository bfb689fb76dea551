"""Schema checks of one rendered object: built-in kinds against the Kubernetes JSON schemas
kubernetes-validate ships (offline, strict: unknown fields are errors), custom resources
against ``<group>/<Kind>.json`` schemas: those chartship ships (``chartship/data/crd-schemas``),
then the repository's own folders (``validate.crd_schemas``), which add kinds or replace ours.

Schemas reference each other by ``$id`` (``urn:chartship:crd:<group>/<Kind>``, shared
definitions in ``urn:chartship:crd:_common``). kubernetes-validate is imported lazily.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chartship import data
from chartship.errors import ConfigError, ToolError
from chartship.validate.kubeschemas import KubeSchemas
from chartship.validate.security import Problem, identity

CRD_DIR = data.path("crd-schemas")
OWN_KEY = "validate.crd_schemas"
MAX_ERRORS = 10  # per object and schema, so one broken object cannot flood the report


def split_api_version(api_version: str) -> tuple[str, str]:
    """('monitoring.coreos.com', 'v1') for 'monitoring.coreos.com/v1'; ('', 'v1') for the core group."""
    group, _, version = api_version.rpartition("/")
    return group, version


def field_path(doc: Any, path: Sequence[Any]) -> str:
    """A JSON path inside ``doc`` as text; list items with a ``name`` are shown by name: ``containers[app]``."""
    parts: list[str] = []
    node = doc
    for key in path:
        if isinstance(key, int):
            item = node[key] if isinstance(node, list) and key < len(node) else None
            label = item.get("name") if isinstance(item, Mapping) and isinstance(item.get("name"), str) else key
            parts.append(f"[{label}]")
            node = item
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, Mapping) else None
    return "".join(parts) or "(object)"


def _kv() -> Any:
    try:
        import kubernetes_validate  # type: ignore[import-untyped]
    except ImportError:
        raise ToolError("kubernetes-validate is not installed: it comes with chartship; reinstall chartship "
                        "into the environment it runs from (`python -m pip install --force-reinstall chartship`)") from None
    return kubernetes_validate


def check_versions(versions: Sequence[str]) -> None:
    """Refuse Kubernetes versions the installed kubernetes-validate has no schemas for."""
    utils = _kv().utils
    known = utils.all_versions()
    minors = {utils.major_minor(v) for v in known}
    for version in versions:
        if utils.major_minor(version) not in minors:
            raise ConfigError(f"kubernetes_versions: {version} is not covered by kubernetes-validate "
                              f"(it has {known[0]} to {known[-1]}); pick versions in that range")


def schema_folders(root: Path, own: Sequence[str] = ()) -> list[tuple[Path, str]]:
    """(folder, how messages name it): chartship's schemas, then each ``validate.crd_schemas`` folder."""
    folders = [(CRD_DIR, data.label(CRD_DIR))]
    for rel in own:
        folder = root / rel
        if not folder.is_dir():
            raise ConfigError(f"{OWN_KEY}: {rel!r} is not a folder in {root}; create it with <group>/<Kind>.json "
                              "schemas or remove it from the list")
        folders.append((folder, rel.rstrip("/")))
    return folders


class CrdSchemas:
    """CRD schemas keyed by (group, kind), with one registry for their references. ``own`` are the
    repository's folders (``validate.crd_schemas``, relative to ``root``); a kind found there replaces ours."""

    def __init__(self, root: Path, own: Sequence[str] = ()) -> None:
        from jsonschema import exceptions, validators
        from referencing import Registry, Resource

        self.root = root
        self.folders = schema_folders(root, own)
        self._validators: dict[tuple[str, str], Any] = {}
        self._where: dict[tuple[str, str], str] = {}
        resources: list[tuple[str, Resource[Any]]] = []
        schemas: dict[tuple[str, str], dict[str, Any]] = {}
        for folder, label in self.folders:
            for path in sorted(folder.rglob("*.json")):
                rel = f"{label}/{path.relative_to(folder).as_posix()}"
                schema = self._read(path, rel, validators, exceptions, check=folder != CRD_DIR)
                resources.append((schema["$id"], Resource.from_contents(schema)))
                if path.parent != folder:
                    schemas[(path.parent.name, path.stem)] = schema  # a later folder replaces an earlier one
                    self._where[(path.parent.name, path.stem)] = rel
        self.registry: Registry[Any] = Registry().with_resources(resources)
        for key, schema in schemas.items():
            self._validators[key] = validators.Draft202012Validator(schema, registry=self.registry)

    @staticmethod
    def _read(path: Path, rel: str, validators: Any, exceptions: Any, check: bool = True) -> dict[str, Any]:
        """The schema at ``path``; ``check``: against the meta-schema too (the repository's own schemas; ours are
        checked by the tests, and checking them on every run cost more than the objects' checks)."""
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{rel}: not valid JSON ({exc}); fix the schema") from None
        if not isinstance(schema, dict) or not isinstance(schema.get("$id"), str):
            raise ConfigError(f"{rel}: a schema must be a JSON object with an $id")
        try:
            if check:
                validators.Draft202012Validator.check_schema(schema)
        except exceptions.SchemaError as exc:
            raise ConfigError(f"{rel}: not a valid JSON schema ({exc.message})") from None
        return schema

    def missing(self, group: str, kind: str) -> str:
        """Where a schema for this kind would be looked for, for a finding."""
        where = " or ".join(f"{label}/{group or 'core'}/{kind}.json" for _f, label in self.folders)
        return f"{where} does not exist (add the schema to a folder listed in {OWN_KEY})"

    def kinds(self) -> list[tuple[str, str]]:
        return sorted(self._validators)

    def has(self, group: str, kind: str) -> bool:
        return (group, kind) in self._validators

    def check(self, doc: Mapping[str, Any]) -> list[Problem]:
        """Problems of a custom object against its schema (rule crd-schema)."""
        kind, name = identity(doc)
        group, _version = split_api_version(str(doc.get("apiVersion", "")))
        validator = self._validators[(group, kind)]
        where = self._where[(group, kind)]
        problems = []
        errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
        for err in errors[:MAX_ERRORS]:
            message = f"is invalid: {_short(err.message)} ({where})"
            problems.append(Problem(kind, name, field_path(doc, list(err.absolute_path)), message, "crd-schema"))
        return problems


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:297] + "..."


class Checker:
    """Schema checks for rendered objects; results of identical objects are reused."""

    def __init__(self, root: Path, versions: Sequence[str], own_schemas: Sequence[str] = ()) -> None:
        self.versions = tuple(versions)
        check_versions(self.versions)
        self.crds = CrdSchemas(root, own_schemas)
        self.kube = KubeSchemas(_kv())
        self._cache: dict[str, list[Problem]] = {}

    def check(self, doc: Any) -> list[Problem]:
        if not isinstance(doc, Mapping):
            return [Problem("?", "?", "(document)", "must be a mapping (a Kubernetes object)", "k8s-schema")]
        kind, name = identity(doc)
        for key in ("apiVersion", "kind"):
            if not isinstance(doc.get(key), str) or not doc.get(key):
                return [Problem(kind, name, key, "must be set", "k8s-schema")]
        key = json.dumps(doc, sort_keys=True, default=str)
        cached = self._cache.get(key)
        if cached is None:
            group, _version = split_api_version(str(doc["apiVersion"]))
            cached = self.crds.check(doc) if self.crds.has(group, kind) else self._kubernetes(doc)
            self._cache[key] = cached
        return cached

    def _kubernetes(self, doc: Mapping[str, Any]) -> list[Problem]:
        """Strict Kubernetes schemas, once per version; a problem found in several versions is reported once."""
        kv = _kv()
        kind, name = identity(doc)
        found: dict[tuple[str, str], list[str]] = {}
        for version in self.versions:
            try:
                error = self.kube.first_error(doc, version)
            except kv.SchemaNotFoundError:
                group, _v = split_api_version(str(doc["apiVersion"]))
                text = (f"{doc['apiVersion']!r} of kind {kind} has no schema: not a built-in kind, and "
                        f"{self.crds.missing(group, kind)}")
                found.setdefault(("apiVersion", text), []).append(version)
                continue
            if error is not None:
                path = field_path(doc, list(error.absolute_path))
                found.setdefault((path, "is invalid: " + _short(error.message)), []).append(version)
        return [Problem(kind, name, path, f"{text} (Kubernetes {', '.join(vs)})", "k8s-schema")
                for (path, text), vs in found.items()]
