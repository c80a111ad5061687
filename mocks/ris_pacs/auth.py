"""Authentication of requests to the mock RIS-PACS.

The integration lets a RIS-PACS accept a bearer token (an API key is sent the
same way) or, deprecated, HTTP Basic. Scheme names are case-insensitive
(RFC 7235, section 2.1). Failures get 401 with a WWW-Authenticate challenge
(RFC 6750, section 3), and secrets are compared in constant time so that the
response time reveals nothing about them.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging

from flask import current_app, request

from .errors import FhirError
from .quirks import has_quirk

logger = logging.getLogger(__name__)

ERROR_DESCRIPTIONS = {
    "invalid_request": "The Authorization header is malformed",
    "invalid_token": "The access token is invalid or revoked",
}


def _secret_matches(presented: bytes, expected: str | None) -> bool:
    if expected is None:
        return False
    return hmac.compare_digest(presented, expected.encode("utf-8"))


def _challenges(error: str | None, description: str | None) -> list[str]:
    config = current_app.extensions["ris_pacs"].config
    bearer = f'Bearer realm="{config.realm}"'
    if error:
        bearer += f', error="{error}", error_description="{description}"'
    challenges = [bearer]
    if config.basic_enabled:
        challenges.append(f'Basic realm="{config.realm}", charset="UTF-8"')
    return challenges


def _reject(diagnostics: str, error: str | None = None, rule="AUTH-01") -> FhirError:
    """Build a 401 whose challenge carries `error` as RFC 6750 defines it.

    The challenge repeats a fixed description per error code, never text
    taken from the request, so a hostile header cannot break the quoting.
    """
    failure = FhirError.simple(401, diagnostics, code="login", rule=rule)
    failure.headers["WWW-Authenticate"] = _challenges(
        error, ERROR_DESCRIPTIONS.get(error)
    )
    return failure


def _check_bearer(credentials: str) -> None:
    config = current_app.extensions["ris_pacs"].config
    if not credentials:
        raise _reject("the bearer token is empty", "invalid_request")
    if has_quirk("any-token"):
        return
    if not _secret_matches(credentials.encode("utf-8"), config.token):
        raise _reject(
            "the bearer token is invalid or revoked", "invalid_token", rule="AUTH-03"
        )


def _decode_basic(credentials: str) -> tuple[bytes, bytes]:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _reject(
            "the Basic credentials are not valid base64 of UTF-8 text"
        ) from None

    # RFC 7617, section 2: the user id cannot contain a colon, the password can.
    user, separator, password = decoded.partition(":")
    if not separator:
        raise _reject("the Basic credentials have no ':' between user and password")
    return user.encode("utf-8"), password.encode("utf-8")


def _check_basic(credentials: str) -> None:
    config = current_app.extensions["ris_pacs"].config
    if not config.basic_enabled:
        raise _reject("Basic authentication is not enabled on this server; use Bearer")

    user, password = _decode_basic(credentials)
    # Both comparisons always run, so timing does not tell which one failed.
    user_ok = _secret_matches(user, config.basic_user)
    password_ok = _secret_matches(password, config.basic_password)
    if not (user_ok and password_ok):
        raise _reject("the Basic user or password is wrong", rule="AUTH-04")
    logger.info("request authenticated with deprecated Basic scheme")


def authenticate() -> None:
    """Raise FhirError 401 unless the request carries valid credentials."""
    if has_quirk("no-auth"):
        return

    header = request.headers.get("Authorization")
    if header is None or not header.strip():
        raise _reject("the request has no Authorization header")

    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if has_quirk("case-sensitive-bearer") and scheme != "Bearer" and scheme != "Basic":
        raise _reject(
            f"unsupported authorization scheme {scheme[:20]!r}; write 'Bearer'",
            "invalid_request",
            rule="AUTH-02",
        )

    if scheme.lower() == "bearer":
        _check_bearer(credentials)
    elif scheme.lower() == "basic":
        _check_basic(credentials)
    else:
        raise _reject(f"unsupported authorization scheme {scheme[:20]!r}; use Bearer")
