"""Attachments of DiagnosticReport.presentedForm: media type, base64, PDF, URL."""

from __future__ import annotations

import base64

import pytest
from fpdf import FPDF

from giponext_conformance.validation.attachments import check_attachments


def make_pdf() -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text="Referto di prova")
    return bytes(document.output())


PDF = make_pdf()
PDF_BASE64 = base64.b64encode(PDF).decode("ascii")


def findings_of(**attachment):
    return [
        (finding.severity, finding.rule, finding.expression.rsplit(".", 1)[-1])
        for finding in check_attachments({"presentedForm": [attachment]})
    ]


def messages_of(**attachment):
    return [
        finding.diagnostics
        for finding in check_attachments({"presentedForm": [attachment]})
    ]


def test_real_pdf_passes():
    assert findings_of(contentType="application/pdf", data=PDF_BASE64) == []


def test_https_url_passes():
    assert (
        findings_of(contentType="application/pdf", url="https://example.org/r.pdf")
        == []
    )


@pytest.mark.parametrize("media_type", ["text/plain", "application/json", "image/png"])
def test_other_media_types_rejected(media_type):
    assert findings_of(contentType=media_type, data=PDF_BASE64) == [
        ("error", "DR-09", "contentType")
    ]


def test_media_type_case_and_parameters_warn():
    findings = findings_of(
        contentType="Application/PDF; name=referto.pdf", data=PDF_BASE64
    )

    assert findings == [
        ("warning", "DR-09", "contentType"),
        ("warning", "DR-09", "contentType"),
    ]


def test_parameter_named_in_message():
    messages = messages_of(contentType="application/pdf;charset=utf-8", data=PDF_BASE64)

    assert len(messages) == 1
    assert "charset=utf-8" in messages[0]


def test_unparseable_media_type():
    assert findings_of(contentType="pdf", data=PDF_BASE64) == [
        ("error", "DR-09", "contentType")
    ]


def test_line_broken_base64_warns_and_decodes():
    wrapped = base64.encodebytes(PDF).decode("ascii")

    assert findings_of(contentType="application/pdf", data=wrapped) == [
        ("warning", "DR-10", "data")
    ]


def test_data_url_prefix_rejected():
    messages = messages_of(
        contentType="application/pdf", data="data:application/pdf;base64," + PDF_BASE64
    )

    assert len(messages) == 1
    assert "remove the prefix" in messages[0]


@pytest.mark.parametrize("data", ["AAA", "AA=A", "%%%%", "QUJD\x00"])
def test_invalid_base64_rejected(data):
    assert findings_of(contentType="application/pdf", data=data) == [
        ("error", "DR-10", "data")
    ]


def test_sample_data_is_not_pdf():
    messages = messages_of(contentType="application/pdf", data="AAAA")

    assert len(messages) == 1
    assert "do not start with %PDF-" in messages[0]


def test_html_page_named_pdf_rejected():
    page = base64.b64encode(
        b"<!DOCTYPE html><html><body>Not found</body></html>"
    ).decode()

    messages = messages_of(contentType="application/pdf", data=page)

    assert len(messages) == 1
    assert "HTML page" in messages[0]


def test_truncated_pdf_rejected():
    broken = base64.b64encode(PDF[:200]).decode()

    messages = messages_of(contentType="application/pdf", data=broken)

    assert len(messages) == 1
    assert "cannot open it" in messages[0]


def test_pdf_header_without_body_rejected():
    fake = base64.b64encode(b"%PDF-1.4\nnothing else").decode()

    assert findings_of(contentType="application/pdf", data=fake) == [
        ("error", "DR-10", "data")
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.org/r.pdf", [("warning", "DR-10", "url")]),
        ("ftp://example.org/r.pdf", [("error", "DR-10", "url")]),
        ("/reports/r.pdf", [("error", "DR-10", "url")]),
        ("r.pdf", [("error", "DR-10", "url")]),
        ("https://[bad", [("error", "DR-10", "url")]),
    ],
)
def test_url_forms(url, expected):
    assert findings_of(contentType="application/pdf", url=url) == expected


@pytest.mark.parametrize("seed", range(12))
def test_data_url_prefix_always_422(seed):
    import copy

    from giponext_conformance.breakers import valid_set
    from giponext_conformance.validation import validate_resource

    report = copy.deepcopy(valid_set(seed).diagnostic_report)
    attachment = report["presentedForm"][0]
    attachment["data"] = "data:application/pdf;base64," + attachment["data"]

    result = validate_resource(report, "DiagnosticReport")

    assert [finding.rule for finding in result.errors] == ["DR-10"]
    assert result.http_status == 422
