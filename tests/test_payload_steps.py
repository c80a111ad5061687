"""Helpers of the payload and refusal steps, without a server."""

import pytest

from giponext_conformance.findings import RULE_SYSTEM, Finding, operation_outcome
from giponext_conformance.results import FAIL, PASSED, RuleCheckFailed, Verdicts
from giponext_conformance.steps.payloads import check_every, outcome_rules
from giponext_conformance.steps.refusals import _is_fhir_json


def test_outcome_rules_reads_rule_codings():
    outcome = operation_outcome(
        [
            Finding("PAT-07", "error", "code-invalid", "Patient.extension", "x"),
            Finding("PAT-05", "warning", "business-rule", "Patient.identifier", "y"),
        ]
    )

    assert outcome_rules(outcome) == {"PAT-07", "PAT-05"}


def test_outcome_rules_ignores_other_systems():
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "invalid",
                "details": {"coding": [{"system": "urn:other", "code": "PAT-07"}]},
            },
            "not an issue",
            {"severity": "error", "code": "invalid", "details": "text"},
        ],
    }

    assert outcome_rules(outcome) == set()


@pytest.mark.parametrize(
    "body", [None, {}, {"resourceType": "Patient", "id": "1"}, {"issue": []}]
)
def test_outcome_rules_without_outcome(body):
    assert outcome_rules(body) == set()


def test_outcome_rules_system_is_catalogue():
    issue = {"details": {"coding": [{"system": RULE_SYSTEM, "code": "PR-11"}]}}

    assert outcome_rules({"resourceType": "OperationOutcome", "issue": [issue]}) == {
        "PR-11"
    }


def test_check_every_records_each_failure():
    verdicts = Verdicts()
    checks = [
        ("PAT-03", False, "first"),
        ("PAT-04", True, "second"),
        ("PAT-07", False, "third"),
    ]

    with pytest.raises(RuleCheckFailed) as raised:
        check_every(verdicts, checks)

    assert raised.value.rule == "PAT-03"
    kinds = [(result.rule, result.kind) for result in verdicts.results]
    assert kinds == [("PAT-03", FAIL), ("PAT-04", PASSED), ("PAT-07", FAIL)]


def test_check_every_passes_quietly():
    verdicts = Verdicts()

    check_every(verdicts, [("PR-05", True, "ok"), ("PR-06", True, "ok")])

    assert [result.kind for result in verdicts.results] == [PASSED, PASSED]
    assert verdicts.failed_check is False


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/fhir+json", True),
        ("application/fhir+json; charset=utf-8", True),
        ("Application/FHIR+JSON;charset=UTF-8", True),
        ("application/fhir+json; charset=iso-8859-1", False),
        ("application/json", False),
        ("application/fhir+xml", False),
        ("", False),
    ],
)
def test_is_fhir_json(content_type, expected):
    assert _is_fhir_json(content_type) is expected
