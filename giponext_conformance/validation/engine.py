"""Run the validation layers in order and collect every finding.

The JSON layer turns bytes into an object; without an object nothing else
runs. The other layers all run, so one pass lists everything a sender must
fix: base (FHIR STU3), profile (GipoNext JSON Schemas) and italian (checks no
schema expresses). Profile and italian checks apply to the three resource
types of the integration only.
"""

from __future__ import annotations

import logging

from giponext_conformance.findings import Finding

from .base import check_base
from .italian import check_italian
from .jsonlayer import parse_json
from .profiles import check_profile

logger = logging.getLogger(__name__)

PROFILED_TYPES = ("Patient", "ProcedureRequest", "DiagnosticReport")
LAYERS_AFTER_BASE = (("profile", check_profile), ("italian", check_italian))


def run_bytes(body: bytes, expected_type: str | None = None):
    """Return (parsed object or None, findings) for a request body."""
    parsed = parse_json(body)
    if parsed.resource is None:
        return None, parsed.findings
    return parsed.resource, parsed.findings + run_resource(
        parsed.resource, expected_type
    )


def run_resource(resource: dict, expected_type: str | None = None) -> list[Finding]:
    """Return the findings of every layer after JSON about a parsed object."""
    findings = _guarded("base", check_base, resource, expected_type)
    resource_type = resource.get("resourceType")
    if resource_type not in PROFILED_TYPES:
        return findings
    for name, check in LAYERS_AFTER_BASE:
        findings.extend(_guarded(name, check, resource, resource_type))
    return _without_superseded(findings)


def _without_superseded(findings: list[Finding]) -> list[Finding]:
    """Drop base-layer errors on attachment data that DR-10 explains better.

    fhir.resources rejects some malformed base64 (a data: URL prefix, stray
    characters) and accepts other, depending only on the length of what is
    left, so the same mistake would get 400 or 422 by chance. The attachment
    check decodes strictly and states what to change, so only its finding is
    kept.
    """
    explained = {
        finding.expression
        for finding in findings
        if finding.rule == "DR-10" and finding.expression.endswith(".data")
    }
    return [
        finding
        for finding in findings
        if not (finding.layer == "base" and finding.expression in explained)
    ]


def _guarded(name, check, resource, argument) -> list[Finding]:
    # A validator must never turn hostile input into a server error; a failure
    # inside a layer becomes an error finding and a logged traceback.
    try:
        return list(check(resource, argument))
    except RecursionError:
        return [_failure(name, "The resource is nested too deeply to validate.")]
    except Exception:
        logger.exception("validation layer %s failed", name)
        return [
            _failure(
                name,
                f"The {name} checks failed on this payload, so it could not be "
                "validated completely.",
            )
        ]


def _failure(layer: str, diagnostics: str) -> Finding:
    return Finding("TRN-09", "error", "exception", "", diagnostics, layer)
