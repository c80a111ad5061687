"""OAuth 2.0 authorization server of the GipoNext mock (GAUTH-02).

Built on Authlib: authorization code with PKCE (S256 only) through real
login and consent pages, the device authorization grant (RFC 8628) with its
verification page, rotating refresh tokens with reuse detection, and
revocation (RFC 7009). The client-credentials grant is not registered, so
the token endpoint returns `unsupported_grant_type` for it.

    provider = install_oauth(app, store, default_settings(["tenant-a"]))
    config.token_resolvers.append(provider.resolve_access_token)

`scripted` holds the harness side: a test user that signs in and approves
over HTTP, and the client half of both flows.
"""

from ..ratelimit import install_rate_limits
from .server import OAuthProvider, install_oauth, oauth_of
from .settings import (
    SCOPE_DESCRIPTIONS,
    ClientRegistration,
    OAuthSettings,
    TestUser,
    default_settings,
)
from .views import api_blueprint

__all__ = [
    "SCOPE_DESCRIPTIONS",
    "ClientRegistration",
    "OAuthProvider",
    "OAuthSettings",
    "TestUser",
    "default_settings",
    "init_app",
    "install_oauth",
    "oauth_of",
]

# Name of the blueprint that serves /fhir/r3/{userId}/DiagnosticReport.
REPORTS_BLUEPRINT = "giponext_reports"


def init_app(app, mock) -> OAuthProvider:
    """Install the authorization server, and rate limits when configured, on a mock.

    Called by the mock's `create_app`. `mock.config.oauth` (OAuthSettings)
    None gives one test user per configured tenant and the default clients;
    `mock.config.rate_limit` (RateLimitSettings) None leaves requests
    unlimited.
    """
    config = mock.config
    settings = getattr(config, "oauth", None)
    if settings is None:
        settings = default_settings(config.tenants, public_url=config.public_url)
        config.oauth = settings

    provider = install_oauth(app, mock.state.store, settings)
    config.token_resolvers.append(provider.resolve_access_token)

    rate_limit = getattr(config, "rate_limit", None)
    if rate_limit is not None:
        install_rate_limits(
            app,
            rate_limit,
            api_blueprints=[app.blueprints[REPORTS_BLUEPRINT]],
            oauth_blueprints=[api_blueprint],
            client_for_token=provider.client_for_access_token,
        )
    return provider
