"""Steps about requests that must not succeed during the intake.

Phrases offered:
    Given a RIS-PACS served with a certificate from a CA GipoNext does not trust
    Given a RIS-PACS served over plain HTTP
    When GipoNext tries to send a patient to that RIS-PACS
    When GipoNext sends the patient without its id in the address
    When GipoNext posts the order to the order's own address
    When GipoNext sends the order without its id
    When GipoNext sends the order before the patient
    Then that RIS-PACS has received nothing from GipoNext
    Then the transport check reports an untrusted certificate authority
    Then the transport check reports plain HTTP
    Then the RIS-PACS refuses the request with a client error
    Then every body GipoNext sent was labelled as FHIR JSON

The untrusted RIS-PACS is a small server that the scenario starts on
127.0.0.1 and that accepts every request. It stands for a misconfigured
RIS-PACS, so the scenario proves that GipoNext's client verifies the
transport before it sends anything.

State: `untrusted_ris` is that server, `untrusted_attempt` what GipoNext's
attempt to reach it gave; `response` is the Exchange of the last request.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, parsers, then, when
from requests.structures import CaseInsensitiveDict

from giponext_conformance.client import FHIR_JSON, BearerToken, FhirClient
from giponext_conformance.errors import TargetUnreachable, UsageError
from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA
from giponext_conformance.tlscheck import check_tls

from .common import scenario_rule
from .patient import put_patient

# Phrase of the Then step -> start of the tlscheck diagnostic it expects.
TRANSPORT_FINDINGS = {
    "an untrusted certificate authority": "untrusted certificate authority",
    "plain HTTP": "plain HTTP",
}

ACCEPTED_BODY = json.dumps(
    {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": "accepted without checks",
            }
        ],
    }
).encode("utf-8")


@dataclass
class UntrustedRisPacs:
    """Server that accepts every request, with the requests it received."""

    url: str
    received: list[str] = field(default_factory=list)


@dataclass
class ConnectionRefusal:
    """Outcome of GipoNext's attempt to send a patient, with the TLS findings."""

    error: str | None
    findings: list


def _accept_everything(received: list[str]):
    def app(environ, start_response):
        received.append(f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}")
        start_response("201 Created", [("Content-Type", FHIR_JSON)])
        return [ACCEPTED_BODY]

    return app


# --- Given ---------------------------------------------------------------------


@given(
    parsers.re(
        r"a RIS-PACS served (?P<fault>with a certificate from a CA GipoNext does "
        r"not trust|over plain HTTP)"
    ),
    target_fixture="untrusted_ris",
)
def untrusted_ris(request, ris_target, tmp_path, fault):
    """Start a server on 127.0.0.1 that accepts everything over a faulty transport."""
    if not ris_target.is_https:
        # A passing check here would hide the plain-HTTP verdict of the run.
        pytest.skip(
            f"the RIS-PACS under test is reached over plain HTTP "
            f"({ris_target.ris_url}), so the run already judges TRN-01 from its URL"
        )
    received: list[str] = []
    app = _accept_everything(received)
    if fault == "over plain HTTP":
        server = start_server(app)
    else:
        # A CA of its own, which neither the run's CA bundle nor the system
        # store contains.
        cert_path, key_path = RunCA(tmp_path / "foreign-ca").issue()
        server = start_server(app, cert_path=cert_path, key_path=key_path)
    request.addfinalizer(server.stop)
    return UntrustedRisPacs(server.url, received)


# --- When ----------------------------------------------------------------------


@when(
    "GipoNext tries to send a patient to that RIS-PACS",
    target_fixture="untrusted_attempt",
)
def send_to_untrusted(ris_target, untrusted_ris, intake, scenario_deadline):
    """Send the patient there with GipoNext's default client and run the TLS check."""
    # A throwaway token: the real credential never goes to an untrusted server.
    token = BearerToken("untrusted-" + secrets.token_urlsafe(18))
    patient = intake[0]
    error = None
    try:
        # GipoNext's default configuration: plain HTTP is not allowed.
        with FhirClient(
            untrusted_ris.url, token, ris_target.ca_bundle, deadline=scenario_deadline
        ) as client:
            put_patient(client, patient)
    except (TargetUnreachable, UsageError) as refusal:
        error = str(refusal)
    findings = check_tls(untrusted_ris.url, ris_target.ca_bundle)
    return ConnectionRefusal(error, findings)


@when(
    "GipoNext sends the patient without its id in the address",
    target_fixture="response",
)
def send_patient_to_type_address(ris, patient):
    """PUT the patient to [base]/Patient, without its id in the URL."""
    return ris.put("Patient", patient.resource)


@when("GipoNext posts the order to the order's own address", target_fixture="response")
def post_order_to_instance(ris, order):
    """POST the order to ProcedureRequest/{id} instead of ProcedureRequest."""
    return ris.post(order.path, order.resource)


@when("GipoNext sends the order without its id", target_fixture="response")
def send_order_without_id(ris, order):
    """POST the order with its id element removed."""
    body = {key: value for key, value in order.resource.items() if key != "id"}
    return ris.post("ProcedureRequest", body)


@when("GipoNext sends the order before the patient", target_fixture="response")
def send_order_first(ris, patient, order):
    """POST the order, then PUT its patient; return the order's exchange."""
    order_response = ris.post("ProcedureRequest", order.resource)
    # The patient arrives afterwards, so that a RIS-PACS that parked the order
    # and completed it later would show it in the next step.
    put_patient(ris, patient.resource)
    return order_response


# --- Then ----------------------------------------------------------------------


@then("that RIS-PACS has received nothing from GipoNext")
def received_nothing(verdicts, untrusted_ris, untrusted_attempt):
    """Check that GipoNext's client failed and the server received no request."""
    refused = untrusted_attempt.error is not None
    verdicts.check(
        "TRN-01",
        refused and not untrusted_ris.received,
        f"expected GipoNext to refuse {untrusted_ris.url} before sending anything; "
        f"found {untrusted_attempt.error or 'the request sent'} and "
        f"{len(untrusted_ris.received)} request(s) received",
    )


@then(
    parsers.re(
        r"the transport check reports "
        r"(?P<finding>an untrusted certificate authority|plain HTTP)"
    )
)
def transport_check_reports(verdicts, untrusted_ris, untrusted_attempt, finding):
    """Check that the TLS check reports the expected transport fault."""
    expected = TRANSPORT_FINDINGS[finding]
    errors = [f.diagnostics for f in untrusted_attempt.findings if f.is_error]
    verdicts.check(
        "TRN-01",
        any(text.startswith(expected) for text in errors),
        f"expected the TLS check of {untrusted_ris.url} to report {finding}; "
        f"found {'; '.join(errors) or 'no error'}",
    )


@then("the RIS-PACS refuses the request with a client error")
def refuses_with_client_error(verdicts, scenario_rules, response):
    """Check that the last request got a 4xx under the scenario's rule."""
    verdicts.check(
        scenario_rule(scenario_rules),
        400 <= response.status < 500,
        f"expected a 4xx refusal; {response.describe()}",
    )


@then("every body GipoNext sent was labelled as FHIR JSON")
def bodies_labelled(verdicts, ris):
    """Check the Content-Type of every request body the scenario's client sent."""
    sent = [exchange for exchange in ris.exchanges if exchange.request_body]
    mislabelled = [
        f"{exchange.method} {exchange.url} as {_content_type(exchange)!r}"
        for exchange in sent
        if not _is_fhir_json(_content_type(exchange))
    ]
    verdicts.check(
        "TRN-02",
        bool(sent) and not mislabelled,
        f"expected every one of the {len(sent)} bodies sent labelled {FHIR_JSON}; "
        f"found {', '.join(mislabelled) or 'none mislabelled'}",
    )


def _content_type(exchange) -> str:
    headers = CaseInsensitiveDict(exchange.request_headers)
    return headers.get("Content-Type", "")


def _is_fhir_json(content_type: str) -> bool:
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    charsets = [
        p.removeprefix("charset=") for p in parameters if p.startswith("charset=")
    ]
    return media_type == FHIR_JSON and all(c in ("utf-8", "utf8") for c in charsets)
