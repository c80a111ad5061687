"""`generate` command: valid payloads, counts, seeds and rule-breaking payloads."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from giponext_conformance.cli import main
from giponext_conformance.validation import validate_bytes


def run(argv, capsys):
    status = main(["generate", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    ("name", "resource_type"),
    [
        ("patient", "Patient"),
        ("procedure-request", "ProcedureRequest"),
        ("diagnostic-report", "DiagnosticReport"),
    ],
)
def test_generated_payload_is_valid(name, resource_type, capsys):
    status, out, _ = run([name, "--seed", "4"], capsys)

    result = validate_bytes(out.encode("utf-8"), resource_type)
    assert status == 0
    assert result.resource["resourceType"] == resource_type
    assert result.findings == []


def test_count_gives_array_of_distinct_payloads(capsys):
    status, out, _ = run(["patient", "--count", "3", "--seed", "10"], capsys)

    payloads = json.loads(out, parse_float=Decimal)
    assert status == 0
    assert len(payloads) == 3
    assert len({payload["id"] for payload in payloads}) == 3


def test_seed_reproducible(capsys):
    _, first, _ = run(["procedure-request", "--seed", "9"], capsys)
    _, second, _ = run(["procedure-request", "--seed", "9"], capsys)

    assert first == second


def test_break_rule_reported(capsys):
    status, out, _ = run(["diagnostic-report", "--break", "dr-05"], capsys)

    result = validate_bytes(out.encode("utf-8"), "DiagnosticReport")
    assert status == 0
    assert [(f.rule, f.expression) for f in result.errors] == [
        ("DR-05", "DiagnosticReport.status")
    ]


def test_break_malformed_json(capsys):
    status, out, _ = run(["patient", "--break", "TRN-06", "--count", "2"], capsys)

    bodies = out.strip().split("\n\n")
    assert status == 0
    assert len(bodies) == 2
    for body in bodies:
        assert [f.rule for f in validate_bytes(body.encode()).errors] == ["TRN-06"]


def test_unbreakable_rule_exits_two(capsys):
    status, out, err = run(["patient", "--break", "GAUTH-01"], capsys)

    assert status == 2
    assert out == ""
    assert err.startswith(
        "giponext-conformance: No Patient payload breaks rule 'GAUTH-01'"
    )
    assert "PAT-03" in err
    assert err.count("\n") == 1


def test_count_out_of_range(capsys):
    status, _, err = run(["patient", "--count", "0"], capsys)

    assert status == 2
    assert "--count must be between 1 and 10000" in err
