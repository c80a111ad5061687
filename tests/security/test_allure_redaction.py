"""Masking of secrets in Allure results before and after they are written."""

from __future__ import annotations

from allure_commons import model2

from giponext_conformance.allure_redaction import RedactingReporter, redact_result
from giponext_conformance.redact import MASK, register_secret

SECRET = "allure-secret-7f3a9c2e51"  # noqa: S105  # made up for the test


def test_step_parameters_are_masked():
    register_secret(SECRET)
    step = model2.TestStepResult(
        name="When the RIS-PACS reads a report",
        parameters=[
            model2.Parameter(name="ris_target", value=f"Target(token='{SECRET}')")
        ],
    )
    result = model2.TestResult(
        steps=[step],
        statusDetails=model2.StatusDetails(
            message=f"expected 200 with {SECRET}", trace=SECRET
        ),
    )

    redact_result(result)

    assert SECRET not in step.parameters[0].value
    assert step.parameters[0].value.startswith(f"Target(token={MASK}")
    assert result.statusDetails.message == f"expected 200 with {MASK}"
    assert result.statusDetails.trace == MASK
    assert step.name == "When the RIS-PACS reads a report"


def test_text_attachment_is_rewritten(tmp_path):
    register_secret(SECRET)
    attachment = tmp_path / "a-attachment.json"
    attachment.write_text(f'{{"Authorization": "Bearer {SECRET}"}}')
    picture = tmp_path / "b-attachment.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")

    reporter = RedactingReporter(tmp_path)
    reporter.report_attached_data(body="", file_name=attachment.name)
    reporter.report_attached_data(body=b"", file_name=picture.name)

    assert SECRET not in attachment.read_text()
    assert MASK in attachment.read_text()
    assert picture.read_bytes() == b"\x89PNG\r\n\x1a\n\xff\xfe"
