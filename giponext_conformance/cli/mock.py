"""`giponext-conformance mock NAME`: run a bundled mock as a standalone server.

Each mock has one function that adds its parser and one that runs it, so
adding a mock means adding that pair and one line in `register`.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path

from giponext_conformance.cli.giponext_mock import add_giponext_parser
from giponext_conformance.errors import InputFileError, UsageError
from giponext_conformance.redact import register_secret

logger = logging.getLogger(__name__)

RIS_TOKEN_VARIABLE = "GIPONEXT_RIS_TOKEN"  # noqa: S105  # a variable name, not a secret
GIPONEXT_KEY_VARIABLE = "GIPONEXT_API_KEY"

# RFC 6750, section 2.1: the characters a bearer token may contain.
BEARER_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "mock",
        help="run a bundled mock server",
        description="Run a bundled mock server on this machine until interrupted.",
    )
    mocks = parser.add_subparsers(
        title="mocks", metavar="MOCK", parser_class=type(parser), required=True
    )
    add_ris_pacs_parser(mocks)
    add_giponext_parser(mocks)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0-65535")
    return value


# -- mock ris-pacs -----------------------------------------------------------


def add_ris_pacs_parser(mocks) -> None:
    parser = mocks.add_parser(
        "ris-pacs",
        help="run the mock RIS-PACS (receives Patient and ProcedureRequest)",
        description=(
            "Serve the mock RIS-PACS over HTTPS at the printed base URL. Without "
            "--cert and --key a throwaway CA signs the server certificate, and the "
            "CA file to trust is printed."
        ),
        # Importing the mock's quirks and defaults loads the whole mock
        # RIS-PACS, so its options are added only when this command is used.
        complete=_add_ris_pacs_options,
    )
    parser.set_defaults(handler=run_ris_pacs)


def _add_ris_pacs_options(parser) -> None:
    from giponext_conformance.mocks.ris_pacs.config import DEFAULT_MAX_BODY_BYTES
    from giponext_conformance.mocks.ris_pacs.quirks import QUIRKS

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
        "--token",
        help=f"bearer token to accept (default: the {RIS_TOKEN_VARIABLE} variable, "
        "which keeps the token out of the process list)",
    )
    parser.add_argument(
        "--basic",
        metavar="USER:PASS",
        help="also accept deprecated Basic authentication with these credentials",
    )
    parser.add_argument("--cert", type=Path, help="server certificate chain (PEM)")
    parser.add_argument("--key", type=Path, help="private key of --cert (PEM)")
    parser.add_argument(
        "--db",
        type=Path,
        help="SQLite file that keeps resources across restarts (default: a "
        "temporary file deleted at exit)",
    )
    parser.add_argument(
        "--quirk",
        action="append",
        default=[],
        choices=sorted(QUIRKS),
        metavar="NAME",
        help="imitate a vendor mistake; repeat for several. One of: "
        + ", ".join(sorted(QUIRKS)),
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        help="largest request body accepted, in bytes "
        f"(default {DEFAULT_MAX_BODY_BYTES})",
    )
    _add_report_sender_options(parser)


def _add_report_sender_options(parser) -> None:
    from giponext_conformance.mocks.ris_pacs.report_quirks import REPORT_QUIRKS

    group = parser.add_argument_group(
        "report delivery",
        "Deliver a DiagnosticReport to GipoNext for each order, as a RIS-PACS with"
        " the optional outcome flow does.",
    )
    group.add_argument(
        "--giponext-url",
        help="the tenant's FHIR base on GipoNext, https://HOST:PORT/fhir/r3/USERID,"
        " as `mock giponext` or `run --outcome` prints it",
    )
    group.add_argument(
        "--giponext-api-key",
        help=f"API key for GipoNext (default: the {GIPONEXT_KEY_VARIABLE} variable)",
    )
    group.add_argument(
        "--giponext-ca-bundle",
        type=Path,
        help="CA file that signs GipoNext's certificate",
    )
    group.add_argument(
        "--report-delay",
        type=float,
        metavar="SECONDS",
        help="deliver each order's report this many seconds after it arrives"
        " (default: only on POST /$deliver-report/{id})",
    )
    group.add_argument(
        "--report-quirk",
        action="append",
        default=[],
        choices=sorted(REPORT_QUIRKS),
        metavar="NAME",
        help="imitate a report delivery mistake; repeat for several. One of: "
        + ", ".join(sorted(REPORT_QUIRKS)),
    )


def _report_sender_fields(args) -> dict:
    api_key = args.giponext_api_key or os.environ.get(GIPONEXT_KEY_VARIABLE) or None
    if args.giponext_url is None:
        if api_key or args.report_delay is not None or args.report_quirk:
            raise UsageError("report delivery options need --giponext-url")
        return {}
    if not api_key:
        raise UsageError(
            f"--giponext-url needs --giponext-api-key or the {GIPONEXT_KEY_VARIABLE}"
            " variable"
        )
    delay = args.report_delay
    if delay is not None and (not math.isfinite(delay) or delay < 0):
        raise UsageError("--report-delay must be zero or more seconds")
    ca_bundle = args.giponext_ca_bundle
    if ca_bundle is not None and not os.access(ca_bundle, os.R_OK):
        raise InputFileError(f"cannot read CA file {ca_bundle}; check the path")
    register_secret(api_key)
    return {
        "giponext_url": args.giponext_url,
        "giponext_api_key": api_key,
        "giponext_ca_bundle": str(ca_bundle) if ca_bundle else None,
        "report_delay": args.report_delay,
        "report_quirks": frozenset(args.report_quirk),
    }


def _ris_credentials(args) -> tuple[str | None, str | None, str | None]:
    token = args.token or os.environ.get(RIS_TOKEN_VARIABLE) or None
    if token is not None and not BEARER_TOKEN_PATTERN.fullmatch(token):
        raise UsageError(
            "the token contains characters a bearer token cannot carry; use letters, "
            "digits and -._~+/ only"
        )

    user = password = None
    if args.basic is not None:
        user, separator, password = args.basic.partition(":")
        if not separator or not user:
            raise UsageError("--basic must be USER:PASS with a non-empty user")
        register_secret(args.basic)

    if token is None and user is None and "no-auth" not in args.quirk:
        raise UsageError(
            f"no credentials configured; pass --token, set {RIS_TOKEN_VARIABLE} or "
            "pass --basic"
        )
    register_secret(token)
    register_secret(password)
    return token, user, password


def _check_tls_files(args) -> None:
    if (args.cert is None) != (args.key is None):
        raise UsageError("--cert and --key must be given together")
    for path in (args.cert, args.key):
        if path is not None and not os.access(path, os.R_OK):
            raise InputFileError(f"cannot read TLS file {path}; check the path")


def _open_app(args, token, user, password):
    from giponext_conformance.mocks.ris_pacs import RisPacsConfig, create_app

    config = RisPacsConfig(
        token=token,
        basic_user=user,
        basic_password=password,
        db_path=args.db,
        quirks=frozenset(args.quirk),
        max_body_bytes=args.max_body_bytes,
        **_report_sender_fields(args),
    )
    try:
        return create_app(config)
    except sqlite3.Error as error:
        raise InputFileError(f"cannot open database {args.db}: {error}") from None


def run_ris_pacs(args) -> int:
    from giponext_conformance.mocks.ris_pacs import close_app
    from giponext_conformance.serving import check_host, serve_forever
    from giponext_conformance.tls import RunCA

    token, user, password = _ris_credentials(args)
    _check_tls_files(args)
    check_host(args.host, args.allow_non_loopback)
    cert_path, key_path = args.cert, args.key

    tls_directory = None
    if cert_path is None:
        tls_directory = tempfile.mkdtemp(prefix="giponext-ris-tls-")
        authority = RunCA(tls_directory)
        cert_path, key_path = authority.issue()
        print(f"CA certificate: {authority.ca_cert_path}", flush=True)

    app = _open_app(args, token, user, password)
    # One line per request on stderr is the point of running a mock by hand.
    logging.getLogger("giponext_conformance.mocks").setLevel(logging.INFO)

    def banner(running):
        print(f"FHIR base URL: {running.url}", flush=True)
        if args.quirk:
            print(f"Quirks: {', '.join(sorted(args.quirk))}", flush=True)
        if args.giponext_url:
            when = (
                f"{args.report_delay:g} s after each new order"
                if args.report_delay is not None
                else f"on POST {running.url}/$deliver-report/{{id}}"
            )
            reports_url = f"{args.giponext_url}/DiagnosticReport"
            print(f"Reports to: {reports_url}, {when}", flush=True)

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
        close_app(app)
        if tls_directory is not None:
            shutil.rmtree(tls_directory, ignore_errors=True)
    return 0
