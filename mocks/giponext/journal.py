"""Audit journal of the GipoNext mock: every request it handled, with its verdict.

Each entry keeps the method, URL, status, duration, the verdict the mock
reached, the findings behind it, and the headers and bodies of the exchange
with every secret masked by giponext_conformance.redact. Entries live in the
mock's SQLite file, so they survive a restart, and export as HAR 1.2 (for
browser tools and HAR viewers) or as plain JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from giponext_conformance import __version__
from giponext_conformance.mocks.storage import ResourceStore
from giponext_conformance.redact import redact_headers, redact_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS giponext_journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    tenant TEXT,
    findings TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body TEXT NOT NULL,
    response_headers TEXT NOT NULL,
    response_body TEXT NOT NULL
)
"""

# Characters of each body kept in the journal. A report's base64 PDF can be
# megabytes long; the journal keeps the start, which shows its shape.
BODY_LIMIT = 64 * 1024

VERDICTS = ("accepted", "accepted-with-warnings", "rejected", "error")


@dataclass
class JournalEntry:
    """One request and the mock's response, secrets already masked."""

    method: str
    url: str
    status: int
    verdict: str
    started: str = ""
    duration_ms: float = 0.0
    tenant: str | None = None
    findings: list[dict] = field(default_factory=list)
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    seq: int | None = None


def verdict_for(status: int, findings) -> str:
    """Name the outcome of a request from its status and findings."""
    if status >= 500:
        return "error"
    if status >= 400:
        return "rejected"
    if any(finding.get("severity") == "warning" for finding in findings):
        return "accepted-with-warnings"
    return "accepted"


def redact_body(body: bytes | str | None) -> str:
    """Decode, mask secrets in and shorten a body for the journal."""
    if not body:
        return ""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    cut = len(text) > BODY_LIMIT
    text = redact_text(text[:BODY_LIMIT])
    if cut:
        text += f"... [cut at {BODY_LIMIT} characters]"
    return text


class Journal:
    """Journal entries in the `giponext_journal` table of a ResourceStore file."""

    def __init__(self, store: ResourceStore):
        self.store = store
        with store.transaction() as connection:
            connection.execute(SCHEMA)

    def record(self, entry: JournalEntry) -> int:
        """Store an entry after masking its headers and bodies; return its seq."""
        started = entry.started or datetime.now(UTC).isoformat(timespec="milliseconds")
        row = (
            started,
            round(entry.duration_ms, 3),
            entry.method,
            redact_text(entry.url),
            entry.status,
            entry.verdict,
            entry.tenant,
            json.dumps(entry.findings, ensure_ascii=False),
            json.dumps(redact_headers(entry.request_headers)),
            redact_body(entry.request_body),
            json.dumps(redact_headers(entry.response_headers)),
            redact_body(entry.response_body),
        )
        with self.store.transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO giponext_journal (started, duration_ms, method, url,"
                " status, verdict, tenant, findings, request_headers, request_body,"
                " response_headers, response_body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return cursor.lastrowid

    def entries(
        self, *, tenant=None, after_seq: int = 0, limit=None
    ) -> list[JournalEntry]:
        """Return entries in arrival order, optionally for one tenant."""
        query = (
            "SELECT seq, started, duration_ms, method, url, status, verdict, tenant,"
            " findings, request_headers, request_body, response_headers,"
            " response_body FROM giponext_journal WHERE seq > ?"
        )
        parameters: list = [after_seq]
        if tenant is not None:
            query += " AND tenant = ?"
            parameters.append(tenant)
        query += " ORDER BY seq"
        if limit is not None:
            query += " LIMIT ?"
            parameters.append(int(limit))
        rows = self.store._connection().execute(query, parameters).fetchall()
        return [_entry(row) for row in rows]


def _entry(row) -> JournalEntry:
    return JournalEntry(
        seq=row[0],
        started=row[1],
        duration_ms=row[2],
        method=row[3],
        url=row[4],
        status=row[5],
        verdict=row[6],
        tenant=row[7],
        findings=json.loads(row[8]),
        request_headers=json.loads(row[9]),
        request_body=row[10],
        response_headers=json.loads(row[11]),
        response_body=row[12],
    )


def open_journal(path) -> tuple[ResourceStore, Journal]:
    """Open the journal of an existing mock database file for reading."""
    store = ResourceStore(path)
    return store, Journal(store)


# -- export ----------------------------------------------------------------


def export_json(entries) -> dict:
    """Return the entries as a JSON document."""
    return {
        "creator": {"name": "giponext-conformance", "version": __version__},
        "entries": [asdict(entry) for entry in entries],
    }


def _har_headers(headers: dict) -> list[dict]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def _content_type(headers: dict) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return ""


def _query_string(url: str) -> list[dict]:
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    return [{"name": name, "value": value} for name, value in pairs]


def _har_entry(entry: JournalEntry) -> dict:
    request = {
        "method": entry.method,
        "url": entry.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _har_headers(entry.request_headers),
        "queryString": _query_string(entry.url),
        "headersSize": -1,
        "bodySize": len(entry.request_body.encode("utf-8")),
    }
    if entry.request_body:
        request["postData"] = {
            "mimeType": _content_type(entry.request_headers),
            "text": entry.request_body,
        }
    try:
        status_text = HTTPStatus(entry.status).phrase
    except ValueError:
        status_text = ""
    response = {
        "status": entry.status,
        "statusText": status_text,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _har_headers(entry.response_headers),
        "content": {
            "size": len(entry.response_body.encode("utf-8")),
            "mimeType": _content_type(entry.response_headers),
            "text": entry.response_body,
        },
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": len(entry.response_body.encode("utf-8")),
    }
    # HAR 1.2 allows custom fields whose names start with an underscore.
    return {
        "startedDateTime": entry.started,
        "time": entry.duration_ms,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": entry.duration_ms, "receive": 0},
        "comment": f"verdict: {entry.verdict}",
        "_verdict": entry.verdict,
        "_tenant": entry.tenant,
        "_findings": entry.findings,
    }


def export_har(entries) -> dict:
    """Return the entries as a HAR 1.2 log."""
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "giponext-conformance", "version": __version__},
            "pages": [],
            "entries": [_har_entry(entry) for entry in entries],
        }
    }
