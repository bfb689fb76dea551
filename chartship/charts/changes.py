"""Which charts changed since a git ref: their own files, their patch series, or
(transitively) a file:// dependency of theirs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from chartship.charts import chart as chartmod
from chartship.config import PATCHES_DIR, Config
from chartship.errors import ChartshipError
from chartship.tools import git


@dataclass(frozen=True)
class Changes:
    ref: str
    base: str
    files: tuple[str, ...]
    charts: tuple[str, ...]
    reasons: dict[str, str]


def _owner(path: str, charts_dir: str, names: set[str]) -> str | None:
    """The chart a repository path belongs to (its folder or its patches/ folder)."""
    parts = PurePosixPath(path).parts
    base = PurePosixPath(charts_dir).parts
    if parts[: len(base)] == base and len(parts) > len(base) and parts[len(base)] in names:
        return parts[len(base)]
    if len(parts) > 1 and parts[0] == PATCHES_DIR and parts[1] in names:
        return parts[1]
    return None


def merge_base(cfg: Config, ref: str) -> str:
    """The merge-base of HEAD and ``ref``; every way it can fail is one actionable line."""
    if not git.is_work_tree(cfg.root):
        raise ChartshipError(f"{cfg.root} is not a git checkout: select charts with --chart NAME or --all")
    commit = git.resolve_commit(cfg.root, ref)
    shallow = git.is_shallow(cfg.root)
    if commit is None:
        where = " in this shallow clone" if shallow else ""
        raise ChartshipError(
            f"unknown git ref {ref!r}{where}: fetch it with `{git.fetch_command(ref, shallow)}`, pass --changed-since "
            "with a branch, tag or commit that exists, or use --all"
        )
    base = git.merge_base(cfg.root, "HEAD", commit)
    if base is None:
        if shallow:
            raise ChartshipError(
                f"cannot find the merge-base of HEAD and {ref!r}: this is a shallow clone; run `git fetch --unshallow` "
                "(in CI: check out with fetch-depth: 0) or use --all"
            )
        raise ChartshipError(f"HEAD and {ref!r} have no common history: pass another --changed-since ref or use --all")
    return base


def changed(cfg: Config, charts: Sequence[chartmod.Chart], ref: str | None = None) -> Changes:
    """Charts whose files (or patches, or file:// dependencies) changed since the merge-base with ``ref``.

    Uncommitted and untracked (not ignored) files count as changes.
    """
    wanted = ref or cfg.base_branch
    base = merge_base(cfg, wanted)
    files = git.changed_since(cfg.root, base)
    names = {c.name for c in charts}
    reasons: dict[str, str] = {}
    for path in files:
        owner = _owner(path, cfg.charts_dir, names)
        if owner is not None and owner not in reasons:
            reasons[owner] = f"{path} changed"
    direct = set(reasons)
    # propagate to charts that use a changed chart through file:// (transitively)
    users: dict[str, list[str]] = {}
    for c in charts:
        for _dep, sub in chartmod.local_dependencies(c, charts):
            users.setdefault(sub.name, []).append(c.name)
    queue = sorted(direct)
    while queue:
        name = queue.pop(0)
        for user in sorted(users.get(name, [])):
            if user not in reasons:
                reasons[user] = f"file:// dependency {name} changed"
                queue.append(user)
    ordered = tuple(c.name for c in charts if c.name in reasons)
    return Changes(ref=wanted, base=base, files=tuple(files), charts=ordered, reasons=reasons)
