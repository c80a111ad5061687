"""`mock giponext` as a separate process: a report POSTed by hand gets clear answers.

The command is started as a user would start it; the test reads the printed
banner and sends requests the way curl would, with requests, verifying TLS
against the printed CA file.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

BANNER_TIMEOUT = 30.0


def _read_banner(process) -> dict[str, str]:
    fields = {}
    deadline = time.monotonic() + BANNER_TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        name, _, value = line.strip().partition(": ")
        fields[name] = value
        if name == "Try":
            return fields
    raise AssertionError(f"the mock printed no complete banner; read {fields}")


@pytest.fixture
def standalone(tmp_path):
    db_path = tmp_path / "standalone.sqlite3"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "giponext_conformance",
            "mock",
            "giponext",
            "--db",
            str(db_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        fields = _read_banner(process)
        fields["db"] = str(db_path)
        yield fields
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _session(fields) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = fields["CA certificate"]
    return session


def _example_path(fields) -> Path:
    return Path(re.search(r"@(\S+)", fields["Try"]).group(1))


def _diagnostics(response) -> str:
    return " | ".join(issue["diagnostics"] for issue in response.json()["issue"])


def test_banner_names_what_to_configure(standalone):
    assert standalone["GipoNext base URL"].startswith("https://127.0.0.1:")
    assert standalone["Tenant id (userId)"].startswith("tenant-")
    assert len(standalone["API key"]) > 30
    assert standalone["Reports endpoint"].endswith(
        f"/fhir/r3/{standalone['Tenant id (userId)']}/DiagnosticReport"
    )
    assert standalone["Example order"].startswith("ProcedureRequest/")


def test_example_report_accepted(standalone):
    session = _session(standalone)
    body = _example_path(standalone).read_bytes()

    answer = session.post(
        standalone["Reports endpoint"],
        data=body,
        headers={
            "Authorization": f"Bearer {standalone['API key']}",
            "Content-Type": "application/fhir+json",
        },
        timeout=30,
    )

    assert answer.status_code == 201
    assert answer.headers["Location"].startswith(standalone["Reports endpoint"])


def test_hand_made_mistakes_get_actionable_messages(standalone):
    session = _session(standalone)
    endpoint = standalone["Reports endpoint"]
    key = {"Authorization": f"Bearer {standalone['API key']}"}
    report = json.loads(_example_path(standalone).read_text())
    fhir = {"Content-Type": "application/fhir+json"}

    no_key = session.post(endpoint, json=report, timeout=30)
    curl_default = session.post(
        endpoint, data=json.dumps(report), headers=key, timeout=30
    )
    broken = session.post(
        endpoint, data=b'{"resourceType": ', headers=key | fhir, timeout=30
    )
    unknown_order = session.post(
        endpoint,
        data=json.dumps(report | {"basedOn": [{"reference": "ProcedureRequest/XYZ"}]}),
        headers=key | fhir,
        timeout=30,
    )

    assert no_key.status_code == 401
    assert "Authorization: Bearer" in _diagnostics(no_key)
    assert curl_default.status_code == 415
    assert "application/fhir+json" in _diagnostics(curl_default)
    assert broken.status_code == 400
    assert "line 1" in _diagnostics(broken).lower()
    assert unknown_order.status_code == 422
    assert "ProcedureRequest/XYZ" in _diagnostics(unknown_order)


def test_journal_lists_hand_made_requests(standalone):
    session = _session(standalone)
    session.get(standalone["Reports endpoint"] + "/NOTHING", timeout=30)

    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "giponext_conformance",
            "journal",
            "list",
            "--db",
            standalone["db"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert listed.returncode == 0
    assert "401 rejected" in listed.stdout
    assert standalone["API key"] not in listed.stdout
