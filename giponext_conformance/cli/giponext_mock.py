"""`giponext-conformance mock giponext`: the GipoNext mock as a standalone server.

It prints what a RIS-PACS needs to deliver reports to it (base URL, tenant
id, API key, CA file). It also registers an example order and writes a report
for it to a file, so that a report can be POSTed by hand (curl) and judged.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shlex
import shutil
import sqlite3
import tempfile
from pathlib import Path

from giponext_conformance.errors import InputFileError, UsageError
from giponext_conformance.redact import register_secret

logger = logging.getLogger(__name__)

API_KEY_VARIABLE = "GIPONEXT_API_KEY"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0-65535")
    return value


def parse_fault(text: str):
    """Parse STATUS:SECONDS[:TIMES] (e.g. 503:2) into a DeliveryFault."""
    from giponext_conformance.mocks.giponext import DeliveryFault

    parts = text.split(":")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not STATUS:SECONDS[:TIMES], e.g. 503:2"
        ) from None
    if len(numbers) not in (2, 3):
        raise argparse.ArgumentTypeError(f"{text!r} is not STATUS:SECONDS[:TIMES]")
    try:
        return DeliveryFault(*numbers)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_giponext_parser(mocks) -> None:
    parser = mocks.add_parser(
        "giponext",
        help="run the GipoNext mock (receives DiagnosticReports)",
        description=(
            "Serve the GipoNext mock over HTTPS. It prints the base URL, the tenant"
            " id and API key to configure in the RIS-PACS, and an example order"
            " with a report file to POST by hand. Without --cert and --key a"
            " throwaway CA signs the server certificate and its file is printed."
        ),
        # Importing the mock's defaults loads the whole GipoNext mock, so its
        # options are added only when this command is used.
        complete=_add_giponext_options,
    )
    parser.set_defaults(handler=run_giponext)


def _add_giponext_options(parser) -> None:
    from giponext_conformance.mocks.giponext.config import DEFAULT_MAX_BODY_BYTES

    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow --host to be an address other than 127.0.0.1 or ::1",
    )
    parser.add_argument(
        "--port", type=_port, default=0, help="TCP port (default 0: any free port)"
    )
    parser.add_argument(
        "--tenant",
        metavar="USERID",
        help="tenant id (the userId of the endpoint path); default: generated",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help=f"API key of the tenant; repeat for several (default: the"
        f" {API_KEY_VARIABLE} variable, else generated)",
    )
    parser.add_argument(
        "--doctor",
        action="append",
        default=[],
        metavar="CODICE_FISCALE",
        help="codice fiscale of a doctor the tenant knows; repeat for several",
    )
    parser.add_argument("--cert", type=Path, help="server certificate chain (PEM)")
    parser.add_argument("--key", type=Path, help="private key of --cert (PEM)")
    parser.add_argument(
        "--db",
        type=Path,
        help="SQLite file that keeps reports and the audit journal across restarts"
        " (default: a temporary file deleted at exit)",
    )
    parser.add_argument(
        "--public-url",
        help="base URL the RIS-PACS reaches the mock at, when not the listening"
        " address (used in Location headers and the printed URLs)",
    )
    parser.add_argument(
        "--fault",
        type=parse_fault,
        metavar="STATUS:SECONDS[:TIMES]",
        help="respond to the first TIMES (default 1) deliveries of each report with"
        " STATUS (429 or 503) and Retry-After SECONDS",
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        metavar="COUNT/SECONDS",
        help="answer more than COUNT requests in any SECONDS from one OAuth client"
        " or API key with 429 and Retry-After (default: no limit)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help="largest request body accepted, in bytes"
        f" (default {DEFAULT_MAX_BODY_BYTES})",
    )


def _rate_limit(text: str):
    from giponext_conformance.mocks.giponext.ratelimit import parse_rate_limit

    try:
        return parse_rate_limit(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _api_keys(args) -> list[str]:
    keys = list(args.api_key)
    if not keys and os.environ.get(API_KEY_VARIABLE):
        keys = [os.environ[API_KEY_VARIABLE]]
    for key in keys:
        if len(key) < 16 or any(character.isspace() for character in key):
            raise UsageError(
                "an API key must have at least 16 characters and no spaces"
            )
    return keys


def _check_tls_files(args) -> None:
    if (args.cert is None) != (args.key is None):
        raise UsageError("--cert and --key must be given together")
    for path in (args.cert, args.key):
        if path is not None and not os.access(path, os.R_OK):
            raise InputFileError(f"cannot read TLS file {path}; check the path")


def _open_mock(args, tenant: str, keys: list[str]):
    from giponext_conformance.mocks.giponext import (
        GipoNextConfig,
        TenantConfig,
        create_app,
    )

    if args.max_body_bytes < 1:
        raise UsageError("--max-body-bytes must be positive")
    config = GipoNextConfig(
        # The tenant exists before the app, so the OAuth server gets its user.
        tenants={tenant: TenantConfig(list(keys), list(args.doctor))},
        db_path=str(args.db) if args.db else None,
        max_body_bytes=args.max_body_bytes,
        delivery_fault=args.fault,
        rate_limit=args.rate_limit,
        public_url=args.public_url.rstrip("/") if args.public_url else None,
    )
    try:
        app = create_app(config)
    except sqlite3.Error as error:
        raise InputFileError(f"cannot open database {args.db}: {error}") from None
    return app


def register_example(mock, tenant: str, directory: Path) -> tuple[dict, dict, Path]:
    """Register a generated order for `tenant`; write a matching report file.

    Returns (patient, order, report_path).
    """
    from giponext_conformance.fixtures.providers import build_intake, make_faker

    seed = random.SystemRandom().randrange(1, 2**31)
    patient, order, doctors = build_intake(seed)
    mock.register_order(tenant, order, patient)
    report = make_faker(seed).gipo_diagnostic_report([order], patient, doctors)
    report_path = directory / "example-report.json"
    report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return patient, order, report_path


def print_banner(
    url, tenant, api_key, ca_path, order=None, patient=None, report_path=None
):
    """Print what a RIS-PACS must configure, and a curl command for the example."""
    fhir_base = f"{url}/fhir/r3/{tenant}"
    print(f"GipoNext base URL: {url}", flush=True)
    print(f"Tenant id (userId): {tenant}", flush=True)
    print(f"API key: {api_key}", flush=True)
    print(f"Reports endpoint: {fhir_base}/DiagnosticReport", flush=True)
    if order is not None:
        print(
            f"Example order: ProcedureRequest/{order['id']}"
            f" for Patient/{patient['id']}",
            flush=True,
        )
    if report_path is not None:
        ca_option = f"--cacert {shlex.quote(str(ca_path))} " if ca_path else ""
        print(
            "Try: curl "
            + ca_option
            + f"-H {shlex.quote('Authorization: Bearer ' + api_key)}"
            + " -H 'Content-Type: application/fhir+json'"
            + f" --data-binary @{shlex.quote(str(report_path))}"
            + f" {fhir_base}/DiagnosticReport",
            flush=True,
        )


def run_giponext(args) -> int:
    from giponext_conformance.mocks.giponext.config import (
        generate_api_key,
        generate_tenant_id,
    )
    from giponext_conformance.serving import serve_forever
    from giponext_conformance.tls import RunCA

    _check_tls_files(args)
    keys = _api_keys(args)
    work_directory = Path(tempfile.mkdtemp(prefix="giponext-mock-"))
    cert_path, key_path, ca_path = args.cert, args.key, None
    if cert_path is None:
        authority = RunCA(work_directory / "tls")
        cert_path, key_path = authority.issue()
        ca_path = authority.ca_cert_path
        print(f"CA certificate: {ca_path}", flush=True)

    logging.getLogger("giponext_conformance.mocks").setLevel(logging.INFO)
    tenant = args.tenant or generate_tenant_id()
    keys = keys or [generate_api_key()]
    for key in keys:
        register_secret(key)
    app = _open_mock(args, tenant, keys)
    mock = app.giponext
    api_key = keys[0]
    patient, order, report_path = register_example(mock, tenant, work_directory)

    def banner(running):
        url = mock.config.public_url or running.url
        print_banner(url, tenant, api_key, ca_path, order, patient, report_path)
        if args.db:
            print(f"Audit journal: giponext-conformance journal list --db {args.db}")

    try:
        serve_forever(
            app,
            args.host,
            args.port,
            cert_path,
            key_path,
            allow_non_loopback=args.allow_non_loopback,
            banner=banner,
        )
    finally:
        mock.close()
        shutil.rmtree(work_directory, ignore_errors=True)
    return 0
