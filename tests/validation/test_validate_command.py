"""`validate` command: output formats, grouping per file and exit statuses."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from validation_helpers import DATA, encode

from giponext_conformance.cli import main


def run(argv, capsys):
    status = main(["validate", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_clean_file_exits_zero(tmp_path, generated, capsys):
    path = tmp_path / "patient.json"
    path.write_bytes(encode(generated.patient))

    status, out, _ = run([str(path)], capsys)

    assert status == 0
    assert out == f"{path} (Patient): 0 errors, 0 warnings\n"


def test_text_lines_per_finding(capsys):
    status, out, _ = run([str(DATA / "spec-diagnostic-report.json")], capsys)

    lines = out.splitlines()
    assert status == 1
    assert lines[0].endswith("(DiagnosticReport): 2 errors, 3 warnings")
    assert lines[1] == (
        "  error DR-10 DiagnosticReport.presentedForm[0]: Each attachment carries "
        "exactly one of data (the PDF in base64) and url (where to download it)."
    )
    assert lines[-1].startswith(
        "  warning DR-10 DiagnosticReport.presentedForm[0].url: "
    )


def test_folder_expanded_sorted(tmp_path, generated, capsys):
    (tmp_path / "b.json").write_bytes(encode(generated.procedure_request))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_bytes(b'{"resourceType": "Patient",}')
    (tmp_path / "notes.txt").write_text("ignored")

    status, out, _ = run([str(tmp_path)], capsys)

    headers = [line for line in out.splitlines() if not line.startswith("  ")]
    assert status == 1
    assert headers == [
        f"{tmp_path / 'b.json'} (ProcedureRequest): 0 errors, 0 warnings",
        f"{tmp_path / 'sub' / 'a.json'} (unknown type): 1 error, 0 warnings",
    ]


def test_json_format_array_of_outcomes(generated, tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_bytes(encode(generated.diagnostic_report))

    status, out, _ = run(
        ["--format", "json", str(good), str(DATA / "spec-diagnostic-report.json")],
        capsys,
    )

    outcomes = json.loads(out)
    assert status == 1
    assert [outcome["resourceType"] for outcome in outcomes] == ["OperationOutcome"] * 2
    assert outcomes[0]["issue"][0]["severity"] == "information"
    codes = [issue["details"]["coding"][0]["code"] for issue in outcomes[1]["issue"]]
    assert codes == ["DR-10", "DR-10", "DR-08", "DR-08", "DR-10"]
    assert outcomes[1]["issue"][0]["expression"] == [
        "DiagnosticReport.presentedForm[0]"
    ]


def test_json_format_single_outcome(capsys):
    _, out, _ = run(["--format", "json", str(DATA / "spec-patient.json")], capsys)

    outcome = json.loads(out)
    assert outcome["resourceType"] == "OperationOutcome"
    assert [issue["severity"] for issue in outcome["issue"]] == ["warning", "warning"]


def test_junit_format(capsys):
    status, out, _ = run(
        [
            "--format",
            "junit",
            str(DATA / "spec-patient.json"),
            str(DATA / "spec-procedure-request-commented.json"),
        ],
        capsys,
    )

    # The XML is the command's own output, not untrusted input.
    suite = ET.fromstring(out.split("\n", 1)[1])  # noqa: S314
    cases = suite.findall("testcase")
    assert status == 1
    assert suite.get("tests") == "2"
    assert suite.get("failures") == "1"
    assert cases[0].find("failure") is None
    assert "PAT-04" in cases[0].find("system-out").text
    assert cases[1].find("failure").get("message") == "1 error: TRN-06"


def test_expected_type_option(capsys):
    status, out, _ = run(
        ["--type", "ProcedureRequest", str(DATA / "spec-patient.json")], capsys
    )

    assert status == 1
    assert "error TRN-07 Patient.resourceType" in out


def test_stdin_input(monkeypatch, capsys):
    stdin = io.TextIOWrapper(io.BytesIO(b'{"resourceType": "Patient", "id": }'))
    monkeypatch.setattr(sys, "stdin", stdin)

    status, out, _ = run(["-"], capsys)

    assert status == 1
    assert out.startswith("standard input (unknown type): 1 error")
    assert "line 1, column 35" in out


def test_missing_file_exits_two(tmp_path, capsys):
    status, out, err = run([str(tmp_path / "absent.json")], capsys)

    assert status == 2
    assert out == ""
    assert (
        err == f"giponext-conformance: The file {tmp_path / 'absent.json'} "
        "does not exist.\n"
    )


def test_empty_folder_exits_two(tmp_path, capsys):
    status, _, err = run([str(tmp_path)], capsys)

    assert status == 2
    assert "contains no .json file" in err


def test_unreadable_file_exits_two(tmp_path, capsys):
    path = tmp_path / "locked.json"
    path.write_text("{}")
    path.chmod(0)
    try:
        readable = path.open("rb")
    except PermissionError:
        readable = None
    else:
        readable.close()

    status, _, err = run([str(path)], capsys)

    if readable is None:
        assert status == 2
        assert "Cannot read" in err
        assert "Traceback" not in err
    else:  # running as root: the permission bits do not stop reading
        assert status == 1


def test_binary_input_in_subprocess(tmp_path):
    path = tmp_path / "random.json"
    path.write_bytes(bytes(range(256)))

    completed = subprocess.run(
        [sys.executable, "-m", "giponext_conformance", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 1
    assert "not valid UTF-8" in completed.stdout
    assert "Traceback" not in completed.stderr
