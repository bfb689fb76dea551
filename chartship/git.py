"""The only module that runs ``git``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from chartship import proc


def _git(root: Path, *args: str) -> str | None:
    try:
        result = proc.run(["git", *args], cwd=root)
    except FileNotFoundError:
        return None
    return result.stdout.strip() if result.ok and result.stdout.strip() else None


def current_branch(root: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """CI's branch (GitHub Actions, GitLab CI) or git's current branch; None when detached/unknown."""
    env = os.environ if environ is None else environ
    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"):
        if env.get(var):
            return env[var]
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    return None if branch in (None, "HEAD") else branch


def short_sha(root: Path, environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    if env.get("GITHUB_SHA"):
        return env["GITHUB_SHA"][:7]
    return _git(root, "rev-parse", "--short=7", "HEAD")


def run_number(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    for var in ("GITHUB_RUN_NUMBER", "CI_PIPELINE_IID"):
        if env.get(var):
            return env[var]
    return None


def version() -> str | None:
    """``git --version``'s number, or None when git is missing."""
    try:
        result = proc.run(["git", "--version"])
    except FileNotFoundError:
        return None
    return result.stdout.strip().removeprefix("git version ") if result.ok else None
