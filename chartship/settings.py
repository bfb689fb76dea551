"""Settings of the unit-test and signing stages, under their own keys of the
``chartship`` section of invoke.yaml, with the precedence of :func:`chartship.config.load`:
flag > environment variable > invoke.yaml > default.

```yaml
chartship:
  unittest:
    globs: [tests/*_test.yaml, unittests/*_test.yaml]   # CHARTSHIP_UNITTEST_GLOBS (comma-separated)
  signing:
    key: "Release Bot"              # CHARTSHIP_SIGN_KEY: the key name (uid) helm package --sign uses
    keyring: ~/.gnupg/secring.gpg   # CHARTSHIP_SIGN_KEYRING: secret keyring (exported, legacy format)
    passphrase_file: ""             # CHARTSHIP_SIGN_PASSPHRASE_FILE; or the passphrase in CHARTSHIP_SIGN_PASSPHRASE
    verify_keyring: keys/pubring.gpg  # CHARTSHIP_VERIFY_KEYRING: public keyring for --verify
```
The passphrase itself is never read from invoke.yaml (only from the environment or a file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartship import config as cfgmod
from chartship import configfile
from chartship.errors import ConfigError

KEYS = {
    "unittest": {"globs"},
    "signing": {"key", "keyring", "passphrase_file", "verify_keyring"},
}
DEFAULT_GLOBS = ("tests/*_test.yaml", "unittests/*_test.yaml")
PASSPHRASE_ENV = "CHARTSHIP_SIGN_PASSPHRASE"  # noqa: S105 (a variable name)
PASSPHRASE_FILE_ENV = "CHARTSHIP_SIGN_PASSPHRASE_FILE"  # noqa: S105 (a variable name)


@dataclass(frozen=True)
class Signing:
    key: str
    keyring: str
    passphrase_file: str
    verify_keyring: str


def _section(root: Path, name: str) -> tuple[Mapping[str, Any], Any]:
    data = configfile.read_file(root)
    raw = data.get(name) if isinstance(data, dict) else None
    where = configfile.Where(cfgmod.CONFIG_FILE)
    if raw is None:
        return {}, where
    if not isinstance(raw, dict):
        raise ConfigError(f"{where(data, (name,))}: expected a mapping")
    for key in raw:
        if key not in KEYS[name]:
            raise ConfigError(f"{where(raw, (name, str(key)))}: unknown key; known keys: {', '.join(sorted(KEYS[name]))}")
    return raw, where


def _pick(root: Path, section: str, key: str, env_name: str, flag: str | None, default: str,
          environ: Mapping[str, str] | None) -> str:
    env = os.environ if environ is None else environ
    if flag:
        return flag
    if env.get(env_name):
        return env[env_name]
    raw, where = _section(root, section)
    if key in raw and raw[key] is not None:
        value = raw[key]
        if not isinstance(value, str):
            raise ConfigError(f"{where(raw, (section, key))}: expected a string, got {value!r}")
        return value
    return default


def unittest_globs(root: Path, flags: list[str] | None = None, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    env = os.environ if environ is None else environ
    if flags:
        items, where = list(flags), "--file"
    elif env.get("CHARTSHIP_UNITTEST_GLOBS"):
        items, where = env["CHARTSHIP_UNITTEST_GLOBS"].split(","), "CHARTSHIP_UNITTEST_GLOBS"
    else:
        raw, w = _section(root, "unittest")
        if "globs" not in raw:
            return DEFAULT_GLOBS
        items, where = raw["globs"], w(raw, ("unittest", "globs"))
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i.strip() for i in items):
        raise ConfigError(f"{where}: expected a list of globs relative to the chart, e.g. tests/*_test.yaml")
    globs = tuple(i.strip() for i in items)
    bad = [g for g in globs if Path(g).is_absolute() or ".." in Path(g).parts]
    if bad:
        raise ConfigError(f"{where}: {bad[0]!r} must be a glob inside the chart folder")
    return globs


def signing(root: Path, key: str | None = None, keyring: str | None = None, verify_keyring: str | None = None,
            environ: Mapping[str, str] | None = None) -> Signing:
    def pick(name: str, env_name: str, flag: str | None, default: str = "") -> str:
        return _pick(root, "signing", name, env_name, flag, default, environ)

    return Signing(key=pick("key", "CHARTSHIP_SIGN_KEY", key),
                   keyring=pick("keyring", "CHARTSHIP_SIGN_KEYRING", keyring),
                   passphrase_file=pick("passphrase_file", PASSPHRASE_FILE_ENV, None),
                   verify_keyring=pick("verify_keyring", "CHARTSHIP_VERIFY_KEYRING", verify_keyring))
