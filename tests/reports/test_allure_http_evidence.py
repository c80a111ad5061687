"""HTTP exchanges of the FhirClient land in the Allure results of their step.

A scenario runs in pytester against a TLS server on 127.0.0.1 that answers
with FHIR JSON and with a PDF. The results must hold each exchange under the
step that sent it, the PDF as application/pdf, and no bearer token.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA

pytest_plugins = ["pytester"]

PDF_BYTES = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
TOKEN = "evidence-token-5f2a9c"  # noqa: S105 - made up for this test


def _app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/fhir/Binary/report-1":
        start_response("200 OK", [("Content-Type", "application/pdf")])
        return [PDF_BYTES]
    body = json.dumps({"resourceType": "Patient", "id": "p-1"}).encode()
    start_response("200 OK", [("Content-Type", "application/fhir+json")])
    return [body]


@pytest.fixture
def pdf_server(tmp_path):
    ca = RunCA(tmp_path / "ca")
    cert_path, key_path = ca.issue()
    with start_server(_app, cert_path=cert_path, key_path=key_path) as server:
        yield server.url, ca.ca_cert_path


def _write_scenario(pytester, base_url, ca_path):
    pytester.makefile(
        ".feature",
        evidence=textwrap.dedent(
            """\
            Feature: Evidence
              @DR-09 @SHALL
              Scenario: A report and its PDF are fetched
                When the harness reads the patient
                And the harness reads the PDF
            """
        ),
    )
    pytester.makepyfile(
        test_evidence=textwrap.dedent(
            f"""\
            from pytest_bdd import scenarios, when

            from giponext_conformance.client import BearerToken, FhirClient

            scenarios("evidence.feature")
            CLIENT = FhirClient(
                {base_url + "/fhir"!r},
                BearerToken({TOKEN!r}),
                ca_bundle={str(ca_path)!r},
            )


            @when("the harness reads the patient")
            def _():
                CLIENT.get("Patient/p-1")


            @when("the harness reads the PDF")
            def _():
                CLIENT.get("Binary/report-1")
            """
        ),
    )


def _steps(results_dir):
    [path] = list(results_dir.glob("*-result.json"))
    return json.loads(path.read_text("utf-8"))["steps"]


def test_exchanges_attach_to_their_steps(pytester, pdf_server):
    base_url, ca_path = pdf_server
    _write_scenario(pytester, base_url, ca_path)
    results_dir = pytester.path / "allure-results"

    outcome = pytester.runpytest(f"--alluredir={results_dir}", "--no-progress")

    outcome.assert_outcomes(passed=1)
    steps = _steps(results_dir)
    first = [(a["name"], a["type"]) for a in steps[0]["attachments"]]
    second = [(a["name"], a["type"]) for a in steps[1]["attachments"]]
    assert first == [("GET /fhir/Patient/p-1 -> 200", "application/json")]
    assert second == [
        ("GET /fhir/Binary/report-1 -> 200", "application/json"),
        ("GET /fhir/Binary/report-1 -> 200 (PDF)", "application/pdf"),
    ]


def test_pdf_attachment_keeps_bytes(pytester, pdf_server):
    base_url, ca_path = pdf_server
    _write_scenario(pytester, base_url, ca_path)
    results_dir = pytester.path / "allure-results"

    pytester.runpytest(f"--alluredir={results_dir}", "--no-progress")

    pdf = _steps(results_dir)[1]["attachments"][1]
    assert pdf["source"].endswith(".pdf")
    assert (results_dir / pdf["source"]).read_bytes() == PDF_BYTES


def test_exchange_attachment_masks_token(pytester, pdf_server):
    base_url, ca_path = pdf_server
    _write_scenario(pytester, base_url, ca_path)
    results_dir = pytester.path / "allure-results"

    pytester.runpytest(f"--alluredir={results_dir}", "--no-progress")

    exchange = _steps(results_dir)[0]["attachments"][0]
    text = (results_dir / exchange["source"]).read_text("utf-8")
    assert "Bearer [REDACTED]" in text
    for path in results_dir.iterdir():
        assert TOKEN.encode() not in path.read_bytes(), path.name
