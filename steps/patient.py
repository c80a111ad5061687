"""Steps about the patient that GipoNext sends to the RIS-PACS with PUT.

Phrases offered:
    Given a patient the RIS-PACS has never seen
    Given the RIS-PACS knows the patient
    When GipoNext sends the patient
    When GipoNext sends the patient again unchanged
    When GipoNext sends the patient with new contact details
    When GipoNext sends the patient with another patient's id in the body
    When GipoNext sends the patient without an id in the body
    When GipoNext sends the patient as <malformed JSON>
        (JSON with a syntax error, JSON with comments, JSON with a trailing
        comma, a JSON array instead of an object, JSON with duplicate keys)
    When GipoNext sends an order to the patient's address
    When GipoNext sends the patient with a body over the size limit
    When GipoNext sends the patient with <invalid content>
        (an empty family name, a null gender, an element STU3 does not
        define, a birth date that is not a date, a gender outside its value
        set, a name without a family name)
    Then the RIS-PACS reports the patient as created
    Then the RIS-PACS reports the patient as updated
    Then the RIS-PACS stores the patient as sent
    Then the stored patient is unchanged
    Then the RIS-PACS has not stored the patient

State: `patient` is a RecordedResource; `response` is the Exchange of the
last request.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from pytest_bdd import given, parsers, then, when

from giponext_conformance.client import FHIR_JSON

from .common import (
    RecordedResource,
    check_unchanged,
    content_of,
    judge_status,
    scenario_rule,
)

# Builders of malformed bodies from a Patient. Each body would change the
# stored patient (a new family name) if a lenient parser accepted it, so the
# "unchanged" check catches a server that repairs the JSON instead of
# rejecting it.
MALFORMED_JSON = {
    "JSON with a syntax error": lambda text: text[:-1],
    "JSON with comments": lambda text: "/* sent by GipoNext */\n" + text,
    "JSON with a trailing comma": lambda text: text[:-1] + ",}",
    "a JSON array instead of an object": lambda text: f"[{text}]",
    "JSON with duplicate keys": lambda text: text[:-1] + ', "gender": "other"}',
}


def _json_text(resource: dict) -> str:
    return json.dumps(resource, ensure_ascii=False)


def _renamed(resource: dict) -> dict:
    changed = copy.deepcopy(resource)
    changed["name"] = [{"family": "Cambiato", "given": ["Nome"]}]
    return changed


def _without_family(resource: dict) -> None:
    del resource["name"][0]["family"]


# Violations of FHIR STU3 (400) and one of GipoNext's profile (422), each
# applied to a copy of the Patient.
DEFECTS = {
    "an empty family name": lambda patient: patient["name"][0].update(family=""),
    "a null gender": lambda patient: patient.update(gender=None),
    "an element STU3 does not define": lambda patient: patient.update(
        preferredColour="blue"
    ),
    "a birth date that is not a date": lambda patient: patient.update(
        birthDate="12/02/1980"
    ),
    "a gender outside its value set": lambda patient: patient.update(gender="M"),
    "a name without a family name": _without_family,
}


def _one_of(phrases) -> str:
    return "|".join(re.escape(phrase) for phrase in phrases)


def put_patient(ris, resource: dict, body=None, content_type=None):
    return ris.put(f"Patient/{resource['id']}", body or resource, content_type)


@given("a patient the RIS-PACS has never seen", target_fixture="patient")
def new_patient(intake):
    # NOTE: "never seen" rests on the generated id being new. Ids are drawn
    # from about ten million values per run seed, so on a vendor's system
    # that has kept many earlier runs a repeat is unlikely but possible.
    resource = intake[0]
    return RecordedResource(resource, f"Patient/{resource['id']}")


@given("the RIS-PACS knows the patient", target_fixture="patient")
def known_patient(ris, intake):
    resource = intake[0]
    sent = put_patient(ris, resource)
    if sent.status not in (200, 201):
        pytest.skip(
            f"precondition failed: the RIS-PACS did not accept the patient "
            f"({sent.describe()}); fix PAT-01 first"
        )
    stored = ris.get(f"Patient/{resource['id']}")
    return RecordedResource(
        resource,
        f"Patient/{resource['id']}",
        stored.resource if stored.status == 200 else None,
    )


@when("GipoNext sends the patient", target_fixture="response")
def send_patient(ris, patient):
    return put_patient(ris, patient.resource)


@when("GipoNext sends the patient again unchanged", target_fixture="response")
def send_patient_again(ris, patient):
    return put_patient(ris, patient.resource)


@when("GipoNext sends the patient with new contact details", target_fixture="response")
def send_changed_patient(ris, patient, scenario_faker):
    changed = copy.deepcopy(patient.resource)
    changed["telecom"] = [
        {
            "system": "phone",
            "value": "+39" + scenario_faker.msisdn()[3:],
            "use": "mobile",
        }
    ]
    return put_patient(ris, changed)


@when(
    "GipoNext sends the patient with another patient's id in the body",
    target_fixture="response",
)
def send_mismatched_id(ris, patient):
    body = {**patient.resource, "id": patient.id + "0"}
    return ris.put(patient.path, body)


@when("GipoNext sends the patient without an id in the body", target_fixture="response")
def send_without_id(ris, patient):
    body = {key: value for key, value in patient.resource.items() if key != "id"}
    return ris.put(patient.path, body)


@when(
    parsers.re(
        f"GipoNext sends the patient as (?P<malformation>{_one_of(MALFORMED_JSON)})"
    ),
    target_fixture="response",
)
def send_malformed(ris, patient, malformation):
    body = MALFORMED_JSON[malformation](_json_text(_renamed(patient.resource)))
    return ris.put(patient.path, body.encode("utf-8"), FHIR_JSON)


@when("GipoNext sends an order to the patient's address", target_fixture="response")
def send_wrong_type(ris, patient, intake):
    order = {**intake[1], "id": patient.id}
    return ris.put(patient.path, order)


@when(
    "GipoNext sends the patient with a body over the size limit",
    target_fixture="response",
)
def send_oversized(ris, ris_target, patient):
    limit = ris_target.max_body_bytes
    if not limit:
        pytest.skip("the size limit is known only for the bundled mock RIS-PACS")
    padded = _renamed(patient.resource)
    padded["extension"] = [
        *padded.get("extension", []),
        {"url": "https://www.giponext.it/padding", "valueString": "x" * limit},
    ]
    return ris.put(patient.path, padded)


@when(
    parsers.re(f"GipoNext sends the patient with (?P<defect>{_one_of(DEFECTS)})"),
    target_fixture="response",
)
def send_invalid(ris, patient, defect):
    broken = copy.deepcopy(patient.resource)
    DEFECTS[defect](broken)
    return ris.put(patient.path, broken)


@then("the RIS-PACS reports the patient as created")
def reports_created(verdicts, response):
    judge_status(verdicts, "PAT-01", response, 201)


@then("the RIS-PACS reports the patient as updated")
def reports_updated(verdicts, response):
    judge_status(verdicts, "PAT-01", response, 200)


@then("the RIS-PACS stores the patient as sent")
def stores_as_sent(verdicts, ris, response):
    sent = json.loads(response.request_body)
    stored = ris.get(f"Patient/{sent['id']}")
    verdicts.check(
        "PAT-01",
        stored.status == 200 and content_of(stored.resource) == content_of(sent),
        f"expected Patient/{sent['id']} to read back as sent; {stored.describe()}"
        + ("" if stored.status != 200 else " with different content"),
    )


@then("the stored patient is unchanged")
def patient_unchanged(verdicts, scenario_rules, ris, patient):
    check_unchanged(verdicts, scenario_rule(scenario_rules), ris, patient)


@then("the RIS-PACS has not stored the patient")
def patient_not_stored(verdicts, scenario_rules, ris, patient):
    found = ris.get(patient.path)
    verdicts.check(
        scenario_rule(scenario_rules),
        found.status in (404, 410),
        f"expected {patient.path} not to exist after the rejected request; "
        f"{found.describe()}",
    )
