"""pytest extension for the outcome flow: the GipoNext endpoint of a run.

The harness plugin loads this module (see plugin.EXTENSION_MODULES). It adds
the outcome options, starts the GipoNext mock once per run when a scenario
tagged `@outcome` needs it, and in a bundled run points the mock RIS-PACS's
report sender at it. Against a vendor's RIS-PACS the outcome scenarios run
only with `--outcome`, because the outcome flow is optional for a RIS-PACS.
In that case the endpoint starts before the first scenario, so that its URL,
tenant id and API key are printed while the vendor can still configure them.
"""

from __future__ import annotations

import json
import logging
import math
import shlex
import socket
import sqlite3
import ssl
from contextlib import nullcontext
from pathlib import Path

import pytest

from giponext_conformance.errors import HarnessError, UsageError
from giponext_conformance.plugin import HarnessOption, harness_state
from giponext_conformance.vendor import (
    DEFAULT_LISTEN,
    DEFAULT_OUTCOME_TIMEOUT,
    EndpointSettings,
    GipoNextEndpoint,
)

logger = logging.getLogger(__name__)

OUTCOME_MARKER = "outcome"

# Seconds the bundled RIS-PACS waits after an order before delivering its
# report: short, but long enough that the report follows the order's response.
BUNDLED_REPORT_DELAY = 0.2

# Body size limit of the GipoNext endpoint in a bundled run, in bytes. The
# bundled sender's reports carry one small generated PDF (a few KiB), so 1 MiB
# leaves ample room, while the size-limit scenario (TRN-08) uploads only
# limit + 1 bytes instead of the 16 MiB that GipoNext's own limit would take.
# A vendor's RIS-PACS meets GipoNext's real limit.
BUNDLED_MAX_BODY_BYTES = 1024 * 1024

HARNESS_OPTIONS = [
    HarnessOption(
        "--outcome",
        "also check the optional outcome flow on a vendor's RIS-PACS: start a"
        " GipoNext endpoint and wait for the report of the intake's order"
        " (always on with the bundled mock)",
        action="store_true",
    ),
    HarnessOption(
        "--giponext-listen",
        f"HOST:PORT the GipoNext endpoint listens on (default {DEFAULT_LISTEN}: a"
        " free loopback port)",
        metavar="HOST:PORT",
        default=DEFAULT_LISTEN,
    ),
    HarnessOption(
        "--giponext-cert",
        "certificate chain (PEM) for the GipoNext endpoint (default: signed by a"
        " throwaway CA whose file is printed)",
        metavar="PATH",
    ),
    HarnessOption(
        "--giponext-key", "private key of --giponext-cert (PEM)", metavar="PATH"
    ),
    HarnessOption(
        "--giponext-public-url",
        "base URL the RIS-PACS reaches the GipoNext endpoint at, when not the"
        " listening address (behind NAT or a proxy)",
        metavar="URL",
    ),
    HarnessOption(
        "--giponext-api-key",
        "API key the GipoNext endpoint accepts, so the vendor can configure it"
        " before the run (default: the GIPONEXT_API_KEY variable, else generated)",
        metavar="KEY",
        env="GIPONEXT_API_KEY",
    ),
    HarnessOption(
        "--giponext-tenant",
        "tenant id (userId) of the GipoNext endpoint (default: the GIPONEXT_TENANT"
        " variable, else generated)",
        metavar="USERID",
        env="GIPONEXT_TENANT",
    ),
    HarnessOption(
        "--outcome-timeout",
        "seconds to wait for the RIS-PACS's report after the intake (default"
        f" {DEFAULT_OUTCOME_TIMEOUT:g})",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_OUTCOME_TIMEOUT,
    ),
    HarnessOption(
        "--outcome-trigger",
        "command run after the intake to make the RIS-PACS produce the report,"
        " without a shell; {order_id} and {patient_id} are replaced, and"
        " GIPONEXT_ORDER_ID and GIPONEXT_PATIENT_ID are set",
        metavar="CMD",
    ),
    HarnessOption(
        "--report-quirk",
        "make the bundled RIS-PACS's report sender imitate this mistake"
        " (repeatable; for testing the suite itself)",
        metavar="NAME",
        action="append",
    ),
]


def check_run_options(args) -> None:
    """Raise UsageError for outcome options that cannot work (called by `run`)."""
    from giponext_conformance.mocks.ris_pacs.report_quirks import check_report_quirks
    from giponext_conformance.vendor import parse_listen

    if args.report_quirk:
        if args.ris_url:
            raise UsageError(
                "--report-quirk applies to the bundled mock only; drop --ris-url"
            )
        try:
            check_report_quirks(args.report_quirk)
        except ValueError as error:
            raise UsageError(str(error)) from None
    if not math.isfinite(args.outcome_timeout) or args.outcome_timeout <= 0:
        raise UsageError("--outcome-timeout must be a positive number of seconds")
    host, port = parse_listen(args.giponext_listen or DEFAULT_LISTEN)
    if (args.giponext_cert is None) != (args.giponext_key is None):
        raise UsageError("--giponext-cert and --giponext-key must be given together")
    if args.giponext_cert is not None:
        _check_certificate(args.giponext_cert, args.giponext_key)
    if args.outcome or not args.ris_url:
        _check_listen(host, port)

    if args.outcome_trigger is not None:
        try:
            words = shlex.split(args.outcome_trigger)
        except ValueError as error:
            raise UsageError(f"--outcome-trigger cannot be split: {error}") from None
        if not words:
            raise UsageError("--outcome-trigger is empty")


def _check_certificate(cert_path: str, key_path: str) -> None:
    """Raise UsageError unless the certificate and key load as a TLS pair."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert_path, key_path)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or getattr(error, "reason", None)
        raise UsageError(
            f"--giponext-cert {cert_path} and --giponext-key {key_path} cannot be"
            f" loaded as a PEM certificate and its key: {reason or error}"
        ) from None


def _check_listen(host: str, port: int) -> None:
    """Raise UsageError when the GipoNext endpoint could not listen on HOST:PORT.

    The socket is closed at once, so another process may still take the port
    before the endpoint starts; the check catches the common mistakes early.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _name, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise UsageError(
            f"--giponext-listen {host}:{port} cannot be used on this machine:"
            f" {(error.strerror or str(error)).lower()}"
        ) from None


class OutcomeRun:
    """The outcome flow's share of one pytest session."""

    def __init__(self, config):
        self.config = config
        self.endpoint: GipoNextEndpoint | None = None
        self.error: HarnessError | None = None
        self.sender_attached = False

    @property
    def external(self) -> bool:
        return harness_state(self.config).external

    @property
    def enabled(self) -> bool:
        return not self.external or bool(self.config.getoption("outcome"))

    def settings(self) -> EndpointSettings:
        option = self.config.getoption
        return EndpointSettings(
            listen=option("giponext_listen") or DEFAULT_LISTEN,
            cert=option("giponext_cert"),
            key=option("giponext_key"),
            public_url=option("giponext_public_url"),
            tenant=option("giponext_tenant"),
            api_key=option("giponext_api_key"),
            max_body_bytes=None if self.external else BUNDLED_MAX_BODY_BYTES,
        )

    def start(self) -> GipoNextEndpoint:
        """Start the endpoint on first use and print what the vendor configures."""
        if self.error is not None:
            raise self.error
        if self.endpoint is None:
            try:
                self.endpoint = GipoNextEndpoint(self.settings()).start()
            except HarnessError as error:
                self.error = error
                raise
            if self.external:
                announce(self.config, self.endpoint.banner_lines())
        return self.endpoint

    def stop(self) -> None:
        if self.endpoint is not None:
            export_journal(self.endpoint, Path(self.config.getoption("report_dir")))
            self.endpoint.stop()
            self.endpoint = None


def export_journal(endpoint: GipoNextEndpoint, report_dir: Path) -> Path | None:
    """Write the endpoint's audit journal as REPORT_DIR/journals/giponext.har.

    The evidence bundle collects it, so every report the RIS-PACS delivered
    stays on record with GipoNext's verdict after the mock is gone.
    """
    from giponext_conformance.mocks.giponext.journal import export_har

    path = report_dir / "journals" / "giponext.har"
    try:
        har = export_har(endpoint.mock.journal.entries())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(har, indent=2, ensure_ascii=False), "utf-8")
    except (OSError, sqlite3.Error) as error:
        logger.warning("could not write the GipoNext journal to %s: %s", path, error)
        return None
    return path


_run_key = pytest.StashKey[OutcomeRun]()


def outcome_run(config) -> OutcomeRun:
    return config.stash[_run_key]


def announce(config, lines) -> None:
    """Print lines on the terminal even while pytest captures output."""
    capture = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.getplugin("terminalreporter")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        for line in lines:
            if reporter is not None:
                reporter.write_line(line)
            else:
                print(line, flush=True)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"{OUTCOME_MARKER}: scenario of the optional outcome flow"
    )
    config.stash[_run_key] = OutcomeRun(config)


def pytest_unconfigure(config):
    run = config.stash.get(_run_key, None)
    if run is not None:
        run.stop()


def pytest_collection_modifyitems(config, items):
    run = outcome_run(config)
    if run.enabled:
        return
    for item in items:
        if item.get_closest_marker(OUTCOME_MARKER):
            item.add_marker(
                pytest.mark.skip(
                    reason="the outcome flow is optional for a RIS-PACS: pass"
                    " --outcome to check report delivery"
                )
            )


def pytest_collection_finish(session):
    run = outcome_run(session.config)
    if not (run.external and run.enabled):
        return
    if not any(item.get_closest_marker(OUTCOME_MARKER) for item in session.items):
        return
    try:
        run.start()
    except HarnessError as error:
        announce(session.config, [f"GipoNext endpoint not started: {error}"])


# --- fixtures ------------------------------------------------------------------


@pytest.fixture(scope="session")
def giponext_endpoint(request, ris_target):
    """Start the run's GipoNext endpoint and, in a bundled run, point the mock at it."""
    run = outcome_run(request.config)
    try:
        endpoint = run.start()
    except HarnessError as error:
        pytest.fail(str(error), pytrace=False)

    ris_target.extra["giponext_url"] = endpoint.url
    ris_target.extra["outcome"] = True
    ris_app = ris_target.extra.get("ris_app")
    if ris_app is not None and not run.sender_attached:
        _attach_bundled_sender(request.config, ris_app, endpoint)
        run.sender_attached = True
    return endpoint


def _attach_bundled_sender(config, ris_app, endpoint: GipoNextEndpoint) -> None:
    from giponext_conformance.mocks.ris_pacs.sender import SenderSettings, attach_sender

    try:
        settings = SenderSettings(
            giponext_url=endpoint.local_fhir_base,
            api_key=endpoint.api_key,
            ca_bundle=str(endpoint.ca_path) if endpoint.ca_path else None,
            report_delay=BUNDLED_REPORT_DELAY,
            quirks=frozenset(config.getoption("report_quirk") or ()),
        )
    except ValueError as error:
        pytest.fail(f"--report-quirk: {error}", pytrace=False)
    attach_sender(ris_app, settings)


@pytest.fixture
def giponext(giponext_endpoint, scenario_deadline):
    """Yield a FhirClient for the tenant's FHIR base on the GipoNext endpoint."""
    from giponext_conformance.client import BearerToken, FhirClient

    ca_bundle = giponext_endpoint.ca_path
    with FhirClient(
        giponext_endpoint.local_fhir_base,
        BearerToken(giponext_endpoint.api_key),
        str(ca_bundle) if ca_bundle else None,
        deadline=scenario_deadline,
    ) as client:
        yield client
