"""Settings of the GipoNext mock's OAuth 2.0 authorization server.

Test users belong to one tenant each: a token issued after a user signs in is
bound to that user's tenant, so `{userId}` checks (GAUTH-04) follow from who
approved the token. Passwords and client secrets are generated per run unless
given, and are registered for redaction as soon as they exist.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from giponext_conformance.redact import register_secret

from ..config import REPORTS_SCOPE

# Scope names and the sentence the consent page shows for each.
SCOPE_DESCRIPTIONS = {
    REPORTS_SCOPE: "Send, read, correct and withdraw diagnostic reports of your tenant",
    "profile": "Read your user name and tenant",
}

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"  # noqa: S105  # a grant type name
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"

# Variables that replace the generated test-user password and client secret.
PASSWORD_VARIABLE = "GIPONEXT_OAUTH_PASSWORD"  # noqa: S105  # a variable name
CLIENT_SECRET_VARIABLE = "GIPONEXT_OAUTH_CLIENT_SECRET"  # noqa: S105  # a variable name

# The grants the mock supports. client_credentials is deliberately absent, so
# the token endpoint returns unsupported_grant_type for it.
SUPPORTED_GRANT_TYPES = (AUTHORIZATION_CODE, REFRESH_TOKEN, DEVICE_CODE)


@dataclass(frozen=True)
class TestUser:
    """A person who can sign in on the login page, bound to one tenant."""

    __test__ = False  # not a pytest test class despite the name

    username: str
    password: str
    tenant: str
    display_name: str = ""


@dataclass(frozen=True)
class ClientRegistration:
    """A registered OAuth 2.0 client.

    A client without `client_secret` is public: it authenticates with its
    client_id alone (token endpoint auth method `none`) and relies on PKCE.
    """

    client_id: str
    client_secret: str | None
    redirect_uris: tuple[str, ...] = ()
    scopes: tuple[str, ...] = tuple(SCOPE_DESCRIPTIONS)
    grant_types: tuple[str, ...] = SUPPORTED_GRANT_TYPES
    name: str = ""

    @property
    def is_public(self) -> bool:
        return self.client_secret is None


@dataclass
class OAuthSettings:
    """Users, clients and lifetimes (in seconds) of the authorization server.

    `public_url`, when set, is the base URL that the device verification URI
    uses; otherwise the request's own host is used.
    """

    users: list[TestUser] = field(default_factory=list)
    clients: list[ClientRegistration] = field(default_factory=list)
    access_token_lifetime: int = 3600
    refresh_token_lifetime: int = 86_400
    authorization_code_lifetime: int = 300
    device_code_lifetime: int = 600
    device_poll_interval: int = 5
    public_url: str | None = None

    def __post_init__(self):
        for user in self.users:
            register_secret(user.password)
        for client in self.clients:
            register_secret(client.client_secret)

        lifetimes = (
            self.access_token_lifetime,
            self.refresh_token_lifetime,
            self.authorization_code_lifetime,
            self.device_code_lifetime,
        )
        if min(lifetimes) <= 0 or self.device_poll_interval < 0:
            raise ValueError(
                "OAuth lifetimes must be positive and the poll interval >= 0"
            )

    def user(self, username: str) -> TestUser | None:
        return next((user for user in self.users if user.username == username), None)

    def client(self, client_id: str) -> ClientRegistration | None:
        return next((c for c in self.clients if c.client_id == client_id), None)


def generate_password() -> str:
    """Return a fresh random password for a test user.

    The `gpw_` prefix makes a leaked password easy to find in a report.
    """
    return f"gpw_{secrets.token_urlsafe(18)}"


def generate_client_secret() -> str:
    """Return a fresh random client secret."""
    return f"gcs_{secrets.token_urlsafe(32)}"


def default_settings(
    tenants: Iterable[str], redirect_uris: Iterable[str] = (), **lifetimes
) -> OAuthSettings:
    """Build settings with one test user per tenant and two clients.

    The confidential client `ris-pacs` may use every supported grant; the
    public client `ris-pacs-device` is for the device flow. Users are named
    `operator@<tenant>`. Passwords and the client secret are generated,
    unless the variables GIPONEXT_OAUTH_PASSWORD (every test user) and
    GIPONEXT_OAUTH_CLIENT_SECRET (`ris-pacs`) set values a vendor can enter
    in its RIS-PACS before a run.
    """
    password = os.environ.get(PASSWORD_VARIABLE)
    users = [
        TestUser(
            f"operator@{tenant}",
            password or generate_password(),
            tenant,
            f"Operator {tenant}",
        )
        for tenant in tenants
    ]
    clients = [
        ClientRegistration(
            "ris-pacs",
            os.environ.get(CLIENT_SECRET_VARIABLE) or generate_client_secret(),
            redirect_uris=tuple(redirect_uris),
            name="RIS-PACS report sender",
        ),
        ClientRegistration(
            "ris-pacs-device",
            None,
            grant_types=(DEVICE_CODE, REFRESH_TOKEN),
            name="RIS-PACS device client",
        ),
    ]
    return OAuthSettings(users=users, clients=clients, **lifetimes)
