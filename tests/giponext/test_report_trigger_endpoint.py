"""The mock RIS-PACS's trigger endpoint and scheduled delivery, over real TLS."""

from __future__ import annotations

import time

import pytest
import requests
from conftest import API_KEY, TENANT

from giponext_conformance.mocks.ris_pacs import RisPacsConfig, close_app, create_app
from giponext_conformance.serving import start_server

RIS_TOKEN = "ris-trigger-token-5Kp8"  # noqa: S105  # a test credential
FHIR_JSON = "application/fhir+json"
DELIVERY_TIMEOUT = 20.0


@pytest.fixture
def ris_with_sender(giponext_server, giponext_tls, tmp_path):
    """Return a factory starting a GipoNext mock and a RIS-PACS that reports to it."""
    started = []

    def start(report_delay=None, with_sender=True):
        gipo = giponext_server()
        ca_path, cert_path, key_path = giponext_tls
        sender_fields = {}
        if with_sender:
            sender_fields = {
                "giponext_url": f"{gipo.url}/fhir/r3/{TENANT}",
                "giponext_api_key": API_KEY,
                "giponext_ca_bundle": str(ca_path),
                "report_delay": report_delay,
            }
        config = RisPacsConfig(
            token=RIS_TOKEN,
            db_path=tmp_path / f"ris-{len(started)}.sqlite3",
            **sender_fields,
        )
        app = create_app(config)
        server = start_server(app, cert_path=cert_path, key_path=key_path)
        started.append((server, app))
        session = requests.Session()
        session.trust_env = False
        session.verify = str(ca_path)
        session.headers["Authorization"] = f"Bearer {RIS_TOKEN}"
        return gipo, server.url, session

    yield start
    for server, app in started:
        server.stop()
        close_app(app)


def _intake(session, ris_url, gipo) -> None:
    headers = {"Content-Type": FHIR_JSON}
    patient = session.put(
        f"{ris_url}/Patient/{gipo.patient['id']}", json=gipo.patient, headers=headers
    )
    order = session.post(
        f"{ris_url}/ProcedureRequest", json=gipo.order, headers=headers
    )
    assert patient.status_code in (200, 201)
    assert order.status_code == 201


def test_trigger_delivers_once(ris_with_sender):
    gipo, ris_url, session = ris_with_sender()
    _intake(session, ris_url, gipo)
    trigger = f"{ris_url}/$deliver-report/{gipo.order['id']}"

    first = session.post(trigger)
    second = session.post(trigger)

    assert first.status_code == 200
    assert "delivered after 1 attempt(s)" in first.json()["issue"][0]["diagnostics"]
    assert second.status_code == 200
    assert [delivery.status for delivery in gipo.mock.deliveries(TENANT)] == [201]


def test_trigger_unknown_order(ris_with_sender):
    _gipo, ris_url, session = ris_with_sender()

    answer = session.post(f"{ris_url}/$deliver-report/NO-SUCH-ORDER")

    assert answer.status_code == 404
    assert "ProcedureRequest/NO-SUCH-ORDER" in answer.json()["issue"][0]["diagnostics"]


def test_trigger_needs_sender(ris_with_sender):
    gipo, ris_url, session = ris_with_sender(with_sender=False)
    _intake(session, ris_url, gipo)

    answer = session.post(f"{ris_url}/$deliver-report/{gipo.order['id']}")

    assert answer.status_code == 404
    assert "--giponext-url" in answer.json()["issue"][0]["diagnostics"]


def test_trigger_needs_ris_credential(ris_with_sender):
    gipo, ris_url, session = ris_with_sender()

    answer = requests.post(
        f"{ris_url}/$deliver-report/{gipo.order['id']}",
        verify=session.verify,
        timeout=30,
    )

    assert answer.status_code == 401
    assert gipo.mock.deliveries(TENANT) == []


def test_new_order_delivered_after_delay(ris_with_sender):
    gipo, ris_url, session = ris_with_sender(report_delay=0.2)
    _intake(session, ris_url, gipo)

    delivery = gipo.mock.wait_for_delivery(
        TENANT, gipo.order["id"], timeout=DELIVERY_TIMEOUT
    )
    time.sleep(0.5)

    assert delivery is not None
    assert delivery.status == 201
    assert delivery.order_ids == (gipo.order["id"],)
    assert len(gipo.mock.deliveries(TENANT)) == 1
