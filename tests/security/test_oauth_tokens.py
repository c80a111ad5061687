"""Refresh rotation with reuse detection, expiry and revocation (RFC 7009)."""

from __future__ import annotations

import time

import requests
from security_values import TENANTS

from giponext_conformance.mocks.giponext.oauth import scripted

# The fixtures oauth_giponext, start_oauth_giponext and oauth_ca.
pytest_plugins = ["security_bench"]


def _refresh(oauth_giponext, refresh_token):
    return scripted.refresh(
        oauth_giponext.url,
        "ris-pacs-device",
        None,
        refresh_token,
        verify=oauth_giponext.ca,
    )


def _revoke(oauth_giponext, token, hint=None, client_id="ris-pacs-device"):
    return scripted.revoke(
        oauth_giponext.url, client_id, None, token, hint, verify=oauth_giponext.ca
    )


def test_refresh_rotates_tokens(oauth_giponext):
    first = oauth_giponext.device_flow()

    answer = _refresh(oauth_giponext, first["refresh_token"])

    second = answer.json()
    assert answer.status_code == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == "reports"
    assert (
        oauth_giponext.read_report(TENANTS[0], second["access_token"]).status_code
        == 404
    )
    # The exchanged pair is retired with the rotation.
    assert (
        oauth_giponext.read_report(TENANTS[0], first["access_token"]).status_code == 401
    )


def test_refresh_reuse_revokes_family(oauth_giponext):
    first = oauth_giponext.device_flow()
    second = _refresh(oauth_giponext, first["refresh_token"]).json()

    reuse = _refresh(oauth_giponext, first["refresh_token"])

    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert (
        oauth_giponext.read_report(TENANTS[0], second["access_token"]).status_code
        == 401
    )
    assert _refresh(oauth_giponext, second["refresh_token"]).status_code == 400


def test_refresh_reuse_spares_other_families(oauth_giponext):
    victim = oauth_giponext.device_flow()
    bystander = oauth_giponext.device_flow()
    _refresh(oauth_giponext, victim["refresh_token"])

    _refresh(oauth_giponext, victim["refresh_token"])

    assert (
        oauth_giponext.read_report(TENANTS[0], bystander["access_token"]).status_code
        == 404
    )


def test_refresh_cannot_widen_scope(oauth_giponext):
    token = oauth_giponext.device_flow("reports")

    answer = scripted.token_request(
        oauth_giponext.url,
        "ris-pacs-device",
        None,
        {
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "scope": "reports profile",
        },
        verify=oauth_giponext.ca,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def test_refresh_by_other_client_rejected(oauth_giponext):
    token = oauth_giponext.device_flow()
    client = oauth_giponext.confidential

    answer = scripted.refresh(
        oauth_giponext.url,
        client.client_id,
        client.client_secret,
        token["refresh_token"],
        verify=oauth_giponext.ca,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_access_token_expires(start_oauth_giponext):
    oauth_giponext = start_oauth_giponext(access_token_lifetime=1)
    token = oauth_giponext.device_flow()
    assert token["expires_in"] == 1

    time.sleep(1.2)

    answer = oauth_giponext.read_report(TENANTS[0], token["access_token"])
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_refresh_token_expires(start_oauth_giponext):
    oauth_giponext = start_oauth_giponext(refresh_token_lifetime=1)
    token = oauth_giponext.device_flow()

    time.sleep(1.2)

    answer = _refresh(oauth_giponext, token["refresh_token"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_revoke_access_token(oauth_giponext):
    token = oauth_giponext.device_flow()

    answer = _revoke(oauth_giponext, token["access_token"], "access_token")

    assert answer.status_code == 200
    assert (
        oauth_giponext.read_report(TENANTS[0], token["access_token"]).status_code == 401
    )
    # Revoking the access token leaves the refresh token usable.
    assert _refresh(oauth_giponext, token["refresh_token"]).status_code == 200


def test_revoke_refresh_token_revokes_family(oauth_giponext):
    token = oauth_giponext.device_flow()

    answer = _revoke(oauth_giponext, token["refresh_token"], "refresh_token")

    assert answer.status_code == 200
    assert (
        oauth_giponext.read_report(TENANTS[0], token["access_token"]).status_code == 401
    )
    assert _refresh(oauth_giponext, token["refresh_token"]).status_code == 400


def test_revoke_unknown_token_is_200(oauth_giponext):
    # RFC 7009 2.2: an invalid token is no error for the revocation endpoint.
    answer = _revoke(oauth_giponext, "gat_not-a-token-at-all")

    assert answer.status_code == 200


def test_revoke_other_clients_token_rejected(oauth_giponext):
    token = oauth_giponext.code_flow("reports").json()

    answer = _revoke(oauth_giponext, token["access_token"])

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert (
        oauth_giponext.read_report(TENANTS[0], token["access_token"]).status_code == 404
    )


def test_userinfo_needs_profile_scope(oauth_giponext):
    with_profile = oauth_giponext.code_flow("reports profile").json()["access_token"]
    without = oauth_giponext.code_flow("reports").json()["access_token"]

    def userinfo(token):
        return requests.get(
            f"{oauth_giponext.url}/oauth/userinfo",
            headers={"Authorization": f"Bearer {token}"},
            verify=oauth_giponext.ca,
            timeout=10,
        )

    granted = userinfo(with_profile)
    refused = userinfo(without)
    assert granted.status_code == 200
    assert granted.json() == {
        "sub": "operator@tenant-alpha",
        "name": "Operator tenant-alpha",
        "tenant": "tenant-alpha",
    }
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"


def test_storage_holds_no_plain_tokens(oauth_giponext, tmp_path):
    token = oauth_giponext.device_flow()
    user = oauth_giponext.provider.test_user(TENANTS[0])

    database = (tmp_path / "oauth_giponext-0.sqlite").read_bytes()
    wal = tmp_path / "oauth_giponext-0.sqlite-wal"
    everything = database + (wal.read_bytes() if wal.exists() else b"")

    assert token["access_token"].encode() not in everything
    assert token["refresh_token"].encode() not in everything
    assert user.password.encode() not in everything
    assert oauth_giponext.confidential.client_secret.encode() not in everything
