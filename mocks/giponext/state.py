"""Stored state of the GipoNext mock, in the SQLite file of a ResourceStore.

Tables (all prefixed `giponext_`):
- orders: the ProcedureRequests the harness sent to a RIS-PACS on behalf of a
  tenant, with the id of their patient, so that reports can be checked
  against them (DR-03, DR-04);
- reports: every version of every DiagnosticReport, per tenant; a
  withdrawal is a version whose `deleted` flag is set;
- deliveries: every POST, PUT and DELETE of a report, accepted or not, with
  the time it arrived, its status and the Retry-After returned, so that a
  sender's retry behaviour can be judged (GAUTH-06) and the harness can wait
  for the report of an order (FLOW-02).
The audit journal lives in the same file (see journal.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal

from giponext_conformance.mocks.storage import ResourceStore, now_instant
from giponext_conformance.validation import dumps

SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS giponext_orders (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        patient_id TEXT,
        procedure_request TEXT NOT NULL,
        patient TEXT,
        registered_at TEXT NOT NULL,
        PRIMARY KEY (tenant, id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS giponext_reports (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        version_id INTEGER NOT NULL,
        last_updated TEXT NOT NULL,
        json TEXT,
        deleted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, id, version_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS giponext_deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        report_id TEXT,
        method TEXT NOT NULL,
        received_at REAL NOT NULL,
        status INTEGER NOT NULL,
        retry_after INTEGER,
        order_ids TEXT NOT NULL,
        findings TEXT NOT NULL,
        body TEXT
    )
    """,
    # Codici fiscali of the doctors named in registered orders, so that a
    # report's performers are matched with one lookup each.
    """
    CREATE TABLE IF NOT EXISTS giponext_doctors (
        tenant TEXT NOT NULL,
        codice_fiscale TEXT NOT NULL,
        PRIMARY KEY (tenant, codice_fiscale)
    )
    """,
    "CREATE INDEX IF NOT EXISTS giponext_deliveries_tenant"
    " ON giponext_deliveries (tenant, report_id)",
)

PROCEDURE_REQUEST_PREFIX = "ProcedureRequest/"
CODICE_FISCALE_SYSTEM = "urn:oid:2.16.840.1.113883.2.9.4.3.2"


class ReportExistsError(Exception):
    """A POST for a report id that has a current, unwithdrawn version."""


class ReportNotFoundError(Exception):
    """A report id the tenant never sent."""


class ReportGoneError(Exception):
    """A report whose current version is a withdrawal."""


class VersionConflictError(Exception):
    """An If-Match version that is not the current version."""

    def __init__(self, expected: str, current: int):
        super().__init__(
            f"If-Match names version {expected}, the current one is {current}"
        )
        self.expected = expected
        self.current = current


@dataclass(frozen=True)
class Order:
    """A ProcedureRequest the harness sent for a tenant, with its patient id."""

    tenant: str
    id: str
    patient_id: str | None
    procedure_request: dict
    patient: dict | None


@dataclass(frozen=True)
class Delivery:
    """One request that sent, corrected or withdrew a report."""

    seq: int
    tenant: str
    report_id: str | None
    method: str
    received_at: float
    status: int
    retry_after: int | None
    order_ids: tuple[str, ...]
    findings: tuple[dict, ...]
    body: str | None

    @property
    def resource(self) -> dict | None:
        """The parsed body when it is a JSON object, else None."""
        try:
            parsed = json.loads(self.body or "")
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None


@dataclass(frozen=True)
class RetryBehaviour:
    """Retry behaviour of a sender toward the faults returned for one report.

    `early_retries` counts attempts that arrived before the Retry-After of
    the previous faulted attempt had elapsed; `duplicate_deliveries` counts
    POSTs of the report after one had been accepted.
    """

    attempts: int
    faults: int
    early_retries: int
    accepted: int
    duplicate_deliveries: int
    shortest_wait: float | None

    @property
    def honoured_retry_after(self) -> bool:
        return self.early_retries == 0

    @property
    def delivered_once(self) -> bool:
        return self.accepted <= 1 and self.duplicate_deliveries == 0


def referenced_order_ids(report: dict | None) -> list[str]:
    """Return the ids of `ProcedureRequest/{id}` references in basedOn."""
    if not isinstance(report, dict) or not isinstance(report.get("basedOn"), list):
        return []
    ids = []
    for entry in report["basedOn"]:
        reference = entry.get("reference") if isinstance(entry, dict) else None
        if isinstance(reference, str) and reference.startswith(
            PROCEDURE_REQUEST_PREFIX
        ):
            ids.append(reference[len(PROCEDURE_REQUEST_PREFIX) :])
    return ids


def mentioned_order_ids(report: dict | None) -> list[str]:
    """Return the order ids basedOn names, by reference or by identifier value.

    An identifier-only basedOn breaks DR-03, but it still shows which order
    the report is for, so the harness can find the report and judge it.
    """
    ids = referenced_order_ids(report)
    if not isinstance(report, dict) or not isinstance(report.get("basedOn"), list):
        return ids
    for entry in report["basedOn"]:
        identifier = entry.get("identifier") if isinstance(entry, dict) else None
        value = identifier.get("value") if isinstance(identifier, dict) else None
        if isinstance(value, str) and value not in ids:
            ids.append(value)
    return ids


def codici_fiscali_in(value) -> set[str]:
    """Return every codice fiscale identifier value found anywhere in `value`."""
    found = set()
    if isinstance(value, dict):
        if value.get("system") == CODICE_FISCALE_SYSTEM and isinstance(
            value.get("value"), str
        ):
            found.add(value["value"].upper())
        for item in value.values():
            found |= codici_fiscali_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= codici_fiscali_in(item)
    return found


def order_doctors(procedure_request: dict) -> set[str]:
    """Return the codici fiscali of the doctors an order names.

    An order names its performer and its assigned reporter by codice fiscale,
    so GipoNext has them on record. The order's subject (the patient) is
    left out.
    """
    return codici_fiscali_in(
        {key: value for key, value in procedure_request.items() if key != "subject"}
    )


def _stamped(report: dict, report_id: str, version_id: int, last_updated: str) -> dict:
    stored = dict(report)
    meta = dict(stored.get("meta") or {})
    meta["versionId"] = str(version_id)
    meta["lastUpdated"] = last_updated
    stored["meta"] = meta
    stored["resourceType"] = "DiagnosticReport"
    stored["id"] = report_id
    return stored


class GipoNextState:
    """Orders, reports and deliveries of every tenant, in one SQLite file."""

    def __init__(self, path=None):
        self.store = ResourceStore(path)
        self.path = self.store.path
        with self.store.transaction() as connection:
            for statement in SCHEMA:
                connection.execute(statement)

    def close(self) -> None:
        self.store.close()

    def _read(self):
        return self.store._connection()

    # -- orders ---------------------------------------------------------------

    def register_order(
        self, tenant: str, procedure_request: dict, patient=None
    ) -> Order:
        """Record a ProcedureRequest the harness sent for `tenant`.

        The patient id comes from `patient.id` when a Patient is given, else
        from the order's `subject.reference` (`Patient/{id}`). Registering
        the same order id again replaces it.
        """
        order_id = procedure_request.get("id")
        if not order_id:
            raise ValueError("a ProcedureRequest to register needs an id")
        patient_id = _patient_id(procedure_request, patient)
        with self.store.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO giponext_orders"
                " (tenant, id, patient_id, procedure_request, patient, registered_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    tenant,
                    order_id,
                    patient_id,
                    dumps(procedure_request),
                    dumps(patient) if patient is not None else None,
                    now_instant(),
                ),
            )
            connection.executemany(
                "INSERT OR IGNORE INTO giponext_doctors (tenant, codice_fiscale)"
                " VALUES (?, ?)",
                [(tenant, code) for code in sorted(order_doctors(procedure_request))],
            )
        return Order(tenant, order_id, patient_id, procedure_request, patient)

    def order(self, tenant: str, order_id: str) -> Order | None:
        row = (
            self._read()
            .execute(
                "SELECT patient_id, procedure_request, patient FROM giponext_orders"
                " WHERE tenant = ? AND id = ?",
                (tenant, order_id),
            )
            .fetchone()
        )
        if row is None:
            return None
        patient = json.loads(row[2], parse_float=Decimal) if row[2] else None
        procedure_request = json.loads(row[1], parse_float=Decimal)
        return Order(tenant, order_id, row[0], procedure_request, patient)

    def registered_doctors(self, tenant: str, codes) -> set[str]:
        """Return those of `codes` that the tenant's registered orders name."""
        connection = self._read()
        found = set()
        for code in codes:
            row = connection.execute(
                "SELECT 1 FROM giponext_doctors"
                " WHERE tenant = ? AND codice_fiscale = ?",
                (tenant, code.upper()),
            ).fetchone()
            if row is not None:
                found.add(code.upper())
        return found

    def orders(self, tenant: str) -> list[Order]:
        rows = (
            self._read()
            .execute(
                "SELECT id FROM giponext_orders WHERE tenant = ? ORDER BY id", (tenant,)
            )
            .fetchall()
        )
        return [self.order(tenant, row[0]) for row in rows]

    # -- reports --------------------------------------------------------------

    def _current(self, connection, tenant: str, report_id: str):
        return connection.execute(
            "SELECT version_id, json, deleted FROM giponext_reports"
            " WHERE tenant = ? AND id = ? ORDER BY version_id DESC LIMIT 1",
            (tenant, report_id),
        ).fetchone()

    def _insert(self, connection, tenant, report_id, version_id, report) -> dict | None:
        last_updated = now_instant()
        stored = None
        if report is not None:
            stored = _stamped(report, report_id, version_id, last_updated)
        connection.execute(
            "INSERT INTO giponext_reports"
            " (tenant, id, version_id, last_updated, json, deleted)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                tenant,
                report_id,
                version_id,
                last_updated,
                dumps(stored) if stored else None,
                int(stored is None),
            ),
        )
        return stored

    def create_report(self, tenant: str, report: dict) -> dict:
        """Store a new report; raise ReportExistsError for a current id.

        A withdrawn id may be sent again: it gets the next version number.
        """
        report_id = report["id"]
        with self.store.transaction() as connection:
            row = self._current(connection, tenant, report_id)
            if row is not None and not row[2]:
                raise ReportExistsError(f"DiagnosticReport/{report_id} already exists")
            next_version = row[0] + 1 if row else 1
            return self._insert(connection, tenant, report_id, next_version, report)

    def _check_current(self, connection, tenant, report_id, if_match):
        row = self._current(connection, tenant, report_id)
        if row is None:
            raise ReportNotFoundError(f"DiagnosticReport/{report_id} is unknown")
        if row[2]:
            raise ReportGoneError(f"DiagnosticReport/{report_id} was withdrawn")
        if if_match is not None and if_match != str(row[0]):
            raise VersionConflictError(if_match, row[0])
        return row

    def update_report(
        self, tenant: str, report_id: str, report: dict, if_match: str | None = None
    ) -> dict:
        """Store a correction as the next version.

        The version check and the write run in one BEGIN IMMEDIATE
        transaction, so two concurrent corrections cannot both pass the same
        If-Match and no update is lost.
        """
        with self.store.transaction() as connection:
            row = self._check_current(connection, tenant, report_id, if_match)
            return self._insert(connection, tenant, report_id, row[0] + 1, report)

    def withdraw_report(
        self, tenant: str, report_id: str, if_match: str | None = None
    ) -> int:
        """Record a withdrawal; return its version number."""
        with self.store.transaction() as connection:
            row = self._check_current(connection, tenant, report_id, if_match)
            self._insert(connection, tenant, report_id, row[0] + 1, None)
            return row[0] + 1

    def report(self, tenant: str, report_id: str) -> dict | None:
        """Return the current version, or None when unknown or withdrawn."""
        row = self._current(self._read(), tenant, report_id)
        if row is None or row[2]:
            return None
        return json.loads(row[1], parse_float=Decimal)

    def report_status(self, tenant: str, report_id: str) -> str:
        """Return 'current', 'withdrawn' or 'unknown'."""
        row = self._current(self._read(), tenant, report_id)
        if row is None:
            return "unknown"
        return "withdrawn" if row[2] else "current"

    def report_versions(self, tenant: str, report_id: str) -> list[tuple[int, bool]]:
        """Return (version_id, withdrawn) pairs, oldest first."""
        rows = (
            self._read()
            .execute(
                "SELECT version_id, deleted FROM giponext_reports"
                " WHERE tenant = ? AND id = ? ORDER BY version_id",
                (tenant, report_id),
            )
            .fetchall()
        )
        return [(version, bool(deleted)) for version, deleted in rows]

    def count_reports(self, tenant: str | None = None) -> int:
        """Return how many report versions are stored, withdrawals included."""
        query = "SELECT COUNT(*) FROM giponext_reports"
        parameters: tuple = ()
        if tenant is not None:
            query += " WHERE tenant = ?"
            parameters = (tenant,)
        return self._read().execute(query, parameters).fetchone()[0]

    # -- deliveries -----------------------------------------------------------

    def record_delivery(
        self,
        tenant: str,
        method: str,
        status: int,
        *,
        report_id=None,
        report=None,
        body: str | None = None,
        findings=(),
        retry_after=None,
        received_at=None,
    ) -> int:
        """Record one report request; return its sequence number."""
        with self.store.transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO giponext_deliveries"
                " (tenant, report_id, method, received_at, status, retry_after,"
                "  order_ids, findings, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant,
                    report_id,
                    method,
                    received_at if received_at is not None else time.time(),
                    status,
                    retry_after,
                    json.dumps(mentioned_order_ids(report)),
                    json.dumps([dict(item) for item in findings]),
                    body,
                ),
            )
            return cursor.lastrowid

    def count_faults(self, tenant: str, report_id: str) -> int:
        """Return how many deliveries of a report got a fault in response."""
        return (
            self._read()
            .execute(
                "SELECT COUNT(*) FROM giponext_deliveries WHERE tenant = ?"
                " AND report_id = ? AND method = 'POST' AND retry_after IS NOT NULL",
                (tenant, report_id),
            )
            .fetchone()[0]
        )

    def deliveries(
        self, tenant: str | None = None, *, report_id=None, after_seq: int = 0
    ) -> list[Delivery]:
        """Return recorded deliveries in arrival order, filtered as asked."""
        query = (
            "SELECT seq, tenant, report_id, method, received_at, status, retry_after,"
            " order_ids, findings, body FROM giponext_deliveries WHERE seq > ?"
        )
        parameters: list = [after_seq]
        if tenant is not None:
            query += " AND tenant = ?"
            parameters.append(tenant)
        if report_id is not None:
            query += " AND report_id = ?"
            parameters.append(report_id)
        rows = self._read().execute(query + " ORDER BY seq", parameters).fetchall()
        return [_delivery(row) for row in rows]

    def last_delivery_seq(self) -> int:
        row = (
            self._read().execute("SELECT MAX(seq) FROM giponext_deliveries").fetchone()
        )
        return row[0] or 0

    def retry_behaviour(self, tenant: str, report_id: str) -> RetryBehaviour:
        """Judge how a sender retried the POSTs of one report (GAUTH-06)."""
        posts = [
            delivery
            for delivery in self.deliveries(tenant, report_id=report_id)
            if delivery.method == "POST"
        ]
        early = 0
        waits = []
        accepted = 0
        duplicates = 0
        for previous, current in zip(posts, posts[1:], strict=False):
            if previous.retry_after is None:
                continue
            waited = current.received_at - previous.received_at
            waits.append(waited)
            if waited < previous.retry_after:
                early += 1
        for delivery in posts:
            if accepted:
                duplicates += 1
            if delivery.status == 201:
                accepted += 1
        faults = sum(1 for delivery in posts if delivery.retry_after is not None)
        return RetryBehaviour(
            attempts=len(posts),
            faults=faults,
            early_retries=early,
            accepted=accepted,
            duplicate_deliveries=duplicates,
            shortest_wait=min(waits) if waits else None,
        )


def _patient_id(procedure_request: dict, patient) -> str | None:
    if isinstance(patient, dict) and patient.get("id"):
        return patient["id"]
    subject = procedure_request.get("subject") or {}
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if isinstance(reference, str) and reference.startswith("Patient/"):
        return reference[len("Patient/") :]
    return None


def _delivery(row) -> Delivery:
    return Delivery(
        seq=row[0],
        tenant=row[1],
        report_id=row[2],
        method=row[3],
        received_at=row[4],
        status=row[5],
        retry_after=row[6],
        order_ids=tuple(json.loads(row[7])),
        findings=tuple(json.loads(row[8])),
        body=row[9],
    )
