"""A ``type: pages`` target: a classic chart repository (``index.yaml`` plus packages) kept on a git
branch of this repository (``gh-pages`` by default) and served as static files from ``url``.

It is a :class:`~chartship.config.Target` like an OCI target, so ``--target NAME``, ``default_target``
and ``CHARTSHIP_TARGET`` pick it the same way; :mod:`chartship.publish.pages` publishes to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from chartship import secrets
from chartship.config import Target, parse_str
from chartship.errors import ConfigError

PAGES = "pages"
KEYS = {"type", "url", "branch", "remote", "path"}
DEFAULT_BRANCH = "gh-pages"
_REF_PART = re.compile(r"[A-Za-z0-9._/-]+")
_REMOTE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class PagesTarget(Target):
    """``url``: the public base URL of the chart repository (what users pass to ``helm repo add``);
    ``branch``: the git branch holding it; ``remote``: push there too (None: only the local branch);
    ``path``: the folder inside the branch ('' = its top)."""

    branch: str = DEFAULT_BRANCH
    remote: str | None = None
    path: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def file(self, name: str) -> str:
        """``name``'s path inside the branch."""
        return f"{self.path}/{name}" if self.path else name


def _branch(value: Any, where: str) -> str:
    text = parse_str(value, where)
    bad = (not _REF_PART.fullmatch(text) or text.startswith(("-", "/")) or text.endswith(("/", ".lock", "."))
           or ".." in text or "//" in text)
    if bad:
        raise ConfigError(f"{where}: {text!r} is not a usable branch name (letters, digits, . _ / -), e.g. gh-pages")
    return text


def _path(value: Any, where: str) -> str:
    text = parse_str(value, where).strip("/")
    parts = PurePosixPath(text).parts
    if not text or ".." in parts or "." in parts or not _REF_PART.fullmatch(text) or "//" in text:
        raise ConfigError(f"{where}: {value!r} must be a folder inside the branch such as charts (no .., no leading /)")
    return text


def parse(name: str, node: Mapping[str, Any], where: Callable[[str], str]) -> PagesTarget:
    """Validate a ``type: pages`` target mapping."""
    unknown = [str(k) for k in node if k not in KEYS]
    if unknown:
        raise ConfigError(f"{where(unknown[0])}: unknown key for a pages target; known keys: {', '.join(sorted(KEYS))}")
    if "url" not in node:
        raise ConfigError(f"{where('url')}: missing; set it to the public base URL of the chart repository "
                          "(https://OWNER.github.io/REPO or your own host)")
    url = parse_str(node["url"], where("url")).rstrip("/")
    secrets.refuse_userinfo(url, where("url"), ConfigError)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{where('url')}: {url!r} must be an http(s) URL without query, e.g. https://example.org/charts")
    remote = node.get("remote")
    if remote is not None:
        remote = parse_str(remote, where("remote"))
        if not _REMOTE.fullmatch(remote):
            raise ConfigError(f"{where('remote')}: {remote!r} must be the name of a git remote such as origin")
    return PagesTarget(name=name, url=url, auth="none", branch=_branch(node.get("branch", DEFAULT_BRANCH), where("branch")),
                       remote=remote, path=_path(node["path"], where("path")) if "path" in node else "")
