"""Checks of DiagnosticReport.presentedForm attachments (rules DR-09, DR-10).

GipoNext shows the report's PDF to its users, so each attachment must really
be a PDF. Its media type is application/pdf, `data` is strict base64 of bytes
that start with %PDF- and that a PDF parser opens, and `url` is an absolute
https URL. Whether data and url are both present, or a title is missing, is
decided by the profile schema.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import logging
import re
from collections import OrderedDict
from email.message import Message
from urllib.parse import urlsplit

import pypdf
from pypdf.errors import PyPdfError

from giponext_conformance.findings import Finding

from .paths import fhirpath

LAYER = "italian"
PDF_MAGIC = b"%PDF-"
# Characters that base64 text may be wrapped with and that decoding skips.
_WHITESPACE = str.maketrans("", "", " \t\r\n")
# RFC 9110 token characters, of which a media type's type and subtype are made.
_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"\s*({_NAME})/({_NAME})\s*(;.*)?", re.DOTALL)

# Results of opening a PDF, keyed by the SHA-256 of its bytes. A run often
# sends the same document many times, and parsing it again gives the same result.
_PDF_CACHE: OrderedDict[bytes, str | None] = OrderedDict()
_PDF_CACHE_SIZE = 256


def check_attachments(resource: dict) -> list[Finding]:
    """Return the DR-09 and DR-10 findings about every attachment."""
    forms = resource.get("presentedForm")
    if not isinstance(forms, list):
        return []
    findings = []
    for index, attachment in enumerate(forms):
        if not isinstance(attachment, dict):
            continue
        location = ("presentedForm", index)
        findings.extend(_content_type(attachment.get("contentType"), location))
        if isinstance(attachment.get("data"), str):
            findings.extend(_data(attachment["data"], location + ("data",)))
        if isinstance(attachment.get("url"), str):
            findings.extend(_url(attachment["url"], location + ("url",)))
    return findings


def _finding(rule, severity, code, location, diagnostics):
    expression = fhirpath("DiagnosticReport", location)
    return Finding(rule, severity, code, expression, diagnostics, LAYER)


def _content_type(value, location) -> list[Finding]:
    if not isinstance(value, str):
        return []
    location = location + ("contentType",)
    match = _MEDIA_TYPE.fullmatch(value)
    if match is None:
        return [
            _finding(
                "DR-09",
                "error",
                "value",
                location,
                f"contentType {value!r} is not a media type; send application/pdf.",
            )
        ]

    media_type = f"{match.group(1)}/{match.group(2)}"
    if media_type.lower() != "application/pdf":
        return [
            _finding(
                "DR-09",
                "error",
                "value",
                location,
                f"contentType is {media_type}; GipoNext accepts PDF reports only, so "
                "send the report as application/pdf.",
            )
        ]

    findings = []
    if media_type != "application/pdf":
        findings.append(
            _finding(
                "DR-09",
                "warning",
                "value",
                location,
                f"contentType {media_type!r} differs in case from application/pdf; "
                "media types are case-insensitive, but write it in lower case.",
            )
        )
    parameters = _parameters(value)
    if match.group(3) is not None:
        findings.append(
            _finding(
                "DR-09",
                "warning",
                "value",
                location,
                f"contentType carries parameters ({parameters or match.group(3)}); "
                "send application/pdf alone.",
            )
        )
    return findings


def _parameters(value: str) -> str:
    message = Message()
    message["Content-Type"] = value
    params = message.get_params() or []
    return ", ".join(f"{name}={param}" for name, param in params[1:])


def _data(value: str, location) -> list[Finding]:
    if value.lstrip().lower().startswith("data:"):
        prefix = value.split(",", 1)[0] + ","
        return [
            _finding(
                "DR-10",
                "error",
                "value",
                location,
                f"data starts with the data URL prefix {prefix!r}; Attachment.data is "
                "the base64 text alone, so remove the prefix.",
            )
        ]

    findings = []
    compact = value.translate(_WHITESPACE)
    if compact != value:
        findings.append(
            _finding(
                "DR-10",
                "warning",
                "value",
                location,
                "data contains line breaks or spaces; they are ignored, but a single "
                "line of base64 avoids decoders that reject them.",
            )
        )

    try:
        content = binascii.a2b_base64(compact, strict_mode=True)
    except (binascii.Error, ValueError) as error:
        findings.append(
            _finding(
                "DR-10",
                "error",
                "value",
                location,
                f"data is not valid base64 ({error}); encode the PDF bytes with "
                "standard base64 and padding.",
            )
        )
        return findings

    problem = pdf_problem(content)
    if problem:
        findings.append(_finding("DR-10", "error", "value", location, problem))
    return findings


def pdf_problem(content: bytes) -> str | None:
    """Return why bytes are not a readable PDF, or None when they are one."""
    if not content.startswith(PDF_MAGIC):
        return (
            f"data decodes to {len(content)} bytes that do not start with %PDF- "
            f"({_describe_start(content)}); it must be the PDF file itself."
        )
    key = hashlib.sha256(content).digest()
    if key in _PDF_CACHE:
        _PDF_CACHE.move_to_end(key)
        return _PDF_CACHE[key]
    result = _open_pdf(content)
    _PDF_CACHE[key] = result
    if len(_PDF_CACHE) > _PDF_CACHE_SIZE:
        _PDF_CACHE.popitem(last=False)
    return result


def clear_pdf_cache() -> None:
    """Forget the PDFs opened so far (for benchmarks and tests)."""
    _PDF_CACHE.clear()


def _open_pdf(content: bytes) -> str | None:
    # pypdf logs every repair it makes; a broken upload is reported as a
    # finding, so its log lines would only repeat it.
    pypdf_logger = logging.getLogger("pypdf")
    previous = pypdf_logger.level
    pypdf_logger.setLevel(logging.CRITICAL)
    try:
        reader = pypdf.PdfReader(io.BytesIO(content))
        pages = len(reader.pages)
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        RecursionError,
        OSError,
    ) as error:
        return (
            "data starts like a PDF but a PDF parser cannot open it "
            f"({type(error).__name__}: {str(error)[:120]}); send the complete, "
            "undamaged file."
        )
    finally:
        pypdf_logger.setLevel(previous)
    if pages == 0:
        return "data is a PDF without pages; send the report's pages."
    return None


def _describe_start(content: bytes) -> str:
    head = content[:64].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "it looks like an HTML page"
    if not content:
        return "it is empty"
    preview = content[:8].hex(" ")
    return f"first bytes {preview}"


def _url(value: str, location) -> list[Finding]:
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or not parts.netloc:
        return [
            _finding(
                "DR-10",
                "error",
                "value",
                location,
                f"url {value!r} is not an absolute URL; send an https URL GipoNext can "
                "download the PDF from.",
            )
        ]
    scheme = parts.scheme.lower()
    if scheme == "http":
        return [
            _finding(
                "DR-10",
                "warning",
                "security",
                location,
                "url uses plain http; serve the PDF over https so that the report is "
                "not readable in transit.",
            )
        ]
    if scheme != "https":
        return [
            _finding(
                "DR-10",
                "error",
                "value",
                location,
                f"url uses the {scheme} scheme; send an https URL.",
            )
        ]
    return []
