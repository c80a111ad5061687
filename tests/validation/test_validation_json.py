"""JSON layer: malformed bodies and misplaced nulls, located, without a traceback."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from giponext_conformance.validation import dumps, validate_bytes, validate_resource


def errors_of(body: bytes):
    """Return the JSON-layer errors; later layers judge these tiny resources too."""
    return json_layer(validate_bytes(body).errors)


def json_layer(findings):
    return [finding for finding in findings if finding.layer == "json"]


def null_errors(findings):
    return [
        (finding.rule, finding.layer, finding.expression)
        for finding in findings
        if finding.is_error and "null" in finding.diagnostics
    ]


def test_syntax_error_has_line_and_column():
    result = validate_bytes(b'{\n  "resourceType": "Patient",\n  "id": tru\n}')

    assert result.resource is None
    assert result.http_status == 400
    assert len(result.findings) == 1
    finding = result.findings[0]
    assert finding.rule == "TRN-06"
    assert finding.layer == "json"
    assert "line 3, column 9" in finding.diagnostics


def test_comments_named_with_lines():
    body = b'{\n  "resourceType": "Patient", // the type\n  "id": "1" /* id */\n}'

    findings = errors_of(body)

    assert len(findings) == 1
    text = findings[0].diagnostics
    assert "line 2, column 30" in text
    assert "2 comments (lines 2, 3)" in text
    assert "copied from documentation" in text


def test_comment_markers_inside_strings_ignored():
    body = (
        b'{"resourceType": "Patient", "id": "1",'
        b' "text": {"status": "empty", "div": "<div>// x</div>"}}'
    )

    result = validate_bytes(body)

    assert not [f for f in result.findings if f.layer == "json"]


def test_every_trailing_comma_reported():
    body = b'{"resourceType": "Patient",\n "name": [{"given": ["A",]},],\n}'

    findings = errors_of(body)

    assert [f.rule for f in findings] == ["TRN-06", "TRN-06", "TRN-06"]
    assert "line 2, column 25: a trailing comma before ']'" in findings[0].diagnostics
    assert "line 2, column 28: a trailing comma before ']'" in findings[1].diagnostics
    assert "line 2, column 30: a trailing comma before '}'" in findings[2].diagnostics


def test_duplicate_key_located():
    body = (
        b'{"resourceType": "Patient", "id": "1",'
        b' "name": [{"family": "A", "family": "B"}]}'
    )

    findings = errors_of(body)

    assert len(findings) == 1
    assert findings[0].rule == "TRN-06"
    assert findings[0].expression == "Patient.name[0].family"
    assert "more than once" in findings[0].diagnostics


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b"[]", "array"), (b'"Patient"', "string"), (b"42", "number"), (b"null", "null")],
)
def test_top_level_not_object(body, kind):
    findings = errors_of(body)

    assert len(findings) == 1
    assert f"a JSON {kind}" in findings[0].diagnostics


def test_null_member_rejected():
    body = b'{"resourceType": "Patient", "id": "1", "gender": null}'

    result = validate_bytes(body)

    assert json_layer(result.findings) == []
    assert null_errors(result.findings) == [("TRN-09", "base", "Patient.gender")]
    assert result.http_status == 400


def test_null_aligned_with_extension_array_allowed():
    body = (
        b'{"resourceType": "Patient", "id": "1", "name": [{"family": "Rossi",'
        b' "given": ["Mario", null], "_given": [null, {"extension": [{"url":'
        b' "http://example.org/x", "valueString": "Luigi"}]}]}]}'
    )

    result = validate_bytes(body)

    assert json_layer(result.findings) == []
    assert [f for f in result.errors if f.layer == "base"] == []


def test_null_without_aligned_extension_rejected():
    body = (
        b'{"resourceType": "Patient", "id": "1", "name": [{"given": ["Mario", null]}]}'
    )

    findings = validate_bytes(body).findings

    assert null_errors(findings) == [("TRN-09", "base", "Patient.name[0].given[1]")]


def test_byte_order_mark_is_warning():
    result = validate_bytes(b'\xef\xbb\xbf{"resourceType": "Patient", "id": "1"}')

    assert json_layer(result.errors) == []
    assert [(f.severity, f.rule) for f in json_layer(result.warnings)] == [
        ("warning", "TRN-06")
    ]
    assert result.resource["id"] == "1"


def test_invalid_utf8_located():
    findings = errors_of(b'{"resourceType": "Patient",\n "id": "\xff"}')

    assert len(findings) == 1
    assert "not valid UTF-8" in findings[0].diagnostics
    assert "line 2, column 9" in findings[0].diagnostics


def test_nan_rejected():
    findings = errors_of(b'{"resourceType": "Patient", "x": NaN}')

    assert len(findings) == 1
    assert "NaN is not a JSON number" in findings[0].diagnostics


def test_decimal_digits_kept():
    body = (
        b'{"resourceType": "Basic",'
        b' "extension": [{"url": "u", "valueDecimal": 36.150}]}'
    )

    result = validate_bytes(body)

    value = result.resource["extension"][0]["valueDecimal"]
    assert value == Decimal("36.150")
    assert str(value) == "36.150"
    assert '"valueDecimal":36.150' in dumps(result.resource)


def test_deep_nesting_is_finding():
    findings = errors_of(b"[" * 50_000 + b"]" * 50_000)

    assert len(findings) == 1
    assert findings[0].rule == "TRN-06"


def test_validate_resource_reports_nulls():
    result = validate_resource({"resourceType": "Patient", "id": "1", "active": None})

    assert null_errors(result.findings) == [("TRN-09", "base", "Patient.active")]


def test_random_bytes_never_raise():
    rng = random.Random(20261204)
    seeds = [
        b'{"resourceType": "Patient", "id": "1", "name": [{"given": ["A"]}]}',
        b"{}",
    ]
    for _ in range(400):
        body = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(body) + 1)
            body[position:position] = bytes([rng.randrange(256)])
        result = validate_bytes(bytes(body), rng.choice([None, "Patient"]))
        assert result.http_status in (None, 400, 422)
        assert all(f.code != "exception" for f in result.findings)


def test_unpaired_surrogate_rejected():
    body = b'{"resourceType": "Patient", "id": "1", "name": [{"family": "\\ud800"}]}'

    result = validate_bytes(body)

    assert result.resource is None
    assert [(f.rule, f.layer, f.expression) for f in result.findings] == [
        ("TRN-06", "json", "Patient.name[0].family")
    ]


def test_surrogate_pair_accepted():
    body = b'{"resourceType": "Basic", "code": {"text": "\\ud83d\\ude00"}}'

    result = validate_bytes(body)

    assert result.findings == []
    assert result.resource["code"]["text"] == "\U0001f600"


def test_nesting_beyond_limit_rejected():
    opening = b'{"url": "u", "extension": ['
    body = (
        b'{"resourceType": "Basic", "code": {"text": "x"}, "extension": ['
        + opening * 60
        + b"]}" * 60
        + b"]}"
    )

    findings = validate_bytes(body).findings

    assert [(f.rule, f.layer) for f in findings] == [("TRN-06", "json")]
    assert "more than 100 levels" in findings[0].diagnostics


def test_overlong_number_rejected():
    body = b'{"resourceType": "Patient", "multipleBirthInteger": ' + b"9" * 5000 + b"}"

    findings = validate_bytes(body).findings

    assert len(findings) == 1
    assert "number of 5000 characters" in findings[0].diagnostics
