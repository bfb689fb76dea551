"""helm.build --sign: a helm provenance file (``<package>.tgz.prov``) beside each package.

chartship rewrites helm's archive so that builds are reproducible (:mod:`chartship.build.package`),
which would invalidate a signature made by ``helm package --sign``. So the provenance is made
here, over the final bytes, in helm's own format: the chart's Chart.yaml, a ``...`` line, and
the ``files:`` map of archive name to sha256, clear-signed with the configured PGP key. ``helm
verify``, ``helm pull --verify`` and ``helm install --verify`` (helm 3 and 4) check it, and
``helm push`` uploads it with the chart (it becomes a layer of the OCI manifest).
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from chartship import secrets, settings
from chartship.build.package import Entry, sha256
from chartship.errors import ChartError, ConfigError
from chartship.tools import gpg

PROV_SUFFIX = ".prov"


def passphrase(signing: settings.Signing, environ: Mapping[str, str] | None = None) -> str:
    """CHARTSHIP_SIGN_PASSPHRASE, else the passphrase file, else '' (a key without passphrase)."""
    env = os.environ if environ is None else environ
    value = env.get(settings.PASSPHRASE_ENV, "")
    if not value and signing.passphrase_file:
        try:
            value = Path(signing.passphrase_file).expanduser().read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"signing passphrase file {signing.passphrase_file}: cannot read ({exc.strerror or exc})"
                              ) from None
    secrets.register(value)
    return value


def chart_yaml(archive: Path) -> str:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = next(m for m in tar.getmembers() if m.isfile() and m.name.count("/") == 1
                          and m.name.endswith("/Chart.yaml"))
            data = tar.extractfile(member)
            return data.read().decode("utf-8") if data else ""
    except (StopIteration, tarfile.TarError, OSError, UnicodeDecodeError) as exc:
        raise ChartError(f"{archive.name}: no readable Chart.yaml in the package ({exc}); rebuild it") from None


def provenance_body(archive: Path, names: Sequence[str]) -> str:
    """What helm signs: Chart.yaml, ``...``, and the sha256 of the archive under each name it may be saved as."""
    digest = sha256(archive)
    metadata = chart_yaml(archive).rstrip("\n")
    files = "".join(f"  {name}: sha256:{digest}\n" for name in sorted(set(names)))
    return f"{metadata}\n\n...\nfiles:\n{files}"


def sign(archive: Path, names: Sequence[str], signing: settings.Signing, phrase: str) -> Path:
    signed = gpg.clearsign(Path(signing.keyring).expanduser(), signing.key, phrase, provenance_body(archive, names))
    prov = archive.with_name(archive.name + PROV_SUFFIX)
    tmp = prov.with_name(f".{prov.name}.tmp")
    tmp.write_text(signed, encoding="utf-8")
    os.replace(tmp, prov)
    return prov


def check_settings(signing: settings.Signing) -> None:
    if not signing.key:
        raise ConfigError("--sign needs a key name: set signing.key in invoke.yaml or CHARTSHIP_SIGN_KEY (or --key)")
    if not signing.keyring:
        raise ConfigError("--sign needs a secret keyring: set signing.keyring in invoke.yaml or CHARTSHIP_SIGN_KEYRING "
                          "(gpg --export-secret-keys KEY > secring.gpg)")


def sign_all(folder: Path, entries: Sequence[Entry], signing: settings.Signing,
             environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Sign every package in ``folder``; returns (file, sha256) of the provenance files."""
    check_settings(signing)
    phrase = passphrase(signing, environ)
    made = []
    for e in entries:
        # helm pull saves an OCI chart as <name>-<version>.tgz and verifies under that name
        prov = sign(folder / e.file, [e.file, f"{e.chart}-{e.version}.tgz"], signing, phrase)
        made.append((prov.name, sha256(prov)))
    return made
