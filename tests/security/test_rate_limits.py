"""Sliding-window rate limits per client or API key (GAUTH-05)."""

from __future__ import annotations

import pytest
import requests
from security_values import TENANTS

from giponext_conformance.cli import build_parser
from giponext_conformance.mocks.giponext import DeliveryFault
from giponext_conformance.mocks.giponext.oauth import scripted
from giponext_conformance.mocks.giponext.ratelimit import (
    RateLimitSettings,
    parse_rate_limit,
    retry_after_seconds,
)

# The fixtures oauth_giponext, start_oauth_giponext and oauth_ca.
pytest_plugins = ["security_bench"]


def _read(oauth_giponext, credential, tenant=TENANTS[0]):
    return requests.get(
        oauth_giponext.reports_url(tenant),
        headers={"Authorization": f"Bearer {credential}"},
        verify=oauth_giponext.ca,
        timeout=10,
    )


def test_sixty_first_request_is_429(start_oauth_giponext):
    oauth_giponext = start_oauth_giponext(
        rate_limit=RateLimitSettings(limit=60, window_seconds=60)
    )
    key = oauth_giponext.api_keys[TENANTS[0]]

    statuses = [_read(oauth_giponext, key).status_code for _ in range(60)]
    refused = _read(oauth_giponext, key)

    assert statuses == [404] * 60
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    body = refused.json()
    assert body["error"] == "rate_limit_exceeded"
    assert "more than 60 requests in 60 seconds" in body["message"]
    assert refused.headers["Content-Type"] == "application/json"


def test_limit_is_per_api_key(start_oauth_giponext):
    oauth_giponext = start_oauth_giponext(
        rate_limit=RateLimitSettings(limit=3, window_seconds=60)
    )
    busy, quiet = (
        oauth_giponext.api_keys[TENANTS[0]],
        oauth_giponext.api_keys[TENANTS[1]],
    )

    for _ in range(3):
        _read(oauth_giponext, busy)

    assert _read(oauth_giponext, busy).status_code == 429
    assert _read(oauth_giponext, quiet, TENANTS[1]).status_code == 404


def test_limit_is_per_oauth_client(start_oauth_giponext):
    oauth_giponext = start_oauth_giponext(
        rate_limit=RateLimitSettings(limit=4, window_seconds=60, token_limit=50)
    )
    first = oauth_giponext.device_flow()["access_token"]
    second = oauth_giponext.device_flow()["access_token"]

    statuses = [
        _read(oauth_giponext, token).status_code
        for token in (first, second, first, second)
    ]
    refused = _read(oauth_giponext, first)

    # Two tokens of one client share the client's window.
    assert statuses == [404] * 4
    assert refused.status_code == 429


def test_token_endpoint_is_limited(start_oauth_giponext):
    oauth_giponext = start_oauth_giponext(
        rate_limit=RateLimitSettings(limit=100, window_seconds=60, token_limit=2)
    )
    client = oauth_giponext.confidential
    fields = {"grant_type": "client_credentials"}

    answers = [
        scripted.token_request(
            oauth_giponext.url,
            client.client_id,
            client.client_secret,
            fields,
            verify=oauth_giponext.ca,
        )
        for _ in range(3)
    ]

    assert [answer.status_code for answer in answers] == [400, 400, 429]
    assert answers[2].json()["error"] == "rate_limit_exceeded"
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_rate_limited_answer_is_journaled(start_oauth_giponext):
    oauth_giponext = start_oauth_giponext(
        rate_limit=RateLimitSettings(limit=1, window_seconds=60)
    )
    key = oauth_giponext.api_keys[TENANTS[0]]

    _read(oauth_giponext, key)
    _read(oauth_giponext, key)

    entries = oauth_giponext.mock.journal.entries()
    assert [entry.status for entry in entries] == [404, 429]
    assert "Retry-After" in entries[1].response_headers
    assert key not in str(entries[1].request_headers)


def test_fault_and_limit_both_answer_retry_after(start_oauth_giponext):
    oauth_giponext = start_oauth_giponext(
        rate_limit=RateLimitSettings(limit=1, window_seconds=60),
        delivery_fault=DeliveryFault(status=503, retry_after=7, times=1),
    )
    key = oauth_giponext.api_keys[TENANTS[0]]
    url = f"{oauth_giponext.url}/fhir/r3/{TENANTS[0]}/DiagnosticReport"
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/fhir+json",
    }
    body = b'{"resourceType": "DiagnosticReport", "id": "rep-1"}'

    faulted = requests.post(
        url, data=body, headers=headers, verify=oauth_giponext.ca, timeout=10
    )
    limited = requests.post(
        url, data=body, headers=headers, verify=oauth_giponext.ca, timeout=10
    )

    assert faulted.status_code == 503
    assert faulted.headers["Retry-After"] == "7"
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    statuses = [entry.status for entry in oauth_giponext.mock.journal.entries()]
    assert statuses == [503, 429]


def test_no_limit_without_settings(oauth_giponext):
    key = oauth_giponext.api_keys[TENANTS[0]]

    statuses = {_read(oauth_giponext, key).status_code for _ in range(70)}

    assert statuses == {404}


def test_retry_after_rounds_up():
    assert retry_after_seconds(100.2, now=90.0) == 11
    assert retry_after_seconds(100.0, now=100.0) == 1
    assert retry_after_seconds(50.0, now=100.0) == 1


def test_settings_reject_zero_limit():
    try:
        RateLimitSettings(limit=0)
    except ValueError as error:
        assert "at least 1 request" in str(error)
    else:
        raise AssertionError("a zero limit was accepted")


def test_parse_rate_limit():
    settings = parse_rate_limit("60/60")

    assert settings.limit == 60
    assert settings.window_seconds == 60


def test_parse_rate_limit_rejects_text():
    with pytest.raises(ValueError, match="expected COUNT/SECONDS such as 60/60"):
        parse_rate_limit("sixty")


def test_mock_command_takes_rate_limit():
    args = build_parser().parse_args(["mock", "giponext", "--rate-limit", "5/2"])

    assert args.rate_limit == RateLimitSettings(limit=5, window_seconds=2)
