"""FHIRPath expressions for locations inside a parsed JSON resource.

A location is a tuple of object keys and array indexes, such as
("name", 0, "given", 1); `fhirpath("Patient", location)` renders it as
`Patient.name[0].given[1]`, the form OperationOutcome.issue.expression uses.
"""

from __future__ import annotations


def fhirpath(root: str, location) -> str:
    """Render a location tuple as a FHIRPath expression below `root`."""
    parts = [root or "Resource"]
    for step in location:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            parts.append(f".{step}")
    return "".join(parts)


def root_name(resource) -> str:
    """Return the resource type to start expressions with, or "Resource"."""
    if isinstance(resource, dict):
        resource_type = resource.get("resourceType")
        if isinstance(resource_type, str) and resource_type.isidentifier():
            return resource_type
    return "Resource"
