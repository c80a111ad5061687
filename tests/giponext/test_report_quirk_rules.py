"""Each report quirk of the mock RIS-PACS fails exactly its rules; no quirk fails none.

The whole path is real: the sender builds the report from a SQLite store,
delivers it over TLS to the GipoNext mock, which answers a first 503 with
Retry-After, validates and cross-checks the report; the judge then turns the
stored delivery into rule checks.
"""

from __future__ import annotations

import pytest
from conftest import API_KEY, TENANT

from giponext_conformance.mocks.giponext import DeliveryFault
from giponext_conformance.mocks.giponext.judge import (
    failing_rules,
    judge_delivery,
    judge_retries,
)
from giponext_conformance.mocks.ris_pacs.report_quirks import REPORT_QUIRKS
from giponext_conformance.mocks.ris_pacs.sender import ReportSender, SenderSettings
from giponext_conformance.mocks.storage import ResourceStore


def _failing_rules(giponext_server, tmp_path, quirks) -> tuple[set[str], str]:
    server = giponext_server(seed=7, delivery_fault=DeliveryFault(503, 1))
    order_id = server.order["id"]
    with ResourceStore(tmp_path / "ris.sqlite3") as store:
        store.put("Patient", server.patient["id"], server.patient)
        store.create("ProcedureRequest", order_id, server.order)
        settings = SenderSettings(
            f"{server.url}/fhir/r3/{TENANT}",
            api_key=API_KEY,
            ca_bundle=str(server.ca_path),
            quirks=frozenset(quirks),
        )
        result = ReportSender(store, settings).deliver(order_id)

    delivery = server.mock.wait_for_delivery(TENANT, order_id, timeout=5)
    checks = judge_delivery(delivery, order_id, TENANT)
    if result.report_id is not None:
        behaviour = server.mock.retry_behaviour(TENANT, result.report_id)
        checks.append(judge_retries(behaviour, result.report_id))
    messages = "; ".join(
        f"{check.rule}: {check.message}" for check in checks if not check.ok
    )
    return failing_rules(checks), messages


def test_correct_sender_fails_nothing(giponext_server, tmp_path):
    failing, messages = _failing_rules(giponext_server, tmp_path, ())

    assert failing == set(), messages


@pytest.mark.parametrize("quirk", sorted(REPORT_QUIRKS))
def test_quirk_fails_its_rules(giponext_server, tmp_path, quirk):
    expected = set(REPORT_QUIRKS[quirk][1])

    failing, messages = _failing_rules(giponext_server, tmp_path, (quirk,))

    assert failing == expected, messages
