"""JSON layer: turn request bytes into a JSON object, or report why they are not one.

FHIR JSON is strict JSON (RFC 8259) with a few extra constraints: the top level
is an object, a member name appears once per object, and `null` appears only
inside an array of primitives whose `_name` sibling array carries extensions
at the same index. Numbers with a fraction are kept as Decimal, so a value
such as 36.150 keeps its digits. Findings use rule TRN-06 (a byte order mark
is a warning, everything else an error), except misplaced nulls. A null is
valid JSON, so it is reported as a base finding of rule TRN-09.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from giponext_conformance.findings import Finding

from .paths import fhirpath, root_name

RULE = "TRN-06"
LAYER = "json"
UTF8_BOM = b"\xef\xbb\xbf"

# Stop listing comments and trailing commas after this many; one run still
# shows the pattern without flooding the report.
MAX_SCAN_FINDINGS = 20

# Deepest nesting of objects and arrays accepted. Resources of this
# integration nest about ten levels; the limit keeps the later layers, which
# recurse, far from Python's recursion limit.
MAX_DEPTH = 100

# Maximum length of a number literal. No element of these resources needs more
# than a few dozen digits, and Python rejects integers of 4,300 digits or more.
MAX_NUMBER_LENGTH = 1000

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class JsonResult:
    """The parsed object (None when parsing failed) and the findings."""

    resource: dict | None
    findings: list[Finding] = field(default_factory=list)


class _ConstantError(ValueError):
    """Raised for NaN and Infinity, which Python accepts but JSON does not."""


class _NumberLengthError(ValueError):
    """Raised for a number literal longer than MAX_NUMBER_LENGTH."""


def _reject_constant(name):
    raise _ConstantError(name)


def _parse_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise _NumberLengthError(len(literal))
    return int(literal)


def _parse_float(literal: str) -> Decimal:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise _NumberLengthError(len(literal))
    return Decimal(literal)


def _error(diagnostics, expression="", code="structure", severity="error"):
    return Finding(RULE, severity, code, expression, diagnostics, LAYER)


def line_column(text: str, offset: int) -> tuple[int, int]:
    """Return the 1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def parse_json(body: bytes) -> JsonResult:
    """Parse request bytes as FHIR JSON, collecting every JSON-level finding."""
    if not isinstance(body, bytes | bytearray | memoryview):
        return JsonResult(None, [_error("The body is not a byte string.")])
    body = bytes(body)
    findings = []

    if body.startswith(UTF8_BOM):
        findings.append(
            _error(
                "The body starts with a UTF-8 byte order mark; send plain UTF-8 "
                "without it, because several JSON parsers reject it.",
                code="value",
                severity="warning",
            )
        )
        body = body[len(UTF8_BOM) :]

    text = _decode(body, findings)
    if text is None:
        return JsonResult(None, findings)

    resource = _load(text, findings)
    if resource is None:
        return JsonResult(None, findings)
    return JsonResult(resource, findings)


def _decode(body: bytes, findings: list) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = body[: error.start].decode("utf-8", errors="replace")
        line, column = line_column(prefix, len(prefix))
        findings.append(
            _error(
                f"The body is not valid UTF-8: byte 0x{body[error.start]:02x} at line "
                f"{line}, column {column} cannot be decoded; FHIR JSON is always "
                "encoded in UTF-8."
            )
        )
        return None


def _load(text: str, findings: list) -> dict | None:
    duplicates = {}

    def collect_pairs(pairs):
        result = {}
        for key, value in pairs:
            if key in result:
                duplicates.setdefault(id(result), []).append(key)
            result[key] = value
        return result

    try:
        value = json.loads(
            text,
            object_pairs_hook=collect_pairs,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as error:
        findings.extend(_syntax_findings(text, error))
        return None
    except _ConstantError as error:
        findings.append(
            _error(f"{error} is not a JSON number; write a finite decimal number.")
        )
        return None
    except _NumberLengthError as error:
        findings.append(
            _error(
                f"The body contains a number of {error} characters; no FHIR element "
                f"takes one longer than {MAX_NUMBER_LENGTH}."
            )
        )
        return None
    except RecursionError:
        findings.append(_error("The JSON is nested too deeply to be a FHIR resource."))
        return None

    if not isinstance(value, dict):
        findings.append(not_an_object(value))
        return None

    problems = structure_findings(
        value, surrogates=bool(_SURROGATE_ESCAPE.search(text))
    )
    if problems:
        findings.extend(problems)
        return None
    findings.extend(tree_findings(value, duplicates))
    return value


def structure_findings(value, surrogates: bool = True) -> list[Finding]:
    """Report nesting beyond MAX_DEPTH and strings that are not valid Unicode.

    JSON escapes can encode half of a UTF-16 surrogate pair (\\ud800), which
    is no Unicode character; such a string cannot be stored or sent on.
    `surrogates=False` skips that search when the text has no such escape.
    """
    stack = [((), value, 1)]
    while stack:
        location, node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [
                _error(
                    f"The JSON nests objects and arrays more than {MAX_DEPTH} "
                    "levels deep, far beyond any FHIR resource of this "
                    "integration.",
                    fhirpath(root_name(value), location),
                )
            ]
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            if surrogates and isinstance(node, str) and _SURROGATE.search(node):
                return [_surrogate_finding(value, location)]
            continue
        for key, item in items:
            if surrogates and isinstance(key, str) and _SURROGATE.search(key):
                return [_surrogate_finding(value, location + (key,))]
            stack.append((location + (key,), item, depth + 1))
    return []


def _surrogate_finding(resource, location) -> Finding:
    return _error(
        "The string contains an unpaired UTF-16 surrogate escape (\\ud800 to "
        "\\udfff), which is no Unicode character; escape the whole character "
        "as a surrogate pair or send it as UTF-8.",
        fhirpath(root_name(resource), location),
        code="value",
    )


def not_an_object(value) -> Finding:
    """Return the finding for a top-level value that is not a JSON object."""
    return _error(
        f"The top level of the body is a JSON {_json_kind(value)}; a FHIR "
        "resource is a JSON object with a resourceType member."
    )


def _json_kind(value) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def _syntax_findings(text: str, error: json.JSONDecodeError) -> list[Finding]:
    """Explain a syntax error, naming every comment and trailing comma."""
    comments = []
    findings = []
    explained = False
    for offset, message in scan_non_json(text):
        # json stops at the first problem; one found at or before it explains it.
        explained = explained or offset <= error.pos
        if message.startswith("a // comment") or message.startswith("a /*"):
            comments.append(line_column(text, offset))
        elif len(findings) < MAX_SCAN_FINDINGS:
            line, column = line_column(text, offset)
            findings.append(
                _error(f"Invalid JSON at line {line}, column {column}: {message}")
            )
    if comments:
        findings.insert(0, _error(_comments_message(comments)))
    if not explained:
        findings.append(
            _error(
                f"Invalid JSON at line {error.lineno}, column {error.colno}: "
                f"{error.msg}."
            )
        )
    return findings


def _comments_message(comments: list[tuple[int, int]]) -> str:
    line, column = comments[0]
    lines = ", ".join(str(position[0]) for position in comments[:MAX_SCAN_FINDINGS])
    if len(comments) > MAX_SCAN_FINDINGS:
        lines += ", ..."
    count = "1 comment" if len(comments) == 1 else f"{len(comments)} comments"
    return (
        f"Invalid JSON at line {line}, column {column}: the body contains {count} "
        f"(lines {lines}). JSON has no comments: this is typically a payload copied "
        "from documentation with // annotations; remove them."
    )


def scan_non_json(text: str):
    """Yield (offset, message) for each comment and trailing comma outside strings.

    Payloads copied from documentation often keep its // annotations; JSON has
    no comments, so each one is named with its position.
    """
    index = 0
    length = len(text)
    last_comma = None
    while index < length:
        char = text[index]
        if char == '"':
            index = _skip_string(text, index)
            last_comma = None
            continue
        if char == "/" and text.startswith("//", index):
            yield index, "a // comment. JSON has no comments; remove it."
            end = text.find("\n", index)
            index = length if end == -1 else end
            continue
        if char == "/" and text.startswith("/*", index):
            yield index, "a /* */ comment. JSON has no comments; remove it."
            end = text.find("*/", index + 2)
            index = length if end == -1 else end + 2
            continue
        if char == ",":
            last_comma = index
        elif char in "}]" and last_comma is not None:
            yield (
                last_comma,
                (
                    f"a trailing comma before '{char}'. JSON allows no comma after the "
                    "last member or item; remove it."
                ),
            )
            last_comma = None
        elif not char.isspace():
            last_comma = None
        index += 1


def _skip_string(text: str, start: int) -> int:
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == '"' or char == "\n":
            return index + 1
        index += 1
    return index


def tree_findings(resource: dict, duplicates: dict | None = None) -> list[Finding]:
    """Report duplicate member names and misplaced nulls, with their paths."""
    root = root_name(resource)
    findings = []
    stack = [((), resource)]
    while stack:
        location, node = stack.pop()
        if isinstance(node, dict):
            for key in (duplicates or {}).get(id(node), ()):
                findings.append(
                    _error(
                        f"The member {key!r} appears more than once in this object; "
                        "parsers differ in which copy they keep, so send it once.",
                        fhirpath(root, location + (key,)),
                    )
                )
            for key, value in node.items():
                if value is None:
                    findings.append(_null_finding(root, location + (key,)))
                else:
                    stack.append((location + (key,), value))
                    _check_array_nulls(root, node, key, value, location, findings)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if item is not None:
                    stack.append((location + (index,), item))
    findings.sort(key=lambda finding: finding.expression)
    return findings


def _null_error(diagnostics: str, expression: str) -> Finding:
    # A null is well-formed JSON, so it breaks the FHIR base rule (TRN-09) and
    # not TRN-06, and it gets status 400 like other base errors.
    return Finding("TRN-09", "error", "invalid", expression, diagnostics, "base")


def _null_finding(root, location):
    return _null_error(
        "The value is null; FHIR JSON leaves an element out instead of sending null.",
        fhirpath(root, location),
    )


def _check_array_nulls(root, parent, key, value, location, findings):
    """Allow null in `x` only where `_x` has extensions at that index, and back."""
    if not isinstance(value, list) or None not in value:
        return
    partner_key = key[1:] if key.startswith("_") else "_" + key
    partner = parent.get(partner_key)
    for index, item in enumerate(value):
        if item is not None:
            continue
        aligned = (
            isinstance(partner, list)
            and len(partner) == len(value)
            and partner[index] is not None
        )
        if not aligned:
            findings.append(
                _null_error(
                    f"The array item is null; null is allowed only in an array of "
                    f"primitives whose {partner_key!r} array has an entry at the "
                    "same index.",
                    fhirpath(root, location + (key, index)),
                )
            )
