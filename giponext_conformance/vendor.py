"""Vendor mode: a GipoNext endpoint that a vendor's RIS-PACS delivers reports to.

`run --ris-url URL --outcome` starts the GipoNext mock (`GipoNextEndpoint`)
where the vendor's RIS-PACS can reach it and prints the base URL, tenant id
and API key the vendor must configure. It then sends the intake and waits for
the report of that order (`wait_for_report`), optionally after running a
command that makes the vendor's system produce it (`run_trigger`). The
bundled run uses the same endpoint, with the mock RIS-PACS's sender pointed
at it.

A vendor can configure its system before the run: a fixed tenant id and API
key are taken from `--giponext-tenant` and `--giponext-api-key` (or the
GIPONEXT_TENANT and GIPONEXT_API_KEY variables), and `--giponext-listen`
fixes the address.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from giponext_conformance.errors import InputFileError, UsageError
from giponext_conformance.redact import redact_text, register_secret

logger = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:0"
DEFAULT_OUTCOME_TIMEOUT = 120.0
PROGRESS_EVERY = 5.0

# Seconds a trigger command may run before it is stopped.
TRIGGER_TIMEOUT = 60.0

# Characters of a trigger command's output kept in messages.
TRIGGER_OUTPUT_LIMIT = 500


def parse_listen(text: str) -> tuple[str, int]:
    """Split HOST:PORT (IPv6 as [::1]:PORT); raise UsageError when malformed."""
    host, separator, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not separator or not host or not port_text.isdigit():
        raise UsageError(
            f"--giponext-listen {text!r} must be HOST:PORT, e.g. 127.0.0.1:8443"
        )
    port = int(port_text)
    if port > 65535:
        raise UsageError(f"--giponext-listen port {port} is outside 0-65535")
    return host, port


@dataclass
class EndpointSettings:
    """How to serve the GipoNext endpoint of a run."""

    listen: str = DEFAULT_LISTEN
    cert: str | None = None
    key: str | None = None
    public_url: str | None = None
    tenant: str | None = None
    api_key: str | None = None
    # Largest report body accepted, in bytes; None keeps GipoNext's own limit.
    max_body_bytes: int | None = None


class GipoNextEndpoint:
    """The GipoNext mock served over TLS for one run, with one tenant."""

    def __init__(self, settings: EndpointSettings):
        self.settings = settings
        self.folder: Path | None = None
        self.server = None
        self.app = None
        self.ca_path: Path | None = None
        self.tenant = ""
        self.api_key = ""

    @property
    def mock(self):
        return self.app.giponext

    @property
    def url(self) -> str:
        """Base URL the RIS-PACS uses: the public one when given."""
        return (self.settings.public_url or self.server.url).rstrip("/")

    @property
    def fhir_base(self) -> str:
        return f"{self.url}/fhir/r3/{self.tenant}"

    @property
    def local_fhir_base(self) -> str:
        """The tenant's FHIR base at the listening address, for the harness itself."""
        return f"{self.server.url}/fhir/r3/{self.tenant}"

    def start(self) -> GipoNextEndpoint:
        from giponext_conformance.mocks.giponext import (
            GipoNextConfig,
            TenantConfig,
            create_app,
        )
        from giponext_conformance.mocks.giponext.config import (
            generate_api_key,
            generate_tenant_id,
        )
        from giponext_conformance.serving import is_loopback, start_server

        host, port = parse_listen(self.settings.listen)
        cert, key = self._tls_files()
        self.tenant = self.settings.tenant or generate_tenant_id()
        self.api_key = self.settings.api_key or generate_api_key()
        register_secret(self.api_key)

        config = GipoNextConfig(
            tenants={self.tenant: TenantConfig([self.api_key])},
            db_path=str(self.folder / "giponext.sqlite3"),
            public_url=self.settings.public_url,
        )
        if self.settings.max_body_bytes is not None:
            config.max_body_bytes = self.settings.max_body_bytes
        try:
            self.app = create_app(config)
            # An address given explicitly for the vendor is an explicit
            # request to listen beyond loopback.
            self.server = start_server(
                self.app,
                host,
                port,
                cert,
                key,
                allow_non_loopback=not is_loopback(host),
            )
        except BaseException:
            self.stop()
            raise
        logger.info("GipoNext endpoint at %s for tenant %s", self.url, self.tenant)
        return self

    def _tls_files(self) -> tuple[str, str]:
        from giponext_conformance.tls import RunCA

        self.folder = Path(tempfile.mkdtemp(prefix="giponext-endpoint-"))
        cert, key = self.settings.cert, self.settings.key
        if (cert is None) != (key is None):
            raise UsageError(
                "--giponext-cert and --giponext-key must be given together"
            )
        if cert is not None:
            for path in (cert, key):
                if not os.access(path, os.R_OK):
                    raise InputFileError(f"cannot read TLS file {path}; check the path")
            return cert, key
        authority = RunCA(self.folder / "tls")
        self.ca_path = authority.ca_cert_path
        cert_path, key_path = authority.issue()
        return str(cert_path), str(key_path)

    def banner_lines(self) -> list[str]:
        """Return what the vendor must configure to deliver reports here."""
        lines = [
            f"GipoNext base URL: {self.url}",
            f"Tenant id (userId): {self.tenant}",
            f"API key: {self.api_key}",
            f"Reports endpoint: {self.fhir_base}/DiagnosticReport",
        ]
        if self.ca_path is not None:
            lines.append(f"CA certificate to trust: {self.ca_path}")
        return lines

    def register_order(self, order: dict, patient: dict | None) -> None:
        self.mock.register_order(self.tenant, order, patient)

    def last_seq(self) -> int:
        return self.mock.state.last_delivery_seq()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.app is not None:
            self.mock.close()
            self.app = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def run_trigger(
    command: str, order_id: str, patient_id: str, timeout=TRIGGER_TIMEOUT
) -> str:
    """Run the vendor's trigger command without a shell; return a one-line result.

    The order and patient ids are in the environment as GIPONEXT_ORDER_ID and
    GIPONEXT_PATIENT_ID, and `{order_id}` and `{patient_id}` in the command
    are replaced by them. A failing command is reported, not raised: the
    report may still arrive.
    """
    try:
        words = shlex.split(command)
    except ValueError as error:
        raise UsageError(
            f"--outcome-trigger {command!r} cannot be split: {error}"
        ) from None
    if not words:
        raise UsageError("--outcome-trigger is empty")
    words = [
        word.replace("{order_id}", order_id).replace("{patient_id}", patient_id)
        for word in words
    ]
    environment = {
        **os.environ,
        "GIPONEXT_ORDER_ID": order_id,
        "GIPONEXT_PATIENT_ID": patient_id,
    }

    try:
        completed = subprocess.run(
            words,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return f"trigger command {words[0]!r} was not found"
    except subprocess.TimeoutExpired:
        return f"trigger command {words[0]!r} timed out after {timeout:g} s"

    output = redact_text((completed.stdout + completed.stderr).strip())[
        -TRIGGER_OUTPUT_LIMIT:
    ]
    logger.info("trigger command %s exited with %s", words[0], completed.returncode)
    if completed.returncode != 0:
        return f"trigger command exited with status {completed.returncode}: {output}"
    return f"trigger command succeeded{': ' + output if output else ''}"


def wait_for_report(
    endpoint: GipoNextEndpoint,
    order_id: str,
    after_seq: int,
    timeout: float,
    report,
    progress_every: float = PROGRESS_EVERY,
):
    """Wait for the report of `order_id`; return the Delivery or None.

    `report(line)` receives a progress line every few seconds, naming the
    requests the endpoint rejected meanwhile (a wrong key or path shows up
    there long before the timeout).
    """
    started = time.monotonic()

    def progress(elapsed):
        rejected = _rejected_since(endpoint, started)
        line = (
            f"waiting for the report of ProcedureRequest/{order_id}:"
            f" {elapsed:.0f} of {timeout:g} s"
        )
        if rejected:
            line += f"; meanwhile rejected: {rejected}"
        report(line)

    return endpoint.mock.wait_for_delivery(
        endpoint.tenant,
        order_id,
        after_seq=after_seq,
        timeout=timeout,
        on_progress=progress,
        progress_every=progress_every,
    )


def _rejected_since(endpoint: GipoNextEndpoint, started_monotonic: float) -> str:
    # Journal entries carry wall-clock times; compare with the same clock.
    since = time.time() - (time.monotonic() - started_monotonic)
    counts: dict[str, int] = {}
    for entry in endpoint.mock.journal.entries():
        if entry.status < 400:
            continue
        try:
            moment = _epoch(entry.started)
        except ValueError:
            continue
        if moment >= since:
            key = f"{entry.method} {entry.status}"
            counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{count} x {key}" for key, count in sorted(counts.items()))


def _epoch(iso_text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso_text).timestamp()
