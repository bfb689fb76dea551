"""The chart content policy: what may enter the temporary copy that lint, build and validate use.

A chart may contain only regular files and folders inside the chart. A symbolic
link is refused (naming the file), unless its target is a regular file inside the
same chart and the chart's ``content_policy.symlinks`` is ``inside``; then the copy
holds the file itself, so helm never follows a link. Device files, FIFOs, sockets
and files above ``content_policy.max_file_size`` are refused. Files are opened
without following links and without blocking, and checked again once open.

In a git work tree the copy holds exactly the files git would check out (the
index: tracked files, with their working-tree content); untracked and ignored
files stay out, and untracked ones are named in a note. Outside git, every file of
the charts folder is used (the same policy applies).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from chartship import content_policy as policymod
from chartship import report
from chartship.config import Config
from chartship.errors import ChartError
from chartship.tools import git

Skip = Callable[[PurePosixPath], bool]
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
RULE = "a chart may contain only regular files and folders"


@dataclass
class Copied:
    problems: dict[str, list[str]] = field(default_factory=dict)  # top folder (chart) -> problems
    untracked: dict[str, list[str]] = field(default_factory=dict)  # chart -> untracked paths inside it

    def add(self, chart: str, message: str) -> None:
        self.problems.setdefault(chart, []).append(message)

    def error(self, chart: str) -> ChartError | None:
        found = self.problems.get(chart)
        if not found:
            return None
        more = f" (and {len(found) - 1} more problem(s) of this kind)" if len(found) > 1 else ""
        return ChartError(found[0] + more)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _setting(chart: str, key: str) -> str:
    return f"chartship.charts.settings.{chart}.{policymod.KEY}.{key}"


def _copy_regular(src: Path, out: Path, label: str, chart: str, policy: policymod.ContentPolicy) -> str | None:
    """Copy the regular file ``src`` to ``out``; a problem message instead when it is not allowed."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return f"{label}: cannot be read ({exc.strerror}); fix its permissions or remove it"
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            return f"{label}: {_kind(info.st_mode)}; {RULE}: remove it"
        if info.st_size > policy.max_file_size:
            return (f"{label}: {policymod.human(info.st_size)}, above the {policy.describe_size()} limit for one file "
                    f"of a chart (helm refuses such charts by default); remove it, list it in .helmignore, "
                    f"or raise {_setting(chart, 'max_file_size')}")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(out, "wb") as dest:
                remaining = policy.max_file_size + 1
                while chunk := fh.read(min(1 << 20, remaining)):
                    dest.write(chunk)
                    remaining -= len(chunk)
                    if remaining <= 0:  # it grew while being copied
                        return f"{label}: grew above the {policy.describe_size()} limit while being copied; remove it"
        except OSError as exc:  # a full disk, say: name the file that could not be written
            raise OSError(exc.errno, exc.strerror, str(out)) from None
    return None


def _link(src: Path, out: Path, label: str, chart: str, chart_dir: Path, policy: policymod.ContentPolicy) -> str | None:
    """A symbolic link: refused, or (``symlinks: inside``, target a regular file in the chart) copied as that file."""
    target_text = os.readlink(src)
    real = Path(os.path.realpath(src))
    inside = real.is_relative_to(os.path.realpath(chart_dir))
    shown = f"a symbolic link to {target_text}"
    if not inside:
        return f"{label}: {shown}, which is outside the chart; {RULE}: replace the link with a copy of what it points to"
    if policy.symlinks != "inside":
        return (f"{label}: {shown}; {RULE}: replace the link with a copy of the file, or allow links to files inside "
                f"the chart with chartship.charts.{policymod.KEY}.symlinks: inside")
    try:
        info = real.stat()
    except OSError:
        return f"{label}: {shown}, which does not exist; remove the link or create its target"
    if not stat.S_ISREG(info.st_mode):
        return f"{label}: {shown}, which is not a regular file; only links to files inside the chart are allowed"
    return _copy_regular(real, out, label, chart, policy)


def _walk(base: Path) -> Iterator[str]:
    """Every entry under ``base`` (relative, posix), not descending into links or .git."""
    for folder, dirs, files in os.walk(base):
        here = Path(folder)
        for d in list(dirs):
            if d == ".git":
                dirs.remove(d)
            elif (here / d).is_symlink():
                dirs.remove(d)
                files.append(d)
        for f in files:
            yield (here / f).relative_to(base).as_posix()


def copy_charts(cfg: Config, dest: Path, needed: Iterable[str], skip: Skip) -> Copied:
    """Copy ``cfg.charts_dir`` into ``dest`` (same relative folder) under the content policy."""
    src_base, out_base = cfg.root / cfg.charts_dir, dest / cfg.charts_dir
    out_base.mkdir(parents=True, exist_ok=True)
    listed = git.tracked_files(cfg.root, cfg.charts_dir)
    base_rel = PurePosixPath(Path(cfg.charts_dir).as_posix())
    if listed is None:
        rels = list(_walk(src_base)) if src_base.is_dir() else []
    else:
        rels = [PurePosixPath(p).relative_to(base_rel).as_posix() for p in listed if PurePosixPath(p) != base_rel]
    result = Copied()
    for rel in rels:
        parts = PurePosixPath(rel)
        if skip(parts):
            continue
        chart = parts.parts[0]
        label = f"{base_rel.as_posix()}/{rel}"
        policy = cfg.chart_settings(chart).content_policy
        problem = _copy_entry(src_base / rel, out_base / rel, label, chart, src_base / chart, policy)
        if problem:
            result.add(chart, problem)
    if listed is not None:
        _untracked(cfg, base_rel, set(needed), skip, out_base, result)
    return result


def _copy_entry(src: Path, out: Path, label: str, chart: str, chart_dir: Path,
                policy: policymod.ContentPolicy) -> str | None:
    """One listed entry (folder, link or file) into the copy; a problem message when the policy refuses it."""
    try:
        mode = os.lstat(src).st_mode
    except FileNotFoundError:
        return None  # tracked but deleted in the working tree: git would not check it out as it is now
    except OSError as exc:
        return f"{label}: cannot be read ({exc.strerror}); fix its permissions or remove it"
    if stat.S_ISDIR(mode):
        out.mkdir(parents=True, exist_ok=True)
        return None
    if stat.S_ISLNK(mode):
        return _link(src, out, label, chart, chart_dir, policy)
    if stat.S_ISREG(mode):
        return _copy_regular(src, out, label, chart, policy)
    return f"{label}: {_kind(mode)}; {RULE}: remove it"


def copy_folder(cfg: Config, dest: Path, rel: str, user: str) -> list[str]:
    """A chart folder outside the charts folder (``rel``, repository-relative) that ``user`` depends on
    through file://: copied to the same place under ``dest`` with ``user``'s content policy (git-tracked
    files only in a work tree; links may not leave that folder)."""
    src_base, out_base = cfg.root / rel, dest / rel
    listed = git.tracked_files(cfg.root, rel)
    if listed is None:
        rels = list(_walk(src_base)) if src_base.is_dir() else []
    else:
        rels = [PurePosixPath(p).relative_to(rel).as_posix() for p in listed if PurePosixPath(p) != PurePosixPath(rel)]
        if not rels and (src_base / "Chart.yaml").is_file():
            return [f"{rel}: not tracked by git (the file:// dependency of {user}), and chartship builds exactly the "
                    f"files git would check out; `git add {rel}` (and commit it)"]
    policy = cfg.chart_settings(user).content_policy
    problems = []
    for sub in rels:
        if any(p in (".git", "tmpcharts") for p in PurePosixPath(sub).parts):
            continue
        problem = _copy_entry(src_base / sub, out_base / sub, f"{rel}/{sub}", user, src_base, policy)
        if problem:
            problems.append(problem)
    return problems


def _untracked(cfg: Config, base_rel: PurePosixPath, needed: set[str], skip: Skip, out_base: Path, result: Copied) -> None:
    for path in git.untracked_files(cfg.root, cfg.charts_dir):
        rel = PurePosixPath(path).relative_to(base_rel)
        if len(rel.parts) > 1 and rel.parts[0] in needed and not skip(rel):
            result.untracked.setdefault(rel.parts[0], []).append(PurePosixPath(*rel.parts[1:]).as_posix())
    for chart in sorted(needed):
        if not (out_base / chart / "Chart.yaml").is_file() and (cfg.root / cfg.charts_dir / chart / "Chart.yaml").is_file():
            result.add(chart, f"{base_rel.as_posix()}/{chart}: not tracked by git, and chartship builds exactly the files "
                              f"git would check out; `git add {base_rel.as_posix()}/{chart}` (and commit it)")
            continue
        files = result.untracked.get(chart)
        if files:
            shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
            report.note(f"note: {base_rel.as_posix()}/{chart}: {len(files)} file(s) not tracked by git are left out of the "
                        f"build ({shown}); `git add` them to include them")


def check_copy(chart_dir: Path, label: str, chart: str, policy: policymod.ContentPolicy, why: str) -> list[str]:
    """The policy again on a chart copy after ``why`` (patches) changed it; allowed links become files."""
    problems = []
    for rel in list(_walk(chart_dir)):
        path, where = chart_dir / rel, f"{label}/{rel} ({why})"
        mode = os.lstat(path).st_mode
        problem = None
        if stat.S_ISLNK(mode):
            tmp = path.with_name(f".{path.name}.chartship-link")
            problem = _link(path, tmp, where, chart, chart_dir, policy)
            if problem is None:
                os.replace(tmp, path)
        elif stat.S_ISREG(mode):
            if os.lstat(path).st_size > policy.max_file_size:
                problem = (f"{where}: {policymod.human(os.lstat(path).st_size)}, above the {policy.describe_size()} "
                           f"limit for one file of a chart; raise {_setting(chart, 'max_file_size')} or change the patch")
        else:
            problem = f"{where}: {_kind(mode)}; {RULE}: change the patch"
        if problem:
            problems.append(problem)
    return problems
