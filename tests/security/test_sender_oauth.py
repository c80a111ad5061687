"""The mock RIS-PACS's sender authenticating with a device-flow token."""

from __future__ import annotations

import pytest
from security_values import TENANTS

from giponext_conformance.fixtures.providers import make_faker
from giponext_conformance.mocks.giponext.oauth import scripted
from giponext_conformance.mocks.ris_pacs.config import RisPacsConfig
from giponext_conformance.mocks.ris_pacs.oauth_client import (
    DeviceFlowTokenProvider,
    SenderOAuthConfig,
    origin_of,
)
from giponext_conformance.mocks.ris_pacs.sender import (
    DELIVERED,
    REJECTED,
    ReportSender,
    settings_from_config,
)
from giponext_conformance.mocks.storage import ResourceStore

# The fixtures oauth_giponext, start_oauth_giponext and oauth_ca.
pytest_plugins = ["security_bench"]


@pytest.fixture
def ris_store(tmp_path):
    store = ResourceStore(str(tmp_path / "ris.sqlite"))
    yield store
    store.close()


def _intake(oauth_giponext, store, seed):
    """Store a patient and order on the RIS side and register the order on GipoNext."""
    fake = make_faker(seed)
    patient = fake.gipo_patient()
    order = fake.gipo_procedure_request(patient, fake.gipo_doctor(), fake.gipo_doctor())
    store.put("Patient", patient["id"], patient)
    store.create("ProcedureRequest", order["id"], order)
    oauth_giponext.mock.register_order(TENANTS[0], order, patient)
    return order["id"]


def _sender_config(oauth_giponext, user) -> RisPacsConfig:
    return RisPacsConfig(
        token="ris-token-for-inbound-calls",  # noqa: S106  # made up for the test
        giponext_url=f"{oauth_giponext.url}/fhir/r3/{TENANTS[0]}",
        giponext_ca_bundle=oauth_giponext.ca,
        giponext_oauth=SenderOAuthConfig(
            "ris-pacs-device", user.username, user.password
        ),
    )


def test_sender_delivers_with_device_token(oauth_giponext, ris_store):
    user = oauth_giponext.provider.test_user(TENANTS[0])
    order_id = _intake(oauth_giponext, ris_store, seed=7)
    settings = settings_from_config(_sender_config(oauth_giponext, user))

    result = ReportSender(ris_store, settings).deliver(order_id)

    assert result.state == DELIVERED
    assert result.last_status == 201
    assert settings.api_key is None
    (delivery,) = oauth_giponext.mock.deliveries(TENANTS[0])
    assert delivery.status == 201


def test_token_is_reused_then_refreshed(oauth_giponext):
    user = oauth_giponext.provider.test_user(TENANTS[0])
    now = [0.0]
    provider = DeviceFlowTokenProvider(
        SenderOAuthConfig("ris-pacs-device", user.username, user.password),
        oauth_giponext.url,
        oauth_giponext.ca,
        clock=lambda: now[0],
    )

    first = provider()
    again = provider()
    now[0] += 3600
    refreshed = provider()

    assert first == again
    assert refreshed != first
    assert provider.flows == 1
    assert provider.refreshes == 1
    assert oauth_giponext.provider.resolve_access_token(refreshed).tenant == TENANTS[0]


def test_revoked_family_starts_new_flow(oauth_giponext):
    user = oauth_giponext.provider.test_user(TENANTS[0])
    now = [0.0]
    provider = DeviceFlowTokenProvider(
        SenderOAuthConfig("ris-pacs-device", user.username, user.password),
        oauth_giponext.url,
        oauth_giponext.ca,
        clock=lambda: now[0],
    )
    provider()
    refresh_token = provider._refresh_token

    scripted.revoke(
        oauth_giponext.url,
        "ris-pacs-device",
        None,
        refresh_token,
        verify=oauth_giponext.ca,
    )
    now[0] += 3600
    token = provider()

    assert provider.flows == 2
    assert oauth_giponext.provider.resolve_access_token(token) is not None


def test_token_without_reports_scope_is_rejected(oauth_giponext, ris_store):
    user = oauth_giponext.provider.test_user(TENANTS[0])
    order_id = _intake(oauth_giponext, ris_store, seed=11)
    config = RisPacsConfig(
        giponext_url=f"{oauth_giponext.url}/fhir/r3/{TENANTS[0]}",
        giponext_ca_bundle=oauth_giponext.ca,
        giponext_oauth=SenderOAuthConfig(
            "ris-pacs-device", user.username, user.password, scope="profile"
        ),
    )

    result = ReportSender(ris_store, settings_from_config(config)).deliver(order_id)

    assert result.state == REJECTED
    assert result.last_status == 403


def test_origin_of_url():
    assert origin_of("https://127.0.0.1:8443/fhir/r3/t1") == "https://127.0.0.1:8443"
