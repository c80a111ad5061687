"""OAuth 2.0 credentials of the mock RIS-PACS's report sender.

Instead of a static API key, the sender can present an access token from
GipoNext's authorization server. The token comes from the device flow (RFC
8628), approved by a test user that the harness plays over HTTP: the same
verification, login and consent pages a person would use. Before the token
expires it is refreshed, and a refused refresh starts a new device flow.

    provider = DeviceFlowTokenProvider(SenderOAuthConfig(...), server_url, ca)
    SenderSettings(giponext_url=..., token_provider=provider)
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from giponext_conformance.mocks.giponext.oauth import scripted
from giponext_conformance.redact import register_secret

logger = logging.getLogger(__name__)

# Seconds before expiry at which a token is refreshed rather than used.
REFRESH_MARGIN = 30.0


@dataclass(frozen=True)
class SenderOAuthConfig:
    """The OAuth client the sender is, and the test user who approves it.

    `server_url` is the base URL under which `/oauth/...` lives; None takes
    the origin (scheme, host and port) of the sender's GipoNext URL.
    A client without `client_secret` is public.
    """

    client_id: str
    username: str
    password: str
    client_secret: str | None = None
    scope: str = "reports"
    server_url: str | None = None

    def __post_init__(self):
        register_secret(self.password)
        register_secret(self.client_secret)


def origin_of(url: str) -> str:
    """Return scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class DeviceFlowTokenProvider:
    """A callable that returns a live access token, for SenderSettings.token_provider.

    Thread-safe: scheduled deliveries may ask for a token at the same time,
    and only one of them runs a flow.
    """

    def __init__(
        self,
        config: SenderOAuthConfig,
        server_url: str,
        ca_bundle=None,
        *,
        clock=time.monotonic,
    ):
        self.config = config
        self.server_url = (config.server_url or server_url).rstrip("/")
        self._verify = ca_bundle or True
        self._clock = clock
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._expires_at = 0.0
        self.flows = 0
        self.refreshes = 0

    def __call__(self) -> str:
        with self._lock:
            if self._access_token and self._clock() < self._expires_at:
                return self._access_token
            if self._refresh_token and self._refresh():
                return self._access_token
            self._run_device_flow()
            return self._access_token

    def _store(self, token: dict) -> None:
        expires_in = float(token.get("expires_in", 0))
        margin = min(REFRESH_MARGIN, expires_in / 2)
        self._access_token = token["access_token"]
        self._refresh_token = token.get("refresh_token")
        self._expires_at = self._clock() + expires_in - margin

    def _refresh(self) -> bool:
        config = self.config
        response = scripted.refresh(
            self.server_url,
            config.client_id,
            config.client_secret,
            self._refresh_token,
            verify=self._verify,
        )
        if response.status_code != 200:
            logger.warning(
                "refresh for client %s failed with %s, starting a device flow",
                config.client_id,
                response.status_code,
            )
            self._refresh_token = None
            return False
        self._store(response.json())
        self.refreshes += 1
        return True

    def _run_device_flow(self) -> None:
        config = self.config
        user = scripted.ScriptedUser(
            config.username, config.password, verify=self._verify
        )
        token = scripted.obtain_token_by_device_flow(
            self.server_url,
            config.client_id,
            config.client_secret,
            user,
            config.scope,
            verify=self._verify,
        )
        self._store(token)
        self.flows += 1
        logger.info(
            "obtained a token for client %s approved by %s",
            config.client_id,
            config.username,
        )


def token_provider_for(config: SenderOAuthConfig, giponext_url: str, ca_bundle=None):
    """Return a DeviceFlowTokenProvider for a sender that reports to `giponext_url`."""
    return DeviceFlowTokenProvider(config, origin_of(giponext_url), ca_bundle)
