"""Mock RIS-PACS authentication: bearer tokens and deprecated Basic."""

import base64
import logging

import pytest

TOKEN = "ris-test-token-7Hq2Vx"  # noqa: S105  # the token the conftest configures


def basic(user, password):
    pair = f"{user}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def test_missing_authorization_401(ris, intake, expect_outcome):
    patient, _ = intake

    response = ris.put_patient(patient, headers={"Authorization": None})

    expect_outcome(response, 401, "AUTH-01")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="giponext-ris-pacs"'
    assert ris.snapshot() == []


def test_blank_authorization_401(ris, expect_outcome):
    response = ris.get("/Patient/1", headers={"Authorization": ""})

    expect_outcome(response, 401, "AUTH-01")


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_scheme_case_insensitive(ris, intake, scheme):
    patient, _ = intake

    response = ris.put_patient(patient, headers={"Authorization": f"{scheme} {TOKEN}"})

    assert response.status_code == 201


def test_extra_spaces_around_token(ris, intake):
    patient, _ = intake

    response = ris.put_patient(patient, headers={"Authorization": f"Bearer   {TOKEN} "})

    assert response.status_code == 201


@pytest.mark.parametrize(
    "credentials",
    [TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "revoked-token-000"],
)
def test_wrong_token_401(ris, intake, credentials, expect_outcome):
    patient, _ = intake

    response = ris.put_patient(
        patient, headers={"Authorization": f"Bearer {credentials}"}
    )

    expect_outcome(response, 401, "AUTH-03")
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="giponext-ris-pacs"')
    assert 'error="invalid_token"' in challenge
    assert ris.snapshot() == []


def test_empty_bearer_token_401(ris, expect_outcome):
    response = ris.get("/Patient/1", headers={"Authorization": "Bearer"})

    expect_outcome(response, 401)
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


def test_unknown_scheme_401(ris, expect_outcome):
    response = ris.get("/Patient/1", headers={"Authorization": f"Token {TOKEN}"})

    outcome = expect_outcome(response, 401)
    assert "Token" in outcome["issue"][0]["diagnostics"]


def test_basic_disabled_by_default(ris, expect_outcome):
    response = ris.get("/Patient/1", headers={"Authorization": basic("gipo", "pw")})

    outcome = expect_outcome(response, 401)
    assert "not enabled" in outcome["issue"][0]["diagnostics"]
    assert response.raw.headers.getlist("WWW-Authenticate") == [
        'Bearer realm="giponext-ris-pacs"'
    ]


@pytest.fixture
def basic_ris(ris_server):
    return ris_server(basic_user="gipo", basic_password="pa:ss:wörd-è")  # noqa: S106


def test_basic_accepted(basic_ris, intake):
    patient, _ = intake

    response = basic_ris.put_patient(
        patient, headers={"Authorization": basic("gipo", "pa:ss:wörd-è")}
    )

    assert response.status_code == 201


def test_basic_challenge_offered(basic_ris, expect_outcome):
    response = basic_ris.get("/Patient/1", headers={"Authorization": None})

    expect_outcome(response, 401)
    raw = response.raw.headers.getlist("WWW-Authenticate")
    assert raw == [
        'Bearer realm="giponext-ris-pacs"',
        'Basic realm="giponext-ris-pacs", charset="UTF-8"',
    ]


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("gipo", "pa:ss:wörd-e"),
        ("gipo", "pa:ss"),
        ("gipo", ""),
        ("Gipo", "pa:ss:wörd-è"),
        ("gipo", "pa:ss:wörd-è "),
        ("", "pa:ss:wörd-è"),
    ],
)
def test_basic_wrong_credentials_401(basic_ris, user, password, expect_outcome):
    response = basic_ris.get(
        "/Patient/1", headers={"Authorization": basic(user, password)}
    )

    expect_outcome(response, 401, "AUTH-04")


@pytest.mark.parametrize(
    "credentials",
    [
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    ],
)
def test_basic_malformed_401(basic_ris, credentials, expect_outcome):
    response = basic_ris.get("/Patient/1", headers={"Authorization": credentials})

    expect_outcome(response, 401)


def test_bearer_still_works_with_basic(basic_ris, intake):
    patient, _ = intake

    response = basic_ris.put_patient(patient)

    assert response.status_code == 201


def test_metadata_needs_no_credentials(ris):
    response = ris.get("/metadata", headers={"Authorization": None})

    assert response.status_code == 200


def test_unknown_route_needs_credentials(ris, expect_outcome):
    response = ris.get("/nowhere", headers={"Authorization": None})

    expect_outcome(response, 401)


def test_secrets_never_logged(basic_ris, intake, caplog):
    patient, _ = intake
    caplog.set_level(logging.DEBUG)

    basic_ris.put_patient(patient, headers={"Authorization": f"Bearer {TOKEN}"})
    basic_ris.get("/Patient/1", headers={"Authorization": "Bearer wrong-token-123"})
    basic_ris.get(
        "/Patient/1", headers={"Authorization": basic("gipo", "pa:ss:wörd-è")}
    )

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert TOKEN not in text
    assert "wrong-token-123" not in text
    assert "pa:ss:wörd-è" not in text
    assert patient["name"][0]["family"] not in text


def test_one_log_line_per_request(ris, intake, caplog):
    patient, _ = intake
    caplog.set_level(logging.INFO, logger="giponext_conformance.mocks.ris_pacs")

    ris.put_patient(patient)
    ris.get("/Patient/unknown")

    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == "giponext_conformance.mocks.ris_pacs"
        and record.getMessage().split(" ")[0] in ("PUT", "GET")
    ]
    assert len(lines) == 2
    assert lines[0].startswith(f"PUT /Patient/{patient['id']} 201 ")
    assert lines[0].endswith(f"Patient/{patient['id']}/_history/1")
    assert lines[1].startswith("GET /Patient/unknown 404 ")
    assert "ms" in lines[1]
