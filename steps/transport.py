"""Steps about the transport: HTTPS with a trusted certificate, and media types.

Phrases offered:
    When GipoNext connects to the RIS-PACS
    When GipoNext sends the patient labelled as "<media type>"
    Then the connection is HTTPS with a certificate GipoNext trusts

State: `connection` is a ConnectionAttempt; `response` is the Exchange of
the last request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pytest_bdd import parsers, then, when

from giponext_conformance.client import FhirClient
from giponext_conformance.errors import TargetUnreachable


@dataclass
class ConnectionAttempt:
    url: str
    https: bool
    allow_http: bool
    error: str | None


@when("GipoNext connects to the RIS-PACS", target_fixture="connection")
def connect(ris_target, scenario_deadline):
    # The client sends nothing sensitive here, so a plain HTTP target is
    # contacted too; the Then step judges the scheme.
    client = FhirClient(
        ris_target.ris_url,
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
    return ConnectionAttempt(
        ris_target.ris_url, ris_target.is_https, ris_target.allow_http, error
    )


@when(
    parsers.parse('GipoNext sends the patient labelled as "{media_type}"'),
    target_fixture="response",
)
def send_labelled(ris, patient, media_type):
    body = json.dumps(patient.resource, ensure_ascii=False).encode("utf-8")
    return ris.put(patient.path, body, media_type)


@then("the connection is HTTPS with a certificate GipoNext trusts")
def connection_trusted(verdicts, connection):
    if not connection.https:
        if connection.allow_http:
            verdicts.warn(
                "TRN-01",
                f"{connection.url} is plain HTTP, allowed by --allow-http for a local run",
            )
            return
        verdicts.check(
            "TRN-01", False, f"expected an https:// URL, found {connection.url}"
        )
    verdicts.check(
        "TRN-01",
        connection.error is None,
        f"expected a verified TLS connection to {connection.url}; {connection.error}",
    )
