"""GipoNext mock: the server that receives DiagnosticReports from a RIS-PACS.

`create_app(config)` returns a Flask (WSGI) app serving
`/fhir/r3/{userId}/DiagnosticReport`; serve it with
giponext_conformance.serving. The app's `GipoNextMock` (in
`app.extensions["giponext"]`, also `app.giponext`) lets the harness add
tenants, register the orders it sent, read what was delivered and judge how a
sender retried. Every request lands in the audit journal with its verdict.

An OAuth 2.0 authorization server plugs in through the optional subpackage
`oauth`: when it offers `init_app(app, mock)`, `create_app` calls it, and it
registers its blueprint and appends a token resolver to
`mock.config.token_resolvers`.
"""

from __future__ import annotations

import importlib
import logging
import sqlite3
import time
from datetime import UTC, datetime

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from giponext_conformance.findings import simple_outcome
from giponext_conformance.redact import register_secret

from .config import (
    DeliveryFault,
    GipoNextConfig,
    TenantConfig,
    TokenInfo,
    generate_api_key,
    generate_tenant_id,
)
from .http import fhir_response
from .journal import Journal, JournalEntry, verdict_for
from .reports import blueprint as reports_blueprint
from .state import Delivery, GipoNextState, Order, RetryBehaviour

__all__ = [
    "DeliveryFault",
    "GipoNextConfig",
    "GipoNextMock",
    "TenantConfig",
    "TokenInfo",
    "create_app",
    "mock_of",
]

logger = logging.getLogger(__name__)

OAUTH_MODULE = "giponext_conformance.mocks.giponext.oauth"

# Seconds between two looks at the database while waiting for a report. Each
# look is one indexed SQLite query; a report arrives on average half an
# interval before the wait notices it.
POLL_INTERVAL = 0.05


class GipoNextMock:
    """State, journal and configuration behind one GipoNext mock app."""

    def __init__(self, config: GipoNextConfig):
        self.config = config
        self.state = GipoNextState(config.db_path)
        self.journal = Journal(self.state.store)
        for settings in config.tenants.values():
            for key in settings.api_keys:
                register_secret(key)

    def close(self) -> None:
        self.state.close()

    def add_tenant(self, tenant_id=None, api_key=None, doctors=()) -> tuple[str, str]:
        """Add a tenant (generated id and key when not given); return (id, key).

        An existing tenant keeps its keys and doctors and gains the new ones.
        """
        tenant_id = tenant_id or generate_tenant_id()
        api_key = api_key or generate_api_key()
        register_secret(api_key)
        settings = self.config.tenants.setdefault(tenant_id, TenantConfig())
        if api_key not in settings.api_keys:
            settings.api_keys.append(api_key)
        settings.doctors.extend(
            code for code in doctors if code not in settings.doctors
        )
        return tenant_id, api_key

    def register_order(
        self, tenant: str, procedure_request: dict, patient=None
    ) -> Order:
        """Record an order sent to the RIS-PACS, so reports can reference it."""
        return self.state.register_order(tenant, procedure_request, patient)

    def deliveries(self, tenant=None, **filters) -> list[Delivery]:
        return self.state.deliveries(tenant, **filters)

    def retry_behaviour(self, tenant: str, report_id: str) -> RetryBehaviour:
        return self.state.retry_behaviour(tenant, report_id)

    def wait_for_delivery(
        self,
        tenant: str,
        order_id: str | None = None,
        *,
        after_seq: int = 0,
        timeout: float = 30.0,
        on_progress=None,
        progress_every: float = 5.0,
    ) -> Delivery | None:
        """Wait for a POST of a report for the tenant; return it or None on timeout.

        A delivery that names `order_id` in basedOn is preferred. Otherwise
        the first POST for the tenant after `after_seq` is returned if it
        names no other order GipoNext sent and no other patient than the
        order's. A report with a wrong reference must be judged too, but a
        late report for another order belongs to another flow. Faulted
        attempts (429/503) are skipped, because the sender is expected to
        retry them. `on_progress(elapsed)` is called every `progress_every`
        seconds.
        """
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        next_progress = started + progress_every
        while True:
            found = self._pick_delivery(tenant, order_id, after_seq)
            if found is not None:
                return found
            now = time.monotonic()
            if now >= deadline:
                return None
            if on_progress is not None and now >= next_progress:
                on_progress(now - started)
                next_progress = now + progress_every
            time.sleep(min(POLL_INTERVAL, max(deadline - now, 0)))

    def _pick_delivery(self, tenant, order_id, after_seq) -> Delivery | None:
        posts = [
            delivery
            for delivery in self.state.deliveries(tenant, after_seq=after_seq)
            if delivery.method == "POST" and delivery.retry_after is None
        ]
        if order_id is not None:
            for delivery in posts:
                if order_id in delivery.order_ids:
                    return delivery
        order = self.state.order(tenant, order_id) if order_id else None
        for delivery in posts:
            if self._names_other_order(tenant, delivery, order_id):
                continue
            if order is None or _names_patient(delivery, order.patient_id):
                return delivery
        return None

    def _names_other_order(self, tenant, delivery, order_id) -> bool:
        return any(
            named != order_id and self.state.order(tenant, named) is not None
            for named in delivery.order_ids
        )


def _names_patient(delivery: Delivery, patient_id: str | None) -> bool:
    """Tell whether a report names the patient, or names no patient at all."""
    resource = delivery.resource if isinstance(delivery.resource, dict) else {}
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if reference is None or patient_id is None:
        return True
    return reference == f"Patient/{patient_id}"


def mock_of(app: Flask) -> GipoNextMock:
    """Return the GipoNextMock behind an app made by create_app."""
    return app.extensions["giponext"]


def create_app(config: GipoNextConfig | None = None) -> Flask:
    """Build the GipoNext mock app for `config` (a fresh temporary one when None)."""
    config = config or GipoNextConfig()
    app = Flask(__name__)
    app.json.sort_keys = False
    mock = GipoNextMock(config)
    app.extensions["giponext"] = mock
    app.giponext = mock

    app.register_blueprint(reports_blueprint)
    _install_hooks(app)
    _install_error_handlers(app)
    _plug_oauth(app, mock)
    return app


def _plug_oauth(app: Flask, mock: GipoNextMock) -> None:
    try:
        module = importlib.import_module(OAUTH_MODULE)
    except ModuleNotFoundError as error:
        if error.name != OAUTH_MODULE:
            raise
        return
    init_app = getattr(module, "init_app", None)
    if init_app is not None:
        init_app(app, mock)


def _install_hooks(app: Flask) -> None:
    @app.before_request
    def start_clock():
        g.started = time.perf_counter()
        g.started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        g.findings = []
        g.tenant = None
        g.request_body = b""

    @app.after_request
    def journal_and_log(response):
        elapsed_ms = (
            time.perf_counter() - g.get("started", time.perf_counter())
        ) * 1000
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            elapsed_ms,
        )
        _journal(app, response, elapsed_ms)
        return response


def _journal(app: Flask, response, elapsed_ms: float) -> None:
    findings = g.get("findings") or []
    entry = JournalEntry(
        method=request.method,
        url=request.url,
        started=g.get("started_at", ""),
        status=response.status_code,
        verdict=verdict_for(response.status_code, findings),
        duration_ms=elapsed_ms,
        tenant=g.get("tenant"),
        findings=findings,
        request_headers=dict(request.headers),
        request_body=g.get("request_body") or b"",
        response_headers=dict(response.headers),
        response_body=response.get_data() if not response.is_streamed else b"",
    )
    try:
        mock_of(app).journal.record(entry)
    except sqlite3.Error as error:
        # The response matters more than its journal entry: log and go on.
        logger.error("cannot journal %s %s: %s", request.method, request.path, error)


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def answer_http_exception(error: HTTPException):
        code = {404: "not-found", 405: "not-supported", 413: "too-long"}.get(
            error.code, "invalid"
        )
        diagnostics = f"{request.method} {request.path}: {error.description}"
        if error.code == 404:
            diagnostics = (
                f"no endpoint at {request.path}: reports go to"
                " /fhir/r3/{userId}/DiagnosticReport[/{id}]"
            )
        outcome = simple_outcome("error", code, diagnostics)
        g.findings = outcome["issue"]
        headers = {}
        if error.code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return fhir_response(outcome, error.code or 400, headers)

    @app.errorhandler(Exception)
    def answer_unexpected(error: Exception):
        logger.exception("unexpected error on %s %s", request.method, request.path)
        outcome = simple_outcome(
            "fatal", "exception", f"the mock failed to handle this request: {error}"
        )
        g.findings = outcome["issue"]
        return fhir_response(outcome, 500)
