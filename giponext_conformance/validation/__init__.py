"""Validation engine: every check the harness applies to a FHIR payload.

Public interface, used by the mocks, the step definitions and the `validate`
command:

    result = validate_bytes(body, expected_type="Patient")
    result = validate_resource(resource_dict, expected_type=None)

`result.findings` lists every Finding (see giponext_conformance.findings),
`result.resource` is the parsed JSON object or None, and `result.http_status`
is the status a server should answer: None when nothing is an error, 400 when
an error comes from the JSON or FHIR base layer, 422 otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from giponext_conformance.findings import Finding

BASE_LAYERS = ("json", "base")


@dataclass
class ValidationResult:
    resource: dict | None
    resource_type: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.is_error]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "warning"]

    @property
    def http_status(self) -> int | None:
        errors = self.errors
        if not errors:
            return None
        if any(finding.layer in BASE_LAYERS for finding in errors):
            return 400
        return 422


# TODO: provisional JSON-only engine so that the mocks can be built alongside;
# the layered engine replaces these two functions.
def validate_bytes(body: bytes, expected_type: str | None = None) -> ValidationResult:
    try:
        resource = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        finding = Finding("TRN-06", "error", "structure", "", f"invalid JSON: {error}", "json")
        return ValidationResult(None, None, [finding])
    if not isinstance(resource, dict):
        finding = Finding("TRN-06", "error", "structure", "", "top level is not an object", "json")
        return ValidationResult(None, None, [finding])
    return validate_resource(resource, expected_type)


def validate_resource(resource: dict, expected_type: str | None = None) -> ValidationResult:
    resource_type = resource.get("resourceType")
    findings = []
    if expected_type and resource_type != expected_type:
        findings.append(
            Finding(
                "TRN-07",
                "error",
                "invalid",
                "",
                f"resourceType is {resource_type!r} but this endpoint takes {expected_type}",
                "base",
            )
        )
    return ValidationResult(resource, resource_type, findings)
