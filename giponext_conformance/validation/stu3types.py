"""Element metadata of the fhir.resources STU3 models, read once per class.

The base layer walks a JSON resource alongside its model class. For each JSON
member name this module records whether it is a list, whether its type is
another model (complex type, backbone element, resource) or a primitive, and
the primitive's FHIR type name (date, dateTime, instant, code, id, ...).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache

from fhir.resources.STU3 import get_fhir_model_class
from fhir.resources.STU3.resource import Resource

# Python types behind primitives that fhir.resources declares without an
# Annotated FHIR type marker.
_PLAIN_PRIMITIVES = {bool: "boolean", int: "integer", float: "decimal", str: "string"}


@dataclass(frozen=True)
class ElementInfo:
    """One element of a model: its JSON name, shape and type."""

    name: str
    is_list: bool
    model: type | None
    primitive: str | None
    is_resource: bool = False


def model_class(resource_type):
    """Return the STU3 model class of a resource type, or None if unknown.

    Data type names (HumanName, Extension) are no resource types, so they give
    None as well.
    """
    if not isinstance(resource_type, str) or not resource_type.isidentifier():
        return None
    try:
        cls = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError, ImportError):
        return None
    if not issubclass(cls, Resource) or cls.__name__ != resource_type:
        return None
    return cls


@cache
def elements(cls) -> dict[str, ElementInfo]:
    """Return the elements of a model class keyed by their JSON member name."""
    result = {}
    for field_name, info in cls.model_fields.items():
        name = info.alias or field_name
        if name == "fhir_comments":
            continue
        result[name] = _describe(name, info.annotation)
    return result


def _describe(name: str, annotation) -> ElementInfo:
    is_list = False
    current = _strip_optional(annotation)
    if typing.get_origin(current) in (list, typing.List):  # noqa: UP006
        is_list = True
        current = _strip_optional(typing.get_args(current)[0])

    if hasattr(current, "get_model_klass"):
        target = current.get_model_klass()
        is_resource = target.__name__ in ("Resource", "DomainResource")
        return ElementInfo(name, is_list, target, None, is_resource)

    return ElementInfo(name, is_list, None, _primitive_name(current))


def _strip_optional(annotation):
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(options) == 1:
            return options[0]
    return annotation


def _primitive_name(annotation) -> str:
    if typing.get_origin(annotation) is typing.Annotated:
        for marker in typing.get_args(annotation)[1:]:
            marker_name = type(marker).__name__
            return marker_name[:1].lower() + marker_name[1:]
    return _PLAIN_PRIMITIVES.get(annotation, "string")
