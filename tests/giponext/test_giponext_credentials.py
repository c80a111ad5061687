"""Credential and tenant checks of the GipoNext mock (GAUTH-01, GAUTH-03, GAUTH-04)."""

from __future__ import annotations

from conftest import API_KEY, TENANT

from giponext_conformance.mocks.giponext import TokenInfo

OAUTH_TOKEN = "oauth-access-token-9f8e7d"  # noqa: S105  # a test credential
NARROW_TOKEN = "oauth-token-without-reports"  # noqa: S105  # a test credential


def _resolver(token):
    # Stands in for an authorization server: two known tokens.
    if token == OAUTH_TOKEN:
        return TokenInfo(TENANT, frozenset({"reports", "profile"}), "client-a")
    if token == NARROW_TOKEN:
        return TokenInfo(TENANT, frozenset({"profile"}), "client-b")
    return None


def test_missing_credential_challenged(giponext_server):
    server = giponext_server()

    answer = server.request("POST", body=server.report, key=None)

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer realm=")
    issue = answer.json()["issue"][0]
    assert issue["details"]["text"] == "GAUTH-01"
    assert "Authorization: Bearer" in issue["diagnostics"]
    assert server.mock.state.count_reports() == 0


def test_wrong_key_is_invalid_token(giponext_server):
    server = giponext_server()

    answer = server.request("POST", body=server.report, key="gpn_wrong_key_000000")

    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert server.mock.state.count_reports() == 0


def test_basic_scheme_refused(giponext_server):
    server = giponext_server()

    answer = server.request(
        "GET",
        f"/{server.report['id']}",
        key=None,
        headers={"Authorization": "Basic dTpw"},
    )

    assert answer.status_code == 401
    assert "'Basic'" in answer.json()["issue"][0]["diagnostics"]


def test_scheme_name_case_insensitive(giponext_server):
    server = giponext_server()

    answer = server.request(
        "POST",
        body=server.report,
        key=None,
        headers={"Authorization": f"bEaReR {API_KEY}"},
    )

    assert answer.status_code == 201


def test_other_tenant_forbidden(giponext_server):
    server = giponext_server()
    other, _key = server.mock.add_tenant("tenant-other")

    answer = server.session.post(
        f"{server.url}/fhir/r3/{other}/DiagnosticReport",
        json=server.report,
        headers={
            "Authorization": f"Bearer {API_KEY}",
            "Content-Type": "application/fhir+json",
        },
        timeout=30,
    )

    assert answer.status_code == 403
    assert answer.json()["issue"][0]["details"]["text"] == "GAUTH-04"
    assert server.mock.state.count_reports() == 0


def test_unknown_tenant_not_found(giponext_server):
    server = giponext_server()

    answer = server.session.get(
        f"{server.url}/fhir/r3/nobody/DiagnosticReport/X",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=30,
    )

    assert answer.status_code == 404
    assert answer.json()["issue"][0]["details"]["text"] == "GAUTH-04"


def test_tenants_see_only_their_reports(giponext_server):
    server = giponext_server()
    other, other_key = server.mock.add_tenant("tenant-other")
    server.request("POST", body=server.report)

    answer = server.session.get(
        f"{server.url}/fhir/r3/{other}/DiagnosticReport/{server.report['id']}",
        headers={"Authorization": f"Bearer {other_key}"},
        timeout=30,
    )

    assert answer.status_code == 404


def test_plugged_resolver_grants_access(giponext_server):
    server = giponext_server(token_resolvers=[_resolver])

    answer = server.request("POST", body=server.report, key=OAUTH_TOKEN)

    assert answer.status_code == 201


def test_token_without_scope_forbidden(giponext_server):
    server = giponext_server(token_resolvers=[_resolver])

    answer = server.request("POST", body=server.report, key=NARROW_TOKEN)

    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
    issue = answer.json()["issue"][0]
    assert issue["details"]["text"] == "GAUTH-03"
    assert "'reports'" in issue["diagnostics"]
    assert server.mock.state.count_reports() == 0
