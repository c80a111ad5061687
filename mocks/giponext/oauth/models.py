"""Records of the authorization server, shaped for Authlib's mixins."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc8628 import DeviceCredentialMixin

# Endpoint authentication methods of confidential clients (RFC 6749, 2.3.1).
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class User:
    """A signed-in test user and the tenant every token of theirs is bound to."""

    username: str
    tenant: str
    display_name: str

    def get_user_id(self) -> str:
        return self.username


@dataclass(frozen=True)
class Client(ClientMixin):
    """A registered client as stored; `secret_digest` None marks a public client."""

    client_id: str
    secret_digest: str | None
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...]

    @property
    def is_public(self) -> bool:
        return self.secret_digest is None

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope):
        """Return the requested scope, or None when it names a scope not allowed.

        An empty request means every scope the client is registered for.
        """
        requested = scope_to_list(scope) or list(self.scopes)
        if not set(requested) <= set(self.scopes):
            return None
        return " ".join(requested)

    def check_redirect_uri(self, redirect_uri):
        # Exact string comparison, as RFC 6749 section 3.1.2 recommends.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        if self.secret_digest is None or client_secret is None:
            return False
        offered = hashlib.sha256(client_secret.encode("utf-8")).hexdigest()
        return hmac.compare_digest(offered, self.secret_digest)

    def check_endpoint_auth_method(self, method, endpoint):
        if self.is_public:
            return method == "none"
        return method in SECRET_METHODS

    def check_response_type(self, response_type):
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type):
        return grant_type in self.grant_types


@dataclass(frozen=True)
class AuthorizationCode(AuthorizationCodeMixin):
    """An issued authorization code with its PKCE challenge (RFC 7636)."""

    client_id: str
    username: str
    redirect_uri: str | None
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    code_digest: str = ""

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope


@dataclass(frozen=True)
class Token(TokenMixin):
    """One access token and its refresh token, as one row of a token family.

    A family is every token that descends from one user approval through
    refresh; reuse of a rotated refresh token revokes the whole family.
    """

    row_id: int
    family_id: str
    client_id: str
    username: str
    tenant: str
    scope: str
    issued_at: float
    access_expires_at: float
    refresh_expires_at: float | None
    access_revoked: bool
    refresh_revoked: bool
    rotated: bool

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(scope_to_list(self.scope) or ())

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return int(self.access_expires_at - self.issued_at)

    def is_expired(self):
        return self.access_expires_at <= time.time()

    def is_revoked(self):
        return bool(self.access_revoked)

    def is_refresh_usable(self) -> bool:
        expires_at = self.refresh_expires_at
        return (
            not self.refresh_revoked
            and expires_at is not None
            and expires_at > time.time()
        )


@dataclass(frozen=True)
class DeviceCredential(DeviceCredentialMixin):
    """A pending, approved or denied device authorization (RFC 8628)."""

    device_digest: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    last_poll: float | None
    username: str | None
    approved: int | None
    granted_scope: str | None
    consumed: int

    def get_client_id(self):
        return self.client_id

    def get_scope(self):
        # Once the user has chosen, the token carries only the scopes granted.
        return self.granted_scope if self.approved else self.scope

    def get_user_code(self):
        return self.user_code

    def is_expired(self):
        return self.expires_at <= time.time()
