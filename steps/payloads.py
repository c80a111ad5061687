"""Steps about the content of the patients and orders that GipoNext sends.

Phrases offered:
    Given a patient that breaks {rule}
    Given an order that breaks {rule}
    Then the patient GipoNext sent conforms to the GipoNext profile
    Then the order GipoNext sent conforms to the GipoNext profile
    Then the RIS-PACS accepts the conforming patient
    Then the RIS-PACS accepts the conforming order
    Then the validation engine reports {rule} and no other error
    Then the RIS-PACS rejects the patient under {rule}
    Then the RIS-PACS rejects the order under {rule}
    Then the rejected patient is not stored
    Then the rejected order is not stored

The payload rules (PAT-03 to PAT-09, PR-05 to PR-12) bind GipoNext, the
sender. The validation engine judges what GipoNext put on the wire, that is
the body of the scenario's last request. A RIS-PACS need not validate
GipoNext's payloads, so a vendor's RIS-PACS that accepts a broken payload
gets a note, never a failure. The bundled mock RIS-PACS validates every
payload, and there a broken one must be rejected and leave nothing stored.

State: `patient` and `order` are RecordedResources; `response` is the
Exchange of the last request.
"""

from __future__ import annotations

import allure
from pytest_bdd import given, parsers, then

from giponext_conformance.breakers import break_payload
from giponext_conformance.catalogue import load_rules
from giponext_conformance.findings import RULE_SYSTEM, operation_outcome
from giponext_conformance.results import RuleCheckFailed, Verdicts
from giponext_conformance.validation import ValidationResult, dumps, validate_bytes

from .common import RecordedResource, scenario_rule, status_name

RESOURCE_TYPES = {"patient": "Patient", "order": "ProcedureRequest"}


def validate_sent(response, resource_type: str) -> ValidationResult:
    """Validate the body of the request behind `response` and attach the findings."""
    result = validate_bytes(response.request_body or b"", resource_type)
    allure.attach(
        _outcome_text(result),
        name=f"validation of the {resource_type} sent",
        attachment_type=allure.attachment_type.JSON,
    )
    return result


def _outcome_text(result: ValidationResult) -> str:
    return dumps(operation_outcome(result.findings), indent=2)


def describe_findings(findings) -> str:
    if not findings:
        return "no finding"
    return "; ".join(
        f"{finding.rule} {finding.severity} at {finding.expression or 'the root'}: "
        f"{finding.diagnostics}"
        for finding in findings
    )


def check_every(verdicts: Verdicts, checks) -> None:
    """Record every (rule, ok, message) check, then raise the first SHALL failure.

    A scenario that judges several rules at once reports each failing rule,
    not only the first one.
    """
    first_failure = None
    for rule, ok, message in checks:
        try:
            verdicts.check(rule, ok, message)
        except RuleCheckFailed as failure:
            first_failure = first_failure or failure
    if first_failure is not None:
        raise first_failure


def outcome_rules(resource: dict | None) -> set[str]:
    """Return the rule ids that an OperationOutcome names in its issues."""
    if not resource or resource.get("resourceType") != "OperationOutcome":
        return set()
    rules = set()
    for issue in resource.get("issue") or []:
        details = issue.get("details") if isinstance(issue, dict) else None
        if not isinstance(details, dict):
            continue
        for coding in details.get("coding") or []:
            if isinstance(coding, dict) and coding.get("system") == RULE_SYSTEM:
                rules.add(str(coding.get("code")))
    return rules


# --- Given ---------------------------------------------------------------------


@given(parsers.parse("a patient that breaks {rule}"), target_fixture="patient")
def breaking_patient(rule, scenario_seed):
    """Build the scenario's patient changed so that it breaks exactly `rule`."""
    # The breakers start from the resources that build_intake makes for the
    # same seed, so the payload has the scenario's own patient id.
    resource = break_payload("Patient", rule, scenario_seed)
    return RecordedResource(resource, f"Patient/{resource['id']}")


@given(parsers.parse("an order that breaks {rule}"), target_fixture="order")
def breaking_order(rule, scenario_seed):
    """Build the scenario's order changed so that it breaks exactly `rule`."""
    # Same seed as the `intake` fixture, so the order's subject is the
    # patient that the scenario's Background stored on the RIS-PACS.
    resource = break_payload("ProcedureRequest", rule, scenario_seed)
    return RecordedResource(resource, f"ProcedureRequest/{resource['id']}")


# --- Then: conforming payloads ---------------------------------------------------


@then(
    parsers.re(
        r"the (?P<kind>patient|order) GipoNext sent conforms to the GipoNext profile"
    )
)
def sent_payload_conforms(verdicts, scenario_rules, response, kind):
    """Check the sent body against each tagged rule and for errors of any rule."""
    resource_type = RESOURCE_TYPES[kind]
    result = validate_sent(response, resource_type)

    # Rules tagged on the scenario, and any other rule with an error finding.
    rules = list(scenario_rules)
    rules += [f.rule for f in result.errors if f.rule not in rules]
    findings_by_rule = {
        rule: [f for f in result.findings if f.rule == rule] for rule in rules
    }
    checks = [
        (
            rule,
            not findings,
            f"expected the {resource_type} GipoNext sent to meet {rule}; the "
            f"validation engine found {describe_findings(findings)}",
        )
        for rule, findings in findings_by_rule.items()
    ]
    check_every(verdicts, checks)


@then(parsers.re(r"the RIS-PACS accepts the conforming (?P<kind>patient|order)"))
def accepts_conforming(verdicts, scenario_rules, response, kind):
    """Check that the RIS-PACS accepted the conforming payload (200 or 201)."""
    accepted = response.status in (200, 201)
    message = (
        f"expected the conforming {RESOURCE_TYPES[kind]} accepted with "
        f"{status_name(201)} or {status_name(200)}; {response.describe()}"
    )
    check_every(verdicts, [(rule, accepted, message) for rule in scenario_rules])


# --- Then: payloads that break one rule ------------------------------------------


@then(parsers.parse("the validation engine reports {rule} and no other error"))
def engine_reports_rule(verdicts, response, rule):
    """Check that the engine reports `rule` and no error of another rule."""
    resource_type = load_rules()[rule].resource
    result = validate_sent(response, resource_type)

    named = [f for f in result.findings if f.rule == rule]
    other_errors = [f for f in result.errors if f.rule != rule]
    verdicts.check(
        rule,
        bool(named) and not other_errors,
        f"expected the validation engine to report {rule} and no other error for "
        f"the {resource_type} sent; found {rule}: {describe_findings(named)}; "
        f"other errors: {describe_findings(other_errors)}",
    )


@then(
    parsers.re(r"the RIS-PACS rejects the (?P<kind>patient|order) under (?P<rule>\S+)")
)
def rejects_under_rule(verdicts, ris_target, response, kind, rule):
    """Check that the mock rejected the payload naming `rule`, or note a vendor."""
    resource_type = RESOURCE_TYPES[kind]
    if not ris_target.bundled:
        _note_vendor_answer(verdicts, response, resource_type, rule)
        return

    # The bundled mock returns 400 for JSON and FHIR base errors and 422 for
    # profile and Italian rules, as the engine's http_status gives.
    sent = validate_bytes(response.request_body or b"", resource_type)
    expected = sent.http_status or 422
    named = outcome_rules(response.resource)
    # NOTE: an error sent without an OperationOutcome is judged by its status
    # alone, because TRN-05 already judges the form of the error body.
    names_rule = rule in named or response.resource_type != "OperationOutcome"
    verdicts.check(
        rule,
        response.status == expected and names_rule,
        f"expected {status_name(expected)} with {rule} in the OperationOutcome "
        f"for a {resource_type} that breaks it; {response.describe()} naming "
        f"{', '.join(sorted(named)) or 'no rule'}",
    )


def _note_vendor_answer(verdicts, response, resource_type: str, rule: str) -> None:
    if 200 <= response.status < 300:
        verdicts.warn(
            rule,
            f"the RIS-PACS accepted a {resource_type} that breaks {rule} "
            f"({response.describe()}); a RIS-PACS need not validate GipoNext's "
            "payloads, so this is a note, not a failure",
        )


@then(parsers.re(r"the rejected (?P<kind>patient|order) is not stored"))
def rejected_not_stored(
    verdicts, ris, ris_target, response, request, scenario_rules, kind
):
    """Check that the rejected payload cannot be read back from the RIS-PACS."""
    rule = scenario_rule(scenario_rules)
    recorded = request.getfixturevalue(kind)
    if not ris_target.bundled and 200 <= response.status < 300:
        # Accepted by a vendor's RIS-PACS, which the previous step noted.
        return

    found = ris.get(recorded.path)
    stored = found.status == 200
    message = (
        f"expected {recorded.path} not stored after {response.describe()}; "
        f"reading it {found.describe()}"
    )
    if ris_target.bundled:
        verdicts.check(rule, not stored, message)
    elif stored:
        verdicts.warn(rule, message)
