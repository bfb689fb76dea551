"""The only module that runs ``git``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from chartship import config, proc
from chartship.tools.summary import summarise


def _git(root: Path, *args: str) -> str | None:
    try:
        result = proc.run(["git", *args], cwd=root)
    except FileNotFoundError:
        return None
    return result.stdout.strip() if result.ok and result.stdout.strip() else None


def current_branch(root: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """CI's branch (GitHub Actions, GitLab CI) or git's current branch; None when detached/unknown."""
    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"):
        if config.env(var, environ):
            return config.env(var, environ)
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    return None if branch in (None, "HEAD") else branch


def short_sha(root: Path, environ: Mapping[str, str] | None = None) -> str | None:
    if config.env("GITHUB_SHA", environ):
        return config.env("GITHUB_SHA", environ)[:7]
    return _git(root, "rev-parse", "--short=7", "HEAD")


def run_number(environ: Mapping[str, str] | None = None) -> str | None:
    for var in ("GITHUB_RUN_NUMBER", "CI_PIPELINE_IID"):
        if config.env(var, environ):
            return config.env(var, environ)
    return None


def version() -> str | None:
    """``git --version``'s number, or None when git is missing."""
    try:
        result = proc.run(["git", "--version"])
    except FileNotFoundError:
        return None
    return result.stdout.strip().removeprefix("git version ") if result.ok else None


# ------------------------------------------------------------ pipeline: changes, times, patches

def run(root: Path, *args: str, env: Mapping[str, str] | None = None) -> proc.Result:
    """``git ARGS`` in ``root``; a missing git is a ToolError."""
    from chartship.errors import ToolError

    try:
        return proc.run(["git", *args], cwd=root, env=env)
    except FileNotFoundError:
        raise ToolError("git not found: install git (the changed-chart selection and package times need it)") from None


def is_work_tree(root: Path) -> bool:
    result = run(root, "rev-parse", "--is-inside-work-tree")
    return result.ok and result.stdout.strip() == "true"


def is_shallow(root: Path) -> bool:
    result = run(root, "rev-parse", "--is-shallow-repository")
    return result.ok and result.stdout.strip() == "true"


def resolve_commit(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names (a branch, tag, sha, or origin/REF), or None."""
    for candidate in (ref, f"origin/{ref}"):
        result = run(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{candidate}^{{commit}}")
        if result.ok and result.stdout.strip():
            return result.stdout.strip()
    return None


def fetch_command(ref: str, shallow: bool) -> str:
    """A ``git fetch`` after which ``ref`` resolves here (as origin/REF; a plain ``git fetch origin REF`` only
    writes FETCH_HEAD in a single-branch clone), with the whole history when the clone is shallow."""
    unshallow = "--unshallow " if shallow else ""
    if re.fullmatch(r"[0-9a-f]{7,40}", ref):
        return f"git fetch {unshallow}origin {ref}"
    name = ref.removeprefix("origin/")
    return f"git fetch {unshallow}origin +{name}:refs/remotes/origin/{name}"


def merge_base(root: Path, a: str, b: str) -> str | None:
    result = run(root, "merge-base", a, b)
    return result.stdout.strip() if result.ok and result.stdout.strip() else None


def _paths(result: proc.Result, what: str) -> list[str]:
    from chartship.errors import ToolError

    if not result.ok:
        raise ToolError(f"git {what} failed: {summarise(result.stderr)}")
    return [p for p in result.stdout.split("\0") if p]


def changed_since(root: Path, commit: str) -> list[str]:
    """Files (relative to ``root``) that differ between ``commit`` and the working tree,
    committed, staged or not, plus untracked files that are not ignored."""
    diff = run(root, "diff", "--name-only", "--no-renames", "--relative", "-z", commit, "--")
    untracked = run(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
    return sorted({*_paths(diff, "diff"), *_paths(untracked, "ls-files")})


def last_commit_time(root: Path, *paths: str) -> int | None:
    """Unix time of the last commit touching any of ``paths`` (None outside git or never committed)."""
    result = run(root, "log", "-1", "--format=%ct", "--", *paths)
    text = result.stdout.strip()
    return int(text) if result.ok and text.isdigit() else None


def _history(root: Path, paths: Sequence[str]) -> dict[str, tuple[int, list[str], dict[str | None, set[str]]]] | None:
    """Every commit reachable from HEAD: sha -> (commit time, parents, files under ``paths`` it changed against
    each parent, None = against nothing for a root), HEAD first. One ``git log``; None when git cannot say."""
    try:
        result = run(root, "log", "--full-history", "--sparse", "-m", "--no-renames", "--relative", "--name-only", "-z",
                     "--pretty=raw", "--no-abbrev-commit", "--no-show-signature", "--no-decorate", "--", *paths)
    except UnicodeDecodeError:  # a message in another encoding: ask per path
        return None
    if not result.ok:
        return None
    commits: dict[str, tuple[int, list[str], dict[str | None, set[str]]]] = {}
    files: set[str] | None = None
    for token in result.stdout.split("\0"):
        if token.startswith("commit ") and "\ntree " in token:
            lines = token.split("\n")
            sha, _, against = lines[0].removeprefix("commit ").partition(" (from ")
            header = lines[1 : lines.index("")] if "" in lines else lines[1:]
            parents = [ln.removeprefix("parent ") for ln in header if ln.startswith("parent ")]
            committer = next((ln.split() for ln in header if ln.startswith("committer ")), [])
            if len(committer) < 3 or not committer[-2].isdigit():
                return None
            entry = commits.setdefault(sha, (int(committer[-2]), parents, {}))
            files = entry[2].setdefault(against.rstrip(")") or (parents[0] if parents else None), set())
            if not token.endswith("\n") and lines[-1]:
                files.add(lines[-1])
        elif token and files is not None:
            files.add(token)
    return commits


def last_commit_times(root: Path, groups: Mapping[str, Sequence[str]]) -> dict[str, int | None]:
    """:func:`last_commit_time` of each group of paths (name -> paths), from one ``git log`` for all of them:
    git's default history simplification is followed per group (a merge that leaves the group as one parent
    had it continues down the first such parent; one that changes it against every parent is its last
    commit). A group the history does not answer (a merge git lists no diff for) is asked on its own."""
    owners: dict[str, list[str]] = {}
    for name, paths in groups.items():
        for p in paths:
            owners.setdefault(p.rstrip("/"), []).append(name)
    commits = _history(root, list(owners))
    if not commits:
        return {name: last_commit_time(root, *paths) for name, paths in groups.items()}

    def touched(changed: set[str]) -> set[str]:
        found: set[str] = set()
        for f in changed:
            parts = f.split("/")
            for i in range(1, len(parts) + 1):
                found.update(owners.get("/".join(parts[:i]), ()))
        return found

    touches = {sha: {against: touched(fs) for against, fs in diffs.items()} for sha, (_ct, _p, diffs) in commits.items()}
    times: dict[str, int | None] = {}
    for name, paths in groups.items():
        sha: str | None = next(iter(commits))  # git log starts at HEAD
        while sha is not None:
            if sha not in commits:
                times[name] = last_commit_time(root, *paths)
                break
            ct, parents, _diffs = commits[sha]
            against: list[str | None] = list(parents) if parents else [None]
            changed = [name in touches[sha].get(p, set()) for p in against]
            if all(changed):  # not TREESAME to any parent: git log -1 shows this commit
                times[name] = ct
                break
            sha = parents[changed.index(False)] if parents else None
        else:
            times[name] = None  # a root commit without the group: never committed
    return times


def last_commit(root: Path, *paths: str) -> str | None:
    result = run(root, "log", "-1", "--format=%H", "--", *paths)
    return result.stdout.strip() if result.ok and result.stdout.strip() else None


def shallow_boundaries(root: Path) -> set[str]:
    """Commits whose parents a shallow clone does not have."""
    result = run(root, "rev-parse", "--git-path", "shallow")
    if not result.ok:
        return set()
    path = Path(result.stdout.strip())
    path = path if path.is_absolute() else root / path
    return set(path.read_text().split()) if path.is_file() else set()


def cut_by_shallow_clone(root: Path, paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` whose last commit is a boundary of a shallow clone (its history was not
    fetched); [] outside git or in a full clone."""
    if not is_work_tree(root) or not is_shallow(root):
        return []
    boundaries = shallow_boundaries(root)
    return [p for p in paths if last_commit(root, p) in boundaries]


def apply_patch(directory: Path, patch: Path) -> proc.Result:
    """``git apply`` of ``patch`` inside ``directory`` (a plain folder, not a repository)."""
    env = {"GIT_CEILING_DIRECTORIES": str(directory.parent)}
    return run(directory, "apply", "--whitespace=nowarn", str(patch), env=env)


# ------------------------------------------------------------ hooks: staged files, files at a commit

def has_commits(root: Path) -> bool:
    """False in a repository whose first commit is still to be made."""
    return run(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").ok


def staged_paths(root: Path) -> list[str]:
    """Files staged for the next commit (added, modified or deleted), relative to ``root``."""
    return _paths(run(root, "diff", "--cached", "--name-only", "--no-renames", "--relative", "-z"), "diff --cached")


def paths_between(root: Path, old: str, new: str) -> list[str]:
    """Files that differ between commits ``old`` and ``new``, relative to ``root``."""
    return _paths(run(root, "diff", "--name-only", "--no-renames", "--relative", "-z", old, new, "--"), "diff")


def file_at(root: Path, commit: str, path: str) -> str | None:
    """The text of ``path`` (relative to ``root``) in ``commit``; None when the commit has no such file."""
    result = run(root, "show", f"{commit}:./{path}")
    return result.stdout if result.ok else None


# ------------------------------------------------------------ build: the files git would check out

def tracked_files(root: Path, folder: str) -> list[str] | None:
    """Paths (relative to ``root``) under ``folder`` that git tracks (the index, submodules included);
    None when ``root`` is not in a git work tree."""
    if not is_work_tree(root):
        return None
    return _paths(run(root, "ls-files", "-z", "--cached", "--recurse-submodules", "--", folder), "ls-files")


def untracked_files(root: Path, folder: str) -> list[str]:
    """Paths under ``folder`` that git does not track and does not ignore."""
    return _paths(run(root, "ls-files", "-z", "--others", "--exclude-standard", "--", folder), "ls-files")


# ------------------------------------------------------------ publish: a branch written without a checkout

def _ok(result: proc.Result, what: str) -> str:
    from chartship.errors import ToolError

    if not result.ok:
        raise ToolError(f"git {what} failed: {summarise(result.stderr or result.stdout) or result.returncode}")
    return result.stdout.strip()


def branch_commit(root: Path, ref: str) -> str | None:
    """The commit a full ref (``refs/heads/B``, ``refs/remotes/R/B``) points at, or None when there is none."""
    result = run(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    return result.stdout.strip() if result.ok and result.stdout.strip() else None


def checked_out_branches(root: Path) -> set[str]:
    """Branches (short names) checked out in any worktree of the repository."""
    out = _ok(run(root, "worktree", "list", "--porcelain"), "worktree list")
    return {ln.removeprefix("branch refs/heads/") for ln in out.splitlines() if ln.startswith("branch refs/heads/")}


def fetch_branch(root: Path, remote: str, branch: str) -> str | None:
    """Fetch ``branch`` of ``remote`` into refs/remotes/REMOTE/BRANCH; its commit, or None when the remote
    has no such branch (a failure to reach the remote is a ToolError)."""
    heads = _ok(run(root, "ls-remote", "--heads", "--end-of-options", remote, f"refs/heads/{branch}"),
                f"ls-remote {remote}")
    if not heads:
        return None
    _ok(run(root, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"),
        f"fetch {remote} {branch}")
    return branch_commit(root, f"refs/remotes/{remote}/{branch}")


def tree_blobs(root: Path, commit: str, folder: str) -> dict[str, str]:
    """File name -> blob id of the files directly in ``folder`` ('' = the top) of ``commit``."""
    spec = [f"{folder}/"] if folder else []
    out = _ok(run(root, "ls-tree", "-z", "--full-tree", commit, "--", *spec), "ls-tree")
    blobs: dict[str, str] = {}
    for item in out.split("\0"):
        meta, _, path = item.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob":
            blobs[path.rsplit("/", 1)[-1]] = parts[2]
    return blobs


def blob_text(root: Path, commit: str, path: str) -> str | None:
    """The text of ``path`` (from the top of the tree) in ``commit``; None when there is no such file."""
    result = run(root, "cat-file", "-p", f"{commit}:{path}")
    return result.stdout if result.ok else None


def hash_file(root: Path, path: Path, write: bool = False) -> str:
    """The blob id git gives ``path``'s bytes (``write``: also store the blob in the repository)."""
    return _ok(run(root, "hash-object", *(["-w"] if write else []), "--no-filters", "--", str(path)), "hash-object")


def commit_files(root: Path, parent: str | None, files: Mapping[str, Path], message: str) -> str:
    """A new commit: ``parent``'s tree (or an empty one) with ``files`` (path in the tree -> file) added or
    replaced. Plumbing with a private index file: the working tree, the index and HEAD are not touched."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="chartship-git-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _ok(run(root, "read-tree", *([parent] if parent else ["--empty"]), env=env), "read-tree")
        for name, src in files.items():
            blob = hash_file(root, src, write=True)
            _ok(run(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{name}", env=env), "update-index")
        tree = _ok(run(root, "write-tree", env=env), "write-tree")
    return _ok(run(root, "commit-tree", tree, *(["-p", parent] if parent else []), "-m", message), "commit-tree")


def set_branch(root: Path, branch: str, new: str, old: str | None) -> None:
    """Point refs/heads/BRANCH at ``new`` only if it still is at ``old`` (None: it must not exist yet)."""
    _ok(run(root, "update-ref", "-m", "chartship publish", f"refs/heads/{branch}", new, old or "0" * 40),
        f"update-ref {branch}")


def push_commit(root: Path, remote: str, commit: str, branch: str) -> None:
    """``git push REMOTE COMMIT:refs/heads/BRANCH`` (a fast-forward only; never forced)."""
    _ok(run(root, "push", "--quiet", "--end-of-options", remote, f"{commit}:refs/heads/{branch}"), f"push {remote} {branch}")


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    return run(root, "merge-base", "--is-ancestor", older, newer).ok
