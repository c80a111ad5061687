"""The report command: summaries, Allure 3 HTML, bundle and its verification."""

from __future__ import annotations

import json
import shutil
import textwrap
import zipfile

import pytest

from giponext_conformance.cli import main
from giponext_conformance.cli.report import (
    ALLURE_CLI_VARIABLE,
    allure_config,
    find_allure_cli,
)

pytest_plugins = ["pytester"]


def test_report_without_allure_writes_summaries(quirk_report_dir, capsys):
    status = main(["report", "--report-dir", str(quirk_report_dir), "--no-allure"])

    output = capsys.readouterr().out
    assert status == 0
    assert output.splitlines()[0] == "Verdict: FAILED"
    assert (quirk_report_dir / "summary.md").is_file()
    assert (quirk_report_dir / "summary.html").is_file()
    assert not (quirk_report_dir / "allure-report").exists()


def test_report_adds_environment_to_results(quirk_report_dir):
    main(["report", "--report-dir", str(quirk_report_dir), "--no-allure"])

    properties = (
        quirk_report_dir / "allure-results" / "environment.properties"
    ).read_text()
    assert "target.quirks=mutable-procedurerequest" in properties
    assert (quirk_report_dir / "allure-results" / "categories.json").is_file()


def test_report_missing_allure_package(quirk_report_dir, monkeypatch, capsys):
    monkeypatch.setenv(ALLURE_CLI_VARIABLE, str(quirk_report_dir / "missing-cli.js"))

    status = main(["report", "--report-dir", str(quirk_report_dir)])

    output = capsys.readouterr().out
    assert status == 0
    assert (
        "Allure report skipped: the npm package 'allure' is not installed; "
        "run 'npm ci' in the project folder" in output
    )
    assert (quirk_report_dir / "summary.html").is_file()


def test_report_missing_node(quirk_report_dir, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))

    status = main(["report", "--report-dir", str(quirk_report_dir)])

    assert status == 0
    assert (
        "Allure report skipped: Node.js (node) is not on PATH"
        in capsys.readouterr().out
    )


def test_report_bundle_then_verify(quirk_report_dir, tmp_path, capsys):
    bundle = tmp_path / "out" / "evidence.zip"

    status = main(
        [
            "report",
            "--report-dir",
            str(quirk_report_dir),
            "--no-allure",
            "--bundle",
            str(bundle),
        ]
    )
    verify_status = main(["report", "--verify", str(bundle)])

    output = capsys.readouterr().out
    assert status == 0
    assert verify_status == 0
    assert f"Evidence bundle: {bundle} (SHA-256 " in output
    assert f"{bundle}: all 9 files match the manifest." in output


def test_report_default_bundle_name(quirk_report_dir):
    main(["report", "--report-dir", str(quirk_report_dir), "--no-allure", "--bundle"])

    bundles = list(quirk_report_dir.glob("evidence-*.zip"))
    assert len(bundles) == 1
    with zipfile.ZipFile(bundles[0]) as archive:
        assert "summary.html" in archive.namelist()


def test_verify_reports_tampered_bundle(quirk_report_dir, tmp_path, capsys):
    bundle = tmp_path / "evidence.zip"
    main(
        [
            "report",
            "--report-dir",
            str(quirk_report_dir),
            "--no-allure",
            "--bundle",
            str(bundle),
        ]
    )
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data + b" " if name == "summary.md" else data)

    status = main(["report", "--verify", str(tampered)])

    assert status == 1
    assert "summary.md: expected SHA-256" in capsys.readouterr().err


def test_report_without_results_is_usage_error(tmp_path, capsys):
    status = main(["report", "--report-dir", str(tmp_path)])

    assert status == 2
    assert "conformance.json does not exist" in capsys.readouterr().err


def test_allure_config_keeps_history_in_report_dir(tmp_path):
    config = allure_config(tmp_path)

    assert config["historyPath"] == str(tmp_path.resolve() / "allure-history.jsonl")
    assert [rule["name"] for rule in config["categories"]["rules"]] == [
        "Target unreachable",
        "Target conformance failures",
        "Harness errors",
    ]
    assert config["plugins"]["awesome"]["options"]["groupBy"] == [
        "epic",
        "feature",
        "story",
    ]


FEATURE = textwrap.dedent(
    """\
    Feature: Patients
      @PAT-01 @SHALL
      Scenario: A new patient is created
        Given a generated patient
    """
)

STEPS = textwrap.dedent(
    """\
    from pytest_bdd import given, scenarios

    scenarios("patients.feature")


    @given("a generated patient")
    def _():
        pass
    """
)


@pytest.fixture
def real_report_dir(pytester, quirk_results):
    """A report folder with genuine Allure results from a pytest-bdd run."""
    if shutil.which("node") is None or find_allure_cli() is None:
        pytest.fail("Node.js and the npm package allure are required: run 'npm ci'")
    pytester.makefile(".feature", patients=FEATURE)
    pytester.makepyfile(test_patients=STEPS)
    report_dir = pytester.path / "reports"
    pytester.runpytest(f"--alluredir={report_dir / 'allure-results'}", "--no-progress")
    (report_dir / "conformance.json").write_text(json.dumps(quirk_results), "utf-8")
    return report_dir


def test_report_generates_allure_html(real_report_dir, capsys):
    status = main(["report", "--report-dir", str(real_report_dir)])

    output = capsys.readouterr().out
    index = real_report_dir / "allure-report" / "index.html"
    assert status == 0
    assert f"Allure report: {index}" in output
    assert index.is_file()
    summary = json.loads(
        (real_report_dir / "allure-report" / "summary.json").read_text()
    )
    assert summary["name"] == "GipoNext conformance"
    assert summary["stats"]["passed"] == 1


def test_report_history_grows_between_runs(real_report_dir):
    main(["report", "--report-dir", str(real_report_dir)])
    main(["report", "--report-dir", str(real_report_dir)])

    history = (real_report_dir / "allure-history.jsonl").read_text("utf-8").splitlines()
    assert len(history) == 2


def test_verify_of_folder_is_one_sentence(tmp_path, capsys):
    status = main(["report", "--verify", str(tmp_path)])

    error = capsys.readouterr().err
    assert status == 2
    assert error.count("\n") == 1
    assert "is a directory" in error
    assert "Traceback" not in error
