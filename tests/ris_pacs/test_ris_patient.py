"""Mock RIS-PACS Patient endpoint: FHIR update with a client-chosen id."""

import re


def test_first_put_creates_patient(ris, intake):
    patient, _ = intake

    response = ris.put_patient(patient)

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert response.headers["ETag"] == 'W/"1"'
    assert (
        response.headers["Location"] == f"{ris.url}/Patient/{patient['id']}/_history/1"
    )
    body = response.json()
    assert body["id"] == patient["id"]
    assert body["meta"]["versionId"] == "1"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["meta"]["lastUpdated"]
    )
    assert body["name"] == patient["name"]


def test_changed_put_updates_patient(ris, intake):
    patient, _ = intake
    ris.put_patient(patient)
    patient["telecom"] = patient["telecom"][:1]

    response = ris.put_patient(patient)

    assert response.status_code == 200
    assert response.headers["ETag"] == 'W/"2"'
    assert response.json()["telecom"] == patient["telecom"]
    assert len(ris.store.history("Patient", patient["id"])) == 2


def test_identical_put_changes_nothing(ris, intake):
    patient, _ = intake
    first = ris.put_patient(patient)
    before = ris.snapshot()

    again = ris.put_patient(patient)

    assert again.status_code == 200
    assert again.headers["ETag"] == 'W/"1"'
    assert again.json()["meta"] == first.json()["meta"]
    assert ris.snapshot() == before


def test_identical_put_with_meta_changes_nothing(ris, intake):
    patient, _ = intake
    first = ris.put_patient(patient).json()

    again = ris.put_patient({**patient, "meta": {"versionId": "7"}})

    assert again.status_code == 200
    assert again.json()["meta"] == first["meta"]


def test_get_returns_stored_patient(ris, intake):
    patient, _ = intake
    ris.put_patient(patient)

    response = ris.get(f"/Patient/{patient['id']}")

    assert response.status_code == 200
    assert response.headers["ETag"] == 'W/"1"'
    assert response.json()["identifier"] == patient["identifier"]


def test_vread_returns_old_version(ris, intake):
    patient, _ = intake
    original_telecom = patient["telecom"]
    ris.put_patient(patient)
    ris.put_patient({**patient, "telecom": original_telecom[:1]})

    old = ris.get(f"/Patient/{patient['id']}/_history/1")
    missing = ris.get(f"/Patient/{patient['id']}/_history/9")

    assert old.status_code == 200
    assert old.json()["telecom"] == original_telecom
    assert missing.status_code == 404


def test_get_unknown_patient_404(ris, expect_outcome):
    response = ris.get("/Patient/nobody-here")

    outcome = expect_outcome(response, 404)
    assert outcome["issue"][0]["code"] == "not-found"
    assert "Patient/nobody-here" in outcome["issue"][0]["diagnostics"]


def test_missing_body_id_rejected(ris, intake, expect_outcome):
    patient, _ = intake
    del patient["id"]

    response = ris.put(f"/Patient/{patient['identifier'][0]['value']}", patient)

    expect_outcome(response, 400, "PAT-02")
    assert ris.snapshot() == []


def test_different_body_id_rejected(ris, intake, expect_outcome):
    patient, _ = intake

    response = ris.put("/Patient/other-id", patient)

    outcome = expect_outcome(response, 400, "PAT-02")
    assert "other-id" in outcome["issue"][0]["diagnostics"]
    assert ris.snapshot() == []


def test_invalid_url_id_rejected(ris, intake, expect_outcome):
    patient, _ = intake

    too_long = ris.put(f"/Patient/{'a' * 65}", {**patient, "id": "a" * 65})
    bad_characters = ris.put("/Patient/a_b", {**patient, "id": "a_b"})

    expect_outcome(too_long, 400, "TRN-09")
    expect_outcome(bad_characters, 400, "TRN-09")
    assert ris.snapshot() == []


def test_invalid_patient_rejected_400(ris, intake, expect_outcome):
    patient, _ = intake
    patient["gender"] = "maschio"

    response = ris.put_patient(patient)

    expect_outcome(response, 400, "TRN-09")
    assert ris.snapshot() == []


def test_profile_violation_rejected_422(ris, intake, expect_outcome):
    patient, _ = intake
    patient["identifier"] = [
        entry
        for entry in patient["identifier"]
        if entry["system"] != "https://www.giponext.it"
    ]

    response = ris.put_patient(patient)

    expect_outcome(response, 422, "PAT-03")
    assert ris.snapshot() == []


def test_prefer_minimal_sends_no_body(ris, intake):
    patient, _ = intake

    response = ris.put_patient(patient, headers={"Prefer": "return=minimal"})

    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["ETag"] == 'W/"1"'


def test_prefer_outcome_sends_outcome(ris, intake):
    patient, _ = intake

    response = ris.put_patient(patient, headers={"Prefer": "return=OperationOutcome"})

    assert response.status_code == 201
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["severity"] == "information"
