"""Secrets seen in this process, so anything printed can be redacted.

Every registered value is redacted whatever its length, together with its
base64 forms; :func:`register_login` also covers ``base64(user:password)``,
the value of an ``Authorization: Basic`` header and of a registry config's
``auth`` field, which a registry may echo back.
"""

from __future__ import annotations

import base64
import threading
from urllib.parse import quote

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
MASK = "***"


def _forms(value: str) -> set[str]:
    raw = value.encode("utf-8")
    encoded = {base64.b64encode(raw).decode("ascii"), base64.urlsafe_b64encode(raw).decode("ascii")}
    return {value, quote(value, safe=""), *encoded, *(e.rstrip("=") for e in encoded)} - {""}


def register(secret: str | None) -> None:
    """Redact ``secret`` (and its base64 and URL-encoded forms) from everything printed from now on."""
    if not secret:
        return
    with _LOCK:
        _SECRETS.update(_forms(secret))


def register_login(user: str, password: str) -> None:
    """Redact ``password`` and the ``user:password`` pair in every form a client sends it."""
    register(password)
    if user and password:
        with _LOCK:
            _SECRETS.update(_forms(f"{user}:{password}"))


def redact(text: str) -> str:
    with _LOCK:
        known = sorted(_SECRETS, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


LOGIN_HINT = "set CHARTSHIP_REGISTRY_USERNAME and CHARTSHIP_REGISTRY_PASSWORD (auth: basic) instead"


def userinfo(url: str) -> bool:
    """True when ``url`` (oci://, https://, ...) carries ``user[:password]@`` before its host.

    The user info is registered as a secret at once, so nothing printed later shows it."""
    _scheme, sep, rest = url.partition("://")
    authority = (rest if sep else url).split("/", 1)[0]
    if "@" not in authority:
        return False
    info = authority.rsplit("@", 1)[0]
    user, _, password = info.partition(":")
    register(info)
    register(password)
    if password:
        register_login(user, password)
    return True


def refuse_userinfo(url: str, where: str, error: type[Exception], hint: str = LOGIN_HINT) -> None:
    """Raise ``error`` (naming ``where``, never the URL) when ``url`` holds a user name or password."""
    if userinfo(url):
        raise error(f"{where}: the URL holds a user name or password, which chartship never accepts in a URL "
                    f"(it would be printed and stored); remove the USER:PASSWORD@ part and {hint}")
