"""GipoNext mock state without a server: orders, doctors and retry judgement."""

from __future__ import annotations

import pytest

from giponext_conformance.breakers import valid_set
from giponext_conformance.mocks.giponext.judge import judge_retries
from giponext_conformance.mocks.giponext.state import (
    GipoNextState,
    ReportExistsError,
    mentioned_order_ids,
    order_doctors,
    referenced_order_ids,
)

TENANT = "tenant-state"
SERVER_TENANT = "tenant-test"  # the tenant of the giponext_server fixture


@pytest.fixture
def state(tmp_path):
    opened = GipoNextState(tmp_path / "state.sqlite3")
    yield opened
    opened.close()


def test_order_ids_by_reference_and_identifier():
    report = {
        "basedOn": [
            {"reference": "ProcedureRequest/A1"},
            {"reference": "https://other.example/ProcedureRequest/A2"},
            {"identifier": {"system": "https://www.giponext.it", "value": "A3"}},
            {"display": "no reference"},
            "not an object",
        ]
    }

    assert referenced_order_ids(report) == ["A1"]
    assert mentioned_order_ids(report) == ["A1", "A3"]
    assert referenced_order_ids({"basedOn": "ProcedureRequest/A1"}) == []


def test_order_doctors_leave_out_patient():
    resources = valid_set(3)
    patient_code = next(
        identifier["value"]
        for identifier in resources.patient["identifier"]
        if identifier["system"] == "urn:oid:2.16.840.1.113883.2.9.4.3.2"
    )
    performers = {
        performer["actor"]["identifier"]["value"]
        for performer in resources.diagnostic_report["performer"]
    }

    doctors = order_doctors(resources.procedure_request)

    assert doctors == performers
    assert patient_code not in doctors


def test_registered_doctors_per_tenant(state):
    resources = valid_set(4)
    state.register_order(TENANT, resources.procedure_request, resources.patient)
    codes = order_doctors(resources.procedure_request)

    assert state.registered_doctors(TENANT, codes) == codes
    assert state.registered_doctors("other-tenant", codes) == set()
    assert state.registered_doctors(TENANT, {"RSSMRA80A01H501U"}) == set()


def test_register_order_takes_patient_id(state):
    resources = valid_set(5)

    with_patient = state.register_order(
        TENANT, resources.procedure_request, resources.patient
    )
    from_subject = state.register_order("t2", resources.procedure_request)

    assert with_patient.patient_id == resources.patient["id"]
    assert from_subject.patient_id == resources.patient["id"]
    assert (
        state.order(TENANT, resources.procedure_request["id"]).patient_id
        == (resources.patient["id"])
    )
    assert state.order(TENANT, "unknown") is None


def test_create_twice_raises(state):
    report = {"resourceType": "DiagnosticReport", "id": "R1", "status": "final"}
    state.create_report(TENANT, report)

    with pytest.raises(ReportExistsError):
        state.create_report(TENANT, report)
    assert state.create_report("other-tenant", report)["meta"]["versionId"] == "1"


def _deliveries(state, attempts):
    for received_at, status, retry_after in attempts:
        state.record_delivery(
            TENANT,
            "POST",
            status,
            report_id="R1",
            retry_after=retry_after,
            received_at=received_at,
        )


@pytest.mark.parametrize(
    ("attempts", "early", "duplicates", "shortest"),
    [
        ([(100.0, 503, 2), (102.5, 201, None)], 0, 0, 2.5),
        ([(100.0, 503, 2), (100.4, 201, None)], 1, 0, 0.4),
        ([(100.0, 429, 1), (101.0, 429, 1), (101.2, 201, None)], 1, 0, 0.2),
        ([(100.0, 201, None), (103.0, 409, None)], 0, 1, None),
        ([(100.0, 503, 3), (104.0, 201, None), (105.0, 409, None)], 0, 1, 4.0),
    ],
)
def test_retry_behaviour_counts(state, attempts, early, duplicates, shortest):
    _deliveries(state, attempts)

    behaviour = state.retry_behaviour(TENANT, "R1")

    assert behaviour.attempts == len(attempts)
    assert behaviour.early_retries == early
    assert behaviour.duplicate_deliveries == duplicates
    assert behaviour.shortest_wait == (pytest.approx(shortest) if shortest else None)


def test_judge_retries_messages(state):
    _deliveries(state, [(100.0, 503, 2), (100.5, 201, None), (101.0, 409, None)])

    check = judge_retries(state.retry_behaviour(TENANT, "R1"), "R1")

    assert check.rule == "GAUTH-06"
    assert not check.ok
    assert check.warning
    assert "1 retry(ies) before Retry-After elapsed" in check.message
    assert "sent 1 more time(s)" in check.message


def test_wait_skips_report_of_other_order(giponext_server):
    server = giponext_server()
    later = valid_set(2)
    server.mock.register_order(SERVER_TENANT, later.procedure_request, later.patient)
    other_order_report = server.request("POST", body=server.report)
    assert other_order_report.status_code == 201

    found = server.mock.wait_for_delivery(
        SERVER_TENANT, later.procedure_request["id"], timeout=0.5
    )

    assert found is None


def test_wait_returns_report_of_unknown_order(giponext_server):
    server = giponext_server()
    later = valid_set(2)
    server.mock.register_order(SERVER_TENANT, later.procedure_request, later.patient)
    stray = dict(
        server.report,
        basedOn=[{"reference": "ProcedureRequest/RIS-77"}],
        subject={"reference": f"Patient/{later.patient['id']}"},
    )
    answer = server.request("POST", body=stray)
    assert answer.status_code == 422

    found = server.mock.wait_for_delivery(
        SERVER_TENANT, later.procedure_request["id"], timeout=0.5
    )

    assert found is not None
    assert found.order_ids == ("RIS-77",)


def test_wait_skips_unknown_order_of_other_patient(giponext_server):
    server = giponext_server()
    later = valid_set(2)
    server.mock.register_order(SERVER_TENANT, later.procedure_request, later.patient)
    stray = dict(server.report, basedOn=[{"reference": "ProcedureRequest/RIS-78"}])
    answer = server.request("POST", body=stray)
    assert answer.status_code == 422

    found = server.mock.wait_for_delivery(
        SERVER_TENANT, later.procedure_request["id"], timeout=0.5
    )

    assert found is None
