"""chartship's private helm plugin folder, ``.tools/helm-plugins`` (``HELM_PLUGINS`` for the helm
chartship starts). The user's own plugins are neither used nor touched.

A plugin folder holds the plugin's own ``plugin.yaml`` and a link to the cached binary under the
name its ``platformCommand`` gives for this platform. Install hooks are not run (the binary is
already built by :mod:`chartship.tools.peers`), so the top-level ``hooks``/``platformHooks``
blocks are left out of the copy: helm 3.17 refuses a plugin.yaml with ``platformHooks`` (a
3.18 addition), helm 4 accepts both.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from chartship import yamlio
from chartship.errors import ToolError

PLUGINS_DIR = Path(".tools") / "helm-plugins"
PLUGIN_FILE = "plugin.yaml"
_HELM_DIR = "$HELM_PLUGIN_DIR"
_TOP_KEY = re.compile(r"^[A-Za-z_]")
_HOOK_KEY = re.compile(r"^(platformHooks|hooks)\s*:")


def folder(root: Path) -> Path:
    return root / PLUGINS_DIR


def env(root: Path) -> dict[str, str]:
    return {"HELM_PLUGINS": str(folder(root))}


def _read(path: Path) -> dict[str, Any]:
    _text, data = yamlio.load_file(path, str(path), ToolError)
    if not isinstance(data, dict):
        raise ToolError(f"{path}: not a helm plugin.yaml (expected a mapping)")
    return data


def command_file(meta: dict[str, Any], goos: str, goarch: str, where: str) -> str:
    """The file name the plugin runs on this platform: platformCommand for os/arch, else command."""
    commands = meta.get("platformCommand") or []
    chosen = next((c.get("command") for c in commands if isinstance(c, dict) and c.get("os") == goos
                   and c.get("arch") == goarch), None)
    chosen = chosen or next((c.get("command") for c in commands if isinstance(c, dict) and c.get("os") == goos
                             and not c.get("arch")), None) or meta.get("command")
    if not isinstance(chosen, str) or not chosen.startswith(_HELM_DIR + "/"):
        raise ToolError(f"{where}: no command under {_HELM_DIR} for {goos}/{goarch}; chartship cannot place the binary")
    name = chosen.removeprefix(_HELM_DIR + "/").split()[0]
    if "/" in name or not name:
        raise ToolError(f"{where}: command {chosen!r} is not a file directly in the plugin folder")
    return name


def without_hooks(text: str) -> str:
    """plugin.yaml text without its top-level install/update hook blocks."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if _TOP_KEY.match(line):
            skipping = bool(_HOOK_KEY.match(line))
        if not skipping:
            kept.append(line)
    return "".join(kept)


def link(root: Path, name: str, built: Path, binary: str, goos: str, goarch: str) -> Path:
    """Replace ``.tools/helm-plugins/<name>`` with plugin.yaml and a link to ``built/binary``."""
    meta = _read(built / PLUGIN_FILE)
    if meta.get("name") != name:
        raise ToolError(f"{built / PLUGIN_FILE}: plugin name is {meta.get('name')!r}, the peers lock says {name!r}")
    target = command_file(meta, goos, goarch, str(built / PLUGIN_FILE))
    base = folder(root)
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".{name}.{os.getpid()}.part"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    (tmp / PLUGIN_FILE).write_text(without_hooks((built / PLUGIN_FILE).read_text(encoding="utf-8")), encoding="utf-8")
    (tmp / target).symlink_to(built / binary)
    final, old = base / name, base / f".{name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def check(root: Path, name: str, version: str, hint: str) -> None:
    """The plugin ``name`` at ``version`` is in the private folder and its binary exists."""
    plugin_dir = folder(root) / name
    try:
        meta = _read(plugin_dir / PLUGIN_FILE)
    except ToolError:
        raise ToolError(f"{PLUGINS_DIR / name}: helm plugin {name} is not installed; {hint}") from None
    if str(meta.get("version")) != version:
        raise ToolError(f"{PLUGINS_DIR / name}: helm plugin {name} is {meta.get('version')}, the peers lock pins "
                        f"{version}; {hint}")
    links = [p for p in plugin_dir.iterdir() if p.name != PLUGIN_FILE]
    if not links or not all(p.resolve().is_file() for p in links):
        raise ToolError(f"{PLUGINS_DIR / name}: the plugin binary is missing (cache cleared?); {hint}")
