"""The GipoNext mock's DiagnosticReport endpoint over real TLS and SQLite."""

from __future__ import annotations

import copy
import json
import socket
import ssl

import pytest
from conftest import API_KEY, FHIR_JSON, TENANT


def _rules(response) -> list[str]:
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    return [
        coding["code"]
        for issue in outcome["issue"]
        for coding in (issue.get("details") or {}).get("coding", [])
    ]


def _is_fhir_json(response) -> bool:
    return response.headers.get("Content-Type", "").startswith(FHIR_JSON)


def test_post_creates_report(giponext_server):
    server = giponext_server()

    created = server.request("POST", body=server.report)

    assert created.status_code == 201
    assert created.headers["ETag"] == 'W/"1"'
    location = created.headers["Location"]
    assert location == f"{server.reports_url}/{server.report['id']}/_history/1"
    assert created.json()["id"] == server.report["id"]
    assert created.json()["meta"]["versionId"] == "1"


def test_get_returns_stored_report(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)

    read = server.request("GET", f"/{server.report['id']}")

    assert read.status_code == 200
    assert _is_fhir_json(read)
    stored = read.json()
    assert stored.pop("meta")["versionId"] == "1"
    assert stored == server.report
    assert read.headers["Last-Modified"].endswith("GMT")


def test_duplicate_post_conflicts(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)

    again = server.request("POST", body={**server.report, "conclusion": "other"})

    assert again.status_code == 409
    assert _rules(again) == ["DR-02"]
    assert server.mock.state.report_versions(TENANT, server.report["id"]) == [
        (1, False)
    ]


@pytest.mark.parametrize("if_match", ['W/"1"', '"1"', "*", None])
def test_put_with_current_version(giponext_server, if_match):
    server = giponext_server()
    server.request("POST", body=server.report)
    corrected = {**server.report, "status": "corrected"}
    headers = {"If-Match": if_match} if if_match else {}

    answer = server.request(
        "PUT", f"/{server.report['id']}", corrected, headers=headers
    )

    assert answer.status_code == 200
    assert answer.headers["ETag"] == 'W/"2"'
    stored = server.mock.state.report(TENANT, server.report["id"])
    assert stored["status"] == "corrected"
    assert stored["meta"]["versionId"] == "2"


def test_put_with_stale_version_conflicts(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)
    path = f"/{server.report['id']}"
    server.request("PUT", path, {**server.report, "status": "amended"})

    stale = server.request(
        "PUT",
        path,
        {**server.report, "status": "corrected"},
        headers={"If-Match": 'W/"1"'},
    )

    assert stale.status_code == 409
    assert "current version is 2" in stale.json()["issue"][0]["diagnostics"]
    assert server.mock.state.report(TENANT, server.report["id"])["status"] == "amended"


def test_put_with_malformed_if_match(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)

    answer = server.request(
        "PUT",
        f"/{server.report['id']}",
        server.report,
        headers={"If-Match": "version one"},
    )

    assert answer.status_code == 400
    assert "entity tag" in answer.json()["issue"][0]["diagnostics"]


def test_put_with_other_id_rejected(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)

    answer = server.request("PUT", "/OTHER-1", server.report)

    assert answer.status_code == 400
    assert "DR-02" in _rules(answer)
    assert server.mock.state.report_status(TENANT, "OTHER-1") == "unknown"


def test_put_of_unknown_report_not_found(giponext_server):
    server = giponext_server()

    answer = server.request("PUT", f"/{server.report['id']}", server.report)

    assert answer.status_code == 404
    assert _is_fhir_json(answer)
    assert server.mock.state.count_reports(TENANT) == 0


def test_delete_withdraws_report(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)
    path = f"/{server.report['id']}"

    withdrawn = server.request("DELETE", path)
    read = server.request("GET", path)
    corrected = server.request("PUT", path, server.report)
    repeated = server.request("DELETE", path)

    assert withdrawn.status_code == 200
    assert read.status_code == 410
    assert read.json()["resourceType"] == "OperationOutcome"
    assert corrected.status_code == 410
    assert repeated.status_code == 200
    assert server.mock.state.report_versions(TENANT, server.report["id"]) == [
        (1, False),
        (2, True),
    ]


def test_withdrawn_report_can_be_sent_again(giponext_server):
    server = giponext_server()
    server.request("POST", body=server.report)
    server.request("DELETE", f"/{server.report['id']}")

    again = server.request("POST", body=server.report)

    assert again.status_code == 201
    assert again.headers["ETag"] == 'W/"3"'


def test_unknown_order_rejected(giponext_server):
    server = giponext_server()
    report = copy.deepcopy(server.report)
    report["basedOn"] = [{"reference": "ProcedureRequest/NEVER-SENT"}]

    answer = server.request("POST", body=report)

    assert answer.status_code == 422
    assert _rules(answer) == ["DR-03"]
    assert "ProcedureRequest/NEVER-SENT" in answer.json()["issue"][0]["diagnostics"]
    assert server.mock.state.count_reports() == 0


def test_other_patient_rejected(giponext_server):
    server = giponext_server()
    report = copy.deepcopy(server.report)
    report["subject"] = {"reference": "Patient/someone-else"}

    answer = server.request("POST", body=report)

    assert answer.status_code == 422
    assert _rules(answer) == ["DR-04"]
    assert f"Patient/{server.patient['id']}" in answer.json()["issue"][0]["diagnostics"]


def test_unknown_doctor_warned(giponext_server):
    server = giponext_server()
    report = copy.deepcopy(server.report)
    report["performer"][0]["actor"]["identifier"]["value"] = "RSSMRA80A01H501U"

    answer = server.request("POST", body=report)

    assert answer.status_code == 201
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "warning"
    assert _rules(answer) == ["DR-08"]


def test_order_doctors_are_known(giponext_server):
    server = giponext_server()

    answer = server.request("POST", body=server.report)

    # The report's performers are the order's doctors, so no DR-08 warning.
    assert answer.status_code == 201
    assert answer.json()["resourceType"] == "DiagnosticReport"


def test_prefer_header_chooses_body(giponext_server):
    server = giponext_server()

    minimal = server.request(
        "POST", body=server.report, headers={"Prefer": "return=minimal"}
    )
    outcome = server.request(
        "PUT",
        f"/{server.report['id']}",
        server.report | {"status": "amended"},
        headers={"Prefer": "return=OperationOutcome"},
    )

    assert minimal.status_code == 201
    assert minimal.content == b""
    assert outcome.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 415),
        ("text/plain", 415),
        (None, 415),
        ("application/fhir+json; charset=latin-1", 415),
        ("application/fhir+json; charset=utf-8", 201),
        ("application/fhir+json; charset=UTF-8", 201),
        ("application/json+fhir", 201),
    ],
)
def test_content_types(giponext_server, content_type, status):
    server = giponext_server()
    body = json.dumps(server.report).encode()

    answer = server.session.post(
        server.reports_url,
        data=body,
        headers={"Authorization": f"Bearer {API_KEY}"}
        | ({"Content-Type": content_type} if content_type else {}),
        timeout=30,
    )

    assert answer.status_code == status
    assert _is_fhir_json(answer)
    if status == 415:
        assert "application/fhir+json" in answer.json()["issue"][0]["diagnostics"]
        assert server.mock.state.count_reports() == 0


def test_declared_body_over_limit(giponext_server):
    server = giponext_server(max_body_bytes=1000)

    answer = server.request("POST", body=b"{" + b" " * 2000 + b"}")

    assert answer.status_code == 413
    assert _rules(answer) == ["TRN-08"]


def _raw_chunked_post(server, body: bytes) -> tuple[int, bytes]:
    """POST with Transfer-Encoding: chunked and no Content-Length, over TLS."""
    host, port = server.url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=str(server.ca_path))
    head = (
        f"POST /fhir/r3/{TENANT}/DiagnosticReport HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: Bearer {API_KEY}\r\n"
        f"Content-Type: {FHIR_JSON}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    chunks = b"".join(
        f"{len(body[i : i + 700]):x}\r\n".encode() + body[i : i + 700] + b"\r\n"
        for i in range(0, len(body), 700)
    )
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(head + chunks + b"0\r\n\r\n")
        answer = b""
        while data := tls.recv(65536):
            answer += data
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


def test_chunked_body_read_whole(giponext_server):
    server = giponext_server()

    status, _body = _raw_chunked_post(server, json.dumps(server.report).encode())

    assert status == 201
    assert server.mock.state.report(TENANT, server.report["id"]) is not None


def test_chunked_body_over_limit(giponext_server):
    server = giponext_server(max_body_bytes=2000)

    status, body = _raw_chunked_post(server, b"{" + b" " * 5000 + b"}")

    assert status == 413
    assert b"TRN-08" in body
    assert server.mock.state.count_reports() == 0


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b"null",
        b'{"resourceType": "DiagnosticReport",}',
        b'{"resourceType": "Patient", "id": "1"}',
        b"\xff\xfe\x00garbage",
        b'{"resourceType": "DiagnosticReport", "id": 7}',
        b'{"resourceType": "DiagnosticReport", "basedOn": "ProcedureRequest/1"}',
        b'{"resourceType": "DiagnosticReport", "performer": [null], "id": "x"}',
        b'{"resourceType": "DiagnosticReport", "id": "a", "id": "b"}',
        b'{"resourceType":"DiagnosticReport","presentedForm":[{"data":"%%%"}]}',
    ],
)
def test_hostile_bodies_get_4xx(giponext_server, body):
    server = giponext_server()

    answer = server.request("POST", body=body)

    assert 400 <= answer.status_code < 500
    assert _is_fhir_json(answer)
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert server.mock.state.count_reports() == 0


def test_unknown_path_is_outcome(giponext_server):
    server = giponext_server()

    missing = server.session.get(f"{server.url}/fhir/r3/{TENANT}/Patient/1", timeout=30)
    wrong_method = server.request("PATCH", f"/{server.report['id']}", b"{}")

    assert missing.status_code == 404
    assert _is_fhir_json(missing)
    assert "/DiagnosticReport" in missing.json()["issue"][0]["diagnostics"]
    assert wrong_method.status_code == 405
    assert _is_fhir_json(wrong_method)


def test_decimal_extension_keeps_its_digits(giponext_server):
    server = giponext_server()
    extension = '{"url": "https://example.test/fhir/score", "valueDecimal": 36.150}'
    body = json.dumps(server.report).replace(
        '"extension": [', f'"extension": [{extension}, ', 1
    )
    assert extension in body

    created = server.request("POST", body=body.encode("utf-8"))
    read = server.request("GET", f"/{server.report['id']}")

    assert created.status_code == 201
    assert read.status_code == 200
    assert '"valueDecimal": 36.150' in read.text


@pytest.mark.parametrize("depth", [100_000])
def test_deeply_nested_post_gets_400(giponext_server, depth):
    server = giponext_server()
    body = ("[" * depth + "]" * depth).encode("ascii")

    answer = server.request("POST", body=body)

    assert answer.status_code == 400
    assert _is_fhir_json(answer)
    assert server.mock.state.count_reports() == 0
