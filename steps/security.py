"""Steps about GipoNext's OAuth 2.0 server and rate limits (GAUTH-01 to GAUTH-05).

Each scenario starts its own GipoNext mock over TLS with a throwaway CA, two
tenants, one test user per tenant and, where asked, a rate limit; the user
signs in and fills in the consent or device page over HTTP like a person.

Phrases offered:
    Given a GipoNext endpoint with its authorization server
    Given a GipoNext endpoint that allows {limit:d} requests per minute for each client
    Given the RIS-PACS holds a token granted with the reports scope
    Given the RIS-PACS holds a token whose user granted only "<scope>"
    Given the RIS-PACS has revoked its token
    When the RIS-PACS reads a report of its own tenant
    When the RIS-PACS reads a report of another tenant
    When a user signs in, grants every scope and the client redeems the code
    When the client asks for authorization without a PKCE challenge
    When the user approves the device on the verification page
    When the user refuses the device on the verification page
    When a client asks for a token with the client-credentials grant
    When the RIS-PACS refreshes its token and presents the old refresh token again
    When the RIS-PACS sends {count:d} requests within the minute
    When another client sends one request
    When a client calls the token endpoint {count:d} times within the minute
    Then GipoNext accepts the credential
    Then GipoNext refuses the credential as invalid
    Then GipoNext refuses the token for its missing scope
    Then GipoNext refuses the token for another tenant
    Then GipoNext issues a token with the scopes "<scopes>"
    Then GipoNext refuses the authorization request as invalid
    Then GipoNext answers the token request with "<error>"
    Then the token issued by the refresh is revoked as well
    Then GipoNext answers every request
    Then the last request gets 429 with Retry-After and a JSON error
    Then the audit journal records the refused request

State: `bench` (SecurityBench) is the running mock with its users and
clients; `token` is the token JSON the RIS-PACS holds; `answer` is the last
FHIR exchange or OAuth response; `answers` the responses of a burst.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from pytest_bdd import given, parsers, then, when

from giponext_conformance.client import BearerToken, FhirClient
from giponext_conformance.mocks.giponext import (
    GipoNextConfig,
    TenantConfig,
    create_app,
    mock_of,
)
from giponext_conformance.mocks.giponext.config import generate_api_key
from giponext_conformance.mocks.giponext.oauth import (
    default_settings,
    oauth_of,
    scripted,
)
from giponext_conformance.mocks.giponext.ratelimit import RateLimitSettings
from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA

# Registered redirect URI of the confidential client. Nothing listens there:
# the code is read from the Location header, which is never followed.
REDIRECT_URI = "https://127.0.0.1:9/callback"

# Seconds of the rate-limit window in these scenarios.
WINDOW = 60


@dataclass
class SecurityBench:
    """A running GipoNext mock with OAuth, its CA and its two tenants."""

    url: str
    ca: str
    app: object
    server: object
    tenants: tuple[str, str]

    @property
    def provider(self):
        return oauth_of(self.app)

    @property
    def journal(self):
        return mock_of(self.app).journal

    def stop(self) -> None:
        self.server.stop()
        mock_of(self.app).close()

    def user(self, tenant=None) -> scripted.ScriptedUser:
        test_user = self.provider.test_user(tenant or self.tenants[0])
        return scripted.ScriptedUser(
            test_user.username, test_user.password, verify=self.ca
        )

    def client(self, tenant: str, token: str | None) -> FhirClient:
        auth = BearerToken(token) if token else None
        return FhirClient(f"{self.url}/fhir/r3/{tenant}", auth, self.ca)


def start_bench(request, tmp_path, rate_limit=None) -> SecurityBench:
    """Start a GipoNext mock for one scenario; it stops when the scenario ends."""
    suffix = secrets.token_hex(3)
    tenants = (f"tenant-a{suffix}", f"tenant-b{suffix}")
    config = GipoNextConfig(
        tenants={
            tenant: TenantConfig(api_keys=[generate_api_key()]) for tenant in tenants
        },
        db_path=str(tmp_path / "giponext-security.sqlite"),
        oauth=default_settings(
            tenants, redirect_uris=[REDIRECT_URI], device_poll_interval=0
        ),
        rate_limit=rate_limit,
    )
    app = create_app(config)
    authority = RunCA(tmp_path / "security-ca")
    cert_path, key_path = authority.issue()
    server = start_server(app, cert_path=cert_path, key_path=key_path)
    bench = SecurityBench(server.url, str(authority.ca_cert_path), app, server, tenants)
    request.addfinalizer(bench.stop)
    return bench


def code_flow(bench: SecurityBench, scope: str, ticked=None) -> requests.Response:
    """Run the authorization-code flow with PKCE; return the token response."""
    pkce = scripted.Pkce.generate()
    client = bench.provider.client("ris-pacs")
    url = scripted.authorization_url(
        bench.url, client.client_id, REDIRECT_URI, scope, "s1", pkce
    )
    location = bench.user().authorize(url, ticked)
    code = parse_qs(urlsplit(location).query)["code"][0]
    return scripted.exchange_code(
        bench.url,
        client.client_id,
        client.client_secret,
        code,
        REDIRECT_URI,
        pkce,
        verify=bench.ca,
    )


def _json_error(response: requests.Response) -> str:
    try:
        return response.json().get("error", "(no error field)")
    except ValueError:
        return "(no JSON body)"


# -- Given ----------------------------------------------------------------------


@given("a GipoNext endpoint with its authorization server", target_fixture="bench")
def bench_with_oauth(request, tmp_path):
    return start_bench(request, tmp_path)


@given(
    parsers.parse(
        "a GipoNext endpoint that allows {limit:d} requests per minute for each client"
    ),
    target_fixture="bench",
)
def bench_with_limit(request, tmp_path, limit):
    return start_bench(
        request, tmp_path, RateLimitSettings(limit=limit, window_seconds=WINDOW)
    )


@given(
    "the RIS-PACS holds a token granted with the reports scope", target_fixture="token"
)
def token_with_reports(bench):
    return code_flow(bench, "reports").json()


@given(
    parsers.parse('the RIS-PACS holds a token whose user granted only "{scope}"'),
    target_fixture="token",
)
def token_with_only(bench, scope):
    return code_flow(bench, "reports profile", ticked=[scope]).json()


@given("the RIS-PACS has revoked its token")
def revoke_token(bench, token):
    client = bench.provider.client("ris-pacs")
    scripted.revoke(
        bench.url,
        client.client_id,
        client.client_secret,
        token["access_token"],
        "access_token",
        verify=bench.ca,
    )


# -- When -----------------------------------------------------------------------


def _read_report(bench, tenant, token):
    with bench.client(tenant, token.get("access_token")) as client:
        return client.get(f"DiagnosticReport/report-{secrets.token_hex(4)}")


@when("the RIS-PACS reads a report of its own tenant", target_fixture="answer")
def read_own(bench, token):
    return _read_report(bench, bench.tenants[0], token)


@when("the RIS-PACS reads a report of another tenant", target_fixture="answer")
def read_other(bench, token):
    return _read_report(bench, bench.tenants[1], token)


@when(
    "a user signs in, grants every scope and the client redeems the code",
    target_fixture="answer",
)
def full_code_flow(bench):
    return code_flow(bench, "reports profile")


@when(
    "the client asks for authorization without a PKCE challenge",
    target_fixture="answer",
)
def authorize_without_pkce(bench):
    query = {
        "response_type": "code",
        "client_id": "ris-pacs",
        "redirect_uri": REDIRECT_URI,
        "scope": "reports",
        "state": "s2",
    }
    return requests.get(
        f"{bench.url}/oauth/authorize?{urlencode(query)}",
        verify=bench.ca,
        timeout=10,
        allow_redirects=False,
    )


def _device_flow(bench, allow: bool) -> requests.Response:
    authorization = scripted.start_device_authorization(
        bench.url, "ris-pacs-device", None, "reports", verify=bench.ca
    )
    bench.user().approve_device(
        authorization["verification_uri"], authorization["user_code"], allow=allow
    )
    return scripted.token_request(
        bench.url,
        "ris-pacs-device",
        None,
        {
            "grant_type": scripted.DEVICE_CODE,
            "device_code": authorization["device_code"],
        },
        verify=bench.ca,
    )


@when("the user approves the device on the verification page", target_fixture="answer")
def approve_device(bench):
    return _device_flow(bench, allow=True)


@when("the user refuses the device on the verification page", target_fixture="answer")
def refuse_device(bench):
    return _device_flow(bench, allow=False)


@when(
    "a client asks for a token with the client-credentials grant",
    target_fixture="answer",
)
def client_credentials(bench):
    client = bench.provider.client("ris-pacs")
    return scripted.token_request(
        bench.url,
        client.client_id,
        client.client_secret,
        {"grant_type": "client_credentials", "scope": "reports"},
        verify=bench.ca,
    )


@when(
    "the RIS-PACS refreshes its token and presents the old refresh token again",
    target_fixture="answer",
)
def refresh_and_reuse(bench, token):
    client = bench.provider.client("ris-pacs")

    def refresh(refresh_token):
        return scripted.refresh(
            bench.url,
            client.client_id,
            client.client_secret,
            refresh_token,
            verify=bench.ca,
        )

    rotated = refresh(token["refresh_token"])
    token["rotated"] = rotated.json()
    return refresh(token["refresh_token"])


@when(
    parsers.parse("the RIS-PACS sends {count:d} requests within the minute"),
    target_fixture="answers",
)
def burst(bench, count):
    key = mock_of(bench.app).config.tenants[bench.tenants[0]].api_keys[0]
    with bench.client(bench.tenants[0], key) as client:
        client.attach = False  # a burst would add dozens of identical attachments
        return [client.get("DiagnosticReport/absent") for _ in range(count)]


@when("another client sends one request", target_fixture="answer")
def other_client(bench):
    key = mock_of(bench.app).config.tenants[bench.tenants[1]].api_keys[0]
    with bench.client(bench.tenants[1], key) as client:
        return client.get("DiagnosticReport/absent")


@when(
    parsers.parse(
        "a client calls the token endpoint {count:d} times within the minute"
    ),
    target_fixture="answers",
)
def token_burst(bench, count):
    client = bench.provider.client("ris-pacs")
    fields = {"grant_type": "refresh_token", "refresh_token": "grt_unknown"}
    return [
        scripted.token_request(
            bench.url, client.client_id, client.client_secret, fields, verify=bench.ca
        )
        for _ in range(count)
    ]


# -- Then -----------------------------------------------------------------------


def _status(answer) -> int:
    return answer.status if hasattr(answer, "status") else answer.status_code


@then("GipoNext accepts the credential")
def accepts(verdicts, scenario_rules, answer):
    status = _status(answer)
    # The report id is unknown, so 404 means every credential check passed.
    for rule in scenario_rules:
        verdicts.check(
            rule,
            status == 404,
            f"expected the token accepted (404 for an unknown report), found {status}",
        )


@then("GipoNext refuses the credential as invalid")
def refuses_invalid(verdicts, answer):
    challenge = answer.headers.get("WWW-Authenticate", "")
    verdicts.check(
        "GAUTH-01",
        answer.status == 401 and "invalid_token" in challenge,
        f"expected 401 with an invalid_token challenge, found {answer.status}"
        f" with WWW-Authenticate {challenge!r}",
    )


@then("GipoNext refuses the token for its missing scope")
def refuses_scope(verdicts, answer):
    verdicts.check(
        "GAUTH-03",
        answer.status == 403,
        f"expected 403 for a token without the reports scope, found {answer.status}",
    )


@then("GipoNext refuses the token for another tenant")
def refuses_tenant(verdicts, answer):
    verdicts.check(
        "GAUTH-04",
        answer.status == 403,
        f"expected 403 for another tenant's userId, found {answer.status}",
    )


@then(parsers.parse('GipoNext issues a token with the scopes "{scopes}"'))
def issues_token(verdicts, answer, scopes):
    body = answer.json() if answer.status_code == 200 else {}
    granted = body.get("scope", "")
    verdicts.check(
        "GAUTH-02",
        answer.status_code == 200 and set(granted.split()) == set(scopes.split()),
        f"expected 200 with scope {scopes!r}, found {answer.status_code}"
        f" with scope {granted!r}"
        f" ({_json_error(answer) if answer.status_code != 200 else 'token issued'})",
    )


@then("GipoNext refuses the authorization request as invalid")
def refuses_authorization(verdicts, answer):
    location = answer.headers.get("Location", "")
    error = parse_qs(urlsplit(location).query).get("error", [""])[0]
    verdicts.check(
        "GAUTH-02",
        answer.status_code == 302 and error == "invalid_request",
        f"expected a redirect with error=invalid_request, found {answer.status_code}"
        f" with error {error!r}",
    )


@then(parsers.parse('GipoNext answers the token request with "{error}"'))
def token_error(verdicts, answer, error):
    found = _json_error(answer)
    verdicts.check(
        "GAUTH-02",
        answer.status_code == 400 and found == error,
        f"expected 400 {error}, found {answer.status_code} {found}",
    )


@then("the token issued by the refresh is revoked as well")
def family_revoked(verdicts, bench, token):
    rotated = token["rotated"].get("access_token")
    info = bench.provider.resolve_access_token(rotated) if rotated else None
    verdicts.check(
        "GAUTH-02",
        rotated is not None and info is None,
        "expected the reuse of a rotated refresh token to revoke the token issued by"
        f" the refresh; found it {'still valid' if info else 'missing or revoked'}",
    )


@then("GipoNext answers every request")
def answers_all(verdicts, answers):
    refused = [answer.status for answer in answers if answer.status == 429]
    verdicts.check(
        "GAUTH-05",
        not refused,
        f"expected {len(answers)} answers within the limit,"
        f" found {len(refused)} with 429",
    )


@then("the last request gets 429 with Retry-After and a JSON error")
def last_limited(verdicts, answers):
    last = answers[-1]
    status = _status(last)
    retry_after = last.headers.get("Retry-After", "")
    try:
        error = json.loads(last.content).get("error")
    except (ValueError, AttributeError):
        error = None
    ok = status == 429 and retry_after.isdigit() and int(retry_after) >= 1
    verdicts.check(
        "GAUTH-05",
        ok and error == "rate_limit_exceeded",
        f"expected 429 with Retry-After in seconds and error rate_limit_exceeded,"
        f" found {status} with Retry-After {retry_after!r} and error {error!r}",
    )
    earlier = [_status(answer) for answer in answers[:-1]]
    verdicts.check(
        "GAUTH-05",
        429 not in earlier,
        "expected only the request over the limit refused,"
        f" found 429 among the first {len(earlier)}",
    )


@then("the audit journal records the refused request")
def journal_records(verdicts, bench):
    entries = [entry for entry in bench.journal.entries() if entry.status == 429]
    verdicts.check(
        "GAUTH-05",
        len(entries) == 1 and "Retry-After" in entries[0].response_headers,
        f"expected one journal entry with 429 and Retry-After, found {len(entries)}",
    )
