"""Fixtures for the GipoNext mock tests: the app on a real TLS socket.

`giponext_server(...)` starts a GipoNext mock with a real SQLite file under
cheroot over HTTPS signed by a per-session CA, with one tenant, one API key
and one registered order, and returns a GipoServer bundling them with a
requests session that verifies the certificate against that CA.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import requests

from giponext_conformance.breakers import valid_set
from giponext_conformance.mocks.giponext import GipoNextConfig, TenantConfig, create_app
from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA

TENANT = "tenant-test"
API_KEY = "gpn_test_key_4Zq9Lm2Rx7"
FHIR_JSON = "application/fhir+json"


@pytest.fixture(scope="session")
def giponext_tls(tmp_path_factory):
    authority = RunCA(tmp_path_factory.mktemp("giponext-tls"))
    cert_path, key_path = authority.issue()
    return authority.ca_cert_path, cert_path, key_path


@dataclass
class GipoServer:
    """A running GipoNext mock with its tenant, order and a verifying session."""

    url: str
    app: object
    ca_path: object
    session: requests.Session
    patient: dict
    order: dict
    report: dict

    @property
    def mock(self):
        return self.app.giponext

    @property
    def reports_url(self) -> str:
        return f"{self.url}/fhir/r3/{TENANT}/DiagnosticReport"

    def request(
        self,
        method,
        path="",
        body=None,
        *,
        key=API_KEY,
        content_type=FHIR_JSON,
        headers=None,
    ):
        sent = {}
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        if body is not None:
            if isinstance(body, dict):
                body = json.dumps(body).encode("utf-8")
            if content_type is not None:
                sent["Content-Type"] = content_type
        sent.update(headers or {})
        return self.session.request(
            method, f"{self.reports_url}{path}", data=body, headers=sent, timeout=30
        )


@pytest.fixture
def giponext_server(giponext_tls, tmp_path):
    """Return a factory starting mocks; each one started stops after the test."""
    ca_path, cert_path, key_path = giponext_tls
    running = []

    def start(seed=1, **config_fields):
        resources = valid_set(seed)
        config = GipoNextConfig(
            tenants={TENANT: TenantConfig([API_KEY])},
            db_path=str(tmp_path / f"giponext-{len(running)}.sqlite3"),
            **config_fields,
        )
        app = create_app(config)
        app.giponext.register_order(
            TENANT, resources.procedure_request, resources.patient
        )
        server = start_server(app, cert_path=cert_path, key_path=key_path)
        session = requests.Session()
        session.trust_env = False
        session.verify = str(ca_path)
        running.append((server, app, session))
        return GipoServer(
            server.url,
            app,
            ca_path,
            session,
            resources.patient,
            resources.procedure_request,
            resources.diagnostic_report,
        )

    yield start
    for server, app, session in running:
        session.close()
        server.stop()
        app.giponext.close()
