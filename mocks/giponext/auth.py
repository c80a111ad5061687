"""Bearer credential check of the GipoNext mock (GAUTH-01, GAUTH-03, GAUTH-04).

A request carries `Authorization: Bearer <credential>`, where the credential
is either a static API key issued to a tenant or an OAuth 2.0 access token.
API keys come from the configuration. Access tokens are resolved by the
functions in `GipoNextConfig.token_resolvers`, so an authorization server can
be plugged in without changes to this module.

Order of the checks: a missing or unknown credential gets 401; then an
unknown `userId` gets 404, a `userId` of another tenant 403, and a token
without the reports scope 403.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from .config import GipoNextConfig, TokenInfo

logger = logging.getLogger(__name__)

REALM = "GipoNext"


@dataclass
class AuthError(Exception):
    """A rejected credential, with everything the HTTP response needs."""

    status: int
    code: str
    diagnostics: str
    rule: str
    www_authenticate: str | None = None

    def __str__(self):
        return self.diagnostics


def _bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise AuthError(
            401,
            "login",
            "missing Authorization header: send 'Authorization: Bearer <API key or"
            " access token>'",
            "GAUTH-01",
            f'Bearer realm="{REALM}"',
        )

    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError(
            401,
            "login",
            f"Authorization scheme {scheme!r} is not accepted: GipoNext takes"
            " 'Bearer <API key or access token>' only",
            "GAUTH-01",
            f'Bearer realm="{REALM}", error="invalid_request"',
        )
    return token


def _api_key_tenant(config: GipoNextConfig, token: str) -> str | None:
    # compare_digest keeps the comparison time independent of where keys differ.
    found = None
    for tenant, settings in config.tenants.items():
        for key in settings.api_keys:
            if hmac.compare_digest(key.encode(), token.encode()):
                found = tenant
    return found


def resolve_credential(config: GipoNextConfig, authorization: str | None) -> TokenInfo:
    """Return what the request's bearer credential grants, or raise AuthError 401."""
    token = _bearer_token(authorization)

    tenant = _api_key_tenant(config, token)
    if tenant is not None:
        return TokenInfo(tenant, frozenset({config.reports_scope}), None, "api-key")

    for resolver in config.token_resolvers:
        info = resolver(token)
        if info is not None:
            return info

    raise AuthError(
        401,
        "login",
        "the bearer credential is not a valid API key or access token (wrong,"
        " expired or revoked)",
        "GAUTH-01",
        f'Bearer realm="{REALM}", error="invalid_token",'
        ' error_description="unknown, expired or revoked credential"',
    )


def authorize_tenant(
    config: GipoNextConfig, credential: TokenInfo, user_id: str
) -> None:
    """Check that the credential may act for `user_id` on reports, else raise."""
    if user_id not in config.tenants:
        raise AuthError(
            404,
            "not-found",
            f"unknown tenant {user_id!r}: the userId in the path must be the one"
            " issued with your credential",
            "GAUTH-04",
        )

    if credential.tenant != user_id:
        raise AuthError(
            403,
            "forbidden",
            f"the credential belongs to another tenant than {user_id!r}: use the"
            " userId issued with it",
            "GAUTH-04",
        )

    if config.reports_scope not in credential.scopes:
        granted = " ".join(sorted(credential.scopes)) or "none"
        raise AuthError(
            403,
            "forbidden",
            f"the access token lacks the {config.reports_scope!r} scope (granted:"
            f" {granted}): request it when obtaining the token",
            "GAUTH-03",
            f'Bearer realm="{REALM}", error="insufficient_scope",'
            f' scope="{config.reports_scope}"',
        )
