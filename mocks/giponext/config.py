"""Configuration of the GipoNext mock: tenants, credentials, limits and faults."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Largest request body the mock reads, in bytes. A DiagnosticReport carries
# its PDFs as base64 in presentedForm.data, so the limit leaves room for a few
# megabytes of PDF (base64 adds a third). Bodies over it get 413 unread.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024

# OAuth 2.0 scope that allows sending, reading, correcting and withdrawing
# reports. A static API key carries every scope.
REPORTS_SCOPE = "reports"


@dataclass
class TenantConfig:
    """One GipoNext client (a `userId` of the endpoint path).

    `api_keys` are the static bearer credentials issued to the tenant and
    `doctors` the codici fiscali of the doctors GipoNext has on record for it: a
    report performer outside this list draws a DR-08 warning.
    """

    api_keys: list[str] = field(default_factory=list)
    doctors: list[str] = field(default_factory=list)


@dataclass
class DeliveryFault:
    """A fault returned for the first deliveries of each report.

    The first `times` POSTs of a given report id get `status` (429 or 503)
    with `Retry-After: retry_after` seconds, so a test can see whether the
    sender waits before retrying and avoids delivering twice (GAUTH-06).
    As an HTTP-date, the time is rounded up to the next whole second, so a
    sender that waits until it never waits less than `retry_after`.
    """

    status: int = 503
    retry_after: int = 2
    times: int = 1
    # Send Retry-After as an HTTP-date instead of seconds (RFC 9110 allows both).
    http_date: bool = False

    def __post_init__(self):
        if self.status not in (429, 503):
            raise ValueError(
                f"delivery fault status must be 429 or 503, not {self.status}"
            )
        if self.retry_after < 0 or self.times < 1:
            raise ValueError("retry_after must be >= 0 and times >= 1")


@dataclass(frozen=True)
class TokenInfo:
    """Grant of a bearer credential: its tenant, its scopes and its client."""

    tenant: str
    scopes: frozenset[str]
    client_id: str | None = None
    kind: str = "oauth"


# A token resolver maps a bearer token to TokenInfo, or None when it does not
# recognise the token; the first resolver that recognises it wins.
TokenResolver = Callable[[str], TokenInfo | None]


@dataclass
class GipoNextConfig:
    """Settings of one GipoNext mock app.

    `db_path` None makes a temporary SQLite file removed when the app closes.
    `delivery_fault` applies to every tenant without an entry in
    `delivery_faults`.
    """

    tenants: dict[str, TenantConfig] = field(default_factory=dict)
    db_path: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    delivery_fault: DeliveryFault | None = None
    delivery_faults: dict[str, DeliveryFault] = field(default_factory=dict)
    token_resolvers: list[TokenResolver] = field(default_factory=list)
    reports_scope: str = REPORTS_SCOPE
    # Base URL that Location headers use, for a mock behind a proxy or a
    # published address; None takes the request's own host.
    public_url: str | None = None
    # Authorization server settings (oauth.OAuthSettings); None gives one
    # test user per tenant and the default clients when the app is created.
    oauth: Any = None
    # Rate limits (ratelimit.RateLimitSettings); None leaves requests unlimited.
    rate_limit: Any = None

    def fault_for(self, tenant: str) -> DeliveryFault | None:
        return self.delivery_faults.get(tenant, self.delivery_fault)


def generate_tenant_id() -> str:
    """Return a fresh tenant id in the shape of a GipoNext userId."""
    return f"tenant-{secrets.token_hex(4)}"


def generate_api_key() -> str:
    """Return a fresh random API key (URL-safe, 32 random bytes)."""
    return f"gpn_{secrets.token_urlsafe(32)}"
