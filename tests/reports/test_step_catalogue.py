"""Step catalogue built from pytest-bdd's registry of step definitions."""

from __future__ import annotations

import json
import textwrap

import pytest

from giponext_conformance.cli import main
from giponext_conformance.stepcatalogue import collect_steps, step_module_names

STEP_MODULE = textwrap.dedent(
    '''\
    """Patient steps used by the catalogue tests.

    Phrases: a generated patient; the RIS-PACS answers a status.
    """

    from pytest_bdd import given, parsers, then, when


    @given("a generated patient", target_fixture="patient")
    def _():
        """Generate a patient with seeded Faker data."""
        return {}


    @when(parsers.parse('GipoNext sends the patient born in "{city}" aged {age:d}'))
    def _(city, age):
        pass


    @then(parsers.parse("the RIS-PACS answers {status:d}"))
    def _(status):
        """Check the HTTP status of the last exchange.

        Example: Then the RIS-PACS answers 201
        """


    @then(parsers.re(r"the issue code is (?P<code>[a-z-]+)"), converters={"code": str})
    def _(code):
        pass
    '''
)


@pytest.fixture
def step_module(tmp_path, monkeypatch, request):
    # A unique module name per test keeps pytest-bdd's global registry unambiguous.
    name = f"catalogue_steps_{request.node.name}"
    (tmp_path / f"{name}.py").write_text(STEP_MODULE, "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_catalogue_lists_steps_in_source_order(step_module):
    entries = collect_steps([step_module])

    assert [(entry.keyword, entry.pattern) for entry in entries] == [
        ("Given", "a generated patient"),
        ("When", 'GipoNext sends the patient born in "{city}" aged {age:d}'),
        ("Then", "the RIS-PACS answers {status:d}"),
        ("Then", "the issue code is (?P<code>[a-z-]+)"),
    ]


def test_catalogue_reads_parameters_and_types(step_module):
    entries = collect_steps([step_module])

    parameters = [[(p.name, p.type) for p in entry.parameters] for entry in entries]
    assert parameters == [
        [],
        [("city", "text"), ("age", "integer")],
        [("status", "integer")],
        [("code", "text")],
    ]


def test_catalogue_examples_from_docstring_or_pattern(step_module):
    entries = collect_steps([step_module])

    assert entries[0].example == "Given a generated patient"
    assert (
        entries[1].example == 'When GipoNext sends the patient born in "example" aged 1'
    )
    assert entries[2].example == "Then the RIS-PACS answers 201"
    assert entries[3].example.endswith("(regular expression)")


def test_catalogue_keeps_docs_and_fixture(step_module):
    entries = collect_steps([step_module])

    assert entries[0].summary == "Generate a patient with seeded Faker data."
    assert entries[0].target_fixture == "patient"
    assert entries[0].module_doc.startswith(
        "Patient steps used by the catalogue tests."
    )
    assert entries[0].parser == "string"


def test_steps_command_text(step_module, capsys):
    status = main(["steps", "--module", step_module])

    output = capsys.readouterr().out
    assert status == 0
    assert f"== {step_module}\n   Patient steps used by the catalogue tests." in output
    assert (
        'When GipoNext sends the patient born in "{city}" aged {age:d}\n'
        "    parameters: city (text), age (integer)\n"
        '    example:    When GipoNext sends the patient born in "example" aged 1\n'
    ) in output


def test_steps_command_json_with_grep(step_module, capsys):
    status = main(
        [
            "steps",
            "--module",
            step_module,
            "--format",
            "json",
            "--grep",
            "THE RIS-PACS ANSWERS {STATUS",
        ]
    )

    entries = json.loads(capsys.readouterr().out)
    assert status == 0
    assert [entry["pattern"] for entry in entries] == [
        "the RIS-PACS answers {status:d}"
    ]
    assert entries[0]["parameters"] == [{"name": "status", "type": "integer"}]


def test_steps_command_markdown(step_module, capsys):
    main(["steps", "--module", step_module, "--format", "markdown"])

    output = capsys.readouterr().out
    assert output.startswith("# Step catalogue\n")
    assert "- **Then** `the RIS-PACS answers {status:d}`" in output
    assert "  Example: `Then the RIS-PACS answers 201`" in output


def test_steps_command_unknown_module(capsys):
    status = main(["steps", "--module", "no_such_step_module"])

    assert status == 2
    assert "module 'no_such_step_module' was not found" in capsys.readouterr().err


def test_library_steps_are_documented():
    entries = collect_steps(step_module_names())

    undocumented_modules = sorted(
        {entry.module for entry in entries if not entry.module_doc}
    )
    assert undocumented_modules == []
    for entry in entries:
        assert entry.example.startswith(entry.keyword), entry.pattern


def test_catalogue_example_from_feature_outline(step_module, tmp_path):
    features = tmp_path / "features"
    features.mkdir()
    (features / "patient.feature").write_text(
        textwrap.dedent(
            """\
            Feature: Patients
              Scenario Outline: Patients of any age are accepted
                When GipoNext sends the patient born in "<city>" aged <age>
                Then the RIS-PACS answers 201

                Examples:
                  | city   | age |
                  | Torino | 42  |
                  | Bari   | 7   |
            """
        ),
        "utf-8",
    )

    entries = collect_steps([step_module], feature_dirs=[features])

    assert (
        entries[1].example == 'When GipoNext sends the patient born in "Torino" aged 42'
    )
    assert entries[2].example == "Then the RIS-PACS answers 201"
