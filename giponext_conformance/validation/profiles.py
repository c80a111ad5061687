"""Profile layer: the GipoNext profiles as JSON Schema (Draft 2020-12).

The schemas live in the schemas package (patient, procedure-request,
diagnostic-report, and common for shared definitions). A schema node that
implements a catalogue rule carries `x-rule` (its id), `x-message` (the
requirement and the fix) and optionally `x-severity`. Each error is mapped to
the deepest x-rule node on its evaluation path, so the finding names the rule.

Two engines give the same findings: jsonschema-rs for speed (most payloads
pass `is_valid`, and only failing ones are walked for errors) and the
pure-Python jsonschema as the reference implementation that the tests compare
against. Schemas are compiled once per process.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files

import jsonschema
import jsonschema_rs
import referencing

from giponext_conformance.catalogue import load_rules
from giponext_conformance.findings import Finding

from .paths import fhirpath

LAYER = "profile"

SCHEMA_FILES = {
    "Patient": "patient.schema.json",
    "ProcedureRequest": "procedure-request.schema.json",
    "DiagnosticReport": "diagnostic-report.schema.json",
}
COMMON_FILE = "common.schema.json"

# Issue type of a failed keyword: a missing element is "required", anything
# else about a present value is "value".
_CODE_BY_KEYWORD = {
    "required": "required",
    "minItems": "required",
    "contains": "required",
    "type": "structure",
}
_REQUIRED_NAME = re.compile(r"""^['"](.+)['"] is a required property""")


@cache
def load_schemas() -> dict[str, dict]:
    """Return every schema document keyed by file name."""
    folder = files("giponext_conformance.schemas")
    names = [*SCHEMA_FILES.values(), COMMON_FILE]
    return {
        name: json.loads(folder.joinpath(name).read_text("utf-8")) for name in names
    }


def _id_to_name() -> dict[str, str]:
    return {schema["$id"]: name for name, schema in load_schemas().items()}


@cache
def rust_validators() -> dict:
    """Return a compiled jsonschema-rs validator per resource type."""
    schemas = load_schemas()
    registry = jsonschema_rs.Registry(
        [(schema["$id"], schema) for schema in schemas.values()]
    )
    return {
        resource_type: jsonschema_rs.validator_for(schemas[name], registry=registry)
        for resource_type, name in SCHEMA_FILES.items()
    }


@cache
def python_validators() -> dict:
    """Return a compiled reference jsonschema validator per resource type."""
    schemas = load_schemas()
    registry = referencing.Registry().with_resources(
        (schema["$id"], referencing.Resource.from_contents(schema))
        for schema in schemas.values()
    )
    validators = {}
    for resource_type, name in SCHEMA_FILES.items():
        schema = schemas[name]
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[resource_type] = jsonschema.Draft202012Validator(
            schema, registry=registry
        )
    return validators


def check_profile(resource: dict, resource_type: str) -> list[Finding]:
    """Return the profile findings of a resource, using jsonschema-rs."""
    validator = rust_validators().get(resource_type)
    if validator is None or validator.is_valid(resource):
        return []
    raw = (
        (error.evaluation_path, error.instance_path, error.instance, error.message)
        for error in validator.iter_errors(resource)
    )
    return _findings(resource_type, raw, explicit_refs=True)


def check_profile_reference(resource: dict, resource_type: str) -> list[Finding]:
    """Return the profile findings of a resource, using the Python jsonschema."""
    validator = python_validators().get(resource_type)
    if validator is None:
        return []
    raw = (
        (error.schema_path, error.path, error.instance, error.message)
        for error in validator.iter_errors(resource)
    )
    return _findings(resource_type, raw, explicit_refs=False)


def _findings(resource_type, raw_errors, explicit_refs) -> list[Finding]:
    findings = []
    seen = set()
    root_file = SCHEMA_FILES[resource_type]
    for schema_path, instance_path, instance, message in raw_errors:
        node, keyword, rule_node = _follow(root_file, list(schema_path), explicit_refs)
        finding = _finding(
            resource_type,
            rule_node,
            node,
            keyword,
            list(instance_path),
            instance,
            message,
        )
        key = (finding.rule, finding.expression, finding.diagnostics)
        if key not in seen:
            seen.add(key)
            findings.append(finding)
    findings.sort(key=lambda finding: (finding.expression, finding.rule))
    return findings


def _follow(root_file: str, steps: list, explicit_refs: bool):
    """Walk the schema along an error's path; return the keyword's node,
    the keyword and the deepest node carrying x-rule.

    jsonschema-rs names "$ref" in its evaluation path. The Python jsonschema
    leaves it out, so in its paths a step missing from a node with "$ref" means
    that the path continues inside the referenced schema. The schemas never
    give a "$ref" node other keywords, which keeps the walk unambiguous.
    """
    document = root_file
    node = load_schemas()[root_file]
    rule_node = {}
    rule_node = _annotate(rule_node, node)
    for step in steps[:-1]:
        if step == "$ref" and explicit_refs:
            document, node = _resolve(document, node["$ref"])
            rule_node = _annotate(rule_node, node)
            continue
        if not explicit_refs and "$ref" in node and step not in node:
            document, node = _resolve(document, node["$ref"])
            rule_node = _annotate(rule_node, node)
        node = node[step]
        rule_node = _annotate(rule_node, node)
    keyword = steps[-1] if steps else ""
    return node, keyword, rule_node or None


def _annotate(current: dict, node) -> dict:
    """Merge the x- annotations of a deeper node over those found so far.

    A node may name only the rule; it then keeps the message and severity of
    the nearest enclosing node of the same rule.
    """
    if not isinstance(node, dict) or "x-rule" not in node:
        return current
    merged = {"x-rule": node["x-rule"]}
    if current.get("x-rule") == node["x-rule"]:
        merged.update({k: v for k, v in current.items() if k != "x-rule"})
    merged.update({k: v for k, v in node.items() if k in ("x-message", "x-severity")})
    return merged


def _resolve(document: str, reference: str):
    target, _, pointer = reference.partition("#")
    if target:
        document = _id_to_name().get(target, target.rsplit("/", 1)[-1])
    node = load_schemas()[document]
    for part in filter(None, pointer.split("/")):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return document, node


def _finding(resource_type, rule_node, node, keyword, location, instance, message):
    rule = rule_node["x-rule"] if rule_node else "TRN-09"
    if keyword in ("minContains", "maxContains"):
        keyword = "contains"
    severity = (rule_node or {}).get("x-severity") or _rule_severity(rule)
    code = _CODE_BY_KEYWORD.get(keyword, "value")

    detail = ""
    if keyword == "required":
        match = _REQUIRED_NAME.match(message)
        if match:
            location = location + [match.group(1)]
            detail = f"{match.group(1)} is missing."
    elif keyword in ("const", "enum", "pattern", "minLength", "maxLength", "minimum"):
        detail = f"Found {_show(instance)}."
    elif keyword == "type":
        detail = f"Found {_show(instance)}, expected a JSON {node.get('type')}."

    text = (rule_node or {}).get("x-message", "The value does not match the profile.")
    diagnostics = f"{text} {detail}".strip()
    expression = fhirpath(resource_type, location)
    return Finding(rule, severity, code, expression, diagnostics, LAYER)


def _rule_severity(rule_id: str) -> str:
    rule = load_rules().get(rule_id)
    return "warning" if rule is not None and rule.level == "SHOULD" else "error"


def _show(value) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
