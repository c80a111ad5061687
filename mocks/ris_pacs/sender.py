"""Report sender of the mock RIS-PACS: delivers a DiagnosticReport to GipoNext.

After intake, the sender builds a final report for a stored order (generated
text in a real PDF, the order's doctors as performers) and POSTs it to
`{giponext_url}/DiagnosticReport` with its bearer credential. It runs when
triggered (`POST /$deliver-report/{id}` on the mock, or `deliver()`), or by
itself `report_delay` seconds after the order arrives.

Delivery follows the GipoNext rules for a sender (GAUTH-06). On 429 and 503
it waits for Retry-After, given as seconds or as an HTTP-date, or for a
bounded exponential backoff when the header is missing or malformed; it makes
a bounded number of attempts; and it never delivers the same report twice,
because each order's report and its delivery state are kept in SQLite
(`ris_pacs_reports`) and a report already delivered or rejected is not sent
again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from flask import Blueprint, current_app

from giponext_conformance.findings import simple_outcome
from giponext_conformance.fixtures.providers import (
    ASSIGNED_REPORTER_URL,
    GIPONEXT_SYSTEM,
    make_faker,
)
from giponext_conformance.mocks.storage import ResourceStore, now_instant
from giponext_conformance.redact import register_secret

from .errors import fhir_response
from .oauth_client import token_provider_for
from .report_quirks import ReportContext, apply_report_quirks, check_report_quirks

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS ris_pacs_reports (
    order_id TEXT PRIMARY KEY,
    report_id TEXT,
    report TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    message TEXT,
    updated_at TEXT NOT NULL
)
"""

# Delivery states. `delivered` and `rejected` are final: the report is never
# sent again. `failed` (attempts used up) may be triggered again.
# NOTE: a process killed mid-delivery leaves its report `sending`, and that
# report is then never sent again; the store has no recovery for it.
PENDING, SENDING, DELIVERED, REJECTED, FAILED = (
    "pending",
    "sending",
    "delivered",
    "rejected",
    "failed",
)
FINAL_STATES = frozenset({DELIVERED, REJECTED})

RETRY_STATUSES = frozenset({429, 503})

FHIR_JSON = "application/fhir+json; charset=utf-8"


@dataclass(frozen=True)
class SenderSettings:
    """Endpoint, credential and retry limits of the report sender.

    `giponext_url` is the tenant's FHIR base on GipoNext,
    `https://host:port/fhir/r3/{userId}`. The credential is `api_key`, or
    the access token that `token_provider` returns at each attempt.
    `report_delay` None means reports go out only when triggered. Waits are
    in seconds: a Retry-After longer than `max_retry_wait` ends the delivery
    as failed rather than retrying early.
    """

    giponext_url: str
    api_key: str | None = None
    token_provider: Callable[[], str] | None = None
    ca_bundle: str | None = None
    report_delay: float | None = None
    quirks: frozenset[str] = field(default_factory=frozenset)
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_retry_wait: float = 120.0
    timeout: float = 15.0

    def __post_init__(self):
        object.__setattr__(self, "quirks", check_report_quirks(self.quirks))
        url = self.giponext_url.rstrip("/")
        if url.endswith("/DiagnosticReport"):
            url = url[: -len("/DiagnosticReport")]
        object.__setattr__(self, "giponext_url", url)
        if self.max_attempts < 1:
            raise ValueError(
                f"max_attempts must be at least 1, not {self.max_attempts}"
            )
        if self.report_delay is not None and self.report_delay < 0:
            raise ValueError(
                f"report_delay must be >= 0 seconds, not {self.report_delay}"
            )
        register_secret(self.api_key)

    @property
    def endpoint(self) -> str:
        return f"{self.giponext_url}/DiagnosticReport"


@dataclass(frozen=True)
class DeliveryResult:
    """Delivery state of the report of one order."""

    order_id: str
    report_id: str | None
    state: str
    attempts: int
    last_status: int | None
    message: str
    sent_now: bool = True


class DeliveryError(Exception):
    """An order the sender cannot build a report for."""


def retry_delay(
    value: str | None, attempt: int, settings: SenderSettings, now=None
) -> float:
    """Return the seconds to wait before the next attempt.

    Retry-After (RFC 9110, section 10.2.3) is either delay-seconds or an
    HTTP-date; a date in the past means no wait. A missing or malformed
    value falls back to `backoff_base * 2**(attempt-1)`, capped at
    `backoff_cap`.
    """
    if value is not None:
        text = value.strip()
        if text.isdigit():
            return float(int(text))
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            current = now or datetime.now(UTC)
            return max((moment - current).total_seconds(), 0.0)
        logger.warning("malformed Retry-After %r, backing off instead", value[:60])
    return min(settings.backoff_base * 2 ** (attempt - 1), settings.backoff_cap)


def _doctor_from_reference(reference: dict | None) -> dict | None:
    if not isinstance(reference, dict):
        return None
    identifier = reference.get("identifier") or {}
    code = identifier.get("value")
    if not code:
        return None
    local = str(reference.get("reference", "")).rpartition("/")[2] or code
    return {
        "id": local,
        "display": reference.get("display", ""),
        "codice_fiscale": code,
    }


def _order_doctors(order: dict) -> list[dict]:
    """Return [reporter, technician] from the order, skipping those absent."""
    reporter = None
    for extension in order.get("extension", []) or []:
        if (
            isinstance(extension, dict)
            and extension.get("url") == ASSIGNED_REPORTER_URL
        ):
            reporter = _doctor_from_reference(extension.get("valueReference"))
    technician = _doctor_from_reference(order.get("performer"))
    return [doctor for doctor in (reporter, technician) if doctor is not None]


def giponext_order_id(order: dict, local_id: str) -> str:
    """Return GipoNext's id of a stored order (its identifier), else the local id."""
    for identifier in order.get("identifier", []) or []:
        if isinstance(identifier, dict) and identifier.get("system") == GIPONEXT_SYSTEM:
            return identifier.get("value") or local_id
    return local_id


class ReportSender:
    """Builds and delivers the reports of the orders in a RIS-PACS store."""

    def __init__(
        self, store: ResourceStore, settings: SenderSettings, *, sleep=time.sleep
    ):
        self.store = store
        self.settings = settings
        self._sleep = sleep
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._closed = False
        with store.transaction() as connection:
            connection.execute(SCHEMA)

    # -- building ---------------------------------------------------------------

    def build_report(self, order_id: str) -> tuple[dict, ReportContext]:
        """Build the report for a stored order, quirks applied."""
        order = self.store.get("ProcedureRequest", order_id)
        if order is None:
            raise DeliveryError(
                f"ProcedureRequest/{order_id} is not stored on this RIS-PACS"
            )

        subject = (order.get("subject") or {}).get("reference", "")
        patient_id = subject.rpartition("/")[2]
        patient = self.store.get("Patient", patient_id) or {
            "id": patient_id,
            "name": [{"family": "Paziente", "given": [""]}],
        }
        fake = make_faker(zlib.crc32(order_id.encode()))
        doctors = _order_doctors(order) or [fake.gipo_doctor()]
        gipo_id = giponext_order_id(order, order_id)
        based_on = {**order, "id": gipo_id}

        report = fake.gipo_diagnostic_report([based_on], patient, doctors)
        context = ReportContext(gipo_id, order_id, patient_id)
        return apply_report_quirks(report, self.settings.quirks, context), context

    # -- state ------------------------------------------------------------------

    def _row(self, connection, order_id):
        return connection.execute(
            "SELECT report_id, report, state, attempts, last_status, message"
            " FROM ris_pacs_reports WHERE order_id = ?",
            (order_id,),
        ).fetchone()

    def _claim(self, order_id: str) -> tuple[dict | None, DeliveryResult | None]:
        """Mark the order's report as being sent; return it, or why it is not sent."""
        with self.store.transaction() as connection:
            row = self._row(connection, order_id)
            if row is not None and row[2] in FINAL_STATES | {SENDING}:
                return None, DeliveryResult(
                    order_id,
                    row[0],
                    row[2],
                    row[3],
                    row[4],
                    row[5] or "",
                    sent_now=False,
                )
            if row is not None:
                report = json.loads(row[1])
            else:
                report, _context = self.build_report(order_id)
                connection.execute(
                    "INSERT INTO ris_pacs_reports (order_id, report_id, report, state,"
                    " updated_at) VALUES (?, ?, ?, ?, ?)",
                    (
                        order_id,
                        report.get("id"),
                        json.dumps(report),
                        PENDING,
                        now_instant(),
                    ),
                )
            connection.execute(
                "UPDATE ris_pacs_reports SET state = ?, updated_at = ?"
                " WHERE order_id = ?",
                (SENDING, now_instant(), order_id),
            )
            return report, None

    def _finish(self, order_id, state, attempts, status, message) -> None:
        with self.store.transaction() as connection:
            connection.execute(
                "UPDATE ris_pacs_reports SET state = ?, attempts = attempts + ?,"
                " last_status = ?, message = ?, updated_at = ? WHERE order_id = ?",
                (state, attempts, status, message, now_instant(), order_id),
            )

    def status(self, order_id: str) -> DeliveryResult | None:
        """Return the stored delivery state of an order's report, or None."""
        row = self._row(self.store._connection(), order_id)
        if row is None:
            return None
        return DeliveryResult(
            order_id, row[0], row[2], row[3], row[4], row[5] or "", False
        )

    def busy(self) -> bool:
        """Tell whether a delivery is scheduled, running, or has a report in flight."""
        with self._lock:
            if any(timer.is_alive() for timer in self._timers):
                return True
        row = (
            self.store._connection()
            .execute("SELECT 1 FROM ris_pacs_reports WHERE state = ?", (SENDING,))
            .fetchone()
        )
        return row is not None

    def report_of(self, order_id: str) -> dict | None:
        row = self._row(self.store._connection(), order_id)
        return json.loads(row[1]) if row else None

    # -- delivering ----------------------------------------------------------------

    def _headers(self) -> dict:
        credential = self.settings.api_key
        if self.settings.token_provider is not None:
            credential = self.settings.token_provider()
            register_secret(credential)
        headers = {"Content-Type": FHIR_JSON, "Accept": "application/fhir+json"}
        if credential:
            headers["Authorization"] = f"Bearer {credential}"
        return headers

    def _post(self, body: bytes) -> requests.Response:
        with requests.Session() as session:
            # Proxy and CA variables of the environment must not redirect or
            # re-verify a delivery aimed at the configured endpoint.
            session.trust_env = False
            return self._post_with(session, body)

    def _post_with(self, session: requests.Session, body: bytes) -> requests.Response:
        return session.post(
            self.settings.endpoint,
            data=body,
            headers=self._headers(),
            timeout=self.settings.timeout,
            verify=self.settings.ca_bundle or True,
            allow_redirects=False,
        )

    def deliver(self, order_id: str) -> DeliveryResult:
        """Deliver the report of `order_id` once; return what happened.

        A report already delivered or rejected is not sent again, and the
        result then has `sent_now` False.
        """
        report, earlier = self._claim(order_id)
        if earlier is not None:
            logger.info(
                "report of order %s already %s, not sent again", order_id, earlier.state
            )
            return earlier

        report_id = report.get("id")
        try:
            state, attempts, status, message = self._send(order_id, report)
        except BaseException:
            self._finish(order_id, FAILED, 0, None, "delivery interrupted")
            raise
        self._finish(order_id, state, attempts, status, message)
        return DeliveryResult(order_id, report_id, state, attempts, status, message)

    def _send(self, order_id: str, report: dict) -> tuple[str, int, int | None, str]:
        body = json.dumps(report, ensure_ascii=False).encode("utf-8")
        status = None
        message = ""
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                response = self._post(body)
            except requests.RequestException as error:
                status, message = None, f"transport error: {type(error).__name__}"
                logger.warning(
                    "report of order %s attempt %s: %s", order_id, attempt, message
                )
                self._wait(retry_delay(None, attempt, self.settings))
                continue

            status = response.status_code
            logger.info(
                "report %s of order %s attempt %s: %s",
                report.get("id"),
                order_id,
                attempt,
                status,
            )
            if status in (200, 201):
                return DELIVERED, attempt, status, "accepted"
            if status == 409:
                # GipoNext already stores this id, so an earlier attempt arrived.
                return DELIVERED, attempt, status, "already stored on GipoNext"
            if status not in RETRY_STATUSES and status < 500:
                return REJECTED, attempt, status, _diagnostics(response)

            message = f"HTTP {status}"
            if attempt == self.settings.max_attempts:
                break
            delay = self._retry_wait(response, attempt)
            if delay is None:
                return FAILED, attempt, status, "Retry-After exceeds the longest wait"
            self._wait(delay)
        return FAILED, self.settings.max_attempts, status, message

    def _retry_wait(self, response, attempt) -> float | None:
        if "ignores-retry-after" in self.settings.quirks:
            return 0.0
        delay = retry_delay(response.headers.get("Retry-After"), attempt, self.settings)
        if delay > self.settings.max_retry_wait:
            logger.warning("Retry-After of %.0f s exceeds the longest wait", delay)
            return None
        return delay

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)

    # -- scheduling ------------------------------------------------------------------

    def schedule(
        self, order_id: str, delay: float | None = None
    ) -> threading.Timer | None:
        """Deliver the order's report after `delay` (default `report_delay`) seconds.

        Returns the timer, or None when no delay is configured.
        """
        delay = self.settings.report_delay if delay is None else delay
        if delay is None or self._closed:
            return None
        timer = threading.Timer(delay, self._deliver_logged, args=(order_id,))
        timer.daemon = True
        with self._lock:
            self._timers.append(timer)
        timer.start()
        return timer

    def _deliver_logged(self, order_id: str) -> None:
        try:
            result = self.deliver(order_id)
        except DeliveryError as error:
            logger.error("cannot deliver the report of order %s: %s", order_id, error)
            return
        logger.info(
            "report of order %s: %s after %s attempts (%s)",
            order_id,
            result.state,
            result.attempts,
            result.last_status,
        )

    def close(self) -> None:
        """Cancel scheduled deliveries that have not started."""
        self._closed = True
        with self._lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()


def _diagnostics(response: requests.Response) -> str:
    try:
        outcome = response.json()
        issues = outcome.get("issue", [])
        texts = [
            issue.get("diagnostics", "") for issue in issues if isinstance(issue, dict)
        ]
        return f"HTTP {response.status_code}: " + "; ".join(
            text for text in texts if text
        )
    except ValueError:
        return f"HTTP {response.status_code}"


# -- wiring into the RIS-PACS app ------------------------------------------------------

EXTENSION = "ris_pacs_sender"

blueprint = Blueprint("ris_pacs_sender", __name__)


def settings_from_config(config) -> SenderSettings | None:
    """Return the sender settings of a RisPacsConfig, None when it sends no reports."""
    if not config.giponext_url:
        return None
    # With OAuth configured, a device-flow token replaces the API key.
    token_provider = None
    if config.giponext_oauth is not None:
        token_provider = token_provider_for(
            config.giponext_oauth, config.giponext_url, config.giponext_ca_bundle
        )
    return SenderSettings(
        giponext_url=config.giponext_url,
        api_key=config.giponext_api_key,
        token_provider=token_provider,
        ca_bundle=config.giponext_ca_bundle,
        report_delay=config.report_delay,
        quirks=frozenset(config.report_quirks),
    )


def install_sender(app, store: ResourceStore, settings: SenderSettings | None) -> None:
    """Attach a sender to a RIS-PACS app, with its trigger endpoint.

    With `settings` None the app has no sender: triggers get 404 and orders
    are not followed by reports.
    """
    sender = ReportSender(store, settings) if settings is not None else None
    app.extensions[EXTENSION] = sender
    app.register_blueprint(blueprint)


def attach_sender(app, settings: SenderSettings) -> ReportSender:
    """Give a running RIS-PACS app a sender, replacing any it had.

    For the outcome flow of a run, where the GipoNext endpoint is known only
    after the RIS-PACS started.
    """
    previous = app.extensions.get(EXTENSION)
    if previous is not None:
        previous.close()
    sender = ReportSender(app.extensions["ris_pacs"].store, settings)
    app.extensions[EXTENSION] = sender
    return sender


def sender_of(app) -> ReportSender | None:
    return app.extensions.get(EXTENSION)


def schedule_report(order_id: str) -> None:
    """Schedule the report of a newly created order, if the app delivers reports."""
    sender = current_app.extensions.get(EXTENSION)
    if sender is not None:
        sender.schedule(order_id)


@blueprint.post("/$deliver-report/<order_id>")
def trigger_delivery(order_id):
    sender = current_app.extensions.get(EXTENSION)
    if sender is None:
        outcome = simple_outcome(
            "error",
            "not-supported",
            "this RIS-PACS has no GipoNext endpoint configured: start it with"
            " --giponext-url and --giponext-api-key",
        )
        return fhir_response(outcome, 404)
    try:
        result = sender.deliver(order_id)
    except DeliveryError as error:
        return fhir_response(simple_outcome("error", "not-found", str(error)), 404)

    severity = "information" if result.state == DELIVERED else "error"
    outcome = simple_outcome(
        severity,
        "informational" if severity == "information" else "processing",
        f"report {result.report_id} of ProcedureRequest/{order_id}: {result.state}"
        f" after {result.attempts} attempt(s), last status {result.last_status}:"
        f" {result.message}",
    )
    return fhir_response(outcome, 200 if result.state == DELIVERED else 502)
