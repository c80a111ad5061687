"""Fixtures for the mock RIS-PACS tests: the app on a real TLS socket.

`ris_server(...)` starts a mock RIS-PACS with a real SQLite file under cheroot
over HTTPS signed by a per-session CA, and returns a RisClient that talks to
it with requests, verifying the certificate against that CA.
"""

from __future__ import annotations

import copy
import json

import pytest
import requests

from giponext_conformance.fixtures.providers import build_intake
from giponext_conformance.mocks.ris_pacs import RisPacsConfig, close_app, create_app
from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA

TOKEN = "ris-test-token-7Hq2Vx"  # noqa: S105  # a test credential
FHIR_JSON = "application/fhir+json"


@pytest.fixture(scope="session")
def ris_tls(tmp_path_factory):
    authority = RunCA(tmp_path_factory.mktemp("ris-tls"))
    cert_path, key_path = authority.issue()
    return authority.ca_cert_path, cert_path, key_path


class RisClient:
    """A requests session bound to one running mock, with the test token."""

    def __init__(self, url, ca_path, app):
        self.url = url
        self.app = app
        self.store = app.extensions["ris_pacs"].store
        self.session = requests.Session()
        # trust_env off: a CA bundle variable in the environment would
        # otherwise replace the run CA given here.
        self.session.trust_env = False
        self.session.verify = str(ca_path)
        self.auth = f"Bearer {TOKEN}"

    def request(self, method, path, body=None, *, content_type=FHIR_JSON, headers=None):
        sent = {"Authorization": self.auth} if self.auth else {}
        if body is not None:
            if isinstance(body, dict | list):
                body = json.dumps(body).encode("utf-8")
            if content_type is not None:
                sent["Content-Type"] = content_type
        sent.update(headers or {})
        sent = {name: value for name, value in sent.items() if value is not None}
        return self.session.request(
            method, f"{self.url}{path}", data=body, headers=sent, timeout=30
        )

    def put(self, path, body, **options):
        return self.request("PUT", path, body, **options)

    def post(self, path, body, **options):
        return self.request("POST", path, body, **options)

    def get(self, path, **options):
        return self.request("GET", path, **options)

    def put_patient(self, patient, **options):
        return self.put(f"/Patient/{patient['id']}", patient, **options)

    def post_order(self, order, **options):
        return self.post("/ProcedureRequest", order, **options)

    def snapshot(self):
        """Return every stored version row, to prove a request changed nothing."""
        connection = self.store._connection()
        return connection.execute(
            "SELECT resource_type, id, version_id, json, deleted FROM resources"
            " ORDER BY resource_type, id, version_id"
        ).fetchall()


@pytest.fixture
def ris_server(ris_tls, tmp_path):
    """Return a function that starts a mock RIS-PACS and returns its client."""
    ca_path, cert_path, key_path = ris_tls
    running = []

    def start(db_path=None, **settings):
        settings.setdefault("token", TOKEN)
        config = RisPacsConfig(db_path=db_path or tmp_path / "ris.sqlite3", **settings)
        app = create_app(config)
        server = start_server(app, cert_path=cert_path, key_path=key_path)
        running.append((server, app))
        return RisClient(server.url, ca_path, app)

    yield start

    for server, app in reversed(running):
        server.stop()
        close_app(app)


@pytest.fixture
def ris(ris_server):
    return ris_server()


@pytest.fixture
def intake(request):
    """Return a generated (patient, order) pair seeded from the test's name."""
    seed = sum(request.node.name.encode()) % 10_000
    patient, order, _doctors = build_intake(seed)
    return copy.deepcopy(patient), copy.deepcopy(order)


def assert_outcome(response, status, rule=None):
    """Assert an error response: status, FHIR JSON and an OperationOutcome."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issue = outcome["issue"][0]
    assert issue["severity"] in ("fatal", "error")
    assert issue["code"]
    assert issue["diagnostics"]
    if rule is not None:
        rules = [
            coding["code"]
            for entry in outcome["issue"]
            for coding in entry.get("details", {}).get("coding", [])
        ]
        assert rule in rules, rules
    return outcome


@pytest.fixture
def expect_outcome():
    """Return the function that checks an OperationOutcome error response."""
    return assert_outcome
