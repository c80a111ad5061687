"""Malformed and hostile requests to the OAuth endpoints get 4xx, never 5xx."""

from __future__ import annotations

import pytest
import requests
from security_values import REDIRECT_URI

# The fixtures oauth_giponext, start_oauth_giponext and oauth_ca.
pytest_plugins = ["security_bench"]

LONG = "A" * 20_000

HOSTILE_REQUESTS = [
    ("POST", "/oauth/token", {}, None),
    ("POST", "/oauth/token", {"grant_type": "authorization_code"}, None),
    (
        "POST",
        "/oauth/token",
        {"grant_type": LONG, "client_id": "ris-pacs-device"},
        None,
    ),
    ("POST", "/oauth/token", None, b'{"grant_type": "refresh_token"}'),
    ("POST", "/oauth/token", None, b"\xff\xfe\x00garbage=\xff"),
    (
        "POST",
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": LONG,
            "client_id": "ris-pacs-device",
        },
        None,
    ),
    (
        "POST",
        "/oauth/token",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": "ris-pacs-device",
        },
        None,
    ),
    ("POST", "/oauth/device_authorization", {}, None),
    ("POST", "/oauth/device_authorization", {"client_id": "no-such-client"}, None),
    ("POST", "/oauth/device_authorization", {"client_id": "ris-pacs"}, None),
    ("POST", "/oauth/revoke", {"client_id": "ris-pacs-device"}, None),
    (
        "POST",
        "/oauth/revoke",
        {"client_id": "ris-pacs-device", "token": "x", "token_type_hint": "id_token"},
        None,
    ),
    ("GET", "/oauth/authorize", None, None),
    ("GET", "/oauth/authorize?response_type=token&client_id=ris-pacs", None, None),
    (
        "GET",
        "/oauth/authorize?client_id=ris-pacs&client_id=ris-pacs-device",
        None,
        None,
    ),
    ("GET", f"/oauth/authorize?response_type=code&client_id={LONG}", None, None),
    ("GET", f"/oauth/device?user_code={LONG}", None, None),
    ("GET", "/oauth/device?user_code=%00%ff", None, None),
    ("POST", "/oauth/device", {"user_code": "BBBB-CCCC", "decision": "allow"}, None),
    ("POST", "/oauth/login", {"username": "x", "password": "y"}, None),
    ("GET", "/oauth/login?next=https://127.0.0.1:9/elsewhere", None, None),
    ("POST", "/oauth/logout", {}, None),
    ("GET", "/oauth/userinfo", None, None),
    ("PUT", "/oauth/token", {"grant_type": "refresh_token"}, None),
]


@pytest.mark.parametrize(("method", "path", "form", "raw"), HOSTILE_REQUESTS)
def test_hostile_request_gets_4xx(oauth_giponext, method, path, form, raw):
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if raw else {}

    answer = requests.request(
        method,
        oauth_giponext.url + path,
        data=raw if raw is not None else form,
        headers=headers,
        verify=oauth_giponext.ca,
        timeout=10,
        allow_redirects=False,
    )

    assert answer.status_code < 500
    if path.startswith("/oauth/login?"):
        # The login page itself; the foreign `next` is replaced by a local path.
        assert answer.status_code == 200
        assert 'value="/oauth/device"' in answer.text
    elif answer.status_code == 302:
        # Once client and redirect URI are known, RFC 6749 4.1.2.1 sends the
        # error to the client's registered redirect URI.
        location = answer.headers["Location"]
        assert location.startswith(REDIRECT_URI)
        assert "error=" in location
    else:
        assert 400 <= answer.status_code < 500


def test_login_next_is_never_absolute(oauth_giponext):
    page = requests.get(
        f"{oauth_giponext.url}/oauth/login",
        params={"next": "//127.0.0.1:9/elsewhere"},
        verify=oauth_giponext.ca,
        timeout=10,
    )

    assert "127.0.0.1:9" not in page.text
