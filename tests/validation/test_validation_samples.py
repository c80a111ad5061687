"""The integration page's samples and plain STU3 resources get exact findings."""

from __future__ import annotations

from validation_helpers import read_sample, summary

from giponext_conformance.validation import validate_bytes


def test_patient_sample_only_codice_fiscale_warnings():
    result = validate_bytes(read_sample("spec-patient.json"), "Patient")

    assert result.http_status is None
    assert summary(result.findings) == [
        ("warning", "PAT-04", "Patient.identifier[1].value"),
        ("warning", "PAT-05", "Patient.identifier[1].value"),
    ]
    texts = " ".join(f.diagnostics for f in result.findings)
    assert "check character is P, expected R" in texts
    assert "birthplace X876" in texts


def test_procedure_request_sample_only_check_character_warnings():
    result = validate_bytes(
        read_sample("spec-procedure-request.json"), "ProcedureRequest"
    )

    assert result.http_status is None
    assert summary(result.findings) == [
        (
            "warning",
            "PR-12",
            "ProcedureRequest.extension[0].valueReference.identifier.value",
        ),
        ("warning", "PR-12", "ProcedureRequest.performer.identifier.value"),
    ]


def test_diagnostic_report_sample_findings():
    result = validate_bytes(
        read_sample("spec-diagnostic-report.json"), "DiagnosticReport"
    )

    assert result.http_status == 422
    assert summary(result.findings) == [
        ("error", "DR-10", "DiagnosticReport.presentedForm[0]"),
        ("error", "DR-10", "DiagnosticReport.presentedForm[0].data"),
        ("warning", "DR-08", "DiagnosticReport.performer[0].actor.identifier.value"),
        ("warning", "DR-08", "DiagnosticReport.performer[1].actor.identifier.value"),
        ("warning", "DR-10", "DiagnosticReport.presentedForm[0].url"),
    ]


def test_commented_samples_get_one_json_error():
    for name in (
        "spec-procedure-request-commented.json",
        "spec-diagnostic-report-commented.json",
    ):
        result = validate_bytes(read_sample(name))

        assert result.http_status == 400
        assert result.resource is None
        assert len(result.findings) == 1
        assert result.findings[0].rule == "TRN-06"
        assert "comments" in result.findings[0].diagnostics
        assert "copied from documentation" in result.findings[0].diagnostics


def test_plain_stu3_patient_passes_base():
    result = validate_bytes(read_sample("stu3-patient-plain.json"), "Patient")

    assert [f for f in result.findings if f.layer in ("json", "base")] == []
    assert result.http_status == 422
    assert summary(result.findings) == [
        ("error", "PAT-03", "Patient.identifier"),
        ("error", "PAT-07", "Patient.extension"),
        ("error", "PAT-08", "Patient.address[0].district"),
        ("error", "PAT-08", "Patient.address[0].extension"),
        ("error", "PAT-08", "Patient.address[0].state"),
    ]


def test_plain_stu3_procedure_request_passes_base():
    result = validate_bytes(
        read_sample("stu3-procedurerequest-plain.json"), "ProcedureRequest"
    )

    assert [f for f in result.findings if f.layer in ("json", "base")] == []
    assert summary(result.findings) == [
        ("error", "PR-05", "ProcedureRequest.identifier"),
        ("error", "PR-05", "ProcedureRequest.requisition"),
        ("error", "PR-06", "ProcedureRequest.intent"),
        ("error", "PR-07", "ProcedureRequest.category[0].coding[0].system"),
        ("error", "PR-08", "ProcedureRequest.code.coding"),
        ("error", "PR-08", "ProcedureRequest.code.coding"),
        ("error", "PR-09", "ProcedureRequest.subject.identifier"),
        ("error", "PR-12", "ProcedureRequest.performer.identifier"),
    ]


def test_plain_stu3_diagnostic_report_passes_base():
    result = validate_bytes(
        read_sample("stu3-diagnosticreport-plain.json"), "DiagnosticReport"
    )

    assert [f for f in result.findings if f.layer in ("json", "base")] == []
    assert summary(result.findings) == [
        ("error", "DR-08", "DiagnosticReport.performer[0].actor.identifier"),
        ("error", "DR-08", "DiagnosticReport.performer[0].role.coding"),
        ("warning", "DR-08", "DiagnosticReport.performer"),
    ]
