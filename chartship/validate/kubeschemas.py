"""The strict Kubernetes schemas kubernetes-validate ships, loaded once per (schema file, version).

``kubernetes_validate.validate`` reads and parses the kind's schema and the 1.3 MB shared
``_definitions.json`` on every call, and builds a new validator each time: most of helm.validate's
CPU went there. This module finds the same files the same way (the same version choice, the same
file name, the same errors for a missing version or kind) and keeps one validator per file, whose
first error is the one ``kubernetes_validate.validate`` raises. Safe to share between threads.

When jsonschema-rs (a compiled validator, in requirements.txt) is installed, it gives the verdict
first: an object it finds valid has no error; for any other object (or one it cannot take, such as a
YAML date) jsonschema finds the error, so every message is jsonschema's own. Without it, jsonschema
alone gives the same findings, more slowly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

_API_VERSION = re.compile(r"^([^./]*)(?:\.[^/]*)?/")
_MISSING = object()  # the kind has no schema file for this version


class KubeSchemas:
    """One validator per strict schema file; ``kv`` is the kubernetes_validate module."""

    def __init__(self, kv: Any) -> None:
        from jsonschema import validators
        from referencing import Registry, Resource

        self._kv, self._validators, self._registry_cls, self._resource = kv, validators, Registry, Resource
        self._dirs: dict[str, tuple[str, str]] = {}  # desired version -> (schema folder, version reported)
        # schema folder -> (registry holding its _definitions.json, the same for jsonschema-rs or None)
        self._definitions: dict[str, tuple[Any, Any]] = {}
        self._files: dict[str, Any] = {}  # schema file -> (validator, jsonschema-rs validator or None) or _MISSING
        self._lock = threading.Lock()
        try:
            import jsonschema_rs
        except ImportError:
            self._rs: Any = None
        else:
            self._rs = jsonschema_rs

    def _folder(self, desired: str) -> tuple[str, str]:
        """kubernetes_validate's choice: the newest schemas not newer than ``desired`` (as it compares them)."""
        found = self._dirs.get(desired)
        if found is None:
            utils = self._kv.utils
            wanted = desired[1:] if desired.startswith("v") else desired
            if utils.major_minor(wanted) > utils.latest_version():
                raise utils.VersionNotSupportedError(version=utils.major_minor(wanted))
            version = [v for v in utils.all_versions() if utils.major_minor(v) <= utils.major_minor(wanted)][-1]
            found = self._dirs[desired] = (f"v{version}-local-strict", wanted)
        return found

    def validators(self, doc: Mapping[str, Any], desired: str) -> tuple[Any, Any]:
        """(jsonschema validator, jsonschema-rs validator or None) for ``doc``'s kind in Kubernetes ``desired``;
        raises kubernetes_validate's SchemaNotFoundError when it has no schema for the kind."""
        folder, wanted = self._folder(desired)
        api_version = _API_VERSION.sub(r"\1-", doc["apiVersion"])
        name = f"kubernetes-json-schema/{folder}/{doc['kind'].lower()}-{api_version}.json"
        found = self._files.get(name)
        if found is None:
            with self._lock:
                found = self._files.get(name)
                if found is None:
                    found = self._files[name] = self._load(name, folder, wanted)
        if found is _MISSING:
            raise self._kv.SchemaNotFoundError(version=self._kv.utils.major_minor(wanted), kind=doc["kind"],
                                               api_version=doc["apiVersion"])
        return found  # type: ignore[no-any-return]

    def _load(self, name: str, folder: str, wanted: str) -> Any:
        contents = self._kv.utils.schema_contents
        try:
            schema = contents(name, wanted)
        except FileNotFoundError:
            return _MISSING
        if folder not in self._definitions:
            definitions = contents(f"kubernetes-json-schema/{folder}/_definitions.json", wanted)
            fast = None if self._rs is None else self._rs.Registry([(definitions["$id"], definitions)])
            self._definitions[folder] = (self._resource.from_contents(definitions) @ self._registry_cls(), fast)
        registry, fast_registry = self._definitions[folder]
        validator = self._validators.Draft202012Validator(schema, registry=self._resource.from_contents(schema) @ registry)
        fast = None if fast_registry is None else self._rs.Draft202012Validator(schema, registry=fast_registry,
                                                                                  validate_formats=False)
        return validator, fast

    def first_error(self, doc: Mapping[str, Any], desired: str) -> Any:
        """The error ``kubernetes_validate.validate(doc, desired, strict=True)`` raises, or None."""
        validator, fast = self.validators(doc, desired)
        if fast is not None:
            try:
                if fast.is_valid(doc):
                    return None
            except (ValueError, TypeError, OverflowError):  # a value JSON has no type for: jsonschema decides
                pass
        return next(iter(validator.iter_errors(doc)), None)
