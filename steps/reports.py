"""Steps about the GipoNext mock's report endpoint (what GipoNext will take).

Phrases offered:
    Given GipoNext has sent an order for a patient
    Given a conformant report for the order
    Given a conformant report for an order GipoNext never sent
    Given a conformant report about another patient
    Given a conformant report signed by a doctor GipoNext does not know
    Given a report that breaks {rule}
    Given GipoNext has stored a report for the order
    Given the report was corrected since the RIS-PACS read it
    When the RIS-PACS sends the report to GipoNext
    When the RIS-PACS sends the report to GipoNext again
    When the RIS-PACS sends the report to GipoNext without a credential
    When the RIS-PACS sends the report to GipoNext with an unknown API key
    When the RIS-PACS sends the report to GipoNext as application/json
    When the RIS-PACS sends the report under another tenant's userId
    When the RIS-PACS sends the report under a userId no tenant has
    When the RIS-PACS sends GipoNext a body over its size limit
    When the RIS-PACS corrects the report naming the current version as a {form} ETag
    When the RIS-PACS corrects the report naming the version it read
    When the RIS-PACS withdraws the report
    Then GipoNext accepts the report
    Then GipoNext accepts the report with a warning under {rule}
    Then GipoNext returns the report it stored
    Then GipoNext rejects the report under {rule}
    Then GipoNext has stored no report
    Then GipoNext stores the correction as version 2
    Then GipoNext reports a version conflict
    Then GipoNext reports that the report already exists
    Then the stored report is still version {version:d}
    Then GipoNext confirms the withdrawal
    Then reading the report shows that it was withdrawn
    Then GipoNext asks for a valid bearer credential
    Then GipoNext reports the credential as invalid
    Then GipoNext refuses the other tenant's userId
    Then GipoNext reports the userId as unknown
    Then GipoNext rejects the media type
    Then GipoNext rejects the body as too large

State: `sent` (SentOrder) is the order GipoNext registered for the tenant,
`report_payload` the body to send (a dict, or bytes for malformed JSON),
`stored_report` the report GipoNext stored, and `report_response` the Exchange of the
scenario's last request to GipoNext.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from pytest_bdd import given, parsers, then, when

from giponext_conformance.client import NO_AUTHORIZATION, BearerToken, Exchange

FHIR_JSON = "application/fhir+json"
REPORTS = "DiagnosticReport"


@dataclass
class SentOrder:
    """An order GipoNext registered for its tenant, with the resources that agree."""

    patient: dict
    order: dict
    report: dict
    reports_before: int


def _issue_rules(exchange: Exchange, severities=("error", "fatal")) -> list[str]:
    body = exchange.resource or {}
    if body.get("resourceType") != "OperationOutcome":
        return []
    rules = []
    for issue in body.get("issue") or []:
        if issue.get("severity") not in severities:
            continue
        for coding in (issue.get("details") or {}).get("coding") or []:
            rules.append(coding.get("code"))
    return rules


def _body_and_type(payload):
    if isinstance(payload, bytes | bytearray):
        return bytes(payload), FHIR_JSON
    return json.dumps(payload, ensure_ascii=False).encode("utf-8"), FHIR_JSON


def _report_count(giponext_endpoint) -> int:
    return giponext_endpoint.mock.state.count_reports(giponext_endpoint.tenant)


# --- Given ---------------------------------------------------------------------


@given("GipoNext has sent an order for a patient", target_fixture="sent")
def order_sent(giponext_endpoint, scenario_seed):
    from giponext_conformance.breakers import valid_set

    resources = valid_set(scenario_seed)
    giponext_endpoint.register_order(resources.procedure_request, resources.patient)
    return SentOrder(
        resources.patient,
        resources.procedure_request,
        resources.diagnostic_report,
        _report_count(giponext_endpoint),
    )


@given("a conformant report for the order", target_fixture="report_payload")
def conformant_report(sent):
    return copy.deepcopy(sent.report)


@given(
    "a conformant report for an order GipoNext never sent",
    target_fixture="report_payload",
)
def report_for_unknown_order(sent):
    report = copy.deepcopy(sent.report)
    report["basedOn"] = [{"reference": f"ProcedureRequest/{sent.order['id']}X9"}]
    return report


@given("a conformant report about another patient", target_fixture="report_payload")
def report_about_other_patient(sent):
    report = copy.deepcopy(sent.report)
    report["subject"] = {"reference": f"Patient/{sent.patient['id']}7"}
    return report


@given(
    "a conformant report signed by a doctor GipoNext does not know",
    target_fixture="report_payload",
)
def report_by_unknown_doctor(sent, scenario_faker):
    report = copy.deepcopy(sent.report)
    stranger = scenario_faker.gipo_doctor()
    report["performer"][0]["actor"]["identifier"]["value"] = stranger["codice_fiscale"]
    report["performer"][0]["actor"]["display"] = stranger["display"]
    return report


@given(parsers.parse("a report that breaks {rule}"), target_fixture="report_payload")
def breaking_report(sent, rule, scenario_seed):
    from giponext_conformance.breakers import break_payload

    return break_payload(REPORTS, rule, scenario_seed)


@given("GipoNext has stored a report for the order", target_fixture="stored_report")
def store_report(giponext, sent):
    created = giponext.post(REPORTS, sent.report)
    assert created.status == 201, (
        f"setup: expected 201 for the report, {created.describe()}"
    )
    return copy.deepcopy(sent.report)


@given("the report was corrected since the RIS-PACS read it")
def corrected_meanwhile(giponext, stored_report):
    other = {**stored_report, "status": "amended"}
    answer = giponext.put(f"{REPORTS}/{stored_report['id']}", other)
    assert answer.status == 200, (
        f"setup: expected 200 for the correction, {answer.describe()}"
    )


# --- When ----------------------------------------------------------------------


@when("the RIS-PACS sends the report to GipoNext", target_fixture="report_response")
def send_report(giponext, report_payload):
    body, content_type = _body_and_type(report_payload)
    return giponext.post(REPORTS, body, content_type)


@when(
    "the RIS-PACS sends the report to GipoNext again", target_fixture="report_response"
)
def send_report_again(giponext, stored_report):
    return giponext.post(REPORTS, {**stored_report, "conclusion": "Second delivery."})


@when(
    "the RIS-PACS sends the report to GipoNext without a credential",
    target_fixture="report_response",
)
def send_without_credential(giponext, report_payload):
    return giponext.with_auth(NO_AUTHORIZATION).post(REPORTS, report_payload)


@when(
    "the RIS-PACS sends the report to GipoNext with an unknown API key",
    target_fixture="report_response",
)
def send_with_unknown_key(giponext, report_payload):
    return giponext.with_auth(BearerToken("gpn_unknown_key_0000000000")).post(
        REPORTS, report_payload
    )


@when(
    "the RIS-PACS sends the report to GipoNext as application/json",
    target_fixture="report_response",
)
def send_as_plain_json(giponext, report_payload):
    body = json.dumps(report_payload).encode("utf-8")
    return giponext.post(REPORTS, body, "application/json")


@when(
    "the RIS-PACS sends the report under another tenant's userId",
    target_fixture="report_response",
)
def send_under_other_tenant(giponext, giponext_endpoint, report_payload):
    other, _key = giponext_endpoint.mock.add_tenant()
    return giponext.post(
        f"{giponext_endpoint.server.url}/fhir/r3/{other}/{REPORTS}", report_payload
    )


@when(
    "the RIS-PACS sends the report under a userId no tenant has",
    target_fixture="report_response",
)
def send_under_unknown_tenant(giponext, giponext_endpoint, report_payload):
    url = f"{giponext_endpoint.server.url}/fhir/r3/no-such-tenant/{REPORTS}"
    return giponext.post(url, report_payload)


@when(
    "the RIS-PACS sends GipoNext a body over its size limit",
    target_fixture="report_response",
)
def send_oversized(giponext, giponext_endpoint):
    limit = giponext_endpoint.mock.config.max_body_bytes
    return giponext.post(REPORTS, b" " * (limit + 1), FHIR_JSON)


@when(
    parsers.parse(
        "the RIS-PACS corrects the report naming the current version as a {form} ETag"
    ),
    target_fixture="report_response",
)
def correct_current(giponext, stored_report, form):
    tag = 'W/"1"' if form == "weak" else '"1"'
    corrected = {**stored_report, "status": "corrected"}
    return giponext.put(
        f"{REPORTS}/{stored_report['id']}", corrected, headers={"If-Match": tag}
    )


@when(
    "the RIS-PACS corrects the report naming the version it read",
    target_fixture="report_response",
)
def correct_outdated(giponext, stored_report):
    corrected = {**stored_report, "status": "corrected"}
    return giponext.put(
        f"{REPORTS}/{stored_report['id']}", corrected, headers={"If-Match": 'W/"1"'}
    )


@when("the RIS-PACS withdraws the report", target_fixture="report_response")
def withdraw(giponext, stored_report):
    return giponext.delete(f"{REPORTS}/{stored_report['id']}")


# --- Then ----------------------------------------------------------------------


@then("GipoNext accepts the report")
def accepts_report(verdicts, report_response, report_payload):
    location = report_response.location or ""
    expected_path = f"/{REPORTS}/{report_payload['id']}/_history/1"
    verdicts.check(
        "DR-01",
        report_response.status == 201 and expected_path in location,
        f"expected 201 with Location ending {expected_path};"
        f" {report_response.describe()}"
        f" with Location {location or 'missing'}",
    )
    etag = report_response.headers.get("ETag")
    verdicts.check("DR-01", etag == 'W/"1"', f'expected ETag W/"1", found {etag!r}')


@then(parsers.parse("GipoNext accepts the report with a warning under {rule}"))
def accepts_with_warning(verdicts, report_response, rule):
    warned = rule in _issue_rules(report_response, ("warning",))
    verdicts.check(
        rule,
        report_response.status == 201 and warned,
        f"expected 201 with a warning issue under {rule}; {report_response.describe()},"
        f" warnings under {_issue_rules(report_response, ('warning',)) or 'none'}",
    )


@then("GipoNext returns the report it stored")
def returns_stored(verdicts, giponext, report_payload):
    answer = giponext.get(f"{REPORTS}/{report_payload['id']}")
    stored = {
        key: value for key, value in (answer.resource or {}).items() if key != "meta"
    }
    verdicts.check(
        "DR-01",
        answer.status == 200 and stored == report_payload,
        f"expected 200 with the report as sent; {answer.describe()}",
    )


@then(parsers.parse("GipoNext rejects the report under {rule}"))
def rejects_under(verdicts, report_response, rule):
    rules = _issue_rules(report_response)
    verdicts.check(
        rule,
        report_response.status in (400, 422) and rule in rules,
        f"expected 400 or 422 with an error issue under {rule};"
        f" {report_response.describe()}, errors under {rules or 'no rule'}",
    )


@then("GipoNext has stored no report")
def stored_nothing(verdicts, scenario_rules, giponext_endpoint, sent):
    count = _report_count(giponext_endpoint)
    rule = scenario_rules[0] if scenario_rules else "DR-01"
    verdicts.check(
        rule,
        count == sent.reports_before,
        f"expected {sent.reports_before} stored report versions after the rejected"
        f" request, found {count}",
    )


def _stored_version(giponext, stored_report) -> tuple[Exchange, str | None]:
    answer = giponext.get(f"{REPORTS}/{stored_report['id']}")
    meta = (answer.resource or {}).get("meta") or {}
    return answer, meta.get("versionId")


@then("GipoNext stores the correction as version 2")
def stores_correction(verdicts, giponext, stored_report, report_response):
    etag = report_response.headers.get("ETag")
    verdicts.check(
        "DR-01",
        report_response.status == 200 and etag == 'W/"2"',
        f'expected 200 with ETag W/"2"; {report_response.describe()}'
        f" with ETag {etag!r}",
    )
    answer, version = _stored_version(giponext, stored_report)
    status = (answer.resource or {}).get("status")
    verdicts.check(
        "DR-01",
        version == "2" and status == "corrected",
        f"expected version 2 with status corrected; {answer.describe()}, version"
        f" {version}, status {status}",
    )


@then("GipoNext reports a version conflict")
def reports_conflict(verdicts, report_response):
    verdicts.check(
        "DR-01",
        report_response.status == 409,
        f"expected 409 for an outdated If-Match; {report_response.describe()}",
    )


@then("GipoNext reports that the report already exists")
def reports_duplicate(verdicts, report_response):
    rules = _issue_rules(report_response)
    verdicts.check(
        "DR-02",
        report_response.status == 409 and "DR-02" in rules,
        f"expected 409 under DR-02; {report_response.describe()}, errors under"
        f" {rules or 'no rule'}",
    )


@then(parsers.parse("the stored report is still version {version:d}"))
def still_version(verdicts, scenario_rules, giponext, stored_report, version):
    answer, found = _stored_version(giponext, stored_report)
    verdicts.check(
        scenario_rules[0],
        found == str(version),
        f"expected the stored report at version {version}; {answer.describe()},"
        f" version {found}",
    )


@then("GipoNext confirms the withdrawal")
def confirms_withdrawal(verdicts, report_response):
    verdicts.check(
        "DR-01",
        report_response.status in (200, 204),
        f"expected 200 or 204 for the withdrawal; {report_response.describe()}",
    )


@then("reading the report shows that it was withdrawn")
def reads_withdrawn(verdicts, giponext, stored_report):
    answer = giponext.get(f"{REPORTS}/{stored_report['id']}")
    verdicts.check(
        "DR-01",
        answer.status in (404, 410) and answer.resource_type == "OperationOutcome",
        f"expected 410 or 404 with an OperationOutcome; {answer.describe()}",
    )


@then("GipoNext asks for a valid bearer credential")
def asks_for_credential(verdicts, report_response):
    challenge = report_response.headers.get("WWW-Authenticate", "")
    verdicts.check(
        "GAUTH-01",
        report_response.status == 401 and challenge.lower().startswith("bearer"),
        f"expected 401 with a Bearer challenge; {report_response.describe()} with"
        f" WWW-Authenticate {challenge or 'missing'!r}",
    )


@then("GipoNext reports the credential as invalid")
def reports_invalid_credential(verdicts, report_response):
    challenge = report_response.headers.get("WWW-Authenticate", "")
    verdicts.check(
        "GAUTH-01",
        report_response.status == 401 and 'error="invalid_token"' in challenge,
        f'expected 401 with error="invalid_token"; {report_response.describe()} with'
        f" WWW-Authenticate {challenge or 'missing'!r}",
    )


@then("GipoNext refuses the other tenant's userId")
def refuses_other_tenant(verdicts, report_response):
    verdicts.check(
        "GAUTH-04",
        report_response.status == 403,
        f"expected 403 for another tenant's userId; {report_response.describe()}",
    )


@then("GipoNext reports the userId as unknown")
def reports_unknown_tenant(verdicts, report_response):
    verdicts.check(
        "GAUTH-04",
        report_response.status == 404,
        f"expected 404 for a userId no tenant has; {report_response.describe()}",
    )


@then("GipoNext rejects the media type")
def rejects_media_type(verdicts, report_response):
    verdicts.check(
        "TRN-02",
        report_response.status == 415,
        f"expected 415 for application/json; {report_response.describe()}",
    )


@then("GipoNext rejects the body as too large")
def rejects_too_large(verdicts, report_response):
    verdicts.check(
        "TRN-08",
        report_response.status == 413,
        f"expected 413 for a body over the limit; {report_response.describe()}",
    )
