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
    publish_tasks,
    reference_tasks,
    registry_tasks,
    release_tasks,
    setup_tasks,
    tools_tasks,
    validate_tasks,
    version_tasks,
)

# One meaning per short flag in every task (invoke would give each flag the first free letter of its
# name, so -j was --jobs in helm.build and --json in helm.deploy). Flags not listed have no short form.
SHORT_FLAGS = {"all": "a", "chart": "c", "dry_run": "d", "env": "e", "force": "f", "jobs": "j", "kube_context": "k",
               "latest": "l", "namespace": "n", "output": "o", "plain_http": "p", "release": "r", "source": "s",
               "target": "t", "version": "v"}


def namespace(root: Path) -> Collection:
    _guard_invoke_yaml()
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
    # The helm namespace gathers the task modules that work on charts: add a module to this call.
    ns.add_collection(_merged("helm", helm_tasks, docs_tasks, publish_tasks, release_tasks, validate_tasks))
    ns.configure({"chartship_root": str(root)})
    return ns


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
            return original(self, path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            pos = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            print(f"error: {Path(path).name}{pos}: invalid YAML ({problem}); fix the syntax", file=sys.stderr)
            raise SystemExit(2) from None

    Config._load_yaml = load_yaml  # type: ignore[method-assign]
