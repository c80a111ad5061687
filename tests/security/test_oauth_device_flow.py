"""Device authorization grant (RFC 8628) with the verification page."""

from __future__ import annotations

import time

import pytest
import requests
from conftest import TENANTS

from giponext_conformance.mocks.giponext.oauth import scripted
from giponext_conformance.mocks.giponext.oauth.views import normalise_user_code

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _start(giponext, scope="reports"):
    return scripted.start_device_authorization(
        giponext.url, "ris-pacs-device", None, scope, verify=giponext.ca
    )


def _poll_once(giponext, authorization):
    return scripted.token_request(
        giponext.url,
        "ris-pacs-device",
        None,
        {"grant_type": DEVICE_GRANT, "device_code": authorization["device_code"]},
        verify=giponext.ca,
    )


def test_device_flow_issues_token(giponext):
    token = giponext.device_flow("reports")

    assert token["scope"] == "reports"
    assert token["refresh_token"]
    assert giponext.read_report(TENANTS[0], token["access_token"]).status_code == 404


def test_device_authorization_answer(giponext):
    authorization = _start(giponext)

    assert authorization["verification_uri"] == f"{giponext.url}/oauth/device"
    assert authorization["verification_uri_complete"].endswith(
        f"?user_code={authorization['user_code']}"
    )
    assert authorization["expires_in"] == 600
    assert authorization["interval"] == 0
    assert len(authorization["user_code"]) == 9


def test_poll_before_approval_is_pending(giponext):
    authorization = _start(giponext)

    answer = _poll_once(giponext, authorization)

    assert answer.status_code == 400
    assert answer.json()["error"] == "authorization_pending"


def test_fast_polling_gets_slow_down(start_giponext):
    giponext = start_giponext(device_poll_interval=30)
    authorization = _start(giponext)

    first = _poll_once(giponext, authorization)
    second = _poll_once(giponext, authorization)

    assert first.json()["error"] == "authorization_pending"
    assert second.json()["error"] == "slow_down"


def test_denied_device_gets_access_denied(giponext):
    authorization = _start(giponext)

    connected = giponext.user().approve_device(
        authorization["verification_uri"], authorization["user_code"], allow=False
    )
    answer = _poll_once(giponext, authorization)

    assert connected is False
    assert answer.status_code == 400
    assert answer.json()["error"] == "access_denied"


def test_device_token_carries_ticked_scopes(giponext):
    authorization = _start(giponext, "reports profile")

    giponext.user().approve_device(
        authorization["verification_uri"], authorization["user_code"], ["profile"]
    )
    answer = _poll_once(giponext, authorization)

    assert answer.status_code == 200
    token = answer.json()
    assert token["scope"] == "profile"
    assert giponext.read_report(TENANTS[0], token["access_token"]).status_code == 403


def test_device_code_works_once(giponext):
    authorization = _start(giponext)
    giponext.user().approve_device(
        authorization["verification_uri"], authorization["user_code"]
    )

    first = _poll_once(giponext, authorization)
    second = _poll_once(giponext, authorization)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_request"


def test_user_code_is_single_decision(giponext):
    authorization = _start(giponext)
    user = giponext.user()
    user.approve_device(authorization["verification_uri"], authorization["user_code"])

    with pytest.raises(scripted.OAuthFlowError, match="expected the consent page"):
        user.approve_device(
            authorization["verification_uri"], authorization["user_code"]
        )


def test_expired_device_code(start_giponext):
    giponext = start_giponext(device_code_lifetime=1)
    authorization = _start(giponext)

    time.sleep(1.2)
    answer = _poll_once(giponext, authorization)

    assert answer.status_code == 400
    assert answer.json()["error"] == "expired_token"


def test_unknown_user_code_page(giponext):
    page = requests.get(
        f"{giponext.url}/oauth/device",
        params={"user_code": "BBBB-CCCC"},
        verify=giponext.ca,
        timeout=10,
    )

    assert page.status_code == 400
    assert "unknown, expired or already used" in page.text


def test_code_entry_page_has_form(giponext):
    page = requests.get(f"{giponext.url}/oauth/device", verify=giponext.ca, timeout=10)

    forms = scripted.parse_forms(page.text)
    assert page.status_code == 200
    assert forms[0].action == "/oauth/device"
    assert any(field.get("name") == "user_code" for field in forms[0].inputs)


def test_scope_outside_client_is_rejected(giponext):
    answer = requests.post(
        f"{giponext.url}/oauth/device_authorization",
        data={"client_id": "ris-pacs-device", "scope": "reports admin"},
        verify=giponext.ca,
        timeout=10,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def test_confidential_client_device_flow(giponext):
    client = giponext.confidential

    token = scripted.obtain_token_by_device_flow(
        giponext.url,
        client.client_id,
        client.client_secret,
        giponext.user(TENANTS[1]),
        "reports",
        verify=giponext.ca,
    )

    info = giponext.provider.resolve_access_token(token["access_token"])
    assert info.tenant == TENANTS[1]
    assert info.client_id == "ris-pacs"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("bcdf-ghjk", "BCDF-GHJK"),
        ("BCDFGHJK", "BCDF-GHJK"),
        (" bcdf ghjk ", "BCDF-GHJK"),
    ],
)
def test_user_code_normalised(typed, expected):
    assert normalise_user_code(typed) == expected
