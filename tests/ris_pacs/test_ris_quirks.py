"""Mock RIS-PACS quirk modes: each imitates one vendor mistake on demand."""

import re

import pytest

from giponext_conformance.catalogue import load_rules
from giponext_conformance.mocks.ris_pacs import QUIRKS, RisPacsConfig

TOKEN = "ris-test-token-7Hq2Vx"  # noqa: S105  # the token the conftest configures


@pytest.fixture
def ordered_with(ris_server, intake):
    """Return a function that starts a mock with quirks and stores a patient."""

    def start(*quirks):
        ris = ris_server(quirks=frozenset(quirks))
        patient, order = intake
        assert ris.put_patient(patient).status_code == 201
        return ris, patient, order

    return start


def test_quirks_name_known_rules():
    rules = load_rules()

    assert len(QUIRKS) == 10
    for name, (description, rule_ids) in QUIRKS.items():
        assert description.endswith("."), name
        assert rule_ids, name
        for rule_id in rule_ids:
            assert rule_id in rules, (name, rule_id)


def test_unknown_quirk_rejected():
    with pytest.raises(ValueError, match="unknown quirk no-such-thing"):
        RisPacsConfig(token=TOKEN, quirks={"no-such-thing"})


def test_server_assigned_id(ordered_with):
    ris, _, order = ordered_with("server-assigned-id")

    first = ris.post_order(order)
    retry = ris.post_order(order)
    changed = ris.post_order({**order, "note": [{"text": "changed"}]})

    assert first.status_code == 201
    server_id = first.json()["id"]
    assert server_id != order["id"]
    assert re.fullmatch(
        rf"{re.escape(ris.url)}/ProcedureRequest/{server_id}/_history/1",
        first.headers["Location"],
    )
    assert retry.status_code == 200
    assert retry.json()["id"] == server_id
    assert changed.status_code == 409
    assert ris.get(f"/ProcedureRequest/{order['id']}").status_code == 404
    assert ris.store.count("ProcedureRequest") == 1


def test_server_assigned_id_survives_restart(ris_server, intake, tmp_path):
    patient, order = intake
    db_path = tmp_path / "quirk.sqlite3"
    first = ris_server(db_path=db_path, quirks=frozenset({"server-assigned-id"}))
    first.put_patient(patient)
    server_id = first.post_order(order).json()["id"]

    second = ris_server(db_path=db_path, quirks=frozenset({"server-assigned-id"}))
    retry = second.post_order(order)

    assert retry.status_code == 200
    assert retry.json()["id"] == server_id


def test_mutable_orders(ordered_with):
    ris, _, order = ordered_with("mutable-orders")
    ris.post_order(order)
    path = f"/ProcedureRequest/{order['id']}"

    put = ris.put(path, {**order, "note": [{"text": "changed"}]})
    patch = ris.request(
        "PATCH",
        path,
        [{"op": "replace", "path": "/note/0/text", "value": "patched"}],
        content_type="application/json-patch+json",
    )
    patched = ris.get(path).json()
    delete = ris.request("DELETE", path)
    gone = ris.get(path)

    assert put.status_code == 200
    assert put.headers["ETag"] == 'W/"2"'
    assert patch.status_code == 200
    assert patched["note"] == [{"text": "patched"}]
    assert delete.status_code == 204
    assert gone.status_code == 410
    assert ris.get("/metadata").json()["rest"][0]["resource"][1]["interaction"][-1] == {
        "code": "delete"
    }


def test_mutable_orders_patch_errors(ordered_with, expect_outcome):
    ris, _, order = ordered_with("mutable-orders")
    ris.post_order(order)
    path = f"/ProcedureRequest/{order['id']}"
    before = ris.snapshot()

    bad_pointer = ris.request(
        "PATCH",
        path,
        [{"op": "remove", "path": "/nothing/here"}],
        content_type="application/json-patch+json",
    )
    invalid_result = ris.request(
        "PATCH",
        path,
        [{"op": "replace", "path": "/status", "value": "bogus"}],
        content_type="application/json-patch+json",
    )
    not_json = ris.request(
        "PATCH", path, b"[{", content_type="application/json-patch+json"
    )

    expect_outcome(bad_pointer, 422)
    expect_outcome(invalid_result, 400)
    expect_outcome(not_json, 400)
    assert ris.snapshot() == before


def test_no_auth(ris_server, intake):
    ris = ris_server(quirks=frozenset({"no-auth"}))
    patient, _ = intake

    without = ris.put_patient(patient, headers={"Authorization": None})
    wrong = ris.get(
        f"/Patient/{patient['id']}", headers={"Authorization": "Bearer nope"}
    )

    assert without.status_code == 201
    assert wrong.status_code == 200


def test_any_token(ris_server, intake, expect_outcome):
    ris = ris_server(quirks=frozenset({"any-token"}))
    patient, _ = intake

    wrong = ris.put_patient(patient, headers={"Authorization": "Bearer revoked-000"})
    without = ris.get(f"/Patient/{patient['id']}", headers={"Authorization": None})

    assert wrong.status_code == 201
    expect_outcome(without, 401, "AUTH-01")


def test_case_sensitive_bearer(ris_server, intake, expect_outcome):
    ris = ris_server(quirks=frozenset({"case-sensitive-bearer"}))
    patient, _ = intake

    lower = ris.put_patient(patient, headers={"Authorization": f"bearer {TOKEN}"})
    exact = ris.put_patient(patient, headers={"Authorization": f"Bearer {TOKEN}"})

    expect_outcome(lower, 401, "AUTH-02")
    assert exact.status_code == 201


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_any_content_type(ris_server, intake, content_type):
    ris = ris_server(quirks=frozenset({"any-content-type"}))
    patient, _ = intake

    response = ris.put_patient(patient, content_type=content_type)

    assert response.status_code == 201


def test_500_on_malformed_json(ris_server):
    ris = ris_server(quirks=frozenset({"500-on-malformed-json"}))

    broken = ris.put("/Patient/1", b'{"resourceType": "Patient",')
    duplicate = ris.put("/Patient/1", b'{"resourceType":"Patient","id":"1","id":"1"}')
    null_value = ris.put(
        "/Patient/1", b'{"resourceType":"Patient","id":"1","gender":null}'
    )
    wrong_type = ris.put("/Patient/1", {"resourceType": "Basic", "id": "1"})

    assert broken.status_code == 500
    assert broken.json()["resourceType"] == "OperationOutcome"
    assert duplicate.status_code == 500
    assert null_value.status_code == 400
    assert wrong_type.status_code == 400
    assert ris.snapshot() == []


def test_plain_json_responses(ris_server, intake):
    ris = ris_server(quirks=frozenset({"plain-json-responses"}))
    patient, _ = intake

    created = ris.put_patient(patient)
    missing = ris.get("/Patient/unknown")

    assert created.headers["Content-Type"] == "application/json; charset=utf-8"
    assert missing.headers["Content-Type"] == "application/json; charset=utf-8"
    assert missing.json()["resourceType"] == "OperationOutcome"


def test_bare_errors(ris_server, intake):
    ris = ris_server(quirks=frozenset({"bare-errors"}))
    patient, _ = intake

    unauthorised = ris.get("/Patient/1", headers={"Authorization": None})
    missing = ris.get("/Patient/unknown")
    not_allowed = ris.request("DELETE", "/Patient/1")
    created = ris.put_patient(patient)

    for response in (unauthorised, missing, not_allowed):
        assert response.headers["Content-Type"].startswith("text/plain")
        assert "resourceType" not in response.text
        assert response.text
    assert unauthorised.status_code == 401
    assert "WWW-Authenticate" in unauthorised.headers
    assert missing.status_code == 404
    assert not_allowed.status_code == 405
    assert created.status_code == 201
    assert created.headers["Content-Type"].startswith("application/fhir+json")


def test_ignore_patient_id_mismatch(ris_server, intake):
    ris = ris_server(quirks=frozenset({"ignore-patient-id-mismatch"}))
    patient, _ = intake
    url_id = patient["id"]

    different = ris.put(f"/Patient/{url_id}", {**patient, "id": "someone-else"})
    missing = ris.put(
        f"/Patient/{url_id}", {k: v for k, v in patient.items() if k != "id"}
    )

    assert different.status_code == 201
    assert different.json()["id"] == url_id
    assert missing.status_code == 200
    assert ris.store.get("Patient", "someone-else") is None


def test_quirks_combine(ris_server, intake):
    ris = ris_server(quirks=frozenset({"no-auth", "plain-json-responses"}))
    patient, _ = intake

    response = ris.put_patient(patient, headers={"Authorization": None})

    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("application/json")
