"""Base layer: is the JSON object a valid FHIR STU3 resource?

Two passes. First a walk over the JSON beside the fhir.resources STU3 model
checks what the models leave out: required value-set bindings, empty values,
the id format, extensions with both a value and nested extensions, and
R4-shaped elements (with a hint). The walk also checks date and time formats
against the STU3 regular expressions before any conversion, so seven-digit
fractions and leap seconds stay valid. Then the pydantic model checks
structure, cardinality and the other primitive formats. Its errors become
findings at FHIRPath locations, except those the walk already reported.

Findings are errors of rule TRN-09, except resourceType mismatches (TRN-07)
and the elements that a resource rule names (birthDate, telecom, authoredOn,
occurrenceDateTime, issued), which carry that rule's id.
"""

from __future__ import annotations

import calendar
import json
import re
from functools import cache
from importlib.resources import files

import pydantic

from giponext_conformance.findings import Finding

from .paths import fhirpath
from .stu3types import ElementInfo, elements, model_class

LAYER = "base"

# STU3 (3.0.1) regular expressions of the date and time primitives.
_OFFSET = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
DATE_PATTERNS = {
    "date": re.compile(r"-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1]))?)?"),
    "dateTime": re.compile(
        r"-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1])"
        rf"(T{_TIME}{_OFFSET})?)?)?"
    ),
    "instant": re.compile(
        r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-"
        rf"(0[1-9]|[1-2][0-9]|3[0-1])T{_TIME}{_OFFSET}"
    ),
    "time": re.compile(_TIME),
}
DATE_SHAPES = {
    "date": "YYYY, YYYY-MM or YYYY-MM-DD",
    "dateTime": "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fraction] "
    "followed by Z or +hh:mm (a time needs a zone)",
    "instant": "YYYY-MM-DDThh:mm:ss[.fraction] followed by Z or +hh:mm",
    "time": "hh:mm:ss[.fraction] without a zone",
}
ID_PATTERN = re.compile(r"[A-Za-z0-9.\-]{1,64}")

# Base findings on these elements carry the resource rule that names them.
RULE_BY_ELEMENT = {
    "Patient.birthDate": "PAT-09",
    "Patient.telecom.system": "PAT-09",
    "Patient.telecom.use": "PAT-09",
    "ProcedureRequest.authoredOn": "PR-10",
    "ProcedureRequest.occurrenceDateTime": "PR-10",
    "DiagnosticReport.issued": "DR-07",
}


def _load_data(name: str) -> dict:
    text = files("giponext_conformance").joinpath("data", name).read_text("utf-8")
    return json.loads(text)


@cache
def bindings() -> dict[str, frozenset]:
    """Return the required STU3 bindings keyed by "ClassName.element"."""
    data = _load_data("stu3-bindings.json")["bindings"]
    return {key: frozenset(codes) for key, codes in data.items()}


@cache
def r4_hints() -> dict:
    """Return the hints for R4-shaped elements, see stu3-r4-hints.json."""
    return _load_data("stu3-r4-hints.json")


def rule_for(root: str, location) -> str:
    """Return the rule id of a base finding at a location."""
    element = ".".join([root] + [step for step in location if isinstance(step, str)])
    return RULE_BY_ELEMENT.get(element, "TRN-09")


def check_base(resource: dict, expected_type: str | None = None) -> list[Finding]:
    """Return every base-layer finding about a parsed JSON object."""
    findings = []
    resource_type = resource.get("resourceType")
    cls = _resolve_type(resource_type, expected_type, findings)
    if cls is None:
        return findings

    root = cls.__name__
    walker = _Walker(root)
    walker.walk(cls, resource, (), is_resource=True)
    findings.extend(walker.findings)
    findings.extend(_model_findings(cls, resource, root, walker))
    return findings


def _resolve_type(resource_type, expected_type, findings):
    """Pick the model to validate against and report resourceType problems."""
    if not isinstance(resource_type, str) or not resource_type:
        rule = "TRN-07" if expected_type else "TRN-09"
        findings.append(
            Finding(
                rule,
                "error",
                "required",
                "Resource.resourceType",
                "resourceType is missing; every FHIR resource names its type, here "
                f"{expected_type or 'Patient, ProcedureRequest or DiagnosticReport'}.",
                LAYER,
            )
        )
        return model_class(expected_type) if expected_type else None

    if expected_type and resource_type != expected_type:
        findings.append(
            Finding(
                "TRN-07",
                "error",
                "invalid",
                f"{resource_type}.resourceType",
                f"resourceType is {resource_type!r} but this endpoint takes "
                f"{expected_type}; send the {expected_type} to its own endpoint.",
                LAYER,
            )
        )

    cls = model_class(resource_type)
    if cls is None or cls.__name__ != resource_type:
        findings.append(
            Finding(
                "TRN-09",
                "error",
                "not-supported",
                "Resource.resourceType",
                f"{resource_type!r} is not a FHIR STU3 resource type.",
                LAYER,
            )
        )
        return None
    return cls


class _Walker:
    """Walk a JSON resource beside its model, checking what pydantic does not."""

    def __init__(self, root: str):
        self.root = root
        self.findings: list[Finding] = []
        # Locations already reported (or owned by the walk, such as every date
        # value), whose pydantic errors are left out to avoid duplicates.
        self.claimed: set[tuple] = set()
        self.contained_problem = False

    def add(self, location, code, diagnostics):
        self.claimed.add(location)
        expression = fhirpath(self.root, location)
        rule = rule_for(self.root, location)
        self.findings.append(
            Finding(rule, "error", code, expression, diagnostics, LAYER)
        )

    def walk(self, cls, node: dict, location: tuple, is_resource=False):
        known = elements(cls)
        for key, value in node.items():
            if value is None or (is_resource and key == "resourceType"):
                continue
            item_location = location + (key,)
            info = known.get(key)
            if info is None:
                self._unknown(cls, key, item_location)
            elif not self._empty(value, item_location):
                self._element(cls, info, value, item_location)
        self._invariants(cls, node, location)

    def _unknown(self, cls, key, location):
        hint = r4_hints()["hints"].get(f"{cls.__name__}.{key}")
        if hint:
            self.add(
                location,
                "structure",
                f"{key!r} is not an element of STU3 {cls.__name__}. {hint}",
            )
            # The hint explains the whole object, so the model's errors about
            # its other members (such as a missing actor) add nothing.
            self.claimed.add(location[:-1])

    def _empty(self, value, location) -> bool:
        kind = None
        if value == "":
            kind = "an empty string"
        elif value == [] or value == {}:
            kind = "an empty array" if isinstance(value, list) else "an empty object"
        if kind:
            self.add(
                location,
                "value",
                f"The element is {kind}; FHIR JSON leaves out an element that has no "
                "value.",
            )
        return kind is not None

    def _element(self, cls, info: ElementInfo, value, location):
        if info.is_list != isinstance(value, list):
            self._shape(cls, info, location)
            return
        if not info.is_list:
            self._item(cls, info, value, location)
            return
        for index, item in enumerate(value):
            item_location = location + (index,)
            if item is not None and not self._empty(item, item_location):
                self._item(cls, info, item, item_location)

    def _shape(self, cls, info, location):
        key = f"{cls.__name__}.{info.name}"
        hint = r4_hints()["single_in_stu3"].get(key, "")
        if info.is_list:
            message = f"{info.name} is an array in STU3; wrap the value in [ ]."
        else:
            message = f"{info.name} takes a single value in STU3, not an array. {hint}"
        self.add(location, "structure", message.strip())

    def _item(self, cls, info, value, location):
        if info.model is not None:
            if not isinstance(value, dict):
                if info.is_resource:
                    self._unknown_contained(None, location, "is not a JSON object")
                return
            target = info.model
            if info.is_resource:
                target = model_class(value.get("resourceType"))
                if target is None:
                    self._unknown_contained(value.get("resourceType"), location)
                    return
            self.walk(target, value, location, is_resource=info.is_resource)
            return
        if isinstance(value, str):
            self._primitive(cls, info, value, location)

    def _unknown_contained(self, resource_type, location, problem=None):
        self.contained_problem = True
        if problem is not None:
            self.add(location, "structure", f"The contained resource {problem}.")
        elif resource_type is None:
            self.add(
                location + ("resourceType",),
                "required",
                "The contained resource has no resourceType; name its type.",
            )
        else:
            self.add(
                location + ("resourceType",),
                "not-supported",
                f"The contained resource has resourceType {resource_type!r}, which "
                "is no FHIR STU3 resource type.",
            )

    def _primitive(self, cls, info, value: str, location):
        pattern = DATE_PATTERNS.get(info.primitive)
        if pattern is not None:
            self.claimed.add(location)
            problem = _date_problem(info.primitive, pattern, value)
            if problem:
                self.add(location, "value", problem)
            return

        codes = bindings().get(f"{cls.__name__}.{info.name}")
        if codes is not None and value not in codes:
            self.add(
                location,
                "code-invalid",
                f"{value!r} is not in the required STU3 value set of "
                f"{cls.__name__}.{info.name}; use one of {', '.join(sorted(codes))}.",
            )
            return

        if info.primitive == "id" and not ID_PATTERN.fullmatch(value):
            self.add(
                location,
                "value",
                f"The id {value!r} is not a valid FHIR id: at most 64 characters, "
                "only letters A-Z a-z, digits, '-' and '.'.",
            )

    def _invariants(self, cls, node, location):
        # ext-1: an extension has either a value[x] or nested extensions.
        if cls.__name__ == "Extension" and "extension" in node:
            values = [key for key in node if key.startswith("value")]
            if values:
                self.add(
                    location,
                    "invariant",
                    f"The extension has both {values[0]} and nested extensions; FHIR "
                    "allows one or the other (ext-1).",
                )
        if (
            cls.__name__ == "DiagnosticReportPerformer"
            and "actor" not in node
            and "reference" not in node
            and location not in self.claimed
        ):
            self.add(
                location + ("actor",),
                "required",
                "performer.actor is required in STU3: put the performer's "
                "Reference in actor and its function in role.",
            )


def _date_problem(kind: str, pattern, value: str) -> str | None:
    if not pattern.fullmatch(value):
        return f"{value!r} is not a valid FHIR {kind}; expected {DATE_SHAPES[kind]}."
    if kind == "time":
        return None
    parts = value.lstrip("-")[:10].split("-")
    if len(parts) == 3:
        year, month, day = int(parts[0]), int(parts[1]), int(parts[2])
        if day < 1 or day > calendar.monthrange(year, month)[1]:
            return f"{value!r} is not a calendar date: that month has no day {day}."
    return None


def _model_findings(cls, resource, root, walker) -> list[Finding]:
    try:
        cls.model_validate(resource)
    except pydantic.ValidationError as error:
        return _map_errors(error.errors(), resource, root, walker.claimed)
    except (TypeError, KeyError, AttributeError):
        # fhir.resources 8 raises these, instead of a ValidationError, for a
        # contained resource without a valid resourceType, which the walk
        # reports with its location.
        if walker.contained_problem:
            return []
        return [
            Finding(
                "TRN-09",
                "error",
                "structure",
                root,
                "The STU3 model could not read this resource's structure; check "
                "the types of its elements.",
                LAYER,
            )
        ]
    return []


def _map_errors(errors, resource, root, claimed) -> list[Finding]:
    findings = []
    seen = set()
    for error in errors:
        location = tuple(step for step in error["loc"] if step != "root")
        if _is_claimed(location, claimed) or location in seen:
            continue
        if error["type"] != "missing" and error.get("input", ...) is None:
            continue  # the JSON layer's tree walk reports null values already
        seen.add(location)
        code, diagnostics = _describe_error(error, location)
        rule = rule_for(root, location)
        findings.append(
            Finding(rule, "error", code, fhirpath(root, location), diagnostics, LAYER)
        )
    return findings


def _is_claimed(location, claimed) -> bool:
    return any(location[:length] in claimed for length in range(1, len(location) + 1))


def _describe_error(error, location) -> tuple[str, str]:
    kind = error["type"]
    name = next((step for step in reversed(location) if isinstance(step, str)), "")
    message = error["msg"].removeprefix("Value error, ")
    if kind in ("missing", "model_field_validation.missing"):
        return "required", f"{name} is required here but missing; add it."
    if kind == "extra_forbidden":
        return "structure", (
            f"{name!r} is not an element of this STU3 type; remove it or check its "
            "spelling and case."
        )
    if message.startswith("Any of one field value is expected"):
        return "structure", (
            "The element carries more than one value[x] choice; keep exactly one."
        )
    found = repr(error.get("input"))
    if len(found) > 60:
        found = found[:57] + "..."
    return "value", f"{message.rstrip('.')}; found {found}."
