"""Device authorization grant (RFC 8628) with the verification page."""

from __future__ import annotations

import time

import pytest
import requests
from security_values import TENANTS

from giponext_conformance.mocks.giponext.oauth import scripted
from giponext_conformance.mocks.giponext.oauth.views import normalise_user_code

# The fixtures oauth_giponext, start_oauth_giponext and oauth_ca.
pytest_plugins = ["security_bench"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _start(oauth_giponext, scope="reports"):
    return scripted.start_device_authorization(
        oauth_giponext.url, "ris-pacs-device", None, scope, verify=oauth_giponext.ca
    )


def _poll_once(oauth_giponext, authorization):
    return scripted.token_request(
        oauth_giponext.url,
        "ris-pacs-device",
        None,
        {"grant_type": DEVICE_GRANT, "device_code": authorization["device_code"]},
        verify=oauth_giponext.ca,
    )


def test_device_flow_issues_token(oauth_giponext):
    token = oauth_giponext.device_flow("reports")

    assert token["scope"] == "reports"
    assert token["refresh_token"]
    assert (
        oauth_giponext.read_report(TENANTS[0], token["access_token"]).status_code == 404
    )


def test_device_authorization_answer(oauth_giponext):
    authorization = _start(oauth_giponext)

    assert authorization["verification_uri"] == f"{oauth_giponext.url}/oauth/device"
    assert authorization["verification_uri_complete"].endswith(
        f"?user_code={authorization['user_code']}"
    )
    assert authorization["expires_in"] == 600
    assert authorization["interval"] == 0
    assert len(authorization["user_code"]) == 9


def test_poll_before_approval_is_pending(oauth_giponext):
    authorization = _start(oauth_giponext)

    answer = _poll_once(oauth_giponext, authorization)

    assert answer.status_code == 400
    assert answer.json()["error"] == "authorization_pending"


def test_fast_polling_gets_slow_down(start_oauth_giponext):
    oauth_giponext = start_oauth_giponext(device_poll_interval=30)
    authorization = _start(oauth_giponext)

    first = _poll_once(oauth_giponext, authorization)
    second = _poll_once(oauth_giponext, authorization)

    assert first.json()["error"] == "authorization_pending"
    assert second.json()["error"] == "slow_down"


def test_denied_device_gets_access_denied(oauth_giponext):
    authorization = _start(oauth_giponext)

    connected = oauth_giponext.user().approve_device(
        authorization["verification_uri"], authorization["user_code"], allow=False
    )
    answer = _poll_once(oauth_giponext, authorization)

    assert connected is False
    assert answer.status_code == 400
    assert answer.json()["error"] == "access_denied"


def test_device_token_carries_ticked_scopes(oauth_giponext):
    authorization = _start(oauth_giponext, "reports profile")

    oauth_giponext.user().approve_device(
        authorization["verification_uri"], authorization["user_code"], ["profile"]
    )
    answer = _poll_once(oauth_giponext, authorization)

    assert answer.status_code == 200
    token = answer.json()
    assert token["scope"] == "profile"
    assert (
        oauth_giponext.read_report(TENANTS[0], token["access_token"]).status_code == 403
    )


def test_device_code_works_once(oauth_giponext):
    authorization = _start(oauth_giponext)
    oauth_giponext.user().approve_device(
        authorization["verification_uri"], authorization["user_code"]
    )

    first = _poll_once(oauth_giponext, authorization)
    second = _poll_once(oauth_giponext, authorization)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_request"


def test_user_code_is_single_decision(oauth_giponext):
    authorization = _start(oauth_giponext)
    user = oauth_giponext.user()
    user.approve_device(authorization["verification_uri"], authorization["user_code"])

    with pytest.raises(scripted.OAuthFlowError, match="expected the consent page"):
        user.approve_device(
            authorization["verification_uri"], authorization["user_code"]
        )


def test_expired_device_code(start_oauth_giponext):
    oauth_giponext = start_oauth_giponext(device_code_lifetime=1)
    authorization = _start(oauth_giponext)

    time.sleep(1.2)
    answer = _poll_once(oauth_giponext, authorization)

    assert answer.status_code == 400
    assert answer.json()["error"] == "expired_token"


def test_unknown_user_code_page(oauth_giponext):
    page = requests.get(
        f"{oauth_giponext.url}/oauth/device",
        params={"user_code": "BBBB-CCCC"},
        verify=oauth_giponext.ca,
        timeout=10,
    )

    assert page.status_code == 400
    assert "unknown, expired or already used" in page.text


def test_code_entry_page_has_form(oauth_giponext):
    page = requests.get(
        f"{oauth_giponext.url}/oauth/device", verify=oauth_giponext.ca, timeout=10
    )

    forms = scripted.parse_forms(page.text)
    assert page.status_code == 200
    assert forms[0].action == "/oauth/device"
    assert any(field.get("name") == "user_code" for field in forms[0].inputs)


def test_scope_outside_client_is_rejected(oauth_giponext):
    answer = requests.post(
        f"{oauth_giponext.url}/oauth/device_authorization",
        data={"client_id": "ris-pacs-device", "scope": "reports admin"},
        verify=oauth_giponext.ca,
        timeout=10,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def test_confidential_client_device_flow(oauth_giponext):
    client = oauth_giponext.confidential

    token = scripted.obtain_token_by_device_flow(
        oauth_giponext.url,
        client.client_id,
        client.client_secret,
        oauth_giponext.user(TENANTS[1]),
        "reports",
        verify=oauth_giponext.ca,
    )

    info = oauth_giponext.provider.resolve_access_token(token["access_token"])
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
