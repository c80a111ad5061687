"""Shared values of the security tests: tenants, redirect URI and the running mock."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests

from giponext_conformance.mocks.giponext import (
    mock_of,
)
from giponext_conformance.mocks.giponext.oauth import (
    oauth_of,
    scripted,
)

# Registered for the confidential client; nothing listens there, and the
# tests read the code from the Location header instead of following it.
REDIRECT_URI = "https://127.0.0.1:9/callback"

TENANTS = ("tenant-alpha", "tenant-beta")


@dataclass
class SecuredGipoNext:
    """A running GipoNext mock with its authorization server and credentials."""

    url: str
    ca: str
    app: object
    api_keys: dict

    @property
    def provider(self):
        return oauth_of(self.app)

    @property
    def mock(self):
        return mock_of(self.app)

    @property
    def confidential(self):
        return self.provider.client("ris-pacs")

    @property
    def public(self):
        return self.provider.client("ris-pacs-device")

    def user(self, tenant=TENANTS[0]) -> scripted.ScriptedUser:
        test_user = self.provider.test_user(tenant)
        return scripted.ScriptedUser(
            test_user.username, test_user.password, verify=self.ca
        )

    def reports_url(self, tenant, report_id="absent-report") -> str:
        return f"{self.url}/fhir/r3/{tenant}/DiagnosticReport/{report_id}"

    def read_report(self, tenant, access_token) -> requests.Response:
        """GET a report id that does not exist: 404 means the credential passed."""
        return requests.get(
            self.reports_url(tenant),
            headers={"Authorization": f"Bearer {access_token}"},
            verify=self.ca,
            timeout=10,
        )

    def code_flow(self, scope="reports profile", ticked=None, tenant=TENANTS[0]):
        """Run the authorization-code flow with PKCE; return the token response."""
        pkce = scripted.Pkce.generate()
        client = self.confidential
        url = scripted.authorization_url(
            self.url, client.client_id, REDIRECT_URI, scope, "state-1", pkce
        )
        location = self.user(tenant).authorize(url, ticked)
        code = parse_qs(urlsplit(location).query)["code"][0]
        return scripted.exchange_code(
            self.url,
            client.client_id,
            client.client_secret,
            code,
            REDIRECT_URI,
            pkce,
            verify=self.ca,
        )

    def device_flow(self, scope="reports", tenant=TENANTS[0]) -> dict:
        return scripted.obtain_token_by_device_flow(
            self.url,
            self.public.client_id,
            None,
            self.user(tenant),
            scope,
            verify=self.ca,
        )
