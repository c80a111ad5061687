"""Traceability parsing of feature files and the `rules` command."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from giponext_conformance.cli import main
from giponext_conformance.coverage import (
    build_coverage,
    rules_without_negative,
    scan_scenarios,
    unknown_rule_tags,
)
from giponext_conformance.errors import InputFileError

FEATURE = textwrap.dedent(
    """\
    @PAT-01 @SHALL
    Feature: Patient intake
      Patients arrive from GipoNext with PUT.

      Scenario: A new patient is created
        Given a generated patient
        When GipoNext sends the patient
        Then the RIS-PACS answers 201

      Rule: Identifiers
        @negative
        Scenario: A patient without the GipoNext identifier is rejected
          Given a generated patient without the GipoNext identifier
          When GipoNext sends the patient
          Then the RIS-PACS rejects it

      Scenario Outline: A malformed codice fiscale is rejected
        Given a patient whose codice fiscale is "<code>"
        When GipoNext sends the patient
        Then the RIS-PACS rejects it

        @PAT-04 @negative
        Examples:
          | code   |
          | ABC    |
          | 123456 |

      @XYZ-99
      Scenario: An untracked scenario
        Given a generated patient
    """
)


@pytest.fixture
def feature_dir(tmp_path):
    directory = tmp_path / "features" / "intake"
    directory.mkdir(parents=True)
    (directory / "patient.feature").write_text(FEATURE, "utf-8")
    return tmp_path / "features"


def test_scenarios_inherit_feature_tags(feature_dir):
    scenarios = scan_scenarios([feature_dir])

    assert [scenario.name for scenario in scenarios] == [
        "A new patient is created",
        "A patient without the GipoNext identifier is rejected",
        "A malformed codice fiscale is rejected",
        "An untracked scenario",
    ]
    assert all("PAT-01" in scenario.tags for scenario in scenarios)
    assert scenarios[0].location == "intake/patient.feature:5"


def test_negative_tag_on_scenario_and_examples(feature_dir):
    scenarios = scan_scenarios([feature_dir])

    assert [scenario.negative for scenario in scenarios] == [False, True, True, False]
    assert scenarios[2].examples == 2
    assert "PAT-04" in scenarios[2].tags


def test_coverage_links_rules_to_scenarios(feature_dir):
    coverage = {item.rule.id: item for item in build_coverage([feature_dir])}

    assert len(coverage["PAT-01"].scenarios) == 4
    assert coverage["PAT-01"].has_negative
    assert [s.name for s in coverage["PAT-04"].scenarios] == [
        "A malformed codice fiscale is rejected"
    ]
    assert coverage["PR-03"].scenarios == []


def test_missing_negatives_listed_in_catalogue_order(feature_dir):
    missing = rules_without_negative(build_coverage([feature_dir]), level="SHALL")

    assert "PAT-01" not in missing
    assert "PAT-04" not in missing
    assert missing[:3] == ["TRN-01", "TRN-02", "TRN-06"]


def test_unknown_rule_tag_reported(feature_dir):
    unknown = unknown_rule_tags(scan_scenarios([feature_dir]))

    assert list(unknown) == ["XYZ-99"]
    assert unknown["XYZ-99"][0].location == "intake/patient.feature:29"


def test_invalid_gherkin_names_file(tmp_path):
    (tmp_path / "broken.feature").write_text(
        "Feature: one\n  Scenario: a\n    Given b\nFeature: two\n", "utf-8"
    )

    with pytest.raises(InputFileError, match="broken.feature is not valid Gherkin"):
        scan_scenarios([tmp_path])


def test_rules_command_prints_catalogue(capsys):
    status = main(["rules", "--level", "SHOULD"])

    output = capsys.readouterr().out
    assert status == 0
    assert output.startswith("TRN-03    SHOULD Transport\n")
    assert "PAT-01" not in output


def test_rules_command_json(capsys):
    status = main(["rules", "--format", "json"])

    rules = json.loads(capsys.readouterr().out)
    assert status == 0
    assert rules[0]["id"] == "TRN-01"
    assert rules[0]["level"] == "SHALL"
    assert len(rules) >= 53


def test_rules_coverage_text(feature_dir, capsys):
    status = main(["rules", "--coverage", "--features", str(feature_dir)])

    output = capsys.readouterr().out
    assert status == 0
    assert "PAT-01    SHALL    4 scenario(s)  negative: yes" in output
    assert (
        "    - Patient intake: A patient without the GipoNext identifier is rejected"
        "  (intake/patient.feature:12)" in output
    )
    assert (
        "Tag @XYZ-99 names no catalogue rule (used at intake/patient.feature:29)."
        in output
    )


def test_rules_coverage_strict_exit(feature_dir, capsys):
    status = main(["rules", "--coverage", "--strict", "--features", str(feature_dir)])

    assert status == 1


def test_rules_coverage_json(feature_dir, capsys):
    main(["rules", "--coverage", "--format", "json", "--features", str(feature_dir)])

    payload = json.loads(capsys.readouterr().out)
    by_id = {rule["id"]: rule for rule in payload["rules"]}
    assert by_id["PAT-04"]["has_negative"] is True
    assert by_id["PAT-04"]["scenarios"][0]["location"] == "intake/patient.feature:17"
    assert "PR-03" in payload["shall_without_negative"]
    assert payload["unknown_rule_tags"] == {"XYZ-99": ["intake/patient.feature:29"]}


def test_rules_command_closed_pipe():
    command = [sys.executable, "-m", "giponext_conformance", "rules", "--coverage"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        # Closing the read end before the command prints makes its first write fail.
        process.stdout.close()
        stderr = process.stderr.read()
        status = process.wait(timeout=60)

    assert b"Traceback" not in stderr
    assert status == 0
