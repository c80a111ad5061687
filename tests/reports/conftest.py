"""Fixtures for the report tests: a hand-made conformance.json of a quirk run."""

from __future__ import annotations

import json

import pytest


def sample_results(*, quirk_failure: bool = True) -> dict:
    """Return a conformance.json payload; with quirk_failure, PR-03 failed."""
    pr03_status = "failed" if quirk_failure else "passed"
    pr03_messages = (
        ["expected 4xx for PUT ProcedureRequest/PR-7001, found 200"]
        if quirk_failure
        else []
    )
    return {
        "harness": {"name": "giponext-conformance", "version": "0.1.0"},
        "target": {
            "ris_url": "https://127.0.0.1:8443/fhir",
            "giponext_url": None,
            "bundled": True,
            "quirks": ["mutable-procedurerequest"] if quirk_failure else [],
            "outcome": False,
        },
        "started": "2026-12-04T15:00:00+00:00",
        "finished": "2026-12-04T15:01:05+00:00",
        "duration_seconds": 65.2,
        "verdict": "failed" if quirk_failure else "passed",
        "summary": {
            "passed": 2,
            "failed": int(quirk_failure),
            "warning": 1,
            "not-run": 1,
        },
        "rules": {
            "PAT-01": {
                "level": "SHALL",
                "statement": "PUT creates or updates the patient.",
                "status": "passed",
                "messages": [],
                "scenarios": [
                    {
                        "name": "A new patient is created",
                        "feature": "Patient intake",
                        "outcome": "passed",
                    }
                ],
            },
            "PR-03": {
                "level": "SHALL",
                "statement": "A ProcedureRequest cannot be modified once created.",
                "status": pr03_status,
                "messages": pr03_messages,
                "scenarios": [
                    {
                        "name": "An accepted order cannot be replaced",
                        "feature": "ProcedureRequest intake",
                        "outcome": pr03_status,
                    }
                ],
            },
            "AUTH-04": {
                "level": "SHOULD",
                "statement": "Basic authentication is deprecated.",
                "status": "warning",
                "messages": ["Basic authentication used; expected a bearer token"],
                "scenarios": [
                    {
                        "name": "Basic credentials are accepted with a warning",
                        "feature": "Authentication",
                        "outcome": "passed",
                    }
                ],
            },
            "DR-05": {
                "level": "SHALL",
                "statement": "Reports are final, amended or corrected.",
                "status": "not-run",
                "messages": [],
                "scenarios": [],
            },
            "TRN-01": {
                "level": "SHALL",
                "statement": "HTTPS everywhere.",
                "status": "passed",
                "messages": [],
                "scenarios": [
                    {
                        "name": "The RIS-PACS serves HTTPS",
                        "feature": "Transport",
                        "outcome": "passed",
                    }
                ],
            },
        },
        "scenarios": [
            {
                "name": "A new patient is created",
                "feature": "Patient intake",
                "tags": ["PAT-01", "SHALL"],
                "outcome": "passed",
                "duration": 0.4,
                "rules": ["PAT-01"],
            },
            {
                "name": "An accepted order cannot be replaced",
                "feature": "ProcedureRequest intake",
                "tags": ["PR-03", "SHALL", "negative"],
                "outcome": pr03_status,
                "duration": 0.7,
                "rules": ["PR-03"],
            },
            {
                "name": "Basic credentials are accepted with a warning",
                "feature": "Authentication",
                "tags": ["AUTH-04", "SHOULD"],
                "outcome": "passed",
                "duration": 0.2,
                "rules": ["AUTH-04"],
            },
            {
                "name": "The RIS-PACS serves HTTPS",
                "feature": "Transport",
                "tags": ["TRN-01", "SHALL"],
                "outcome": "passed",
                "duration": 0.1,
                "rules": ["TRN-01"],
            },
        ],
    }


@pytest.fixture
def quirk_results() -> dict:
    return sample_results(quirk_failure=True)


@pytest.fixture
def passing_results() -> dict:
    return sample_results(quirk_failure=False)


@pytest.fixture
def quirk_report_dir(tmp_path, quirk_results):
    """A report folder with the quirk run's results, JUnit, Allure results and a HAR."""
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    (report_dir / "conformance.json").write_text(json.dumps(quirk_results), "utf-8")
    (report_dir / "junit.xml").write_text(
        '<?xml version="1.0"?><testsuites>'
        '<testsuite name="pytest" tests="4" failures="1">'
        "</testsuite></testsuites>\n",
        "utf-8",
    )
    results = report_dir / "allure-results"
    results.mkdir()
    (results / "0a1b-result.json").write_text(
        '{"name": "x", "status": "failed"}', "utf-8"
    )
    (results / "0a1b-attachment.json").write_text('{"status": 200}', "utf-8")
    journals = report_dir / "journals"
    journals.mkdir()
    (journals / "giponext.har").write_text(
        '{"log": {"version": "1.2", "entries": []}}', "utf-8"
    )
    return report_dir
