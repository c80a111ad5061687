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
    r'(?P<key>"?(?:'
    + "|".join(sorted(SECRET_FIELDS))
    + r')"?\s*[:=]\s*"?)(?P<value>[^"&\s,}]+)',
    re.IGNORECASE,
)
_AUTH_PATTERN = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=:-]+", re.IGNORECASE)

# Every match of _AUTH_PATTERN begins with one of these words, and every match
# of _FIELD_PATTERN contains a field name at its start or after its quote.
_AUTH_WORDS = ("bearer", "basic")

# Characters that re.IGNORECASE matches to an ASCII letter of the words above
# although str.lower() does not turn them into it. With these replaced, the
# lower-cased text has a word exactly where the pattern matches it, at the
# same index (checked against every code point for the letters used).
_CASE_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


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
    text = _substitute(
        _AUTH_PATTERN, text, _AUTH_WORDS, 0, lambda match: f"{match.group(1)} {MASK}"
    )
    return _substitute(
        _FIELD_PATTERN,
        text,
        SECRET_FIELDS,
        1,
        lambda match: f"{match.group('key')}{MASK}",
    )


def _substitute(pattern, text: str, words, lead: int, replace) -> str:
    """Return pattern.sub(replace, text), trying the pattern only near `words`.

    Each match of `pattern` must start at most `lead` characters before one
    of `words` (matched case-insensitively). Scanning a large body with an
    IGNORECASE pattern tries every position and takes about 0.2 s per MiB;
    finding the words first takes a few milliseconds.
    """
    folded = text.translate(_CASE_FOLD).lower()
    if len(folded) != len(text):
        return pattern.sub(replace, text)

    starts = set()
    for word in words:
        index = folded.find(word)
        while index >= 0:
            starts.update(range(max(index - lead, 0), index + 1))
            index = folded.find(word, index + 1)

    pieces = []
    position = 0
    for start in sorted(starts):
        if start < position:
            continue
        match = pattern.match(text, start)
        if match is None:
            continue
        pieces.append(text[position : match.start()])
        pieces.append(replace(match))
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces)


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
