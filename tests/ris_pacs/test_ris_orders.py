"""Mock RIS-PACS ProcedureRequest endpoint: create once, never modify."""

import pytest


@pytest.fixture
def ordered(ris, intake):
    patient, order = intake
    assert ris.put_patient(patient).status_code == 201
    return patient, order


def test_post_keeps_giponext_id(ris, ordered):
    _, order = ordered

    response = ris.post_order(order)

    assert response.status_code == 201
    assert response.headers["Location"] == (
        f"{ris.url}/ProcedureRequest/{order['id']}/_history/1"
    )
    assert response.headers["ETag"] == 'W/"1"'
    assert response.json()["id"] == order["id"]
    assert ris.get(f"/ProcedureRequest/{order['id']}").json()["code"] == order["code"]


def test_identical_post_returns_existing(ris, ordered):
    _, order = ordered
    first = ris.post_order(order)
    before = ris.snapshot()

    again = ris.post_order(order)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert ris.snapshot() == before
    assert ris.store.count("ProcedureRequest") == 1


def test_changed_post_conflicts(ris, ordered, expect_outcome):
    _, order = ordered
    ris.post_order(order)
    before = ris.snapshot()

    response = ris.post_order({**order, "note": [{"text": "changed"}]})

    outcome = expect_outcome(response, 409, "PR-03")
    assert outcome["issue"][0]["code"] == "conflict"
    assert ris.snapshot() == before


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_modification_not_allowed(ris, ordered, method, expect_outcome):
    _, order = ordered
    ris.post_order(order)
    before = ris.snapshot()

    response = ris.request(method, f"/ProcedureRequest/{order['id']}", order)

    expect_outcome(response, 405, "PR-03")
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert ris.snapshot() == before


def test_modification_of_unknown_order_405(ris, expect_outcome):
    response = ris.request("DELETE", "/ProcedureRequest/never-sent")

    expect_outcome(response, 405, "PR-03")


def test_unknown_patient_rejected_422(ris, intake, expect_outcome):
    _, order = intake

    response = ris.post_order(order)

    outcome = expect_outcome(response, 422, "PR-09")
    assert order["subject"]["reference"] in outcome["issue"][0]["diagnostics"]
    assert ris.snapshot() == []


def test_missing_order_id_rejected(ris, ordered, expect_outcome):
    _, order = ordered
    before = ris.snapshot()
    del order["id"]

    response = ris.post_order(order)

    expect_outcome(response, 400, "PR-02")
    assert ris.snapshot() == before


def test_profile_violation_rejected_422(ris, ordered, expect_outcome):
    _, order = ordered
    before = ris.snapshot()

    response = ris.post_order({**order, "status": "draft"})

    expect_outcome(response, 422, "PR-06")
    assert ris.snapshot() == before


def test_get_unknown_order_404(ris, expect_outcome):
    response = ris.get("/ProcedureRequest/A0R0I0")

    expect_outcome(response, 404)


def test_vread_order(ris, ordered):
    _, order = ordered
    ris.post_order(order)

    response = ris.get(f"/ProcedureRequest/{order['id']}/_history/1")
    not_a_number = ris.get(f"/ProcedureRequest/{order['id']}/_history/x")

    assert response.status_code == 200
    assert response.json()["meta"]["versionId"] == "1"
    assert not_a_number.status_code == 400


def test_post_to_order_instance_405(ris, ordered, expect_outcome):
    _, order = ordered

    response = ris.post(f"/ProcedureRequest/{order['id']}", order)

    expect_outcome(response, 405)
    assert ris.store.count("ProcedureRequest") == 0
