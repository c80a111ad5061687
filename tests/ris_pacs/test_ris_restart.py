"""Mock RIS-PACS restarts: a new app on the same SQLite file loses nothing."""


def test_restart_keeps_patients_and_orders(ris_server, intake, tmp_path):
    patient, order = intake
    db_path = tmp_path / "restart.sqlite3"
    first = ris_server(db_path=db_path)
    first.put_patient(patient)
    created = first.post_order(order).json()

    second = ris_server(db_path=db_path)

    assert second.url != first.url
    assert second.get(f"/Patient/{patient['id']}").json()["name"] == patient["name"]
    assert second.get(f"/ProcedureRequest/{order['id']}").json() == created


def test_restart_keeps_idempotence(ris_server, intake, tmp_path):
    patient, order = intake
    db_path = tmp_path / "restart.sqlite3"
    first = ris_server(db_path=db_path)
    first.put_patient(patient)
    first.post_order(order)
    before = first.snapshot()

    second = ris_server(db_path=db_path)
    repeat_patient = second.put_patient(patient)
    repeat_order = second.post_order(order)
    changed_order = second.post_order({**order, "note": [{"text": "other"}]})

    assert repeat_patient.status_code == 200
    assert repeat_order.status_code == 200
    assert changed_order.status_code == 409
    assert second.snapshot() == before


def test_restart_keeps_versions(ris_server, intake, tmp_path):
    patient, _ = intake
    db_path = tmp_path / "restart.sqlite3"
    first = ris_server(db_path=db_path)
    first.put_patient(patient)
    first.put_patient({**patient, "active": False})

    second = ris_server(db_path=db_path)
    updated = second.put_patient({**patient, "active": True})

    assert updated.status_code == 200
    assert updated.headers["ETag"] == 'W/"3"'
    assert second.get(f"/Patient/{patient['id']}/_history/2").json()["active"] is False


def test_patient_known_after_restart(ris_server, intake, tmp_path):
    patient, order = intake
    db_path = tmp_path / "restart.sqlite3"
    ris_server(db_path=db_path).put_patient(patient)

    second = ris_server(db_path=db_path)
    response = second.post_order(order)

    assert response.status_code == 201
