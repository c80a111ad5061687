"""The negative intake scenarios fail against a RIS-PACS that accepts everything.

A rule checked only by scenarios that pass against such a server would be
certified for any server at all. The run targets a small TLS server on
127.0.0.1 that returns 201 for every request, given to the harness as a
vendor's RIS-PACS. Payload rules bind GipoNext, the sender, so there the
acceptance must show up as a note and never as a failure.
"""

import json
import os
import subprocess
import sys

import pytest

from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA

TOKEN = "accept-all-token-51c0"  # noqa: S105  # credential of the local server

# Rules whose negative scenarios must fail against the server.
REFUSAL_RULES = {
    "TRN-06",
    "TRN-07",
    "TRN-09",
    "AUTH-01",
    "AUTH-02",
    "AUTH-03",
    "PAT-01",
    "PAT-02",
    "PR-01",
    "PR-02",
    "PR-03",
    "PR-09",
    "FLOW-01",
}

# SHALL payload rules whose breaking payloads only the bundled mock rejects.
PAYLOAD_RULES = [
    "PAT-03",
    "PAT-04",
    "PAT-07",
    "PAT-08",
    "PAT-09",
    "PR-05",
    "PR-06",
    "PR-07",
    "PR-08",
    "PR-10",
    "PR-11",
    "PR-12",
]

# Seconds the run may take.
RUN_TIMEOUT = 300


def _accept_everything(environ, start_response):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(size)
    body = b'{"resourceType": "OperationOutcome", "issue": []}'
    headers = [
        ("Content-Type", "application/fhir+json"),
        ("Content-Length", str(len(body))),
    ]
    start_response("201 Created", headers)
    return [body]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Run the negative intake scenarios against the server; return the report."""
    folder = tmp_path_factory.mktemp("accept-all")
    authority = RunCA(folder / "tls")
    cert_path, key_path = authority.issue()
    server = start_server(_accept_everything, cert_path=cert_path, key_path=key_path)
    with server:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "giponext_conformance",
                "run",
                "--features",
                "intake",
                "--tags",
                "negative",
                "--ris-url",
                server.url,
                "--ca-bundle",
                str(authority.ca_cert_path),
                "--report-dir",
                str(folder / "reports"),
            ],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            env={**os.environ, "GIPONEXT_RIS_TOKEN": TOKEN},
            check=False,
        )
    path = folder / "reports" / "conformance.json"
    assert path.is_file(), completed.stdout[-4000:] + completed.stderr[-2000:]
    return json.loads(path.read_text("utf-8"))


def test_refusal_rules_fail(report):
    statuses = {rule: report["rules"][rule]["status"] for rule in REFUSAL_RULES}

    assert statuses == dict.fromkeys(REFUSAL_RULES, "failed")
    assert report["verdict"] == "failed"


@pytest.mark.parametrize("rule", PAYLOAD_RULES)
def test_payload_rule_accepted_as_note(report, rule):
    entry = report["rules"][rule]

    assert entry["status"] == "passed"
    assert any("need not validate" in message for message in entry["messages"])


def test_untrusted_transport_scenarios_pass(report):
    outcomes = [
        scenario["outcome"]
        for scenario in report["scenarios"]
        if "TRN-01" in scenario["tags"]
    ]

    assert outcomes == ["passed", "passed"]


def test_outline_rows_carry_rule_tags(report):
    rows = [
        scenario
        for scenario in report["scenarios"]
        if scenario["name"].startswith("A patient that breaks one rule")
    ]
    tagged = {rule for row in rows for rule in row["tags"] if rule.startswith("PAT")}

    assert len(rows) == 5
    assert tagged == {"PAT-03", "PAT-04", "PAT-07", "PAT-08", "PAT-09"}
    assert all(len([t for t in row["tags"] if "-" in t]) == 1 for row in rows)
