"""Italian layer: codice fiscale, ISTAT data, prescriptions, basedOn and LOINC."""

from __future__ import annotations

import copy

import codicefiscale
import pytest

from giponext_conformance import italy
from giponext_conformance.fixtures.providers import make_faker
from giponext_conformance.validation.italian import check_italian, loinc_check_digit

CF_SYSTEM = "urn:oid:2.16.840.1.113883.2.9.4.3.2"


def findings_of(resource):
    return [
        (finding.severity, finding.rule, finding.expression)
        for finding in check_italian(resource, resource["resourceType"])
    ]


def codice_fiscale(patient):
    return next(item for item in patient["identifier"] if item["system"] == CF_SYSTEM)


def test_generated_payloads_clean(generated):
    for resource in (
        generated.patient,
        generated.procedure_request,
        generated.diagnostic_report,
    ):
        assert findings_of(resource) == []


def test_giponext_identifier_must_equal_id(generated):
    patient = copy.deepcopy(generated.patient)
    patient["id"] = "other"

    assert findings_of(patient) == [("error", "PAT-03", "Patient.identifier[0].value")]


def test_wrong_check_character_is_warning(generated):
    patient = copy.deepcopy(generated.patient)
    identifier = codice_fiscale(patient)
    wrong = "A" if identifier["value"][-1] != "A" else "B"
    identifier["value"] = identifier["value"][:15] + wrong

    findings = check_italian(patient, "Patient")

    assert [(f.severity, f.rule) for f in findings] == [("warning", "PAT-04")]
    assert "check character" in findings[0].diagnostics


def test_bad_shape_is_error(generated):
    patient = copy.deepcopy(generated.patient)
    codice_fiscale(patient)["value"] = "RSSMRA80"

    assert findings_of(patient) == [("error", "PAT-04", "Patient.identifier[1].value")]


def test_provisional_code_is_warning(generated):
    patient = copy.deepcopy(generated.patient)
    digits = "1234567890"
    codice_fiscale(patient)["value"] = digits + italy.luhn_check_digit(digits)

    findings = check_italian(patient, "Patient")

    assert [(f.severity, f.rule) for f in findings] == [("warning", "PAT-04")]
    assert "provisional" in findings[0].diagnostics


@pytest.mark.parametrize("value", ["STP0300010000001", "ENI1200450000123"])
def test_stp_eni_are_warnings(generated, value):
    patient = copy.deepcopy(generated.patient)
    codice_fiscale(patient)["value"] = value

    findings = check_italian(patient, "Patient")

    assert [(f.severity, f.rule) for f in findings] == [("warning", "PAT-04")]
    assert "not a codice fiscale" in findings[0].diagnostics


def test_omocode_accepted(generated):
    patient = copy.deepcopy(generated.patient)
    identifier = codice_fiscale(patient)
    value = identifier["value"]
    digit_to_letter = str.maketrans("0123456789", "LMNPQRSTUV")
    stem = value[:14] + value[14].translate(digit_to_letter)
    identifier["value"] = stem + codicefiscale.encode_cin(stem)

    assert findings_of(patient) == []


def test_codice_fiscale_disagreements_are_warnings(generated):
    patient = copy.deepcopy(generated.patient)
    patient["gender"] = "female" if patient["gender"] == "male" else "male"

    assert findings_of(patient) == [
        ("warning", "PAT-05", "Patient.identifier[1].value")
    ]


def test_birthplace_code_disagreement(generated):
    patient = copy.deepcopy(generated.patient)
    coding = patient["extension"][0]["valueAddress"]["extension"][0]["valueCoding"]
    other = italy.municipality_by_istat("015146")
    if coding["code"] == other.istat_code:
        other = italy.municipality_by_istat("058091")
    coding.update(code=other.istat_code, display=other.name)
    patient["extension"][0]["valueAddress"]["city"] = other.name

    findings = check_italian(patient, "Patient")

    assert [(f.severity, f.rule) for f in findings] == [("warning", "PAT-05")]
    assert other.belfiore in findings[0].diagnostics


def test_istat_display_and_city_must_match(generated):
    patient = copy.deepcopy(generated.patient)
    address = patient["address"][0]
    address["extension"][0]["valueCoding"]["display"] = "Atlantide"
    address["city"] = "Atlantide"

    assert findings_of(patient) == [
        ("error", "PAT-08", "Patient.address[0].extension[0].valueCoding.display"),
        ("error", "PAT-08", "Patient.address[0].city"),
    ]


def test_istat_names_compared_loosely():
    bolzano = italy.municipality_by_istat("021008")
    patient = {
        "resourceType": "Patient",
        "address": [
            {
                "extension": [
                    {
                        "url": "https://api.giponext.it/fhir/address/codice-istat-comune",
                        "valueCoding": {"code": "021008", "display": "BOLZANO"},
                    }
                ],
                "city": "bolzano",
                "district": bolzano.province,
                "state": bolzano.province,
                "postalCode": bolzano.postal_codes[0],
            }
        ],
    }

    assert findings_of(patient) == []


def test_postal_code_of_other_municipality(generated):
    patient = copy.deepcopy(generated.patient)
    address = patient["address"][0]
    address["postalCode"] = "00000"

    findings = check_italian(patient, "Patient")

    assert [(f.severity, f.rule, f.expression) for f in findings] == [
        ("error", "PAT-08", "Patient.address[0].postalCode")
    ]
    assert address["city"] in findings[0].diagnostics


def test_province_checks(generated):
    patient = copy.deepcopy(generated.patient)
    address = patient["address"][0]
    other = "RM" if address["district"] != "RM" else "MI"
    address["district"] = other
    address["state"] = "XX"

    assert findings_of(patient) == [
        ("error", "PAT-08", "Patient.address[0].district"),
        ("error", "PAT-08", "Patient.address[0].state"),
    ]


def test_future_birth_date(generated):
    patient = copy.deepcopy(generated.patient)
    patient["birthDate"] = "2999-01-01"

    findings = findings_of(patient)

    assert ("error", "PAT-09", "Patient.birthDate") in findings


def test_order_identifier_and_subject_identifiers(generated):
    order = copy.deepcopy(generated.procedure_request)
    order["identifier"][0]["value"] = "X1"
    order["subject"]["identifier"]["value"] = "999"

    assert findings_of(order) == [
        ("error", "PR-05", "ProcedureRequest.identifier[0].value"),
        ("error", "PR-09", "ProcedureRequest.subject.identifier.value"),
    ]


def test_user_selected_across_categories(generated):
    order = copy.deepcopy(generated.procedure_request)
    order["category"].append(
        {
            "coding": [
                {
                    "system": "https://www.giponext.it",
                    "code": "BR77",
                    "userSelected": True,
                }
            ]
        }
    )

    assert findings_of(order) == [
        ("error", "PR-07", "ProcedureRequest.category[1].coding[0].userSelected")
    ]


def test_nre_and_region_code(generated):
    order = copy.deepcopy(generated.procedure_request)
    prescription = order["supportingInfo"][0]
    prescription["identifier"]["value"] = "12345"
    region = next(
        e for e in prescription["extension"] if e["url"].endswith("codice-regione")
    )
    region["valueString"] = "210"

    assert findings_of(order) == [
        ("error", "PR-11", "ProcedureRequest.supportingInfo[0].identifier.value"),
        (
            "error",
            "PR-11",
            "ProcedureRequest.supportingInfo[0].extension[5].valueString",
        ),
    ]


def test_order_codice_fiscale_of_performer_and_reporter(generated):
    order = copy.deepcopy(generated.procedure_request)
    order["performer"]["identifier"]["value"] = "STP0300010000001"
    order["extension"][0]["valueReference"]["identifier"]["value"] = "bad"

    assert findings_of(order) == [
        ("warning", "PR-12", "ProcedureRequest.performer.identifier.value"),
        (
            "error",
            "PR-12",
            "ProcedureRequest.extension[0].valueReference.identifier.value",
        ),
    ]


@pytest.mark.parametrize(
    ("based_on", "fragment"),
    [
        ({"reference": "https://giponext.example/ProcedureRequest/A1"}, "absolute URL"),
        ({"reference": "#order"}, "contained reference"),
        ({"reference": "ServiceRequest/A1"}, "not of the form"),
        ({"reference": "ProcedureRequest/A1/_history/2"}, "not of the form"),
        (
            {"identifier": {"system": "https://www.giponext.it", "value": "A1"}},
            "identifier only",
        ),
    ],
)
def test_based_on_forms_rejected(generated, based_on, fragment):
    report = copy.deepcopy(generated.diagnostic_report)
    report["basedOn"] = [based_on]

    findings = check_italian(report, "DiagnosticReport")

    assert [(f.severity, f.rule) for f in findings] == [("error", "DR-03")]
    assert fragment in findings[0].diagnostics


@pytest.mark.parametrize(
    ("number", "digit"),
    [
        ("18748", "4"),
        ("2951", "2"),
        ("2160", "0"),
        ("718", "7"),
        ("30799", "1"),
        ("24627", "2"),
    ],
)
def test_loinc_check_digit(number, digit):
    assert loinc_check_digit(number) == digit


def test_wrong_loinc_check_digit(generated):
    report = copy.deepcopy(generated.diagnostic_report)
    coding = report["code"]["coding"][1]
    number, digit = coding["code"].split("-")
    coding["code"] = f"{number}-{(int(digit) + 5) % 10}"

    assert findings_of(report) == [
        ("error", "DR-06", "DiagnosticReport.code.coding[1].code")
    ]


def test_report_performer_codice_fiscale(generated):
    report = copy.deepcopy(generated.diagnostic_report)
    report["performer"][1]["actor"]["identifier"]["value"] = "12345678901"

    findings = findings_of(report)

    assert findings == [
        ("error", "DR-08", "DiagnosticReport.performer[1].actor.identifier.value")
    ]


def test_wrong_shapes_tolerated():
    odd = {
        "resourceType": "Patient",
        "identifier": "x",
        "address": [1, None, {"extension": "y"}],
        "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"}
        ],
    }

    assert check_italian(odd, "Patient") == []
    assert (
        check_italian({"basedOn": {"a": 1}, "presentedForm": "x"}, "DiagnosticReport")
        == []
    )
    assert check_italian({"subject": 5, "performer": []}, "ProcedureRequest") == []


def test_born_abroad_codice_fiscale_agrees():
    patient = make_faker(5).gipo_patient(born_abroad=True)

    assert findings_of(patient) == []


def test_born_abroad_with_italian_birthplace_code(generated):
    patient = copy.deepcopy(generated.patient)
    patient["extension"][0]["valueAddress"] = {"city": "Lyon", "country": "FR"}

    findings = check_italian(patient, "Patient")

    assert [(f.severity, f.rule) for f in findings] == [("warning", "PAT-05")]
    assert "born abroad" in findings[0].diagnostics


def test_former_istat_code_of_birthplace_accepted(generated):
    patient = copy.deepcopy(generated.patient)
    address = patient["extension"][0]["valueAddress"]
    coding = address["extension"][0]["valueCoding"]
    coding.update(code="090003", display="Alghero")
    address["city"] = "Alghero"

    findings = findings_of(patient)

    assert [finding for finding in findings if finding[1] == "PAT-07"] == []


def test_former_istat_code_of_address_warns(generated):
    patient = copy.deepcopy(generated.patient)
    address = patient["address"][0]
    alghero = italy.municipality_by_istat("090003", include_former=True)
    address["extension"][0]["valueCoding"].update(code="090003", display="Alghero")
    address.update(
        city="Alghero",
        district=alghero.province,
        state=alghero.province,
        postalCode=alghero.postal_codes[0],
    )

    findings = check_italian(patient, "Patient")

    assert [(f.severity, f.rule, f.expression) for f in findings] == [
        ("warning", "PAT-08", "Patient.address[0].extension[0].valueCoding.code")
    ]
    assert alghero.istat_code in findings[0].diagnostics
