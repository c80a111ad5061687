"""Mock RIS-PACS: the FHIR STU3 server GipoNext sends patients and orders to.

`create_app(config)` builds a Flask app serving, at its base URL root,
PUT/GET Patient/{id}, POST ProcedureRequest, GET ProcedureRequest/{id} and
GET metadata, with resources kept in a versioned SQLite file. Serve it with
giponext_conformance.serving (cheroot); it has no development server of its
own. `config.quirks` switches on imitations of vendor mistakes (see quirks.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import Flask, g, request

from giponext_conformance.mocks.storage import ResourceStore
from giponext_conformance.redact import redact_text, register_secret

from . import metadata, patient, procedure_request
from .auth import authenticate
from .config import RisPacsConfig
from .errors import register_error_handlers
from .quirks import QUIRKS
from .sender import install_sender, sender_of, settings_from_config

logger = logging.getLogger(__name__)

__all__ = ["QUIRKS", "RisPacsConfig", "RisPacsState", "close_app", "create_app"]

# Endpoints served without credentials.
PUBLIC_ENDPOINTS = frozenset({"metadata.read_metadata"})


@dataclass
class RisPacsState:
    """Settings and store that the app's handlers share."""

    config: RisPacsConfig
    store: ResourceStore


def _register_secrets(config: RisPacsConfig) -> None:
    register_secret(config.token)
    register_secret(config.basic_password)


def _start_timer() -> None:
    g.started = time.perf_counter()
    g.resource_ids = ""


def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    authenticate()


def _log_request(response):
    elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    # Paths of this API carry resource ids, not credentials. Redaction still
    # masks a registered secret that a client put in the path by mistake.
    logger.info(
        "%s %s %s %.1fms %s",
        request.method,
        redact_text(request.path),
        response.status_code,
        elapsed_ms,
        g.get("resource_ids", ""),
    )
    return response


def create_app(config: RisPacsConfig | None = None, store: ResourceStore | None = None):
    """Build the mock RIS-PACS app.

    `store` defaults to a ResourceStore on `config.db_path`, which the app
    owns and `close_app` closes. The app adds its own table for the
    `server-assigned-id` quirk to the same file.
    """
    config = config or RisPacsConfig()
    _register_secrets(config)
    if store is None:
        store = ResourceStore(config.db_path)
    procedure_request.create_tables(store)

    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.extensions["ris_pacs"] = RisPacsState(config, store)

    app.before_request(_start_timer)
    app.before_request(_authenticate)
    app.after_request(_log_request)
    register_error_handlers(app)
    for module in (metadata, patient, procedure_request):
        app.register_blueprint(module.blueprint)
    install_sender(app, store, settings_from_config(config))

    logger.info(
        "mock RIS-PACS ready, store %s, quirks: %s",
        store.path,
        ", ".join(sorted(config.quirks)) or "none",
    )
    return app


def close_app(app) -> None:
    """Close the app's store (and delete it when it was a temporary file)."""
    sender = sender_of(app)
    if sender is not None:
        sender.close()
    app.extensions["ris_pacs"].store.close()
