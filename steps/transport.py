"""Steps about the transport: HTTPS with a trusted certificate, and media types.

Phrases offered:
    Given GipoNext is configured with the RIS-PACS address
    When GipoNext connects to the RIS-PACS
    When GipoNext sends the patient labelled as "<media type>"
    Then the connection is HTTPS with a certificate GipoNext trusts

State: `ris_address` is the base URL under test; `connection` is a
ConnectionAttempt; `response` is the Exchange of
the last request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from pytest_bdd import given, parsers, then, when

from giponext_conformance.client import FhirClient
from giponext_conformance.errors import TargetUnreachable
from giponext_conformance.tlscheck import check_tls


@dataclass
class ConnectionAttempt:
    """The TLS findings about the target and the outcome of one real request."""

    url: str
    findings: list
    error: str | None


@given("GipoNext is configured with the RIS-PACS address", target_fixture="ris_address")
def configured_address(ris_target):
    return ris_target.ris_url


@when("GipoNext connects to the RIS-PACS", target_fixture="connection")
def connect(ris_target, ris_address, scenario_deadline):
    # The client sends nothing sensitive here, so a plain HTTP target is
    # contacted too; the Then step judges the scheme.
    client = FhirClient(
        ris_address,
        None,
        ris_target.ca_bundle,
        allow_http=True,
        deadline=scenario_deadline,
    )
    error = None
    with client:
        try:
            client.get("metadata")
        except TargetUnreachable as failure:
            error = str(failure)
    findings = check_tls(
        ris_address, ris_target.ca_bundle, allow_http=ris_target.allow_http
    )
    return ConnectionAttempt(ris_address, findings, error)


@when(
    parsers.parse('GipoNext sends the patient labelled as "{media_type}"'),
    target_fixture="response",
)
def send_labelled(ris, patient, media_type):
    body = json.dumps(patient.resource, ensure_ascii=False).encode("utf-8")
    return ris.put(patient.path, body, media_type)


@then("the connection is HTTPS with a certificate GipoNext trusts")
def connection_trusted(verdicts, connection):
    for finding in connection.findings:
        if not finding.is_error:
            verdicts.warn("TRN-01", finding.diagnostics)
    if urlsplit(connection.url).scheme.lower() == "http" and not any(
        finding.is_error for finding in connection.findings
    ):
        # Plain HTTP that --allow-http permits: a warning, never a pass.
        return

    problems = [
        finding.diagnostics for finding in connection.findings if finding.is_error
    ]
    if connection.error and not problems:
        problems.append(connection.error)
    verdicts.check(
        "TRN-01",
        not problems,
        f"expected HTTPS with a certificate that verifies for {connection.url}; "
        f"found {'; '.join(problems)}",
    )
