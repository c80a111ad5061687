"""The authorization server of the GipoNext mock and its resource-side lookup.

`install_oauth(app, store, settings)` registers the OAuth blueprints on a
Flask app and returns an OAuthProvider whose `resolve_access_token` plugs
into the mock's token resolvers.
"""

from __future__ import annotations

import logging
import secrets

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from flask import g, has_request_context

from giponext_conformance.redact import register_secret

from ..config import TokenInfo
from .grants import (
    AuthorizationCodeGrant,
    DeviceEndpoint,
    DeviceGrant,
    RefreshTokenGrant,
    RequireS256,
    TokenRevocation,
)
from .settings import SCOPE_DESCRIPTIONS, OAuthSettings, TestUser, generate_password
from .storage import OAuthStorage

logger = logging.getLogger(__name__)

# Lengths of generated tokens, in characters of Authlib's alphabet.
ACCESS_TOKEN_LENGTH = 42
REFRESH_TOKEN_LENGTH = 48

EXTENSION_KEY = "giponext_oauth"

# Name in flask.g of the access tokens resolved during the current request.
RESOLVED_KEY = "giponext_oauth_resolved"


def _generate_access_token(**_context) -> str:
    return "gat_" + secrets.token_urlsafe(ACCESS_TOKEN_LENGTH)


def _generate_refresh_token(**_context) -> str:
    return "grt_" + secrets.token_urlsafe(REFRESH_TOKEN_LENGTH)


class GipoNextAuthorizationServer(AuthorizationServer):
    """Authlib's Flask authorization server bound to one storage and settings."""

    def __init__(self, storage: OAuthStorage, settings: OAuthSettings):
        self.storage = storage
        self.settings = settings
        super().__init__(query_client=storage.get_client, save_token=self._save_token)

    def create_bearer_token_generator(self, config):
        lifetime = self.settings.access_token_lifetime
        return BearerTokenGenerator(
            _generate_access_token,
            _generate_refresh_token,
            lambda client, grant_type: lifetime,
        )

    def _save_token(self, token, request):
        # Tokens are secrets of the run: whatever is written later masks them.
        register_secret(token.get("access_token"))
        register_secret(token.get("refresh_token"))

        previous = request.refresh_token
        self.storage.save_token(
            token,
            client_id=request.client.get_client_id(),
            user=request.user,
            family_id=previous.family_id if previous is not None else None,
            refresh_lifetime=self.settings.refresh_token_lifetime,
        )
        logger.info(
            "issued token to client %s for user %s with scope %r",
            request.client.get_client_id(),
            request.user.username,
            token.get("scope", ""),
        )


class OAuthProvider:
    """The installed authorization server of one GipoNext mock app."""

    def __init__(self, app, store, settings: OAuthSettings):
        self.settings = settings
        self.storage = OAuthStorage(store)
        self._seed(settings)

        self.server = GipoNextAuthorizationServer(self.storage, settings)
        self.server.init_app(app)
        self.server.scopes_supported = list(SCOPE_DESCRIPTIONS)
        self.server.register_grant(AuthorizationCodeGrant, [RequireS256(required=True)])
        self.server.register_grant(RefreshTokenGrant)
        self.server.register_grant(DeviceGrant)
        self.server.register_endpoint(DeviceEndpoint)
        self.server.register_endpoint(TokenRevocation)

    def _seed(self, settings: OAuthSettings) -> None:
        for user in settings.users:
            self.storage.add_user(
                user.username, user.password, user.tenant, user.display_name
            )
        for client in settings.clients:
            self.storage.add_client(client)

    def test_user(self, tenant: str) -> TestUser:
        """Return a test user of `tenant`, creating one when the tenant has none.

        Tenants added to the mock after it started get their user this way.
        """
        for user in self.settings.users:
            if user.tenant == tenant:
                return user
        user = TestUser(
            f"operator@{tenant}", generate_password(), tenant, f"Operator {tenant}"
        )
        register_secret(user.password)
        self.storage.add_user(
            user.username, user.password, user.tenant, user.display_name
        )
        self.settings.users.append(user)
        return user

    def client(self, client_id: str):
        """Return the registration of a client, secret included, or None."""
        return self.settings.client(client_id)

    def resolve_access_token(self, access_token: str) -> TokenInfo | None:
        """Return what a live access token grants, or None for any other string.

        Within a request the answer is kept in `flask.g`, because the rate
        limiter and the credential check both resolve the same token.
        """
        cache = g.setdefault(RESOLVED_KEY, {}) if has_request_context() else {}
        if access_token not in cache:
            cache[access_token] = self._lookup(access_token)
        return cache[access_token]

    def _lookup(self, access_token: str) -> TokenInfo | None:
        token = self.storage.find_access_token(access_token)
        if token is None or token.is_revoked() or token.is_expired():
            return None
        return TokenInfo(
            tenant=token.tenant,
            scopes=token.scopes,
            client_id=token.client_id,
            kind="oauth",
        )

    def client_for_access_token(self, access_token: str) -> str | None:
        """Return the client id behind a live access token, for rate limiting."""
        info = self.resolve_access_token(access_token)
        return info.client_id if info else None


def oauth_of(app) -> OAuthProvider:
    """Return the OAuthProvider installed on a GipoNext mock app."""
    return app.extensions[EXTENSION_KEY]


def install_oauth(app, store, settings: OAuthSettings) -> OAuthProvider:
    """Add the authorization server and its pages to a GipoNext mock app.

    The app needs a `secret_key` for the sign-in session; one is generated
    when it has none. The session cookie is marked Secure, because the mock
    serves OAuth over TLS only.
    """
    from .views import api_blueprint, pages_blueprint

    if not app.secret_key:
        app.secret_key = secrets.token_hex(32)
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"

    provider = OAuthProvider(app, store, settings)
    app.extensions[EXTENSION_KEY] = provider
    app.register_blueprint(pages_blueprint)
    app.register_blueprint(api_blueprint)
    return provider
