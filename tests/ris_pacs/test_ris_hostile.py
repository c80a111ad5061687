"""Mock RIS-PACS under hostile input: always a 4xx OperationOutcome, nothing stored."""

import json
import socket
import ssl

import pytest

TOKEN = "ris-test-token-7Hq2Vx"  # noqa: S105  # the token the conftest configures


@pytest.fixture
def seeded(ris, intake):
    """Return the mock with one patient and one order stored, and its snapshot."""
    patient, order = intake
    assert ris.put_patient(patient).status_code == 201
    assert ris.post_order(order).status_code == 201
    return ris, patient, order, ris.snapshot()


def valid_text(resource):
    return json.dumps(resource, ensure_ascii=False)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(
            lambda text: text.encode("utf-8") + b"\xff\xfe", id="invalid-utf8-tail"
        ),
        pytest.param(
            lambda text: b"\xc3" + text.encode("utf-8"), id="invalid-utf8-head"
        ),
        pytest.param(lambda text: text.encode("utf-16"), id="utf16"),
        pytest.param(lambda text: text.encode("utf-8")[:-1], id="truncated"),
        pytest.param(lambda text: text.encode("utf-8") * 2, id="two-documents"),
        pytest.param(lambda text: b"\x00" + text.encode("utf-8"), id="nul-byte"),
        pytest.param(
            lambda text: (
                b'{"resourceType":"Patient","id":"1","x":' + b"9" * 5000 + b"}"
            ),
            id="huge-integer",
        ),
        pytest.param(lambda text: b"[" * 100_000 + b"]" * 100_000, id="deep-arrays"),
        pytest.param(
            lambda text: b'{"a":' * 5000 + b"1" + b"}" * 5000, id="deep-objects"
        ),
        pytest.param(
            lambda text: text.replace('"gender":', '"gender":"\\ud800","x":').encode(),
            id="lone-surrogate",
        ),
    ],
)
def test_mangled_patient_rejected(seeded, mangle, expect_outcome):
    ris, patient, _, before = seeded

    response = ris.put(f"/Patient/{patient['id']}", mangle(valid_text(patient)))

    expect_outcome(response, 400)
    assert ris.snapshot() == before


def test_lone_surrogate_in_free_text_rejected(seeded, expect_outcome):
    ris, patient, _, before = seeded
    text = valid_text(patient)
    family = patient["name"][0]["family"]
    body = text.replace(json.dumps(family), '"A\\udc00B"', 1).encode()

    response = ris.put(f"/Patient/{patient['id']}", body)

    expect_outcome(response, 400)
    assert ris.snapshot() == before


def test_huge_declared_body_rejected(ris_server, intake, expect_outcome):
    ris = ris_server(max_body_bytes=64 * 1024)
    patient, _ = intake
    patient["name"][0]["given"] = ["x" * (3 * 1024 * 1024)]

    response = ris.put_patient(patient)

    expect_outcome(response, 413, "TRN-08")
    assert ris.snapshot() == []


def test_huge_order_rejected(seeded, expect_outcome):
    ris, _, order, before = seeded
    order = {**order, "id": "A1R1I1", "note": [{"text": "y" * (2 * 1024 * 1024)}]}

    response = ris.post_order(order)

    expect_outcome(response, 413, "TRN-08")
    assert ris.snapshot() == before


def test_server_usable_after_rejections(seeded):
    ris, patient, _, _ = seeded
    ris.put(f"/Patient/{patient['id']}", b"{" * 10_000)
    ris.put(f"/Patient/{patient['id']}", b"x" * (2 * 1024 * 1024))

    response = ris.get(f"/Patient/{patient['id']}")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "method", ["POST", "PATCH", "TRACE", "PROPFIND", "CONNECT-ISH"]
)
def test_odd_methods_on_patient_405(seeded, method, expect_outcome):
    ris, patient, _, before = seeded

    response = ris.request(method, f"/Patient/{patient['id']}", b"{}")

    expect_outcome(response, 405)
    assert ris.snapshot() == before


@pytest.mark.parametrize(
    "path",
    [
        "/Patient/" + "a" * 5000,
        "/Patient/%00",
        "/Patient/%C3%A8",
        "/Patient/..%2F..%2Fetc",
        "/Patient/a%20b",
    ],
)
def test_odd_ids_rejected(seeded, path, expect_outcome):
    ris, patient, _, before = seeded

    response = ris.put(path, patient)

    assert 400 <= response.status_code < 500
    expect_outcome(response, response.status_code)
    assert ris.snapshot() == before


def test_odd_reads_are_4xx(seeded, expect_outcome):
    ris, _, _, _ = seeded

    for path in (
        "/Patient/%00",
        "/ProcedureRequest/" + "b" * 200,
        "/Patient/x/_history/-1",
    ):
        response = ris.get(path)
        assert 400 <= response.status_code < 500, path
        expect_outcome(response, response.status_code)


def test_subject_shapes_rejected(seeded, expect_outcome):
    ris, _, order, before = seeded
    subjects = [
        None,
        "Patient",
        {"reference": 7},
        {"reference": "https://elsewhere.example/Patient/1"},
        {"reference": "#contained"},
        {"identifier": {"system": "https://www.giponext.it", "value": "1"}},
    ]

    for index, subject in enumerate(subjects):
        candidate = {**order, "id": f"X{index}"}
        if subject is None:
            del candidate["subject"]
        else:
            candidate["subject"] = subject
        response = ris.post_order(candidate)
        assert response.status_code in (400, 422), (subject, response.text)
        expect_outcome(response, response.status_code)
    assert ris.snapshot() == before


def raw_tls_exchange(url, ca_path, payload: bytes) -> bytes:
    """Send raw bytes over TLS and return what the server sends back."""
    host, port = url.removeprefix("https://").rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(ca_path))
    received = b""
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(payload)
        while len(received) < 1_000_000:
            try:
                chunk = tls.recv(65536)
            except (TimeoutError, ssl.SSLError, ConnectionError):
                break
            if not chunk:
                break
            received += chunk
    return received


def test_broken_chunked_encoding(seeded, ris_tls):
    ris, patient, _, before = seeded
    request = (
        f"PUT /Patient/{patient['id']} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        f"Authorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/fhir+json\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
        "zz\r\n{}\r\n0\r\n\r\n"
    ).encode()

    answer = raw_tls_exchange(ris.url, ris_tls[0], request)

    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 4"), answer[:200]
    assert ris.snapshot() == before
    assert ris.get(f"/Patient/{patient['id']}").status_code == 200


def test_short_body_then_close(seeded, ris_tls):
    ris, patient, _, before = seeded
    request = (
        f"PUT /Patient/{patient['id']} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        f"Authorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/fhir+json\r\n"
        "Content-Length: 5000\r\n\r\n"
        '{"resourceType":"Patient"'
    ).encode()
    host, port = ris.url.removeprefix("https://").rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(ris_tls[0]))

    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(request)

    assert ris.get(f"/Patient/{patient['id']}").status_code == 200
    assert ris.snapshot() == before


def test_duplicate_content_length_rejected(seeded, ris_tls):
    ris, patient, _, before = seeded
    body = valid_text({**patient, "active": False}).encode()
    request = (
        f"PUT /Patient/{patient['id']} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        f"Authorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/fhir+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Content-Length: 3\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body

    answer = raw_tls_exchange(ris.url, ris_tls[0], request)

    assert not answer.startswith(b"HTTP/1.1 2"), answer[:200]
    assert not answer.startswith(b"HTTP/1.1 5"), answer[:200]
    assert ris.snapshot() == before
