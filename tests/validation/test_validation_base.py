"""Base layer: FHIR STU3 structure, bindings, formats and R4 shapes (status 400)."""

from __future__ import annotations

import pytest
from validation_helpers import encode

from giponext_conformance.validation import validate_bytes, validate_resource
from giponext_conformance.validation.base import check_base


def base_errors(resource, expected_type=None):
    return [
        (finding.rule, finding.code, finding.expression)
        for finding in check_base(resource, expected_type)
    ]


def patient(**members):
    return {"resourceType": "Patient", "id": "p1", **members}


def order(**members):
    resource = {
        "resourceType": "ProcedureRequest",
        "id": "o1",
        "status": "active",
        "intent": "order",
        "code": {"text": "CT"},
        "subject": {"reference": "Patient/p1"},
    }
    resource.update(members)
    return resource


def report(**members):
    resource = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "code": {"text": "CT"},
        "subject": {"reference": "Patient/p1"},
        "issued": "2025-11-04T10:02:31Z",
    }
    resource.update(members)
    return resource


def test_generated_payloads_pass(generated):
    for resource in (
        generated.patient,
        generated.procedure_request,
        generated.diagnostic_report,
    ):
        assert check_base(resource, resource["resourceType"]) == []


def test_unknown_element_and_nested_location():
    resource = patient(name=[{"family": "Rossi", "given": ["Mario", 7], "nick": "M"}])

    assert base_errors(resource) == [
        ("TRN-09", "value", "Patient.name[0].given[1]"),
        ("TRN-09", "structure", "Patient.name[0].nick"),
    ]


def test_cardinality_single_value_as_array():
    assert base_errors(patient(gender=["male"])) == [
        ("TRN-09", "structure", "Patient.gender")
    ]


def test_required_element_missing():
    resource = order()
    del resource["subject"]

    assert base_errors(resource) == [("TRN-09", "required", "ProcedureRequest.subject")]


@pytest.mark.parametrize(
    ("members", "rule", "expression"),
    [
        ({"gender": "M"}, "TRN-09", "Patient.gender"),
        (
            {"telecom": [{"system": "mobile", "value": "1"}]},
            "PAT-09",
            "Patient.telecom[0].system",
        ),
        (
            {"telecom": [{"system": "phone", "use": "cell"}]},
            "PAT-09",
            "Patient.telecom[0].use",
        ),
        ({"address": [{"use": "domicile"}]}, "TRN-09", "Patient.address[0].use"),
        ({"address": [{"type": "street"}]}, "TRN-09", "Patient.address[0].type"),
        ({"name": [{"use": "legal"}]}, "TRN-09", "Patient.name[0].use"),
        ({"identifier": [{"use": "primary"}]}, "TRN-09", "Patient.identifier[0].use"),
        (
            {"text": {"status": "auto", "div": "<div>x</div>"}},
            "TRN-09",
            "Patient.text.status",
        ),
        ({"contact": [{"gender": "f"}]}, "TRN-09", "Patient.contact[0].gender"),
    ],
)
def test_required_binding_on_patient(members, rule, expression):
    assert base_errors(patient(**members)) == [(rule, "code-invalid", expression)]


@pytest.mark.parametrize(
    ("resource", "expression"),
    [
        (order(status="open"), "ProcedureRequest.status"),
        (order(intent="request"), "ProcedureRequest.intent"),
        (order(priority="high"), "ProcedureRequest.priority"),
        (report(status="done"), "DiagnosticReport.status"),
    ],
)
def test_required_binding_on_requests(resource, expression):
    assert base_errors(resource) == [("TRN-09", "code-invalid", expression)]


def test_binding_message_lists_codes():
    finding = check_base(patient(gender="M"))[0]

    assert "'M'" in finding.diagnostics
    assert "female, male, other, unknown" in finding.diagnostics


@pytest.mark.parametrize(
    ("members", "expression"),
    [
        ({"name": [{"family": ""}]}, "Patient.name[0].family"),
        ({"name": []}, "Patient.name"),
        ({"maritalStatus": {}}, "Patient.maritalStatus"),
        ({"name": [{}]}, "Patient.name[0]"),
    ],
)
def test_empty_values_rejected(members, expression):
    assert base_errors(patient(**members)) == [("TRN-09", "value", expression)]


@pytest.mark.parametrize("value", ["a" * 65, "has space", "under_score", "é"])
def test_invalid_ids(value):
    resource = patient()
    resource["id"] = value

    assert base_errors(resource) == [("TRN-09", "value", "Patient.id")]


def test_id_of_64_characters_valid():
    resource = patient()
    resource["id"] = "A-b.9" + "x" * 59

    assert base_errors(resource) == []


def test_extension_with_value_and_extensions():
    extension = {
        "url": "http://example.org/x",
        "valueString": "a",
        "extension": [{"url": "inner", "valueBoolean": True}],
    }

    assert base_errors(patient(extension=[extension])) == [
        ("TRN-09", "invariant", "Patient.extension[0]")
    ]


def test_extension_with_two_values():
    extension = {
        "url": "http://example.org/x",
        "valueString": "a",
        "valueBoolean": True,
    }

    assert base_errors(patient(extension=[extension])) == [
        ("TRN-09", "structure", "Patient.extension[0]")
    ]


def test_primitive_extension_valid():
    resource = patient(
        birthDate="1980-02-12",
        _birthDate={
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                    "valueDateTime": "1980-02-12T06:30:00+01:00",
                }
            ]
        },
    )

    assert base_errors(resource) == []


@pytest.mark.parametrize(
    "value",
    [
        "2019-07-16T12:41:51.0519077+02:00",
        "2019-07-16T12:41:51Z",
        "2016-12-31T23:59:60Z",
        "2019-07-16",
        "2019-07",
        "2019",
        "2019-07-16T12:41:51.1-14:00",
    ],
)
def test_valid_date_times(value):
    assert base_errors(order(authoredOn=value, occurrenceDateTime=value)) == []


@pytest.mark.parametrize(
    "value",
    [
        "2019-07-16T12:41:51",
        "2019-07-16T12:41Z",
        "2019-07-16 12:41:51Z",
        "2019-02-30",
        "2019-13-01",
        "16/07/2019",
        "2019-07-16T12:41:51+2:00",
    ],
)
def test_invalid_date_times(value):
    assert base_errors(order(authoredOn=value)) == [
        ("PR-10", "value", "ProcedureRequest.authoredOn")
    ]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2019-10-22T10:00:00+00:00", True),
        ("2019-10-22T10:00:00.1234567Z", True),
        ("2019-10-22T10:00:60Z", True),
        ("2019-10-22T10:00:00", False),
        ("2019-10-22", False),
        ("2019-02-29T10:00:00Z", False),
    ],
)
def test_issued_is_instant(value, valid):
    expected = [] if valid else [("DR-07", "value", "DiagnosticReport.issued")]

    assert base_errors(report(issued=value)) == expected


def test_birth_date_calendar_rule():
    assert base_errors(patient(birthDate="1981-02-29")) == [
        ("PAT-09", "value", "Patient.birthDate")
    ]
    assert base_errors(patient(birthDate="1980-02-29")) == []


def test_r4_performer_reported_once_with_hint():
    resource = report(performer=[{"reference": "Practitioner/1", "display": "Dr A"}])

    findings = check_base(resource)

    assert [(f.rule, f.expression) for f in findings] == [
        ("TRN-09", "DiagnosticReport.performer[0].reference"),
        ("TRN-09", "DiagnosticReport.performer[0].display"),
    ]
    assert "performer.actor" in findings[0].diagnostics
    assert "R4" in findings[0].diagnostics


def test_stu3_performer_without_actor():
    resource = report(performer=[{"role": {"text": "Refertante"}}])

    assert base_errors(resource) == [
        ("TRN-09", "required", "DiagnosticReport.performer[0].actor")
    ]


def test_r4_service_request_elements():
    resource = order(
        requester={"reference": "Practitioner/1"},
        performer=[{"reference": "Practitioner/2"}],
        patientInstruction="Fast",
    )

    findings = check_base(resource)

    assert [(f.rule, f.expression) for f in findings] == [
        ("TRN-09", "ProcedureRequest.requester.reference"),
        ("TRN-09", "ProcedureRequest.performer"),
        ("TRN-09", "ProcedureRequest.patientInstruction"),
    ]
    assert all("R4" in f.diagnostics for f in findings)


def test_resource_type_mismatch_is_trn07():
    result = validate_resource(patient(), "DiagnosticReport")

    trn07 = [f for f in result.errors if f.rule == "TRN-07"]
    assert [(f.expression, f.layer) for f in trn07] == [
        ("Patient.resourceType", "base")
    ]
    assert result.http_status == 400


def test_missing_resource_type():
    assert base_errors({"id": "1"}, "Patient") == [
        ("TRN-07", "required", "Resource.resourceType")
    ]
    assert base_errors({"id": "1"}) == [("TRN-09", "required", "Resource.resourceType")]


def test_unknown_resource_type():
    assert base_errors({"resourceType": "Foo"}) == [
        ("TRN-09", "not-supported", "Resource.resourceType")
    ]


def test_contained_resource_checked():
    resource = order(contained=[{"resourceType": "Patient", "id": "c", "gender": "x"}])

    assert base_errors(resource) == [
        ("TRN-09", "code-invalid", "ProcedureRequest.contained[0].gender")
    ]


def test_base_errors_answer_400(generated):
    resource = dict(generated.patient, gender="M")

    result = validate_bytes(encode(resource), "Patient")

    assert result.http_status == 400
    assert [(f.rule, f.layer) for f in result.errors] == [("TRN-09", "base")]


def test_data_type_is_not_resource_type():
    assert base_errors({"resourceType": "HumanName", "family": "Rossi"}) == [
        ("TRN-09", "not-supported", "Resource.resourceType")
    ]


def test_contained_without_valid_type():
    resource = order(contained=[{"resourceType": ["Patient"]}, {"id": "a"}, 5])

    assert base_errors(resource) == [
        ("TRN-09", "not-supported", "ProcedureRequest.contained[0].resourceType"),
        ("TRN-09", "required", "ProcedureRequest.contained[1].resourceType"),
        ("TRN-09", "structure", "ProcedureRequest.contained[2]"),
    ]
