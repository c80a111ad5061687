"""Payloads that break exactly one rule of the catalogue.

Each breaker takes valid generated resources and changes one thing, so that
the validation engine reports that rule and no error of any other rule. The
`generate --break RULE` command prints them, the features send them to the
mocks, and the tests check the engine against every one.

    for rule_id, payload in breaking_payloads("DiagnosticReport"):
        ...  # payload is a dict, or bytes for malformed JSON (TRN-06)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from giponext_conformance.catalogue import load_rules
from giponext_conformance.errors import UsageError
from giponext_conformance.fixtures.providers import build_intake, make_faker
from giponext_conformance.validation import dumps

RESOURCE_TYPES = ("Patient", "ProcedureRequest", "DiagnosticReport")
PAYLOAD_LAYERS = {"json", "base", "profile", "italian"}
CODICE_FISCALE_SYSTEM = "urn:oid:2.16.840.1.113883.2.9.4.3.2"
RISPACS_SYSTEM = "RISPACS"
GIPONEXT_SYSTEM = "https://www.giponext.it"
LOINC_SYSTEM = "http://loinc.org"


@dataclass
class ValidSet:
    """One valid Patient, ProcedureRequest and DiagnosticReport that agree."""

    patient: dict
    procedure_request: dict
    diagnostic_report: dict

    def of_type(self, resource_type: str) -> dict:
        resources = {
            "Patient": self.patient,
            "ProcedureRequest": self.procedure_request,
            "DiagnosticReport": self.diagnostic_report,
        }
        return copy.deepcopy(resources[resource_type])


def valid_set(seed: int = 0) -> ValidSet:
    """Return valid generated resources of every type for one seed."""
    patient, procedure_request, doctors = build_intake(seed)
    report = make_faker(seed).gipo_diagnostic_report(
        [procedure_request], patient, doctors
    )
    return ValidSet(patient, procedure_request, report)


def valid_payload(resource_type: str, seed: int = 0) -> dict:
    """Return one valid generated resource of a type."""
    return valid_set(seed).of_type(resource_type)


def breakable_rules(resource_type: str) -> list[str]:
    """Return the rule ids a payload of this type can break, in catalogue order."""
    return [
        rule.id
        for rule in load_rules().values()
        if rule.resource in (resource_type, "*") and PAYLOAD_LAYERS & set(rule.layers)
    ]


def breaking_payloads(
    resource_type: str, seed: int = 0
) -> Iterator[tuple[str, object]]:
    """Yield (rule id, payload) for every rule a payload of this type can break."""
    resources = valid_set(seed)
    for rule_id in breakable_rules(resource_type):
        breaker = _breaker(resource_type, rule_id)
        if breaker is not None:
            yield rule_id, breaker(resources.of_type(resource_type), resources)


def break_payload(resource_type: str, rule_id: str, seed: int = 0):
    """Return a payload of the type that breaks exactly `rule_id`.

    Raise UsageError naming the breakable rules when the rule is unknown or no
    payload of this type can break it.
    """
    breakable = [
        rule for rule in breakable_rules(resource_type) if _breaker(resource_type, rule)
    ]
    if rule_id not in breakable:
        raise UsageError(
            f"No {resource_type} payload breaks rule {rule_id!r}; the rules it can "
            f"break are {', '.join(breakable)}."
        )
    resources = valid_set(seed)
    return _breaker(resource_type, rule_id)(resources.of_type(resource_type), resources)


def _breaker(resource_type: str, rule_id: str) -> Callable | None:
    return BREAKERS.get(resource_type, {}).get(rule_id) or COMMON_BREAKERS.get(rule_id)


# ---------------------------------------------------------------- helpers


def _identifier(resource: dict, system: str) -> dict:
    return next(item for item in resource["identifier"] if item["system"] == system)


def _trailing_comma(resource: dict, _resources) -> bytes:
    text = dumps(resource, indent=2)
    return (text[:-2] + ",\n}").encode("utf-8")


def _other_type(resource: dict, resources: ValidSet) -> dict:
    other = "ProcedureRequest" if resource["resourceType"] == "Patient" else "Patient"
    return resources.of_type(other)


def _unknown_element(resource: dict, _resources) -> dict:
    # Elements STU3 does not define: the last two exist in R4 (ServiceRequest
    # and DiagnosticReport), a common mistake of senders built for R4.
    r4_only = {
        "Patient": ("photoUrl", "https://example.org/photo.png"),
        "ProcedureRequest": ("patientInstruction", "Presentarsi a digiuno."),
        "DiagnosticReport": ("resultsInterpreter", [{"reference": "Practitioner/1"}]),
    }
    name, value = r4_only[resource["resourceType"]]
    resource[name] = value
    return resource


# ---------------------------------------------------------------- Patient


def _patient_no_giponext_identifier(patient, _resources):
    patient["identifier"] = [
        item for item in patient["identifier"] if item["system"] != GIPONEXT_SYSTEM
    ]
    return patient


def _patient_bad_codice_fiscale(patient, _resources):
    identifier = _identifier(patient, CODICE_FISCALE_SYSTEM)
    identifier["value"] = identifier["value"][:11]
    return patient


def _patient_birth_date_disagrees(patient, _resources):
    birth = date.fromisoformat(patient["birthDate"]) - timedelta(days=1)
    patient["birthDate"] = birth.isoformat()
    return patient


def _patient_rispacs_without_value(patient, _resources):
    _identifier(patient, RISPACS_SYSTEM).pop("value")
    return patient


def _patient_unknown_istat_birthplace(patient, _resources):
    address = patient["extension"][0]["valueAddress"]
    address["extension"][0]["valueCoding"]["code"] = "999999"
    return patient


def _patient_short_postal_code(patient, _resources):
    patient["address"][0]["postalCode"] = patient["address"][0]["postalCode"][:4]
    return patient


def _patient_without_gender(patient, _resources):
    del patient["gender"]
    return patient


# ---------------------------------------------------------------- ProcedureRequest


def _order_foreign_requisition(order, _resources):
    order["requisition"]["system"] = "https://example.org/acceptance"
    return order


def _order_draft(order, _resources):
    order["status"] = "draft"
    return order


def _order_foreign_category(order, _resources):
    order["category"][0]["coding"][0]["system"] = "https://example.org/branches"
    return order


def _order_without_rispacs_code(order, _resources):
    coding = order["code"]["coding"]
    order["code"]["coding"] = [
        item for item in coding if item["system"] != RISPACS_SYSTEM
    ]
    return order


def _order_subject_not_patient(order, _resources):
    order["subject"]["reference"] = "Group/" + order["subject"]["identifier"]["value"]
    return order


def _order_authored_without_time(order, _resources):
    order["authoredOn"] = order["authoredOn"][:10]
    return order


def _order_unknown_region(order, _resources):
    for extension in order["supportingInfo"][0]["extension"]:
        if extension["url"].endswith("/codice-regione"):
            extension["valueString"] = "999"
    return order


def _order_performer_bad_codice_fiscale(order, _resources):
    order["performer"]["identifier"]["value"] = "NOTACODICEFISCALE"
    return order


# ---------------------------------------------------------------- DiagnosticReport


def _report_without_id(report, _resources):
    del report["id"]
    return report


def _report_absolute_based_on(report, _resources):
    reference = report["basedOn"][0]["reference"]
    report["basedOn"][0]["reference"] = f"https://giponext.example/fhir/r3/{reference}"
    return report


def _report_subject_not_patient(report, _resources):
    report["subject"]["reference"] = (
        "Group/" + report["subject"]["reference"].split("/")[1]
    )
    return report


def _report_preliminary(report, _resources):
    report["status"] = "preliminary"
    return report


def _report_wrong_loinc_check_digit(report, _resources):
    coding = next(c for c in report["code"]["coding"] if c["system"] == LOINC_SYSTEM)
    number, check = coding["code"].split("-")
    coding["code"] = f"{number}-{(int(check) + 1) % 10}"
    return report


def _report_without_issued(report, _resources):
    del report["issued"]
    return report


def _report_performer_bad_codice_fiscale(report, _resources):
    report["performer"][0]["actor"]["identifier"]["value"] = "NOTACODICEFISCALE"
    return report


def _report_not_pdf(report, _resources):
    report["presentedForm"][0]["contentType"] = "text/plain"
    return report


def _report_data_and_url(report, _resources):
    report["presentedForm"][0]["url"] = "https://reports.example.org/report.pdf"
    return report


def _report_available_online_string(report, _resources):
    report["extension"][0] = {
        "url": report["extension"][0]["url"],
        "valueString": "true",
    }
    return report


COMMON_BREAKERS = {
    "TRN-06": _trailing_comma,
    "TRN-07": _other_type,
    "TRN-09": _unknown_element,
}

BREAKERS = {
    "Patient": {
        "PAT-03": _patient_no_giponext_identifier,
        "PAT-04": _patient_bad_codice_fiscale,
        "PAT-05": _patient_birth_date_disagrees,
        "PAT-06": _patient_rispacs_without_value,
        "PAT-07": _patient_unknown_istat_birthplace,
        "PAT-08": _patient_short_postal_code,
        "PAT-09": _patient_without_gender,
    },
    "ProcedureRequest": {
        "PR-05": _order_foreign_requisition,
        "PR-06": _order_draft,
        "PR-07": _order_foreign_category,
        "PR-08": _order_without_rispacs_code,
        "PR-09": _order_subject_not_patient,
        "PR-10": _order_authored_without_time,
        "PR-11": _order_unknown_region,
        "PR-12": _order_performer_bad_codice_fiscale,
    },
    "DiagnosticReport": {
        "DR-02": _report_without_id,
        "DR-03": _report_absolute_based_on,
        "DR-04": _report_subject_not_patient,
        "DR-05": _report_preliminary,
        "DR-06": _report_wrong_loinc_check_digit,
        "DR-07": _report_without_issued,
        "DR-08": _report_performer_bad_codice_fiscale,
        "DR-09": _report_not_pdf,
        "DR-10": _report_data_and_url,
        "DR-11": _report_available_online_string,
    },
}
