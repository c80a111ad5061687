"""Patient endpoints: GipoNext creates and updates patients with PUT.

FHIR's update interaction with a client-chosen id: the first PUT creates the
patient (201), a changed one makes a new version (200), and an identical
repeat returns the current version untouched.
"""

from __future__ import annotations

import logging

from flask import Blueprint, g

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
from .quirks import has_quirk

logger = logging.getLogger(__name__)

blueprint = Blueprint("patient", __name__)


def _check_body_id(url_id: str):
    def check(resource: dict) -> None:
        if has_quirk("ignore-patient-id-mismatch"):
            return
        body_id = resource.get("id")
        if body_id is None:
            raise FhirError.simple(
                400,
                f"the Patient has no id; it must be {url_id!r} as in the URL",
                code="required",
                rule="PAT-02",
            )
        if body_id != url_id:
            raise FhirError.simple(
                400,
                f"the Patient id {str(body_id)[:64]!r} differs from {url_id!r} "
                "in the URL",
                rule="PAT-02",
            )

    return check


def _adopt_url_id(url_id: str):
    # The `ignore-patient-id-mismatch` quirk stores the body under the URL's
    # id, whatever id the body carries.
    def rewrite(resource: dict) -> dict:
        if not has_quirk("ignore-patient-id-mismatch"):
            return resource
        return {**resource, "id": url_id}

    return rewrite


@blueprint.put("/Patient/<patient_id>")
def update_patient(patient_id):
    g.resource_ids = f"Patient/{patient_id}"
    check_id(patient_id)
    check_content_type()
    body = read_body()

    resource = validate_body(
        body, "Patient", _check_body_id(patient_id), _adopt_url_id(patient_id)
    )
    result = state().store.put("Patient", patient_id, resource)

    g.resource_ids = (
        f"Patient/{patient_id}/_history/{result.resource['meta']['versionId']}"
    )
    status = 201 if result.created else 200
    return resource_response(result.resource, status, location=result.created)


@blueprint.get("/Patient/<patient_id>")
def read_patient(patient_id):
    g.resource_ids = f"Patient/{patient_id}"
    return resource_response(read_stored("Patient", patient_id))


@blueprint.get("/Patient/<patient_id>/_history/<version_id>")
def vread_patient(patient_id, version_id):
    g.resource_ids = f"Patient/{patient_id}/_history/{version_id}"
    return resource_response(read_stored("Patient", patient_id, version_id))
