"""The system under test for one run: a vendor's RIS-PACS or the bundled mock.

`Target` describes where the suite sends GipoNext's requests and with which
credentials. `BundledRisPacs` starts the mock RIS-PACS for a run: a throwaway
CA and server certificate, a SQLite file and a cheroot server on a free
loopback port, all inside one temporary folder removed when the run ends.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from giponext_conformance.client import (
    BasicCredentials,
    BearerToken,
    FhirClient,
    TargetUnreachable,
)
from giponext_conformance.errors import InputFileError, UsageError
from giponext_conformance.redact import register_secret

logger = logging.getLogger(__name__)

# User of the Basic credentials that the bundled mock accepts. Its password
# is drawn per run and contains a colon and non-ASCII letters, because those
# are what a Basic implementation most often gets wrong (RFC 7617).
BUNDLED_BASIC_USER = "giponext"

_DEFAULT = object()


@dataclass
class Target:
    """The RIS-PACS under test: its base URL, TLS trust and GipoNext's credentials."""

    ris_url: str
    token: str | None = None
    basic: BasicCredentials | None = None
    ca_bundle: str | None = None
    allow_http: bool = False
    bundled: bool = False
    quirks: tuple[str, ...] = ()
    # Largest body the bundled mock accepts, in bytes; None for a vendor target.
    max_body_bytes: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def is_https(self) -> bool:
        return urlsplit(self.ris_url).scheme.lower() == "https"

    @property
    def auth(self):
        """The credential GipoNext uses: the token when given, Basic otherwise."""
        if self.token:
            return BearerToken(self.token)
        return self.basic

    def client(self, auth=_DEFAULT, **options) -> FhirClient:
        """Return a client for the RIS-PACS; `auth` overrides the configured one."""
        return FhirClient(
            self.ris_url,
            self.auth if auth is _DEFAULT else auth,
            self.ca_bundle,
            allow_http=self.allow_http,
            **options,
        )

    def describe(self) -> dict:
        """Return the target section of conformance.json."""
        return {
            "ris_url": self.ris_url,
            "giponext_url": self.extra.get("giponext_url"),
            "bundled": self.bundled,
            "quirks": list(self.quirks),
            "outcome": bool(self.extra.get("outcome", False)),
        }


def check_ca_bundle(path) -> str | None:
    """Return the CA bundle path as text after checking that it loads as PEM."""
    if not path:
        return None
    path = Path(path)
    try:
        ssl.create_default_context(cafile=str(path))
    except FileNotFoundError:
        raise InputFileError(f"the CA bundle {path} does not exist") from None
    except (OSError, ssl.SSLError) as error:
        raise InputFileError(
            f"the CA bundle {path} cannot be read as PEM certificates: {error}"
        ) from None
    return str(path)


def check_ris_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--ris-url {url!r} must be an absolute https:// URL")
    return url.rstrip("/")


def external_target(
    ris_url, token=None, basic=None, ca_bundle=None, allow_http=False
) -> Target:
    """Describe a vendor's RIS-PACS; raise UsageError when no credential is given."""
    if not token and not basic:
        raise UsageError(
            "give the RIS-PACS credentials with --ris-token (or the "
            "GIPONEXT_RIS_TOKEN variable) or --ris-basic USER:PASSWORD"
        )
    register_secret(token)
    return Target(
        ris_url=check_ris_url(ris_url),
        token=token or None,
        basic=BasicCredentials.parse(basic) if basic else None,
        ca_bundle=check_ca_bundle(ca_bundle),
        allow_http=allow_http,
        bundled=False,
    )


def check_reachable(target: Target, timeout: float = 10.0) -> None:
    """Send one request without credentials; raise TargetUnreachable if none comes.

    Any HTTP status counts as reachable, because the scenarios judge the status.
    Plain HTTP is probed too, because the run records that as a TRN-01 failure
    instead of stopping.
    """
    with FhirClient(
        target.ris_url,
        None,
        target.ca_bundle,
        allow_http=True,
        timeout=timeout,
        attach=False,
    ) as client:
        client.get("metadata")


class BundledRisPacs:
    """The mock RIS-PACS served over TLS for one run; use it as a context manager."""

    def __init__(self, quirks=(), *, basic: bool = True, folder=None):
        self.quirks = tuple(quirks)
        self.basic = basic
        self._parent = folder
        self._folder: Path | None = None
        self._server = None
        self.target: Target | None = None
        # The running Flask app, so that the outcome flow can attach a
        # report sender once the GipoNext mock's address is known.
        self.app = None

    def start(self) -> Target:
        # Imported here so that a vendor run never loads the mock's modules.
        from giponext_conformance.mocks.ris_pacs import create_app
        from giponext_conformance.mocks.ris_pacs.config import RisPacsConfig
        from giponext_conformance.serving import start_server
        from giponext_conformance.tls import RunCA

        self._folder = Path(tempfile.mkdtemp(prefix="giponext-run-", dir=self._parent))
        try:
            authority = RunCA(self._folder / "tls")
            cert_path, key_path = authority.issue()

            token = secrets.token_urlsafe(24)
            register_secret(token)
            basic = None
            if self.basic:
                basic = BasicCredentials(
                    BUNDLED_BASIC_USER, f"pässwörd:{secrets.token_hex(6)}"
                )
            config = RisPacsConfig(
                token=token,
                basic_user=basic.user if basic else None,
                basic_password=basic.password if basic else None,
                db_path=self._folder / "ris-pacs.sqlite",
                quirks=frozenset(self.quirks),
            )
            self.app = create_app(config)
            self._server = start_server(
                self.app, cert_path=cert_path, key_path=key_path
            )
        except BaseException:
            self.stop()
            raise

        logger.info("bundled mock RIS-PACS at %s", self._server.url)
        self.target = Target(
            ris_url=self._server.url,
            token=token,
            basic=basic,
            ca_bundle=str(authority.ca_cert_path),
            bundled=True,
            quirks=self.quirks,
            max_body_bytes=config.max_body_bytes,
            extra={"ris_app": self.app},
        )
        return self.target

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> Target:
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


__all__ = [
    "BundledRisPacs",
    "Target",
    "TargetUnreachable",
    "check_ca_bundle",
    "check_reachable",
    "external_target",
]
