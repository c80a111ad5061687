"""Steps about the ProcedureRequest (the order) that GipoNext POSTs to the RIS-PACS.

Phrases offered:
    Given a new order for the patient
    Given the RIS-PACS holds an order for the patient
    Given an order for a patient the RIS-PACS has never seen
    When GipoNext sends the order
    When GipoNext sends the order again unchanged
    When GipoNext sends the order again with different content
    When GipoNext tries to replace the order
    When GipoNext tries to patch the order
    When GipoNext tries to delete the order
    When GipoNext sends the patient and then the order
    Then the RIS-PACS reports the order as created
    Then the order keeps GipoNext's id
    Then the RIS-PACS refuses the change
    Then the RIS-PACS reports a conflict with the stored order
    Then the order is unchanged
    Then the RIS-PACS still holds a single order under that id
    Then the RIS-PACS has not stored the order
    Then the RIS-PACS accepts both the patient and the order

State: `order` is a RecordedResource whose `path` is where the RIS-PACS
keeps the order (from Location when it names another id); `response` is the
Exchange of the last request; `intake_exchanges` holds the two exchanges of
the whole intake flow.
"""

from __future__ import annotations

import copy

import pytest
from pytest_bdd import given, then, when

from giponext_conformance.fixtures.providers import make_faker

from .common import (
    RecordedResource,
    check_unchanged,
    id_from_location,
    judge_status,
    scenario_rule,
    status_name,
)
from .patient import put_patient

JSON_PATCH = "application/json-patch+json"


def _stored_path(order: dict, response) -> str:
    """Return where the RIS-PACS keeps an order it accepted."""
    server_id = id_from_location(response.location, "ProcedureRequest")
    return f"ProcedureRequest/{server_id or order['id']}"


@given("a new order for the patient", target_fixture="order")
def new_order(intake):
    resource = intake[1]
    return RecordedResource(resource, f"ProcedureRequest/{resource['id']}")


@given("an order for a patient the RIS-PACS has never seen", target_fixture="order")
def order_for_unknown_patient(scenario_seed):
    # A generator with another seed, because the scenario's own seed gives
    # the patient that the RIS-PACS already knows.
    fake = make_faker(scenario_seed + 1)
    resource = fake.gipo_procedure_request(fake.gipo_patient())
    return RecordedResource(resource, f"ProcedureRequest/{resource['id']}")


@given("the RIS-PACS holds an order for the patient", target_fixture="order")
def held_order(ris, intake):
    resource = intake[1]
    created = ris.post("ProcedureRequest", resource)
    if created.status not in (200, 201):
        pytest.skip(
            f"precondition failed: the RIS-PACS did not accept the order "
            f"({created.describe()}); fix PR-01 first"
        )
    path = _stored_path(resource, created)
    stored = ris.get(path)
    return RecordedResource(
        resource, path, stored.resource if stored.status == 200 else None
    )


@when("GipoNext sends the order", target_fixture="response")
def send_order(ris, order):
    return ris.post("ProcedureRequest", order.resource)


@when("GipoNext sends the order again unchanged", target_fixture="response")
def send_order_again(ris, order):
    return ris.post("ProcedureRequest", order.resource)


def _changed(order: RecordedResource) -> dict:
    changed = copy.deepcopy(order.resource)
    changed["note"] = [{"text": "Esame anticipato su richiesta del paziente"}]
    return changed


@when(
    "GipoNext sends the order again with different content", target_fixture="response"
)
def send_conflicting_order(ris, order):
    return ris.post("ProcedureRequest", _changed(order))


@when("GipoNext tries to replace the order", target_fixture="response")
def replace_order(ris, order):
    body = {**_changed(order), "id": order.path.rsplit("/", 1)[1]}
    return ris.put(order.path, body)


@when("GipoNext tries to patch the order", target_fixture="response")
def patch_order(ris, order):
    operations = [{"op": "replace", "path": "/status", "value": "cancelled"}]
    return ris.patch(order.path, operations, JSON_PATCH)


@when("GipoNext tries to delete the order", target_fixture="response")
def delete_order(ris, order):
    return ris.delete(order.path)


@when(
    "GipoNext sends the patient and then the order", target_fixture="intake_exchanges"
)
def send_intake(ris, patient, order):
    patient_response = put_patient(ris, patient.resource)
    order_response = ris.post("ProcedureRequest", order.resource)
    return patient_response, order_response


@then("the RIS-PACS reports the order as created")
def order_created(verdicts, response):
    judge_status(verdicts, "PR-01", response, 201)
    verdicts.check(
        "PR-01",
        bool(response.location),
        f"expected a Location header naming the new order; {response.describe()} "
        "without Location",
        level="SHOULD",
    )


@then("the order keeps GipoNext's id")
def order_keeps_id(verdicts, ris, order, response):
    location_id = id_from_location(response.location, "ProcedureRequest")
    kept_in_location = location_id in (None, order.id)
    verdicts.check(
        "PR-02",
        kept_in_location,
        f"expected Location to name ProcedureRequest/{order.id}, found "
        f"{response.location}: the RIS-PACS assigned its own id, so its reports "
        "must map it back to GipoNext's id",
        level="SHOULD",
    )

    stored = ris.get(f"ProcedureRequest/{order.id}")
    if stored.status in (404, 410) and not kept_in_location:
        return
    if stored.status not in (200, 404, 410):
        verdicts.warn(
            "PR-02",
            f"could not read the order back to confirm its id; {stored.describe()}",
        )
        return
    found_id = (stored.resource or {}).get("id")
    verdicts.check(
        "PR-02",
        stored.status == 200 and found_id == order.id,
        f"expected ProcedureRequest/{order.id} readable under GipoNext's id; "
        f"{stored.describe()} with id {found_id!r}",
    )


@then("the RIS-PACS refuses the change")
def refuses_change(verdicts, response):
    verdicts.check(
        "PR-03",
        400 <= response.status < 500,
        f"expected a 4xx refusal (405 Method Not Allowed is usual) because an "
        f"order cannot change once created; {response.describe()}",
    )


@then("the RIS-PACS reports a conflict with the stored order")
def reports_conflict(verdicts, response):
    judge_status(verdicts, "PR-03", response, 409)


@then("the order is unchanged")
def order_unchanged(verdicts, scenario_rules, ris, order):
    check_unchanged(verdicts, scenario_rule(scenario_rules), ris, order)


@then("the RIS-PACS still holds a single order under that id")
def single_order(verdicts, ris, order, response):
    verdicts.check(
        "PR-04",
        response.status in (200, 201),
        f"expected the repeated order to be accepted as a retry (200 OK or "
        f"201 Created); {response.describe()}",
    )
    location_id = id_from_location(response.location, "ProcedureRequest")
    held_id = order.path.rsplit("/", 1)[1]
    verdicts.check(
        "PR-04",
        location_id in (None, held_id),
        f"expected the retry to point at ProcedureRequest/{held_id}, found "
        f"Location {response.location}: a second order was made",
    )
    check_unchanged(verdicts, "PR-04", ris, order)


@then("the RIS-PACS has not stored the order")
def order_not_stored(verdicts, scenario_rules, ris, order):
    found = ris.get(order.path)
    verdicts.check(
        scenario_rule(scenario_rules),
        found.status in (404, 410),
        f"expected {order.path} not to exist after the rejected request; "
        f"{found.describe()}",
    )


@then("the RIS-PACS accepts both the patient and the order")
def accepts_intake(verdicts, intake_exchanges):
    patient_response, order_response = intake_exchanges
    accepted = patient_response.status in (200, 201) and order_response.status == 201
    verdicts.check(
        "FLOW-01",
        accepted,
        f"expected the patient accepted (201 Created or 200 OK) and the order "
        f"created ({status_name(201)}); {patient_response.describe()}, "
        f"then {order_response.describe()}",
    )
