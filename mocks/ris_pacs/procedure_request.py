"""ProcedureRequest endpoints: GipoNext creates orders with POST.

Unlike FHIR's create interaction, where a server ignores the client's id, the
RIS-PACS keeps GipoNext's id, because reports reference the order by it. An
order never changes once created: PUT, PATCH and DELETE get 405, and a second
POST with the same id gets 409 unless it repeats the first exactly (a retry),
which returns the stored order without making another.
"""

from __future__ import annotations

import json
import logging
import re
import uuid

from flask import Blueprint, g, request

from giponext_conformance.mocks.storage import content_of
from giponext_conformance.validation import dumps

from .errors import FhirError
from .exchange import (
    check_content_type,
    check_id,
    read_body,
    read_stored,
    resource_response,
    state,
    validate_body,
)
from .jsonpatch import PatchError, apply_patch
from .quirks import has_quirk
from .sender import schedule_report

logger = logging.getLogger(__name__)

blueprint = Blueprint("procedure_request", __name__)

SUBJECT_PATTERN = re.compile(r"Patient/([A-Za-z0-9\-.]{1,64})")

# Table of the `server-assigned-id` quirk: GipoNext's id -> the id the mock made.
ID_MAP_SCHEMA = """
CREATE TABLE IF NOT EXISTS ris_pacs_assigned_ids (
    giponext_id TEXT PRIMARY KEY,
    server_id TEXT NOT NULL
)
"""

IMMUTABLE_METHODS = ("PUT", "PATCH", "DELETE")


def create_tables(store) -> None:
    with store.transaction() as connection:
        connection.execute(ID_MAP_SCHEMA)


def _require_giponext_id(resource: dict) -> None:
    if has_quirk("server-assigned-id"):
        return
    if not isinstance(resource.get("id"), str):
        raise FhirError.simple(
            400,
            "the ProcedureRequest has no id; GipoNext's id must be sent so that "
            "reports can reference it",
            code="required",
            rule="PR-02",
        )


def _check_subject(store, resource: dict) -> None:
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    match = SUBJECT_PATTERN.fullmatch(reference) if isinstance(reference, str) else None
    if match is None:
        raise FhirError.simple(
            422,
            f"subject.reference {str(reference)[:80]!r} is not of the form "
            "Patient/{id}",
            code="processing",
            rule="PR-09",
        )
    if store.get("Patient", match.group(1)) is None:
        raise FhirError.simple(
            422,
            f"subject {reference} is not a patient sent to this server with PUT",
            code="processing",
            rule="PR-09",
        )


def _target_id(connection, giponext_id) -> tuple[str, bool]:
    """Return the id to store the order under, and whether it is a new mapping."""
    if not has_quirk("server-assigned-id"):
        return giponext_id, False
    if giponext_id is not None:
        row = connection.execute(
            "SELECT server_id FROM ris_pacs_assigned_ids WHERE giponext_id = ?",
            (giponext_id,),
        ).fetchone()
        if row is not None:
            return row[0], False
    return f"rp-{uuid.uuid4().hex[:20]}", True


def _create_order(resource: dict):
    store = state().store
    giponext_id = resource.get("id")
    with store.transaction() as connection:
        target_id, new_mapping = _target_id(connection, giponext_id)
        g.resource_ids = f"ProcedureRequest/{target_id}"
        existing = store.get("ProcedureRequest", target_id)
        if existing is not None:
            if content_of(existing) == content_of({**resource, "id": target_id}):
                return existing, False
            raise FhirError.simple(
                409,
                f"ProcedureRequest/{giponext_id} already exists with other content; "
                "an order cannot be changed once created",
                code="conflict",
                rule="PR-03",
            )

        _check_subject(store, resource)
        stored = store.create("ProcedureRequest", target_id, resource)
        if new_mapping and giponext_id is not None:
            connection.execute(
                "INSERT INTO ris_pacs_assigned_ids (giponext_id, server_id)"
                " VALUES (?, ?)",
                (giponext_id, target_id),
            )
        return stored, True


@blueprint.post("/ProcedureRequest")
def create_procedure_request():
    check_content_type()
    body = read_body()
    resource = validate_body(body, "ProcedureRequest", _require_giponext_id)

    stored, created = _create_order(resource)
    if not created:
        logger.info("repeated POST of %s returned the stored order", g.resource_ids)
    else:
        schedule_report(stored["id"])
    return resource_response(stored, 201 if created else 200, location=True)


@blueprint.get("/ProcedureRequest/<order_id>")
def read_procedure_request(order_id):
    g.resource_ids = f"ProcedureRequest/{order_id}"
    return resource_response(read_stored("ProcedureRequest", order_id))


@blueprint.get("/ProcedureRequest/<order_id>/_history/<version_id>")
def vread_procedure_request(order_id, version_id):
    g.resource_ids = f"ProcedureRequest/{order_id}/_history/{version_id}"
    return resource_response(read_stored("ProcedureRequest", order_id, version_id))


@blueprint.route("/ProcedureRequest/<order_id>", methods=list(IMMUTABLE_METHODS))
def modify_procedure_request(order_id):
    g.resource_ids = f"ProcedureRequest/{order_id}"
    if not has_quirk("mutable-orders"):
        raise FhirError.simple(
            405,
            f"{request.method} is not allowed: a ProcedureRequest cannot be changed "
            "or deleted once created",
            code="not-supported",
            rule="PR-03",
            headers={"Allow": "GET, HEAD, OPTIONS"},
        )

    check_id(order_id)
    if request.method == "DELETE":
        return _delete_order(order_id)
    if request.method == "PATCH":
        return _patch_order(order_id)
    return _replace_order(order_id)


def _check_order_id(url_id: str):
    def check(resource: dict) -> None:
        if resource.get("id") != url_id:
            raise FhirError.simple(
                400,
                f"the ProcedureRequest id {str(resource.get('id'))[:64]!r} differs "
                f"from {url_id!r} in the URL",
            )

    return check


def _replace_order(order_id):
    check_content_type()
    body = read_body()
    resource = validate_body(body, "ProcedureRequest", _check_order_id(order_id))

    result = state().store.put("ProcedureRequest", order_id, resource)
    return resource_response(
        result.resource, 201 if result.created else 200, location=result.created
    )


def _patch_order(order_id):
    check_content_type("application/json-patch+json")
    body = read_body()
    current = read_stored("ProcedureRequest", order_id)
    try:
        patched = apply_patch(current, json.loads(body))
    except (ValueError, RecursionError) as error:
        # PatchError is a ValueError, and so is a JSON syntax error.
        raise FhirError.simple(
            422 if isinstance(error, PatchError) else 400,
            f"the patch cannot be applied: {error}",
        ) from None

    # surrogatepass: a lone surrogate from the patch reaches validation as
    # invalid UTF-8 and gets 400 there.
    encoded = dumps(patched).encode("utf-8", "surrogatepass")
    resource = validate_body(encoded, "ProcedureRequest", _check_order_id(order_id))
    result = state().store.put("ProcedureRequest", order_id, resource)
    return resource_response(result.resource)


def _delete_order(order_id):
    if not state().store.delete("ProcedureRequest", order_id):
        raise FhirError.simple(
            404, f"ProcedureRequest/{order_id} is not known to this server"
        )
    return "", 204
