"""Engine: layer order, status codes, and a failing layer turned into a finding."""

from __future__ import annotations

import logging

from validation_helpers import encode

from giponext_conformance.validation import engine, validate_bytes, validate_resource


def test_valid_payload_has_no_status(generated):
    result = validate_bytes(encode(generated.procedure_request), "ProcedureRequest")

    assert result.findings == []
    assert result.http_status is None
    assert result.resource_type == "ProcedureRequest"


def test_profile_error_answers_422(generated):
    order = dict(generated.procedure_request, status="draft")

    result = validate_bytes(encode(order), "ProcedureRequest")

    assert [(f.rule, f.layer) for f in result.errors] == [("PR-06", "profile")]
    assert result.http_status == 422


def test_base_and_profile_errors_answer_400(generated):
    order = dict(generated.procedure_request, status="open")

    result = validate_bytes(encode(order), "ProcedureRequest")

    assert {(f.rule, f.layer) for f in result.errors} == {
        ("TRN-09", "base"),
        ("PR-06", "profile"),
    }
    assert result.http_status == 400


def test_json_error_stops_later_layers():
    result = validate_bytes(b'{"resourceType": "Patient", "id": "1",}', "Patient")

    assert {f.layer for f in result.findings} == {"json"}
    assert result.resource is None
    assert result.resource_type is None


def test_unprofiled_type_gets_base_only():
    result = validate_resource({"resourceType": "Basic", "code": {"text": "x"}})

    assert result.findings == []


def test_non_object_resource():
    result = validate_resource(["Patient"])

    assert [(f.rule, f.layer) for f in result.findings] == [("TRN-06", "json")]
    assert result.http_status == 400


def test_failing_layer_becomes_finding(generated, monkeypatch, caplog):
    def broken(_resource, _resource_type):
        raise KeyError("boom")

    monkeypatch.setattr(engine, "LAYERS_AFTER_BASE", (("italian", broken),))

    with caplog.at_level(
        logging.ERROR, logger="giponext_conformance.validation.engine"
    ):
        result = validate_bytes(encode(generated.patient), "Patient")

    assert [(f.code, f.layer) for f in result.findings] == [("exception", "italian")]
    assert result.http_status == 422
    assert "validation layer italian failed" in caplog.text
