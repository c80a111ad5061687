"""Mock RIS-PACS transport rules: media types, errors, malformed bodies, size."""

import json
import re

import pytest


@pytest.mark.parametrize(
    "content_type",
    [
        "application/fhir+json",
        "application/fhir+json; charset=utf-8",
        "application/fhir+json;charset=UTF-8",
        "Application/FHIR+JSON",
        "application/fhir+json; fhirVersion=3.0",
    ],
)
def test_fhir_json_accepted(ris, intake, content_type):
    patient, _ = intake

    response = ris.put_patient(patient, content_type=content_type)

    assert response.status_code == 201


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "application/xml",
        "application/fhir+xml",
        "application/fhir+json; charset=iso-8859-1",
        "",
        None,
    ],
)
def test_other_content_types_rejected(ris, intake, content_type, expect_outcome):
    patient, _ = intake

    response = ris.put_patient(patient, content_type=content_type)

    outcome = expect_outcome(response, 415, "TRN-03")
    assert "application/fhir+json" in outcome["issue"][0]["diagnostics"]
    assert ris.snapshot() == []


def test_order_content_type_checked(ris, intake, expect_outcome):
    patient, order = intake
    ris.put_patient(patient)
    before = ris.snapshot()

    response = ris.post_order(order, content_type="application/json")

    expect_outcome(response, 415, "TRN-03")
    assert ris.snapshot() == before


def test_every_response_is_fhir_json(ris, intake):
    patient, _ = intake
    responses = [
        ris.put_patient(patient),
        ris.get(f"/Patient/{patient['id']}"),
        ris.get("/Patient/unknown"),
        ris.get("/metadata"),
        ris.request("DELETE", "/Patient/x"),
    ]

    for response in responses:
        assert (
            response.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
        )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"resourceType": "Patient", "id": "1"', "Invalid JSON"),
        (b'{"resourceType": "Patient", // note\n "id": "1"}', "comment"),
        (b'{"resourceType": "Patient", "id": "1",}', "trailing comma"),
        (b'["resourceType", "Patient"]', ""),
        (b'"Patient"', ""),
        (b"", ""),
        (b'{"resourceType": "Patient", "id": "1", "id": "2"}', "more than once"),
        (b'{"resourceType": "Patient", "id": "1", "x": NaN}', ""),
    ],
)
def test_malformed_json_rejected(ris, body, fragment, expect_outcome):
    response = ris.put("/Patient/1", body)

    outcome = expect_outcome(response, 400, "TRN-06")
    assert fragment in outcome["issue"][0]["diagnostics"]
    assert ris.snapshot() == []


def test_null_value_rejected(ris, expect_outcome):
    body = b'{"resourceType": "Patient", "id": "1", "gender": null}'

    response = ris.put("/Patient/1", body)

    outcome = expect_outcome(response, 400)
    assert any("null" in issue["diagnostics"] for issue in outcome["issue"])
    assert ris.snapshot() == []


def test_wrong_resource_type_rejected(ris, intake, expect_outcome):
    patient, order = intake

    as_patient = ris.put(f"/Patient/{order['id']}", order)
    as_order = ris.post_order(patient)

    expect_outcome(as_patient, 400, "TRN-07")
    expect_outcome(as_order, 400, "TRN-07")
    assert ris.snapshot() == []


def test_missing_resource_type_rejected(ris, intake, expect_outcome):
    patient, _ = intake
    del patient["resourceType"]

    response = ris.put_patient(patient)

    assert response.status_code == 400
    expect_outcome(response, 400)
    assert ris.snapshot() == []


def test_body_over_limit_rejected(ris_server, intake, expect_outcome):
    ris = ris_server(max_body_bytes=2048)
    patient, _ = intake
    patient["name"][0]["given"] = ["x" * 3000]

    response = ris.put_patient(patient)

    outcome = expect_outcome(response, 413, "TRN-08")
    assert "2048" in outcome["issue"][0]["diagnostics"]
    assert ris.snapshot() == []


def test_chunked_body_within_limit_accepted(ris, intake):
    patient, _ = intake

    response = ris.request(
        "PUT", f"/Patient/{patient['id']}", chunks(encode(patient), 100)
    )

    assert response.status_code == 201
    assert ris.store.get("Patient", patient["id"])["name"] == patient["name"]


def test_chunked_body_over_limit_rejected(ris_server, expect_outcome):
    ris = ris_server(max_body_bytes=4096)

    response = ris.request("PUT", "/Patient/big", chunks(b"x" * 50_000, 1000))

    expect_outcome(response, 413, "TRN-08")
    assert ris.snapshot() == []


def test_error_outcome_shape(ris, expect_outcome):
    responses = {
        401: ris.request("GET", "/Patient/x", headers={"Authorization": None}),
        404: ris.get("/Basic/x"),
        405: ris.request("POST", "/Patient/x", b"{}"),
        415: ris.put("/Patient/x", b"{}", content_type="text/plain"),
    }

    for status, response in responses.items():
        outcome = expect_outcome(response, status)
        assert outcome["issue"][0]["severity"] == "error"


def test_unknown_route_404(ris, expect_outcome):
    response = ris.get("/fhir/Patient/1")

    outcome = expect_outcome(response, 404)
    assert outcome["issue"][0]["code"] == "not-found"


def test_wrong_method_405_with_allow(ris, expect_outcome):
    response = ris.request("DELETE", "/Patient/1")

    outcome = expect_outcome(response, 405)
    assert outcome["issue"][0]["code"] == "not-supported"
    assert "PUT" in response.headers["Allow"]
    assert "DELETE" not in response.headers["Allow"]


def test_metadata_is_capability_statement(ris):
    response = ris.request("GET", "/metadata", headers={"Authorization": None})

    assert response.status_code == 200
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "3.0.1"
    types = [entry["type"] for entry in statement["rest"][0]["resource"]]
    assert types == ["Patient", "ProcedureRequest"]
    order_interactions = statement["rest"][0]["resource"][1]["interaction"]
    assert {"code": "update"} not in order_interactions


def test_decimals_keep_their_digits(ris, intake):
    patient, order = intake
    ris.put_patient(patient)
    text = encode(order).decode()
    total = re.search(r'"valueDecimal":([0-9.]+)', text).group(1)
    text = text.replace(f'"valueDecimal":{total}', '"valueDecimal":36.150', 1)

    response = ris.post("/ProcedureRequest", text.encode())
    stored = ris.get(f"/ProcedureRequest/{order['id']}")

    assert response.status_code == 201
    assert '"valueDecimal":36.150' in response.text
    assert '"valueDecimal":36.150' in stored.text


def encode(resource):
    return json.dumps(resource, separators=(",", ":")).encode("utf-8")


def chunks(data, size):
    """Yield `data` in pieces, so requests sends it with chunked encoding."""
    for start in range(0, len(data), size):
        yield data[start : start + size]
