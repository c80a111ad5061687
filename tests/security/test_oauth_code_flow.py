"""Authorization-code flow with PKCE through the login and consent pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from security_values import REDIRECT_URI, TENANTS

from giponext_conformance.mocks.giponext import (
    GipoNextConfig,
    TenantConfig,
    create_app,
    mock_of,
)
from giponext_conformance.mocks.giponext.oauth import scripted

# The fixtures oauth_giponext, start_oauth_giponext and oauth_ca.
pytest_plugins = ["security_bench"]


def _query(location: str) -> dict:
    return {
        name: values[0] for name, values in parse_qs(urlsplit(location).query).items()
    }


def _authorize_url(oauth_giponext, **overrides) -> str:
    pkce = scripted.Pkce.generate()
    query = {
        "response_type": "code",
        "client_id": oauth_giponext.confidential.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "reports",
        "state": "xyz",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    query.update(overrides)
    query = {name: value for name, value in query.items() if value is not None}
    return f"{oauth_giponext.url}/oauth/authorize?{urlencode(query)}"


def test_code_flow_issues_granted_scopes(oauth_giponext):
    response = oauth_giponext.code_flow("reports profile")

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"  # noqa: S105  # a token type name
    assert set(body["scope"].split()) == {"reports", "profile"}
    assert body["refresh_token"]
    info = oauth_giponext.provider.resolve_access_token(body["access_token"])
    assert info.tenant == TENANTS[0]
    assert info.client_id == "ris-pacs"


def test_code_flow_token_reads_reports(oauth_giponext):
    token = oauth_giponext.code_flow("reports").json()["access_token"]

    answer = oauth_giponext.read_report(TENANTS[0], token)

    # 404: the credential passed every check and the report id is unknown.
    assert answer.status_code == 404


def test_unticked_scope_is_refused(oauth_giponext):
    body = oauth_giponext.code_flow("reports profile", ticked=["profile"]).json()

    assert body["scope"] == "profile"
    answer = oauth_giponext.read_report(TENANTS[0], body["access_token"])
    assert answer.status_code == 403
    assert "reports" in answer.json()["issue"][0]["diagnostics"]


def test_token_bound_to_user_tenant(oauth_giponext):
    token = oauth_giponext.code_flow("reports", tenant=TENANTS[1]).json()[
        "access_token"
    ]

    own = oauth_giponext.read_report(TENANTS[1], token)
    other = oauth_giponext.read_report(TENANTS[0], token)
    unknown = oauth_giponext.read_report("tenant-unknown", token)

    assert own.status_code == 404
    assert other.status_code == 403
    assert unknown.status_code == 404
    assert "another tenant" in other.json()["issue"][0]["diagnostics"]


def test_login_page_comes_first(oauth_giponext):
    page = requests.get(
        _authorize_url(oauth_giponext), verify=oauth_giponext.ca, timeout=10
    )

    assert page.status_code == 200
    forms = scripted.parse_forms(page.text)
    assert [form.action for form in forms] == ["/oauth/login"]
    assert forms[0].value("csrf_token")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"


def test_wrong_password_is_rejected(oauth_giponext):
    user = oauth_giponext.provider.test_user(TENANTS[0])
    intruder = scripted.ScriptedUser(
        user.username, "not-the-password", verify=oauth_giponext.ca
    )

    try:
        intruder.authorize(_authorize_url(oauth_giponext))
    except scripted.OAuthFlowError as error:
        assert "expected 303, got 401" in str(error)
    else:
        raise AssertionError("sign-in with a wrong password succeeded")


def test_consent_lists_each_scope(oauth_giponext):
    user = oauth_giponext.user()
    page = user._sign_in_if_asked(
        user._get(_authorize_url(oauth_giponext, scope="reports profile"))
    )

    forms = scripted.parse_forms(page.text)
    assert forms[0].checkbox_values("granted_scope") == ["reports", "profile"]
    assert "tenant-alpha" in page.text


def test_deny_redirects_access_denied(oauth_giponext):
    location = oauth_giponext.user().authorize(
        _authorize_url(oauth_giponext), allow=False
    )

    query = _query(location)
    assert location.startswith(REDIRECT_URI)
    assert query["error"] == "access_denied"
    assert query["state"] == "xyz"
    assert "code" not in query


def test_nothing_ticked_is_a_denial(oauth_giponext):
    location = oauth_giponext.user().authorize(
        _authorize_url(oauth_giponext), scopes=[]
    )

    assert _query(location)["error"] == "access_denied"


def test_pkce_is_required(oauth_giponext):
    url = _authorize_url(
        oauth_giponext, code_challenge=None, code_challenge_method=None
    )

    answer = requests.get(
        url, verify=oauth_giponext.ca, timeout=10, allow_redirects=False
    )

    assert answer.status_code == 302
    query = _query(answer.headers["Location"])
    assert query["error"] == "invalid_request"
    assert "PKCE" in query["error_description"]


def test_plain_pkce_is_rejected(oauth_giponext):
    url = _authorize_url(
        oauth_giponext, code_challenge="a" * 43, code_challenge_method="plain"
    )

    answer = requests.get(
        url, verify=oauth_giponext.ca, timeout=10, allow_redirects=False
    )

    assert answer.status_code == 302
    assert _query(answer.headers["Location"])["error"] == "invalid_request"


def test_wrong_verifier_gets_invalid_grant(oauth_giponext):
    pkce = scripted.Pkce.generate()
    client = oauth_giponext.confidential
    url = scripted.authorization_url(
        oauth_giponext.url, client.client_id, REDIRECT_URI, "reports", "s", pkce
    )
    code = _query(oauth_giponext.user().authorize(url))["code"]

    other = scripted.Pkce.generate()
    answer = scripted.exchange_code(
        oauth_giponext.url,
        client.client_id,
        client.client_secret,
        code,
        REDIRECT_URI,
        other,
        verify=oauth_giponext.ca,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_code_works_once(oauth_giponext):
    pkce = scripted.Pkce.generate()
    client = oauth_giponext.confidential
    url = scripted.authorization_url(
        oauth_giponext.url, client.client_id, REDIRECT_URI, "reports", "s", pkce
    )
    code = _query(oauth_giponext.user().authorize(url))["code"]

    def exchange():
        return scripted.exchange_code(
            oauth_giponext.url,
            client.client_id,
            client.client_secret,
            code,
            REDIRECT_URI,
            pkce,
            verify=oauth_giponext.ca,
        )

    assert exchange().status_code == 200
    second = exchange()
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_unregistered_redirect_uri_is_not_followed(oauth_giponext):
    url = _authorize_url(oauth_giponext, redirect_uri="https://127.0.0.1:9/elsewhere")

    answer = requests.get(
        url, verify=oauth_giponext.ca, timeout=10, allow_redirects=False
    )

    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert "Redirect URI https://127.0.0.1:9/elsewhere is not supported" in answer.text


def test_unknown_client_is_rejected(oauth_giponext):
    url = _authorize_url(oauth_giponext, client_id="no-such-client")

    answer = requests.get(
        url, verify=oauth_giponext.ca, timeout=10, allow_redirects=False
    )

    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_unknown_scope_is_rejected(oauth_giponext):
    url = _authorize_url(oauth_giponext, scope="reports admin")

    answer = requests.get(
        url, verify=oauth_giponext.ca, timeout=10, allow_redirects=False
    )

    assert answer.status_code == 302
    assert _query(answer.headers["Location"])["error"] == "invalid_scope"


def test_client_credentials_unsupported(oauth_giponext):
    client = oauth_giponext.confidential

    answer = scripted.token_request(
        oauth_giponext.url,
        client.client_id,
        client.client_secret,
        {"grant_type": "client_credentials", "scope": "reports"},
        verify=oauth_giponext.ca,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_password_grant_unsupported(oauth_giponext):
    user = oauth_giponext.provider.test_user(TENANTS[0])
    client = oauth_giponext.confidential

    answer = scripted.token_request(
        oauth_giponext.url,
        client.client_id,
        client.client_secret,
        {
            "grant_type": "password",
            "username": user.username,
            "password": user.password,
        },
        verify=oauth_giponext.ca,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_wrong_client_secret_is_rejected(oauth_giponext):
    answer = scripted.token_request(
        oauth_giponext.url,
        "ris-pacs",
        "gcs_wrong-secret-value",
        {"grant_type": "authorization_code", "code": "whatever"},
        verify=oauth_giponext.ca,
    )

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_login_form_needs_csrf_token(oauth_giponext):
    user = oauth_giponext.provider.test_user(TENANTS[0])

    answer = requests.post(
        f"{oauth_giponext.url}/oauth/login",
        data={
            "username": user.username,
            "password": user.password,
            "next": "/oauth/device",
        },
        verify=oauth_giponext.ca,
        timeout=10,
        allow_redirects=False,
    )

    assert answer.status_code == 400
    assert "The form has expired" in answer.text
    assert "Location" not in answer.headers


def test_token_endpoint_rejects_plain_http():
    app = create_app(GipoNextConfig(tenants={"t-http": TenantConfig(["k" * 24])}))
    client = app.test_client()

    answer = client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": "x"},
        base_url="http://ris.example",
    )

    mock_of(app).close()
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "insecure_transport"
