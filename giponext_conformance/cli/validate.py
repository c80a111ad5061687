"""`giponext-conformance validate`: check FHIR payload files against every rule.

Reads JSON files, every *.json file below a folder, or standard input (`-`),
detects each resource's type from resourceType, and prints the findings of
the validation engine as text, OperationOutcome JSON or JUnit XML. The exit
status is 0 when no payload has an error, 1 when one has, and 2 when an input
cannot be read.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from giponext_conformance.errors import InputFileError
from giponext_conformance.findings import SEVERITIES, operation_outcome

# Bodies larger than this are not FHIR payloads of this integration; reading
# them whole would only exhaust memory.
MAX_INPUT_BYTES = 64 * 1024 * 1024


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check Patient, ProcedureRequest and DiagnosticReport payload files",
        description=(
            "Validate FHIR STU3 payloads against the JSON, FHIR base, GipoNext "
            "profile and Italian rules, and print every finding with its rule id "
            "and FHIRPath location."
        ),
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="FILE",
        help="JSON files, folders (every *.json file below them) or - for stdin",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "junit"),
        default="text",
        help="text (default), json (one OperationOutcome per input, an array "
        "in input order when there are several) or junit (JUnit XML)",
    )
    parser.add_argument(
        "--type",
        dest="expected_type",
        choices=("Patient", "ProcedureRequest", "DiagnosticReport"),
        help="resource type every input must have (default: taken from resourceType)",
    )
    parser.set_defaults(handler=run_validate)


def run_validate(args) -> int:
    # The validation engine loads the STU3 models, which takes about half a
    # second, so it is imported only when a payload is validated.
    from giponext_conformance.validation import dumps, validate_bytes

    inputs = list(_expand(args.inputs))
    results = [
        (name, validate_bytes(_read(name), args.expected_type)) for name in inputs
    ]

    if args.format == "json":
        outcomes = [operation_outcome(result.findings) for _, result in results]
        payload = outcomes[0] if len(outcomes) == 1 else outcomes
        print(dumps(payload, indent=2))
    elif args.format == "junit":
        print(_junit(results))
    else:
        print(_text(results), end="")

    return 1 if any(result.errors for _, result in results) else 0


def _expand(inputs):
    for name in inputs:
        if name == "-":
            yield name
            continue
        path = Path(name)
        if path.is_dir():
            files = sorted(item for item in path.rglob("*.json") if item.is_file())
            if not files:
                raise InputFileError(f"The folder {name} contains no .json file.")
            yield from (str(item) for item in files)
        elif path.exists():
            yield name
        else:
            raise InputFileError(f"The file {name} does not exist.")


def _read(name: str) -> bytes:
    try:
        if name == "-":
            body = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with open(name, "rb") as handle:
                body = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputFileError(f"Cannot read {name}: {reason}.") from None
    if len(body) > MAX_INPUT_BYTES:
        raise InputFileError(
            f"{name} is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB, which no "
            "payload of this integration reaches."
        )
    return body


def _ordered(findings):
    return sorted(findings, key=lambda finding: SEVERITIES.index(finding.severity))


def _text(results) -> str:
    lines = []
    for name, result in results:
        label = "standard input" if name == "-" else name
        kind = result.resource_type or "unknown type"
        summary = (
            f"{_count(result.errors, 'error')}, {_count(result.warnings, 'warning')}"
        )
        lines.append(f"{label} ({kind}): {summary}")
        for finding in _ordered(result.findings):
            lines.append("  " + _line(finding))
    return "\n".join(lines) + "\n"


def _count(items, noun: str) -> str:
    return f"{len(items)} {noun}" + ("" if len(items) == 1 else "s")


def _junit(results) -> str:
    suite = ET.Element(
        "testsuite",
        name="giponext-conformance validate",
        tests=str(len(results)),
        failures=str(sum(1 for _, result in results if result.errors)),
        errors="0",
    )
    for name, result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=result.resource_type or "unknown",
            name="standard input" if name == "-" else name,
        )
        errors = result.errors
        if errors:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{_count(errors, 'error')}: {_rules(errors)}",
                type="error",
            )
            failure.text = "\n".join(_line(finding) for finding in errors)
        warnings = [finding for finding in result.findings if not finding.is_error]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(
                _line(finding) for finding in warnings
            )
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, "unicode")


def _rules(findings) -> str:
    return ", ".join(sorted({finding.rule for finding in findings}))


def _line(finding) -> str:
    expression = finding.expression or "(body)"
    return f"{finding.severity} {finding.rule} {expression}: {finding.diagnostics}"
