"""Grants and endpoints of the authorization server, on Authlib's classes.

Each class fills in the storage hooks that Authlib leaves to the application.
The protocol checks themselves are Authlib's: client authentication, the
redirect URI, the PKCE comparison, device polling errors and the RFC 7009
responses.
`self.server` is the GipoNextAuthorizationServer, which carries the storage
and the settings.
"""

from __future__ import annotations

import logging
import time

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint, DeviceCodeGrant
from flask import url_for

from .models import AuthorizationCode
from .settings import DEVICE_CODE

logger = logging.getLogger(__name__)

# Client authentication accepted at the token endpoint: confidential clients
# with their secret, public clients with their client_id alone (then PKCE or
# the device code is what proves possession).
TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class RequireS256(CodeChallenge):
    """PKCE that every authorization request must use, with S256 only.

    RFC 7636 allows `plain` and leaves PKCE optional for confidential
    clients; GipoNext requires S256 from every client, as RFC 9700 advises.
    """

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256."
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def save_authorization_code(self, code, request):
        # The consent page stores the scopes the user ticked in
        # `granted_scope`; Authlib's `request.scope` is what was requested.
        scope = getattr(request, "granted_scope", None) or request.scope
        data = request.payload.data
        record = AuthorizationCode(
            client_id=request.client.get_client_id(),
            username=request.user.username,
            redirect_uri=request.payload.redirect_uri,
            scope=scope,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            expires_at=time.time() + self.server.settings.authorization_code_lifetime,
        )
        self.server.storage.save_code(code, record)

    def query_authorization_code(self, code, client):
        return self.server.storage.take_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code):
        self.server.storage.delete_code(authorization_code)

    def authenticate_user(self, authorization_code):
        return self.server.storage.get_user(authorization_code.username)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh with rotation: each refresh token works once.

    Presenting a refresh token that was already exchanged means that two
    parties hold it, so the whole token family is revoked (RFC 9700, 4.14.2).
    """

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        storage = self.server.storage
        token = storage.find_refresh_token(refresh_token)
        if token is None:
            return None
        if token.rotated:
            revoked = storage.revoke_family(token.family_id)
            logger.warning(
                "refresh token reuse by client %s: revoked %d tokens of its family",
                token.client_id,
                revoked,
            )
            return None
        if not token.is_refresh_usable():
            return None
        return token

    def authenticate_user(self, refresh_token):
        return self.server.storage.get_user(refresh_token.username)

    def revoke_old_credential(self, refresh_token):
        self.server.storage.rotate(refresh_token)


class DeviceGrant(DeviceCodeGrant):
    """Token endpoint side of RFC 8628: the device polls with its device_code."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def query_device_credential(self, device_code):
        credential = self.server.storage.find_device(device_code)
        if credential is None or credential.consumed:
            return None
        return credential

    def query_user_grant(self, user_code):
        storage = self.server.storage
        credential = storage.find_device_by_user_code(user_code)
        if credential is None or credential.approved is None:
            return None
        return storage.get_user(credential.username), bool(credential.approved)

    def should_slow_down(self, credential):
        previous = self.server.storage.record_poll(credential)
        interval = self.server.settings.device_poll_interval
        return previous is not None and time.time() - previous < interval

    def create_token_response(self):
        response = super().create_token_response()
        # A device code yields one token response; later polls are invalid.
        self.server.storage.consume_device(self.request.credential)
        return response


class DeviceEndpoint(DeviceAuthorizationEndpoint):
    """Device authorization endpoint: issues device_code and user_code."""

    CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def __init__(self, server):
        super().__init__(server)
        self.EXPIRES_IN = server.settings.device_code_lifetime
        self.INTERVAL = server.settings.device_poll_interval

    def get_verification_uri(self):
        public_url = self.server.settings.public_url
        if public_url:
            return public_url.rstrip("/") + "/oauth/device"
        return url_for("giponext_oauth_pages.device", _external=True)

    def save_device_credential(self, client_id, scope, data):
        client = self.server.storage.get_client(client_id)
        if not client.check_grant_type(DEVICE_CODE):
            raise UnauthorizedClientError("This client may not use the device flow.")
        allowed = client.get_allowed_scope(scope)
        if allowed is None:
            raise InvalidScopeError()
        self.server.storage.save_device(
            data["device_code"],
            data["user_code"],
            client_id,
            allowed,
            time.time() + data["expires_in"],
        )


class _RevocationTarget:
    """A stored token together with the kind of string that found it."""

    def __init__(self, token, kind):
        self.token = token
        self.kind = kind

    def check_client(self, client):
        return self.token.check_client(client)


class TokenRevocation(RevocationEndpoint):
    """RFC 7009 revocation.

    Revoking a refresh token revokes its whole family, access tokens
    included; revoking an access token revokes that access token only.
    """

    CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        storage = self.server.storage
        lookups = [
            ("access_token", storage.find_access_token),
            ("refresh_token", storage.find_refresh_token),
        ]
        # The hint only orders the lookups (RFC 7009, 2.1).
        if token_type_hint == "refresh_token":  # noqa: S105  # a hint name
            lookups.reverse()
        for kind, find in lookups:
            token = find(token_string)
            if token is not None:
                return _RevocationTarget(token, kind)
        return None

    def revoke_token(self, token, request):
        storage = self.server.storage
        if token.kind == "refresh_token":
            storage.revoke_family(token.token.family_id)
        else:
            storage.revoke_access(token.token)
        logger.info("revoked %s of client %s", token.kind, token.token.client_id)
