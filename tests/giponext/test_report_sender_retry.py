"""The RIS-PACS report sender: Retry-After, bounded attempts, one delivery each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from conftest import API_KEY, TENANT

from giponext_conformance.mocks.giponext import DeliveryFault
from giponext_conformance.mocks.ris_pacs.sender import (
    DELIVERED,
    FAILED,
    ReportSender,
    SenderSettings,
    retry_delay,
)
from giponext_conformance.mocks.storage import ResourceStore

SETTINGS = SenderSettings("https://127.0.0.1:1/fhir/r3/t", api_key="k" * 20)
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "attempt", "expected"),
    [
        ("3", 1, 3.0),
        (" 120 ", 4, 120.0),
        ("0", 1, 0.0),
        (format_datetime(NOW + timedelta(seconds=10), usegmt=True), 1, 10.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 1, 0.0),
        ("Sun, 01 Mar 2026 12:00:07 GMT", 1, 7.0),
        ("soon", 1, 0.5),
        ("-5", 2, 1.0),
        ("", 3, 2.0),
        (None, 1, 0.5),
        (None, 4, 4.0),
        (None, 9, 8.0),
    ],
)
def test_retry_delay_forms(value, attempt, expected):
    assert retry_delay(value, attempt, SETTINGS, now=NOW) == pytest.approx(expected)


@pytest.fixture
def sending(giponext_server, tmp_path):
    """Return a factory of (server, sender, order id) sharing one RIS-PACS store."""
    stores = []

    def make(fault=None, store_path=None, **settings):
        server = giponext_server(delivery_fault=fault)
        store = ResourceStore(store_path or tmp_path / f"ris-{len(stores)}.sqlite3")
        stores.append(store)
        store.put("Patient", server.patient["id"], server.patient)
        if store.get("ProcedureRequest", server.order["id"]) is None:
            store.create("ProcedureRequest", server.order["id"], server.order)
        sender = ReportSender(
            store,
            SenderSettings(
                f"{server.url}/fhir/r3/{TENANT}",
                api_key=API_KEY,
                ca_bundle=str(server.ca_path),
                **settings,
            ),
        )
        return server, sender, server.order["id"]

    yield make
    for store in stores:
        store.close()


@pytest.mark.parametrize("http_date", [False, True])
def test_sender_waits_for_retry_after(sending, http_date):
    server, sender, order_id = sending(DeliveryFault(503, 1, http_date=http_date))

    result = sender.deliver(order_id)
    behaviour = server.mock.retry_behaviour(TENANT, result.report_id)

    assert result.state == DELIVERED
    assert result.attempts == 2
    assert behaviour.faults == 1
    assert behaviour.early_retries == 0
    assert behaviour.shortest_wait >= 1.0
    assert behaviour.accepted == 1


def test_sender_retries_after_429(sending):
    server, sender, order_id = sending(DeliveryFault(429, 1, times=2))

    result = sender.deliver(order_id)
    statuses = [delivery.status for delivery in server.mock.deliveries(TENANT)]

    assert result.state == DELIVERED
    assert statuses == [429, 429, 201]


def test_sender_attempts_are_bounded(sending):
    server, sender, order_id = sending(DeliveryFault(503, 0, times=10), max_attempts=3)

    result = sender.deliver(order_id)

    assert result.state == FAILED
    assert result.attempts == 3
    assert len(server.mock.deliveries(TENANT)) == 3


def test_long_retry_after_stops_delivery(sending):
    server, sender, order_id = sending(DeliveryFault(503, 30), max_retry_wait=2)

    result = sender.deliver(order_id)

    assert result.state == FAILED
    assert "Retry-After" in result.message
    assert len(server.mock.deliveries(TENANT)) == 1


def test_report_delivered_once(sending, tmp_path):
    store_path = tmp_path / "ris-shared.sqlite3"
    server, sender, order_id = sending(store_path=store_path)

    first = sender.deliver(order_id)
    second = sender.deliver(order_id)
    restarted = ReportSender(sender.store, sender.settings).deliver(order_id)

    assert first.state == DELIVERED
    assert first.sent_now
    assert not second.sent_now
    assert not restarted.sent_now
    assert restarted.report_id == first.report_id
    assert len(server.mock.deliveries(TENANT)) == 1


def test_ignoring_retry_after_is_seen(sending):
    server, sender, order_id = sending(
        DeliveryFault(503, 2), quirks=frozenset({"ignores-retry-after"})
    )

    result = sender.deliver(order_id)
    behaviour = server.mock.retry_behaviour(TENANT, result.report_id)

    assert result.state == DELIVERED
    assert behaviour.early_retries == 1
    assert not behaviour.honoured_retry_after


def test_scheduled_delivery(sending):
    server, sender, order_id = sending(report_delay=0.1)

    timer = sender.schedule(order_id)
    timer.join(timeout=20)

    assert sender.status(order_id).state == DELIVERED
    assert [delivery.status for delivery in server.mock.deliveries(TENANT)] == [201]


def test_unknown_order_cannot_be_delivered(sending):
    from giponext_conformance.mocks.ris_pacs.sender import DeliveryError

    _server, sender, _order_id = sending()

    with pytest.raises(DeliveryError, match="ProcedureRequest/NOPE"):
        sender.deliver("NOPE")
    assert sender.status("NOPE") is None
