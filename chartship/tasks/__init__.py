"""The invoke Collection. Task modules import library modules lazily so that
`invoke --list` stays fast."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from invoke.collection import Collection
from invoke.tasks import Task

from chartship.tasks import (
    cluster_tasks,
    config_tasks,
    docs_tasks,
    helm_tasks,
    hooks_tasks,
    index_tasks,
    init_tasks,
    promote_tasks,
    publish_tasks,
    reference_tasks,
    registry_tasks,
    release_tasks,
    setup_tasks,
    tools_tasks,
    unittest_tasks,
    validate_tasks,
    version_tasks,
)

# One meaning per short flag in every task (invoke would give each flag the first free letter of its
# name, so -j was --jobs in helm.build and --json in helm.deploy). Flags not listed have no short form.
SHORT_FLAGS = {"all": "a", "chart": "c", "dry_run": "d", "env": "e", "force": "f", "jobs": "j", "kube_context": "k",
               "latest": "l", "namespace": "n", "output": "o", "plain_http": "p", "release": "r", "source": "s",
               "target": "t", "version": "v"}


def namespace(root: Path | None) -> Collection:
    """chartship's tasks. ``root`` is the repository (a tasks.py passes its own folder); None (the
    ``chartship`` command) finds it from the current folder when a task needs it."""
    _guard_invoke_yaml()
    _guard_flag_values()
    _fixed_short_flags()
    ns = Collection()
    ns.add_collection(Collection.from_module(version_tasks, name="version"))
    ns.add_collection(Collection.from_module(tools_tasks, name="tools"))
    ns.add_collection(Collection.from_module(config_tasks, name="config"))
    ns.add_collection(Collection.from_module(registry_tasks, name="registry"))
    ns.add_collection(Collection.from_module(cluster_tasks, name="cluster"))
    ns.add_collection(Collection.from_module(hooks_tasks, name="hooks"))
    ns.add_collection(Collection.from_module(reference_tasks, name="docs"))
    ns.add_task(Collection.from_module(setup_tasks).tasks["setup-dev"])  # top level: `invoke setup-dev`
    ns.add_task(Collection.from_module(init_tasks).tasks["init"])  # top level: `chartship init [PATH]`
    # The helm namespace gathers the task modules that work on charts: add a module to this call.
    ns.add_collection(_merged("helm", helm_tasks, docs_tasks, publish_tasks, index_tasks, promote_tasks, release_tasks,
                                validate_tasks, unittest_tasks))
    if root is not None:
        ns.configure({"chartship_root": str(root)})
    _keep_help(ns)
    return ns


def _keep_help(coll: Collection) -> None:
    """invoke's parser pops each flag's help out of the task it parses; keep a copy (``flag_help``) for the
    generated reference (chartship.reference), taken before any parsing."""
    for task_obj in coll.tasks.values():
        if not hasattr(task_obj, "flag_help"):
            task_obj.flag_help = dict(task_obj.help)
    for sub in coll.collections.values():
        _keep_help(sub)


def _merged(name: str, *modules: ModuleType) -> Collection:
    """One namespace made of the tasks of several modules."""
    coll = Collection(name)
    for module in modules:
        for task_obj in Collection.from_module(module).tasks.values():
            coll.add_task(task_obj)
    return coll


def _fixed_short_flags() -> None:
    """Give flags the short form of SHORT_FLAGS only (tasks are built with auto_shortflags=False)."""
    if getattr(Task.arg_opts, "chartship", False):
        return
    original = Task.arg_opts

    def arg_opts(self: Task[Any], name: str, default: str, taken_names: set[str]) -> dict[str, Any]:
        opts = original(self, name, default, taken_names)
        names = [n for n in opts["names"] if len(n) > 1]
        letter = SHORT_FLAGS.get(name)
        if letter and letter not in taken_names and name not in self.positional:
            names.append(letter)
        opts["names"] = names
        return opts

    arg_opts.chartship = True  # type: ignore[attr-defined]
    Task.arg_opts = arg_opts  # type: ignore[method-assign]


def _guard_invoke_yaml() -> None:
    """invoke parses invoke.yaml itself, after loading tasks.py; turn its YAML
    errors into our one-line message instead of a traceback."""
    from invoke.config import Config
    from invoke.vendor import yaml

    original = Config._load_yaml

    def load_yaml(self: Config, path: os.PathLike[str]) -> object:
        try:
            data = original(self, path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            pos = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            print(f"error: {Path(path).name}{pos}: invalid YAML ({problem}); fix the syntax", file=sys.stderr)
            raise SystemExit(2) from None
        from chartship.yamllimits import expanded_size

        try:  # invoke deep-copies its configuration: an alias bomb would expand right here
            expanded_size(data)
        except ValueError as exc:
            print(f"error: {Path(path).name}: {exc}; remove the anchors (&) and aliases (*)", file=sys.stderr)
            raise SystemExit(2) from None
        return data

    Config._load_yaml = load_yaml  # type: ignore[method-assign]


def _guard_flag_values() -> None:
    """invoke casts typed flags (``--jobs abc``) itself and lets the ValueError escape as a traceback;
    make it one line naming the flag, through invoke's own parse-error path (exit code 1)."""
    from invoke.exceptions import ParseError
    from invoke.parser.argument import Argument

    original = Argument.set_value
    if getattr(original, "_chartship", False):
        return

    def set_value(self: Argument, value: object, cast: bool = True) -> None:
        try:
            original(self, value, cast)
        except (TypeError, ValueError):
            kind = "a whole number" if self.kind is int else f"a {getattr(self.kind, '__name__', 'value')}"
            flag = f"--{self.name.replace('_', '-')}" if self.name else "a flag"
            raise ParseError(f"error: {flag}: expected {kind}, got {str(value)[:40]!r}") from None

    set_value._chartship = True  # type: ignore[attr-defined]
    Argument.set_value = set_value  # type: ignore[method-assign]
