"""Which way an alias tag (``latest``) may move, and a lock that keeps one machine's writers of a
repository in line.

Policy ``aliases.latest`` (env ``CHARTSHIP_ALIASES_LATEST``):

- ``highest-final`` (default): move only to a version of higher semver precedence, and never from a
  final release to a prerelease;
- ``highest``: move only to a version of higher precedence (a prerelease may replace a final release);
- ``last-pushed``: always move (the old behaviour).

An equal version (the same release re-pushed with ``--force``) moves the alias too. ``--force-latest``
moves it whatever the policy says, and the outcome says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chartship.version import semver

POLICIES = ("highest-final", "highest", "last-pushed")
DEFAULT_POLICY = "highest-final"


PRERELEASE_HINT = "set chartship.latest_prereleases: true in invoke.yaml (env CHARTSHIP_LATEST_PRERELEASES=1) to allow it"


def refusal(policy: str, alias: str, current: str | semver.SemVer | None, new: str | semver.SemVer,
            prereleases: bool = True) -> str | None:
    """The one rule for moving an alias tag: why ``alias`` may not move from version ``current`` (None:
    the alias does not exist yet) to ``new`` under ``policy``; None when it may. ``prereleases=False``:
    a prerelease never moves it (``latest`` for dev builds and promotion, unless latest_prereleases).
    Used by helm.push/deploy (policy aliases.latest) and by promotion and dev aliases (policy highest)."""
    nxt = new if isinstance(new, semver.SemVer) else semver.parse(new)
    if not prereleases and nxt.prerelease:
        return f"{nxt} is a prerelease and never moves {alias}; {PRERELEASE_HINT}"
    if current is None or policy == "last-pushed":
        return None
    old = current if isinstance(current, semver.SemVer) else semver.parse(current)
    if policy == "highest-final" and not old.prerelease and nxt.prerelease:
        return f"{nxt} is a prerelease and {old} a final release (aliases.latest: highest-final)"
    if nxt < old:
        return f"{alias} points at {old}, newer than {nxt} (aliases.latest: {policy}); aliases only move forward"
    return None


def lock_dir() -> Path:
    """A private folder for publish locks (0700, per user)."""
    path = Path(tempfile.gettempdir()) / f"chartship-locks-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


@contextmanager
def repository_lock(host: str, repository: str) -> Iterator[None]:
    """Hold an exclusive lock on ``host/repository`` from lookup to read-back, so two publishes of
    the same repository from this machine cannot interleave (one waits, then sees the other's tag)."""
    key = hashlib.sha256(f"{host}/{repository}".encode()).hexdigest()[:32]
    fd = os.open(lock_dir() / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
