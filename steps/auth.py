"""Steps about how GipoNext authenticates to the RIS-PACS.

Phrases offered:
    Given the RIS-PACS accepts Basic authentication
    When GipoNext sends the patient without credentials
    When GipoNext sends the patient with a wrong token
    When GipoNext sends the patient with its token under the scheme name "<scheme>"
    When GipoNext sends the patient with Basic credentials
    Then the RIS-PACS accepts the patient
    Then the challenge names the Bearer scheme

State: `response` is the Exchange of the last request; `basic_credentials`
are the Basic credentials the target accepts.
"""

from __future__ import annotations

import secrets

import pytest
from pytest_bdd import given, parsers, then, when

from giponext_conformance.client import BearerToken

from .common import scenario_rule, status_name
from .patient import put_patient


@given("the RIS-PACS accepts Basic authentication", target_fixture="basic_credentials")
def basic_accepted(ris_target):
    if ris_target.basic is None:
        pytest.skip(
            "no Basic credentials were given: pass --ris-basic USER:PASSWORD when "
            "the RIS-PACS still accepts the deprecated Basic scheme"
        )
    return ris_target.basic


@when("GipoNext sends the patient without credentials", target_fixture="response")
def send_without_credentials(ris, patient):
    with ris.with_auth(None) as anonymous:
        return put_patient(anonymous, patient.resource)


@when("GipoNext sends the patient with a wrong token", target_fixture="response")
def send_wrong_token(ris, patient):
    wrong = BearerToken("wrong-" + secrets.token_urlsafe(18))
    with ris.with_auth(wrong) as impostor:
        return put_patient(impostor, patient.resource)


@when(
    parsers.parse(
        'GipoNext sends the patient with its token under the scheme name "{scheme}"'
    ),
    target_fixture="response",
)
def send_with_scheme(ris, ris_target, patient, scheme):
    if not ris_target.token:
        pytest.skip("no bearer token was given: pass --ris-token to check AUTH-02")
    with ris.with_auth(BearerToken(ris_target.token, scheme=scheme)) as client:
        return put_patient(client, patient.resource)


@when("GipoNext sends the patient with Basic credentials", target_fixture="response")
def send_with_basic(ris, verdicts, patient, basic_credentials):
    verdicts.warn(
        "AUTH-04",
        "the RIS-PACS accepts the deprecated Basic scheme; move to a bearer "
        "token or API key",
    )
    with ris.with_auth(basic_credentials) as client:
        return put_patient(client, patient.resource)


@then("the RIS-PACS accepts the patient")
def accepts_patient(verdicts, scenario_rules, response):
    verdicts.check(
        scenario_rule(scenario_rules),
        response.status in (200, 201),
        f"expected {status_name(201)} or {status_name(200)}; {response.describe()}",
    )


@then("the challenge names the Bearer scheme")
def challenge_names_bearer(verdicts, response):
    challenge = response.headers.get("WWW-Authenticate", "")
    verdicts.check(
        "AUTH-03",
        "bearer" in challenge.lower(),
        "expected a WWW-Authenticate header offering the Bearer scheme; "
        f"{response.describe()} with WWW-Authenticate {challenge or 'missing'!r}",
        level="SHOULD",
    )
