"""Configuration of the mock RIS-PACS."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .oauth_client import SenderOAuthConfig
from .quirks import check_quirks

# Largest request body accepted, in bytes. The integration's resources are a
# few kilobytes, so 1 MiB leaves room for long notes and many identifiers.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

DEFAULT_REALM = "giponext-ris-pacs"


@dataclass(frozen=True)
class RisPacsConfig:
    """Settings of one mock RIS-PACS app.

    `token` is the bearer token (an API key is sent the same way) and
    `basic_user`/`basic_password` enable the deprecated Basic scheme. With
    neither, every request gets 401 unless the `no-auth` quirk is on.
    `db_path` None keeps resources in a temporary file deleted with the app.
    """

    token: str | None = None
    basic_user: str | None = None
    basic_password: str | None = None
    db_path: Path | str | None = None
    quirks: frozenset[str] = field(default_factory=frozenset)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    realm: str = DEFAULT_REALM
    # Report delivery to GipoNext (sender.py): without giponext_url the mock
    # sends no reports. giponext_url is the tenant's FHIR base, ending in
    # /fhir/r3/{userId}; report_delay is in seconds after each new order,
    # None for deliveries on trigger only.
    giponext_url: str | None = None
    giponext_api_key: str | None = None
    giponext_ca_bundle: str | None = None
    report_delay: float | None = None
    report_quirks: frozenset[str] = field(default_factory=frozenset)
    # OAuth 2.0 instead of the API key: the sender obtains its token by the
    # device flow, approved by this config's test user.
    giponext_oauth: SenderOAuthConfig | None = None

    def __post_init__(self):
        object.__setattr__(self, "quirks", check_quirks(self.quirks))
        if self.max_body_bytes < 1:
            raise ValueError(
                f"max_body_bytes must be positive, not {self.max_body_bytes}"
            )
        if (self.basic_user is None) != (self.basic_password is None):
            raise ValueError("Basic authentication needs both a user and a password")
        if self.basic_user is not None and (
            not self.basic_user or ":" in self.basic_user
        ):
            raise ValueError("the Basic user must be non-empty and contain no ':'")
        if '"' in self.realm or "\\" in self.realm:
            raise ValueError("the realm must not contain quotes or backslashes")

    @property
    def basic_enabled(self) -> bool:
        return self.basic_user is not None
