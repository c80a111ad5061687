"""Validation engine: every check the harness applies to a FHIR payload.

Public interface, used by the mocks, the step definitions and the `validate`
command:

    result = validate_bytes(body, expected_type="Patient")
    result = validate_resource(resource_dict, expected_type=None)

`result.findings` lists every Finding (see giponext_conformance.findings),
`result.resource` is the parsed JSON object or None, and `result.http_status`
is the status a server should answer: None when nothing is an error, 400 when
an error comes from the JSON or FHIR base layer, 422 otherwise.

Numbers with a fraction are parsed as decimal.Decimal so that they keep their
digits (36.150 stays 36.150); the standard json module cannot write Decimal,
so serialize a parsed resource with `dumps(resource)` from this package.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from giponext_conformance.findings import Finding

from .engine import run_bytes, run_resource
from .jsonlayer import not_an_object, structure_findings, tree_findings
from .serialize import dumps

__all__ = ["ValidationResult", "dumps", "validate_bytes", "validate_resource"]

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


def validate_bytes(body: bytes, expected_type: str | None = None) -> ValidationResult:
    """Validate a request body through every layer, starting with JSON."""
    resource, findings = run_bytes(body, expected_type)
    return _result(resource, findings)


def validate_resource(
    resource: dict, expected_type: str | None = None
) -> ValidationResult:
    """Validate an already parsed JSON object through the layers after JSON."""
    if not isinstance(resource, dict):
        return ValidationResult(None, None, [not_an_object(resource)])
    problems = structure_findings(resource)
    if problems:
        return ValidationResult(None, None, problems)
    findings = tree_findings(resource) + run_resource(resource, expected_type)
    return _result(resource, findings)


def _result(resource, findings) -> ValidationResult:
    resource_type = None
    if resource is not None and isinstance(resource.get("resourceType"), str):
        resource_type = resource["resourceType"]
    return ValidationResult(resource, resource_type, findings)
