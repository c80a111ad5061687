"""Redaction of secrets before anything reaches a log, report or journal.

Tokens, API keys, client secrets and passwords are registered once, when the
harness creates or receives them; every text written out afterwards passes
through `redact_text`, and header maps through `redact_headers`.
"""

from __future__ import annotations

import re
import threading

MASK = "[REDACTED]"

# Headers whose whole value is a credential.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)

# Form and JSON fields whose value is a credential (OAuth 2.0, RFC 6749).
SECRET_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "password",
        "code_verifier",
        "device_code",
        "code",
        "token",
        "api_key",
        "apikey",
    }
)

_lock = threading.Lock()
_secrets: set[str] = set()

# Shortest value worth registering: masking shorter strings would garble text.
_MIN_SECRET_LENGTH = 6

_FIELD_PATTERN = re.compile(
    r'(?P<key>"?(?:' + "|".join(sorted(SECRET_FIELDS)) + r')"?\s*[:=]\s*"?)(?P<value>[^"&\s,}]+)',
    re.IGNORECASE,
)
_AUTH_PATTERN = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=:-]+", re.IGNORECASE)


def register_secret(value: str | None) -> None:
    """Remember a secret so that every later redaction masks it."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def registered_secrets() -> frozenset[str]:
    with _lock:
        return frozenset(_secrets)


def redact_text(text: str) -> str:
    """Mask registered secrets, credential fields and Authorization values in text."""
    if not text:
        return text
    for secret in sorted(registered_secrets(), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _AUTH_PATTERN.sub(lambda match: f"{match.group(1)} {MASK}", text)
    return _FIELD_PATTERN.sub(lambda match: f"{match.group('key')}{MASK}", text)


def redact_headers(headers) -> dict[str, str]:
    """Return a copy of a header mapping with credential values masked."""
    redacted = {}
    for name, value in dict(headers).items():
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            redacted[name] = f"{scheme} {MASK}".strip()
        else:
            redacted[name] = redact_text(value)
    return redacted
