"""Publish to a ``type: pages`` target: the packages and the merged ``index.yaml`` of a classic chart
repository, committed to a git branch of this repository (``gh-pages`` by default) through git only.

The commit is made with plumbing (a private index file, ``commit-tree``, ``update-ref``): the user's
working tree, index and current branch are never touched. With ``remote`` the branch is fetched from
it first and the commit is pushed there (a fast-forward; never forced). Safe to re-run: a version the
branch already holds with the same bytes is skipped, and when nothing is new nothing is committed.
A version the branch holds with other bytes (in its index.yaml or as a file) is refused.

A classic repository has no tags: ``helm install`` and ``helm pull`` without ``--version`` take the
highest version in the index, so ``--latest`` has nothing to move and is reported as skipped.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from chartship.config import Config
from chartship.errors import ConfigError, ToolError
from chartship.outcome import PLANNED, PUSHED, REFUSED, SKIPPED
from chartship.pagestarget import PagesTarget
from chartship.publish import index
from chartship.publish.push import ALIAS, Package, Published, step
from chartship.tools import git

NO_TAGS = ("a classic chart repository has no tags: helm install/pull without --version take the highest "
           "version in index.yaml")


def toplevel(root: Path) -> Path:
    result = git.run(root, "rev-parse", "--show-toplevel")
    if not result.ok or not result.stdout.strip():
        raise ConfigError(f"{root}: not a git repository; a pages target publishes to a branch of this repository")
    return Path(result.stdout.strip())


def base_commit(top: Path, target: PagesTarget) -> str | None:
    """The commit to build on: the remote's branch when a remote is configured and has it, else the local branch."""
    if target.branch in git.checked_out_branches(top):
        raise ConfigError(f"target {target.name}: branch {target.branch} is checked out in a worktree; chartship "
                          "writes it without a checkout, so switch that worktree to another branch first")
    if target.remote:
        remote = git.fetch_branch(top, target.remote, target.branch)
        if remote is not None:
            return remote
    return git.branch_commit(top, f"refs/heads/{target.branch}")


def current_index(top: Path, target: PagesTarget, commit: str | None) -> tuple[str, str] | None:
    """(text, where) of the branch's index.yaml, or None when the branch or the file does not exist."""
    if commit is None:
        return None
    text = git.blob_text(top, commit, target.file(index.INDEX))
    return None if text is None else (text, f"{target.branch}:{target.file(index.INDEX)}")


def read_index(cfg: Config, target: PagesTarget) -> tuple[str, str] | None:
    """The index.yaml the target's branch holds now (``helm.index --target``)."""
    top = toplevel(cfg.root)
    return current_index(top, target, base_commit(top, target))


def _ref(target: PagesTarget, pkg: Package) -> str:
    return f"{target.url}/{pkg.path.name}"


def publish(cfg: Config, target: PagesTarget, packages: Sequence[Package], latest: bool,
            dry_run: bool) -> list[Published]:
    """Commit the new packages (with their .prov) and the merged index.yaml to the target's branch, push it
    when a remote is configured; one outcome per package (pushed, skipped, refused, or planned)."""
    top = toplevel(cfg.root)
    parent = base_commit(top, target)
    old = current_index(top, target, parent)
    split = index.plan(index.parse(*old) if old else {}, packages)
    blobs = git.tree_blobs(top, parent, target.path) if parent else {}
    outcomes: dict[str, Published] = {}
    for changed in split.changed:
        pkg = changed.package
        outcomes[pkg.path.name] = step(pkg.chart, pkg.version, _ref(target, pkg), REFUSED, f"sha256:{pkg.sha256}",
                                       f"{changed.message}; {target.branch} was not changed for it")
    added: list[Package] = []
    for pkg in split.added:
        existing = blobs.get(pkg.path.name)
        if existing is not None and existing != git.hash_file(top, pkg.path):
            outcomes[pkg.path.name] = step(pkg.chart, pkg.version, _ref(target, pkg), REFUSED, f"sha256:{pkg.sha256}",
                                           f"{target.branch} already holds {target.file(pkg.path.name)} with other "
                                           "content; a published version never changes, so bump the chart version")
        else:
            added.append(pkg)
    for pkg in split.same:
        outcomes[pkg.path.name] = step(pkg.chart, pkg.version, _ref(target, pkg), SKIPPED, f"sha256:{pkg.sha256}",
                                       f"already in {target.branch} with the same digest")
    note = ""
    if added:
        note = "would commit to " + target.branch if dry_run else _commit(top, cfg, target, parent, old, added)
    for pkg in added:
        outcomes[pkg.path.name] = step(pkg.chart, pkg.version, _ref(target, pkg), PLANNED if dry_run else PUSHED,
                                       f"sha256:{pkg.sha256}", note)
    result = [outcomes[p.path.name] for p in packages]
    if latest:
        result += [step(p.chart, p.version, f"{target.url} (latest)", SKIPPED, message=NO_TAGS) for p in packages
                   if outcomes[p.path.name].status != REFUSED]
        for o in result[len(packages):]:
            o.kind = ALIAS
    return result


def message(added: Sequence[Package]) -> str:
    """The commit message: what was added."""
    names = ", ".join(f"{p.chart} {p.version}" for p in added)
    files = "\n".join(f"- {p.path.name}" for p in added)
    return f"chartship: add {names} to the chart repository\n\n{files}\n- index.yaml (merged)\n"


def _commit(top: Path, cfg: Config, target: PagesTarget, parent: str | None, old: tuple[str, str] | None,
            added: Sequence[Package]) -> str:
    """Make the commit, move the local branch (when it is at the base or behind it), push; returns the note."""
    text = index.merged(cfg.helm, added, target.url, old[0] if old else None)
    with tempfile.TemporaryDirectory(prefix="chartship-pages-") as tmp:
        index_file = Path(tmp) / index.INDEX
        index_file.write_text(text, encoding="utf-8")
        files = {target.file(p.path.name): p.path for p in added}
        files.update({target.file(prov.name): prov for p in added if (prov := index.prov_of(p.path)) is not None})
        files[target.file(index.INDEX)] = index_file
        commit = git.commit_files(top, parent, files, message(added))
    local = git.branch_commit(top, f"refs/heads/{target.branch}")
    if target.remote:
        try:
            git.push_commit(top, target.remote, commit, target.branch)
        except ToolError as exc:
            raise ToolError(f"{exc}; the remote's {target.branch} may have moved meanwhile: run again "
                            f"(nothing was published)") from None
        if local is None or git.is_ancestor(top, local, commit):
            git.set_branch(top, target.branch, commit, local)
        return f"committed {commit[:7]} to {target.branch}, pushed to {target.remote}"
    git.set_branch(top, target.branch, commit, local)
    return f"committed {commit[:7]} to {target.branch} (local branch; no remote configured)"


def release_notes(target: PagesTarget, packages: Sequence[Package]) -> str:
    """Markdown notes: how users add the repository, and the install/pull command per chart."""
    lines = ["# Release notes", "", f"Chart repository: `{target.url}` (branch `{target.branch}`)", "",
             "```bash", f"helm repo add {target.name} {target.url}", f"helm repo update {target.name}", "```", ""]
    for pkg in packages:
        lines += [f"## {pkg.chart} {pkg.version}", "", f"- Package: `{_ref(target, pkg)}` (sha256 `{pkg.sha256}`)",
                  "", "```bash", f"helm install {pkg.chart} {target.name}/{pkg.chart} --version {pkg.version}",
                  f"helm pull {target.name}/{pkg.chart} --version {pkg.version}", "```", ""]
    return "\n".join(lines)
