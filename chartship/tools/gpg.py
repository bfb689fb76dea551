"""The only module that runs ``gpg`` (Debian's gnupg): clear-signing helm provenance files.

helm reads keys from a keyring *file* (``helm package --sign --keyring secring.gpg``,
``helm verify --keyring pubring.gpg``). gpg 2 keeps keys in a home folder, so each call
imports the keyring file into a private, temporary ``GNUPGHOME`` and stops that home's
gpg-agent afterwards. The passphrase goes to gpg on stdin (``--passphrase-fd 0``), never argv.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chartship import proc
from chartship.errors import ToolError
from chartship.tools.summary import summarise

TIMEOUT = 120.0
INSTALL_HINT = "install gnupg (Debian/Ubuntu: apt-get install gnupg)"


def _gpg() -> str:
    found = shutil.which("gpg")
    if not found:
        raise ToolError(f"gpg not found: {INSTALL_HINT}")
    return found


def _run(home: Path, args: list[str], stdin: str | None = None) -> proc.Result:
    try:
        return proc.run([_gpg(), "--homedir", str(home), "--batch", "--no-tty", *args], stdin=stdin, timeout=TIMEOUT)
    except OSError as exc:
        raise ToolError(f"cannot run gpg ({exc.strerror or exc}); {INSTALL_HINT}") from None


@contextmanager
def private_home(keyring: Path) -> Iterator[Path]:
    """A throwaway GNUPGHOME holding the keys of ``keyring`` (a file exported by gpg --export[-secret-keys])."""
    if not keyring.is_file():
        raise ToolError(f"{keyring}: keyring not found; set signing.keyring (CHARTSHIP_SIGN_KEYRING) to an exported "
                        "secret keyring (gpg --export-secret-keys KEY > secring.gpg)")
    home = Path(tempfile.mkdtemp(prefix="chartship-gnupg-"))
    home.chmod(0o700)
    try:
        result = _run(home, ["--import", str(keyring)])
        if not result.ok:
            raise ToolError(f"{keyring}: gpg cannot import it: {summarise(result.stderr)}")
        yield home
    finally:
        gpgconf = shutil.which("gpgconf")
        if gpgconf:
            proc.run([gpgconf, "--homedir", str(home), "--kill", "all"], timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def clearsign(keyring: Path, key: str, passphrase: str, text: str) -> str:
    """``text`` clear-signed (SHA512) by ``key`` from ``keyring``; a wrong passphrase or key is one line."""
    with private_home(keyring) as home:
        body = home / "message.txt"
        body.write_text(text, encoding="utf-8")
        out = home / "message.asc"
        result = _run(home, ["--pinentry-mode", "loopback", "--passphrase-fd", "0", "--local-user", key,
                             "--digest-algo", "SHA512", "--output", str(out), "--clearsign", str(body)],
                      stdin=passphrase + "\n")
        if not result.ok or not out.is_file():
            why = summarise(result.stderr)
            if "bad passphrase" in result.stderr.lower() or "no passphrase" in result.stderr.lower():
                why = "wrong passphrase (CHARTSHIP_SIGN_PASSPHRASE or signing.passphrase_file)"
            elif "no default secret key" in result.stderr.lower() or "skipped" in result.stderr.lower():
                why = f"no secret key {key!r} in {keyring} (signing.key / CHARTSHIP_SIGN_KEY)"
            raise ToolError(f"signing with {key!r} failed: {why}")
        return out.read_text(encoding="utf-8")
