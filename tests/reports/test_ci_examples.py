"""The CI examples are valid YAML and call the documented commands and options."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from giponext_conformance.cli import build_parser
from giponext_conformance.cli.run import pytest_arguments

EXAMPLES = Path(__file__).resolve().parents[2] / "ci-examples"
SAMPLE_URL = "https://ris.example.test/fhir"


def _load(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text("utf-8"))


def _github_steps() -> list[dict]:
    return _load("github-actions.yml")["jobs"]["conformance"]["steps"]


def _harness_commands(lines) -> list[list[str]]:
    """Return the words of each giponext-conformance command among shell lines."""
    commands = []
    for line in lines:
        line = line.split("||")[0].strip()
        if not line.startswith("giponext-conformance "):
            continue
        line = line.replace('"$GIPONEXT_RIS_URL"', SAMPLE_URL)
        commands.append(shlex.split(line)[1:])
    return commands


def _github_commands() -> list[list[str]]:
    lines = []
    for step in _github_steps():
        lines += step.get("run", "").splitlines()
    return _harness_commands(lines)


def _gitlab_commands() -> list[list[str]]:
    return _harness_commands(_load("gitlab-ci.yml")["conformance"]["script"])


@pytest.mark.parametrize("commands", [_github_commands, _gitlab_commands])
def test_examples_call_run_then_report(commands):
    words = commands()

    assert [command[0] for command in words] == ["run", "report"]
    assert words[0][:3] == ["run", "--ris-url", SAMPLE_URL]
    assert "--bundle" in words[1]


@pytest.mark.parametrize("commands", [_github_commands, _gitlab_commands])
def test_example_commands_parse(commands):
    parser = build_parser()

    for words in commands():
        args = parser.parse_args(words)
        assert args.report_dir in ("reports", Path("reports"))
        assert hasattr(args, "handler")


def test_run_writes_junit_where_examples_read_it():
    args = build_parser().parse_args(_github_commands()[0])

    arguments = pytest_arguments(args, Path("reports"))

    assert "--junitxml=reports/junit.xml" in arguments
    assert "--alluredir=reports/allure-results" in arguments
    assert "no:allure_pytest" in arguments


def test_github_token_comes_from_secret():
    run_step = next(
        step
        for step in _github_steps()
        if "giponext-conformance run" in step.get("run", "")
    )

    secret_reference = "${{ secrets.GIPONEXT_RIS_TOKEN }}"  # noqa: S105 - not a secret
    assert run_step["env"]["GIPONEXT_RIS_TOKEN"] == secret_reference
    assert run_step["env"]["GIPONEXT_RIS_URL"] == "${{ secrets.GIPONEXT_RIS_URL }}"
    assert "--ris-token" not in run_step["run"]


def test_github_publishes_artifacts_after_failure():
    uploads = [
        step
        for step in _github_steps()
        if step.get("uses", "").startswith("actions/upload-artifact")
    ]

    paths = "\n".join(step["with"]["path"] for step in uploads)
    assert "reports/allure-report/" in paths
    assert "reports/junit.xml" in paths
    assert "reports/evidence.zip" in paths
    assert all(step["if"] == "${{ !cancelled() }}" for step in uploads)


def test_gitlab_artifacts_and_junit_report():
    job = _load("gitlab-ci.yml")["conformance"]

    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    assert {
        "reports/allure-report/",
        "reports/evidence.zip",
        "reports/junit.xml",
    } <= set(job["artifacts"]["paths"])
    assert job["script"][-1] == 'exit "$run_status"'
    assert not any("--ris-token" in line for line in job["script"])


def test_examples_install_node_package():
    github_install = next(
        step["run"] for step in _github_steps() if "npm ci" in step.get("run", "")
    )
    gitlab_install = _load("gitlab-ci.yml")["conformance"]["before_script"]

    assert "python -m pip install ." in github_install
    assert "npm ci --no-audit --no-fund" in gitlab_install
