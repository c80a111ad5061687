"""Audit journal of the GipoNext mock: verdicts, redaction, restart and export."""

from __future__ import annotations

import json

from conftest import API_KEY, TENANT

from giponext_conformance.cli import main
from giponext_conformance.mocks.giponext import GipoNextConfig, TenantConfig, create_app
from giponext_conformance.mocks.giponext.journal import export_har, open_journal


def test_journal_records_verdicts(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)
    server.request("POST", body=server.report)
    server.request("POST", body=server.report, key=None)

    entries = server.mock.journal.entries()

    assert [(entry.status, entry.verdict) for entry in entries] == [
        (201, "accepted"),
        (409, "rejected"),
        (401, "rejected"),
    ]
    assert entries[0].tenant == TENANT
    assert entries[1].findings[0]["details"]["text"] == "DR-02"
    assert entries[0].request_body.startswith("{")


def test_journal_masks_api_key(giponext_server):
    server = giponext_server()
    server.request("POST", body={**server.report, "conclusion": f"key {API_KEY}"})

    entry = server.mock.journal.entries()[0]
    text = json.dumps(export_har([entry]))

    assert entry.request_headers["Authorization"] == "Bearer [REDACTED]"
    assert API_KEY not in text
    assert "[REDACTED]" in entry.request_body


def test_journal_survives_restart(tmp_path):
    db_path = tmp_path / "giponext.sqlite3"
    config = GipoNextConfig(
        tenants={TENANT: TenantConfig([API_KEY])}, db_path=str(db_path)
    )
    first = create_app(config)
    first.test_client().get(
        f"/fhir/r3/{TENANT}/DiagnosticReport/R1",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    first.giponext.close()

    second = create_app(GipoNextConfig(tenants=config.tenants, db_path=str(db_path)))
    second.test_client().get(f"/fhir/r3/{TENANT}/DiagnosticReport/R2")
    entries = second.giponext.journal.entries()
    second.giponext.close()

    assert [(entry.url.rsplit("/", 1)[1], entry.status) for entry in entries] == [
        ("R1", 404),
        ("R2", 401),
    ]


def test_har_export_shape(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)

    har = export_har(server.mock.journal.entries())

    assert har["log"]["version"] == "1.2"
    entry = har["log"]["entries"][0]
    assert entry["request"]["method"] == "POST"
    assert entry["request"]["postData"]["mimeType"] == "application/fhir+json"
    assert entry["response"]["status"] == 201
    assert entry["response"]["statusText"] == "Created"
    assert entry["response"]["content"]["mimeType"].startswith("application/fhir+json")
    assert entry["_verdict"] == "accepted"
    assert entry["startedDateTime"].endswith("+00:00")


def test_journal_commands(giponext_server, tmp_path, capsys):
    server = giponext_server()
    server.request("POST", body=server.report)
    server.request("POST", body=server.report)
    db_path = server.mock.state.path

    listed = main(["journal", "list", "--db", str(db_path)])
    listing = capsys.readouterr().out
    exported = main(
        [
            "journal",
            "export",
            "--db",
            str(db_path),
            "--format",
            "json",
            "--output",
            str(tmp_path / "journal.json"),
        ]
    )
    document = json.loads((tmp_path / "journal.json").read_text())

    assert listed == 0
    assert "201 accepted" in listing
    assert "409 rejected" in listing
    assert "DR-02" in listing
    assert exported == 0
    assert [entry["status"] for entry in document["entries"]] == [201, 409]


def test_journal_command_missing_db(tmp_path, capsys):
    status = main(["journal", "list", "--db", str(tmp_path / "none.sqlite3")])

    assert status == 2
    assert "no database at" in capsys.readouterr().err


def test_open_journal_reads_file(giponext_server):
    server = giponext_server()
    server.request("GET", "/R9")

    store, journal = open_journal(server.mock.state.path)
    entries = journal.entries(tenant=TENANT)
    store.close()

    assert [entry.status for entry in entries] == [404]
