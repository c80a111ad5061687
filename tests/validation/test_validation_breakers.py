"""Breakers: each payload breaks its rule and no other; every rule has one."""

from __future__ import annotations

import pytest
from validation_helpers import encode

from giponext_conformance.breakers import (
    RESOURCE_TYPES,
    break_payload,
    breakable_rules,
    breaking_payloads,
)
from giponext_conformance.catalogue import load_rules
from giponext_conformance.errors import UsageError
from giponext_conformance.validation import validate_bytes

PAYLOAD_LAYERS = {"json", "base", "profile", "italian"}


def findings_for(resource_type, payload):
    body = payload if isinstance(payload, bytes) else encode(payload)
    return validate_bytes(body, resource_type).findings


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
@pytest.mark.parametrize("seed", [0, 11])
def test_payload_breaks_only_its_rule(resource_type, seed):
    checked = 0
    for rule_id, payload in breaking_payloads(resource_type, seed):
        findings = findings_for(resource_type, payload)
        expected_severity = (
            "warning" if load_rules()[rule_id].level == "SHOULD" else "error"
        )

        hits = [f for f in findings if f.rule == rule_id]
        other_errors = [
            (f.rule, f.expression) for f in findings if f.is_error and f.rule != rule_id
        ]
        assert hits, rule_id
        assert {f.severity for f in hits} == {expected_severity}, rule_id
        assert other_errors == [], rule_id
        checked += 1
    assert checked == len(breakable_rules(resource_type))


def test_every_payload_rule_has_a_check():
    rules = load_rules()
    payload_rules = {
        rule.id
        for rule in rules.values()
        if rule.resource != "-" and PAYLOAD_LAYERS & set(rule.layers)
    }
    reported = set()
    for resource_type in RESOURCE_TYPES:
        for rule_id, payload in breaking_payloads(resource_type):
            reported |= {
                f.rule
                for f in findings_for(resource_type, payload)
                if f.rule == rule_id
            }

    assert sorted(payload_rules - reported) == []


def test_breakable_rules_of_patient():
    assert breakable_rules("Patient") == [
        "TRN-06",
        "TRN-07",
        "TRN-09",
        "PAT-03",
        "PAT-04",
        "PAT-05",
        "PAT-06",
        "PAT-07",
        "PAT-08",
        "PAT-09",
    ]


def test_http_only_rules_not_breakable():
    assert "GAUTH-01" not in breakable_rules("DiagnosticReport")
    assert "DR-01" not in breakable_rules("DiagnosticReport")
    assert "PR-01" not in breakable_rules("ProcedureRequest")


def test_malformed_json_payload_is_bytes():
    payload = break_payload("Patient", "TRN-06")

    assert isinstance(payload, bytes)
    assert payload.rstrip().endswith(b",\n}")


def test_unbreakable_rule_names_alternatives():
    with pytest.raises(UsageError) as raised:
        break_payload("Patient", "DR-05")

    message = str(raised.value)
    assert "No Patient payload breaks rule 'DR-05'" in message
    assert "PAT-09" in message


def test_unknown_rule_rejected():
    with pytest.raises(UsageError):
        break_payload("DiagnosticReport", "XX-99")


def test_same_seed_same_payload():
    assert break_payload("ProcedureRequest", "PR-06", 3) == break_payload(
        "ProcedureRequest", "PR-06", 3
    )
