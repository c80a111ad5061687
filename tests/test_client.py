"""FhirClient against TLS servers on 127.0.0.1: the mock RIS-PACS and a small app."""

import base64
import json
import socket
import time

import pytest

from giponext_conformance.client import (
    FHIR_JSON,
    BasicCredentials,
    BearerToken,
    FhirClient,
    RawAuthorization,
)
from giponext_conformance.errors import TargetUnreachable, UsageError
from giponext_conformance.fixtures.providers import build_intake
from giponext_conformance.mocks.ris_pacs import RisPacsConfig, close_app, create_app
from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA

TOKEN = "client-test-token-4f1c"  # noqa: S105  # credential of the local mock
BASIC_USER = "giponext"
BASIC_PASSWORD = "pàss:wörd-7"  # noqa: S105  # credential of the local mock


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return RunCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def ris_pacs(authority, tmp_path_factory):
    config = RisPacsConfig(
        token=TOKEN,
        basic_user=BASIC_USER,
        basic_password=BASIC_PASSWORD,
        db_path=tmp_path_factory.mktemp("db") / "ris.sqlite",
    )
    app = create_app(config)
    cert, key = authority.issue()
    with start_server(app, cert_path=cert, key_path=key) as server:
        yield server
    close_app(app)


def _tiny_app(environ, start_response):
    """Answer /moved with a redirect, /slow after a pause, anything else with 204."""
    path = environ["PATH_INFO"]
    if path == "/moved":
        start_response("302 Found", [("Location", "https://127.0.0.1:9/elsewhere")])
        return [b""]
    if path == "/slow":
        time.sleep(1.5)
    start_response("204 No Content", [])
    return [b""]


@pytest.fixture(scope="module")
def tiny(authority):
    cert, key = authority.issue()
    with start_server(_tiny_app, cert_path=cert, key_path=key) as server:
        yield server


def _patient(seed):
    return build_intake(seed)[0]


def test_bearer_put_created(ris_pacs, authority):
    patient = _patient(101)

    with FhirClient(ris_pacs.url, BearerToken(TOKEN), authority.ca_cert_path) as client:
        exchange = client.put(f"Patient/{patient['id']}", patient)

    assert exchange.status == 201
    assert exchange.resource_type == "Patient"
    assert exchange.media_type == FHIR_JSON
    assert exchange.resource["id"] == patient["id"]
    assert client.exchanges == [exchange]


def test_basic_utf8_password_with_colon(ris_pacs, authority):
    patient = _patient(102)
    credentials = BasicCredentials(BASIC_USER, BASIC_PASSWORD)

    with FhirClient(ris_pacs.url, credentials, authority.ca_cert_path) as client:
        exchange = client.put(f"Patient/{patient['id']}", patient)

    assert exchange.status == 201
    encoded = credentials.header_value().removeprefix("Basic ")
    assert base64.b64decode(encoded).decode("utf-8") == f"{BASIC_USER}:{BASIC_PASSWORD}"


def test_basic_parse_splits_first_colon():
    credentials = BasicCredentials.parse("ris:a:b:c")

    assert credentials.user == "ris"
    assert credentials.password == "a:b:c"  # noqa: S105  # parsed test value


def test_basic_parse_needs_user():
    with pytest.raises(UsageError, match="USER:PASSWORD"):
        BasicCredentials.parse(":secret")


def test_missing_auth_sends_no_header(ris_pacs, authority):
    patient = _patient(103)

    with FhirClient(ris_pacs.url, None, authority.ca_cert_path) as client:
        exchange = client.put(f"Patient/{patient['id']}", patient)

    assert exchange.status == 401
    assert "Authorization" not in exchange.request_headers


def test_raw_authorization_sent_as_is(ris_pacs, authority):
    patient = _patient(104)
    auth = RawAuthorization(f"bearer {TOKEN}")

    with FhirClient(ris_pacs.url, auth, authority.ca_cert_path) as client:
        exchange = client.put(f"Patient/{patient['id']}", patient)

    assert exchange.status == 201


def test_raw_string_and_pair_accepted():
    raw = FhirClient("https://127.0.0.1:9", "bearer abc")
    pair = FhirClient("https://127.0.0.1:9", ("ris", "pa:ss"))

    assert raw.auth == RawAuthorization("bearer abc")
    assert pair.auth == BasicCredentials("ris", "pa:ss")


def test_record_masks_credentials(ris_pacs, authority):
    patient = _patient(105)

    with FhirClient(ris_pacs.url, BearerToken(TOKEN), authority.ca_cert_path) as client:
        exchange = client.put(f"Patient/{patient['id']}", patient)
    text = json.dumps(exchange.to_record())

    assert TOKEN not in text
    assert exchange.request_headers["Authorization"] == "Bearer [REDACTED]"
    assert exchange.to_record()["request"]["body"]["id"] == patient["id"]


def test_raw_bytes_need_content_type(ris_pacs, authority):
    client = FhirClient(ris_pacs.url, BearerToken(TOKEN), authority.ca_cert_path)

    with client, pytest.raises(ValueError, match="content type"):
        client.put("Patient/1", b"{}")


def test_raw_bytes_sent_with_given_type(ris_pacs, authority):
    patient = _patient(106)
    body = json.dumps(patient).encode("utf-8")

    with FhirClient(ris_pacs.url, BearerToken(TOKEN), authority.ca_cert_path) as client:
        exchange = client.put(f"Patient/{patient['id']}", body, "text/plain")

    assert exchange.status == 415
    assert exchange.resource_type == "OperationOutcome"


def test_redirect_not_followed(tiny, authority):
    with FhirClient(tiny.url, BearerToken(TOKEN), authority.ca_cert_path) as client:
        exchange = client.get("moved")

    assert exchange.status == 302
    assert exchange.location == "https://127.0.0.1:9/elsewhere"
    assert len(client.exchanges) == 1


def test_untrusted_certificate_names_ca_bundle(tiny):
    client = FhirClient(tiny.url, None)

    with client, pytest.raises(TargetUnreachable) as raised:
        client.get("metadata")

    assert "not trusted" in str(raised.value)
    assert "--ca-bundle" in str(raised.value)
    assert raised.value.url == f"{tiny.url}/metadata"


def test_refused_connection_is_one_sentence():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    client = FhirClient(f"https://127.0.0.1:{port}", None)

    with client, pytest.raises(TargetUnreachable) as raised:
        client.get("metadata")

    message = str(raised.value)
    assert message.startswith(f"the connection to https://127.0.0.1:{port}/metadata")
    assert "refused" in message
    assert "\n" not in message


def test_timeout_names_seconds(tiny, authority):
    client = FhirClient(tiny.url, None, authority.ca_cert_path, timeout=0.5)

    with client, pytest.raises(TargetUnreachable) as raised:
        client.get("slow")

    assert str(raised.value) == f"{tiny.url}/slow did not answer within 0.5 seconds"


def test_deadline_passed_stops_request(tiny, authority):
    client = FhirClient(
        tiny.url, None, authority.ca_cert_path, deadline=time.monotonic() - 1
    )

    with client, pytest.raises(TargetUnreachable, match="--scenario-timeout"):
        client.get("metadata")


def test_plain_http_needs_allow_http():
    with pytest.raises(UsageError, match="--allow-http"):
        FhirClient("http://127.0.0.1:9", None)


def test_plain_http_allowed_when_asked():
    client = FhirClient("http://127.0.0.1:9", None, allow_http=True)

    assert client.url_for("Patient/1") == "http://127.0.0.1:9/Patient/1"
