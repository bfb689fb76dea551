"""Secrets seen in this process, so anything printed can be redacted."""

from __future__ import annotations

_SECRETS: set[str] = set()


def register(secret: str | None) -> None:
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
