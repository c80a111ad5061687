"""Profile layer: JSON Schemas with rule ids, and jsonschema-rs against jsonschema."""

from __future__ import annotations

import copy

import jsonschema
import pytest
from validation_helpers import load_sample

from giponext_conformance.breakers import RESOURCE_TYPES, breaking_payloads, valid_set
from giponext_conformance.catalogue import load_rules
from giponext_conformance.validation.profiles import (
    check_profile,
    check_profile_reference,
    load_schemas,
    python_validators,
    rust_validators,
)

SAMPLES = {
    "Patient": ["spec-patient.json", "stu3-patient-plain.json"],
    "ProcedureRequest": [
        "spec-procedure-request.json",
        "stu3-procedurerequest-plain.json",
    ],
    "DiagnosticReport": [
        "spec-diagnostic-report.json",
        "stu3-diagnosticreport-plain.json",
    ],
}


def rule_nodes(node):
    """Yield every schema node that carries x-rule."""
    if isinstance(node, dict):
        if "x-rule" in node:
            yield node
        for value in node.values():
            yield from rule_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from rule_nodes(value)


def test_schemas_are_valid_draft_2020_12():
    for name, schema in load_schemas().items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        jsonschema.Draft202012Validator.check_schema(schema)


def test_rule_ids_exist_in_catalogue():
    rules = load_rules()
    for name, schema in load_schemas().items():
        for node in rule_nodes(schema):
            rule = rules.get(node["x-rule"])
            assert rule is not None, f"{name}: {node['x-rule']}"
            assert "profile" in rule.layers, f"{name}: {node['x-rule']}"
            assert node.get("x-severity", "error") in ("error", "warning")


def test_common_definitions_name_no_rule():
    assert list(rule_nodes(load_schemas()["common.schema.json"])) == []


def test_validators_compiled_once():
    assert rust_validators() is rust_validators()
    assert python_validators()["Patient"] is python_validators()["Patient"]


def test_generated_payloads_have_no_profile_findings():
    for seed in range(5):
        resources = valid_set(seed)
        for resource_type in RESOURCE_TYPES:
            resource = resources.of_type(resource_type)
            assert check_profile(resource, resource_type) == []


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_engines_agree_on_generated_and_broken(seed):
    resources = valid_set(seed)
    compared = 0
    for resource_type in RESOURCE_TYPES:
        payloads = [resources.of_type(resource_type)]
        payloads += [
            payload
            for _rule, payload in breaking_payloads(resource_type, seed)
            if isinstance(payload, dict)
        ]
        for payload in payloads:
            fast = check_profile(payload, resource_type)
            reference = check_profile_reference(payload, resource_type)
            assert fast == reference
            compared += 1
    assert compared > 30


def test_engines_agree_on_samples():
    for resource_type, names in SAMPLES.items():
        for name in names:
            resource = load_sample(name)
            fast = check_profile(resource, resource_type)
            assert fast == check_profile_reference(resource, resource_type), name


def test_engines_agree_on_heavily_broken_report(generated):
    report = copy.deepcopy(generated.diagnostic_report)
    report["status"] = "registered"
    report["basedOn"] = []
    report["code"]["coding"][1]["code"] = "12"
    report["performer"][0]["role"]["coding"][0]["code"] = "XX"
    del report["performer"][1]["actor"]["identifier"]
    report["presentedForm"].append({"contentType": "application/pdf"})
    report["extension"][0] = {"url": report["extension"][0]["url"], "valueString": "y"}

    fast = check_profile(report, "DiagnosticReport")

    assert fast == check_profile_reference(report, "DiagnosticReport")
    assert [(f.severity, f.rule, f.expression) for f in fast] == [
        ("error", "DR-03", "DiagnosticReport.basedOn"),
        ("error", "DR-06", "DiagnosticReport.code.coding[1].code"),
        ("warning", "DR-11", "DiagnosticReport.extension[0].valueBoolean"),
        ("warning", "DR-08", "DiagnosticReport.performer"),
        ("error", "DR-08", "DiagnosticReport.performer[0].role.coding"),
        ("error", "DR-08", "DiagnosticReport.performer[1].actor.identifier"),
        ("error", "DR-10", "DiagnosticReport.presentedForm[1]"),
        ("warning", "DR-10", "DiagnosticReport.presentedForm[1].title"),
        ("error", "DR-05", "DiagnosticReport.status"),
    ]


def test_required_finding_names_missing_element(generated):
    order = copy.deepcopy(generated.procedure_request)
    del order["requisition"]["value"]

    findings = check_profile(order, "ProcedureRequest")

    assert [(f.rule, f.code, f.expression) for f in findings] == [
        ("PR-05", "required", "ProcedureRequest.requisition.value")
    ]
    assert findings[0].diagnostics.endswith("value is missing.")


def test_should_rule_is_warning(generated):
    patient = copy.deepcopy(generated.patient)
    patient["identifier"].append({"system": "RISPACS", "value": "2"})

    findings = check_profile(patient, "Patient")

    assert [(f.severity, f.rule, f.expression) for f in findings] == [
        ("warning", "PAT-06", "Patient.identifier")
    ]


def test_birthplace_abroad_without_istat(generated):
    patient = copy.deepcopy(generated.patient)
    patient["extension"][0]["valueAddress"]["country"] = "DE"

    findings = check_profile(patient, "Patient")

    assert [(f.rule, f.expression) for f in findings] == [
        ("PAT-07", "Patient.extension[0].valueAddress.extension")
    ]
    assert "abroad" in findings[0].diagnostics


def test_foreign_address_needs_country_only(generated):
    patient = copy.deepcopy(generated.patient)
    patient["address"] = [{"city": "Lyon", "country": "FR"}]

    assert check_profile(patient, "Patient") == []


def test_two_user_selected_categories(generated):
    order = copy.deepcopy(generated.procedure_request)
    order["category"][0]["coding"].append(
        {"system": "https://www.giponext.it", "code": "BR99", "userSelected": True}
    )

    findings = check_profile(order, "ProcedureRequest")

    assert [(f.rule, f.expression) for f in findings] == [
        ("PR-07", "ProcedureRequest.category[0].coding")
    ]


def test_decimals_checked_as_numbers(generated):
    order = copy.deepcopy(generated.procedure_request)
    for extension in order["supportingInfo"][0]["extension"]:
        if extension["url"].endswith("totale-prestazioni"):
            extension["valueDecimal"] = -1.5

    findings = check_profile(order, "ProcedureRequest")

    assert [(f.rule, f.expression[-12:]) for f in findings] == [
        ("PR-11", "valueDecimal")
    ]
    assert findings[0].diagnostics.endswith("Found -1.5.")
