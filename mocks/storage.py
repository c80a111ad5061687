"""SQLite store of FHIR resources with versions, shared by the mocks.

Every version of a resource is one row of the `resources` table; the current
version is the one with the highest `version_id`, and a deletion is a version
whose `deleted` flag is set. The store maintains `meta.versionId` and
`meta.lastUpdated` (FHIR STU3 Resource.meta) itself, so handlers never set
them.

Resources are written with the validation package's `dumps` and read back
with fractions as decimal.Decimal, as the validation engine parses them, so
a decimal keeps its digits (36.150 stays 36.150). Serialise what the store
returns with that `dumps`, not json.dumps.

Each thread gets its own connection, the database runs in WAL mode, and every
write runs inside one transaction, so a request that fails halfway leaves
nothing behind. Mocks that need more tables create them on the same file
through `transaction()`, which also lets them combine their writes with
resource writes atomically.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from giponext_conformance.validation import dumps

logger = logging.getLogger(__name__)

# Milliseconds that a writer waits for another thread's lock before failing.
BUSY_TIMEOUT_MS = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    resource_type TEXT NOT NULL,
    id TEXT NOT NULL,
    version_id INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    json TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (resource_type, id, version_id)
)
"""


class ResourceExistsError(Exception):
    """A create for an id that already has a current, undeleted version."""


@dataclass(frozen=True)
class Version:
    """One stored version of a resource; `resource` is None for a deletion."""

    resource_type: str
    id: str
    version_id: int
    last_updated: str
    deleted: bool
    resource: dict | None


@dataclass(frozen=True)
class PutResult:
    """Outcome of `ResourceStore.put`: the current resource and what happened."""

    resource: dict
    created: bool
    changed: bool


def _loads(text: str):
    return json.loads(text, parse_float=Decimal)


def now_instant() -> str:
    """Return the current time as a FHIR instant in UTC with milliseconds."""
    moment = datetime.now(UTC).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


def content_of(resource: dict) -> dict:
    """Return the resource without the meta elements the store maintains.

    Two resources with the same content are the same version, whatever their
    versionId and lastUpdated are.
    """
    content = dict(resource)
    meta = {
        key: value
        for key, value in (content.pop("meta", None) or {}).items()
        if key not in ("versionId", "lastUpdated")
    }
    if meta:
        content["meta"] = meta
    return content


def _with_meta(resource: dict, version_id: int, last_updated: str) -> dict:
    stored = content_of(resource)
    meta = dict(stored.get("meta", {}))
    meta["versionId"] = str(version_id)
    meta["lastUpdated"] = last_updated
    stored["meta"] = meta
    return stored


class ResourceStore:
    """Versioned FHIR resources in one SQLite file.

    With `path` None the store uses a new temporary file and deletes it on
    `close()`; with a path, the file persists, and a new store on the same
    file reads everything written before.
    """

    def __init__(self, path=None):
        self._owns_file = path is None
        if path is None:
            handle, path = tempfile.mkstemp(prefix="giponext-mock-", suffix=".sqlite3")
            os.close(handle)
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False

        with self.transaction() as connection:
            connection.execute(SCHEMA)

    # -- connections and transactions ---------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError(f"the store at {self.path} is closed")
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            return connection

        # isolation_level None: the store opens its transactions explicitly.
        # check_same_thread False only so that close() can close connections
        # made by server threads; each thread still uses its own.
        connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False
        )
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        self._local.connection = connection
        self._local.depth = 0
        with self._connections_lock:
            self._connections.append(connection)
        return connection

    @contextmanager
    def transaction(self):
        """Run a block in one write transaction and yield the connection.

        Nested blocks join the outermost transaction. An exception rolls
        everything back and propagates. BEGIN IMMEDIATE takes the write lock
        at the start, so a check followed by a write cannot race another
        thread.
        """
        connection = self._connection()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield connection
            finally:
                self._local.depth -= 1
            return

        connection.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        else:
            connection.execute("COMMIT")
        finally:
            self._local.depth = 0

    def close(self) -> None:
        """Close every connection; delete the file when the store created it."""
        if self._closed:
            return
        self._closed = True
        with self._connections_lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        if self._owns_file:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- reads ---------------------------------------------------------------

    def _current_row(self, connection, resource_type: str, resource_id: str):
        return connection.execute(
            "SELECT version_id, last_updated, json, deleted FROM resources"
            " WHERE resource_type = ? AND id = ?"
            " ORDER BY version_id DESC LIMIT 1",
            (resource_type, resource_id),
        ).fetchone()

    def get(self, resource_type: str, resource_id: str, version_id=None) -> dict | None:
        """Return the current (or the given) version, or None if absent or deleted."""
        connection = self._connection()
        if version_id is None:
            row = self._current_row(connection, resource_type, resource_id)
        else:
            row = connection.execute(
                "SELECT version_id, last_updated, json, deleted FROM resources"
                " WHERE resource_type = ? AND id = ? AND version_id = ?",
                (resource_type, resource_id, int(version_id)),
            ).fetchone()
        if row is None or row[3]:
            return None
        return _loads(row[2])

    def is_deleted(self, resource_type: str, resource_id: str) -> bool:
        """Return True when the current version of the resource is a deletion."""
        row = self._current_row(self._connection(), resource_type, resource_id)
        return bool(row and row[3])

    def history(self, resource_type: str, resource_id: str) -> list[Version]:
        """Return every version of a resource, newest first."""
        rows = (
            self._connection()
            .execute(
                "SELECT version_id, last_updated, json, deleted FROM resources"
                " WHERE resource_type = ? AND id = ? ORDER BY version_id DESC",
                (resource_type, resource_id),
            )
            .fetchall()
        )
        return [
            Version(
                resource_type,
                resource_id,
                version_id,
                last_updated,
                bool(deleted),
                None if deleted else _loads(text),
            )
            for version_id, last_updated, text, deleted in rows
        ]

    def count(self, resource_type: str | None = None) -> int:
        """Return how many resources (not versions) are current and undeleted."""
        query = (
            "SELECT COUNT(*) FROM resources AS r WHERE deleted = 0 AND version_id ="
            " (SELECT MAX(version_id) FROM resources"
            "  WHERE resource_type = r.resource_type AND id = r.id)"
        )
        parameters: tuple = ()
        if resource_type is not None:
            query += " AND resource_type = ?"
            parameters = (resource_type,)
        return self._connection().execute(query, parameters).fetchone()[0]

    def count_versions(self) -> int:
        """Return how many version rows the store holds, deletions included."""
        return (
            self._connection().execute("SELECT COUNT(*) FROM resources").fetchone()[0]
        )

    # -- writes --------------------------------------------------------------

    def _insert(self, connection, resource_type, resource_id, version_id, resource):
        last_updated = now_instant()
        stored = None
        text = "null"
        if resource is not None:
            stored = _with_meta(resource, version_id, last_updated)
            stored["resourceType"] = resource_type
            stored["id"] = resource_id
            text = dumps(stored)
        connection.execute(
            "INSERT INTO resources"
            " (resource_type, id, version_id, last_updated, json, deleted)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                resource_type,
                resource_id,
                version_id,
                last_updated,
                text,
                int(stored is None),
            ),
        )
        return stored

    def put(self, resource_type: str, resource_id: str, resource: dict) -> PutResult:
        """Create or update a resource under a client-chosen id (FHIR update).

        A resource whose content equals the current version (ignoring
        versionId and lastUpdated) is left as it is: no new version is made.
        """
        with self.transaction() as connection:
            row = self._current_row(connection, resource_type, resource_id)
            if row is None or row[3]:
                next_version = (row[0] + 1) if row else 1
                stored = self._insert(
                    connection, resource_type, resource_id, next_version, resource
                )
                return PutResult(stored, created=True, changed=True)

            current = _loads(row[2])
            if content_of(current) == content_of(
                _normalised(resource, resource_type, resource_id)
            ):
                return PutResult(current, created=False, changed=False)

            stored = self._insert(
                connection, resource_type, resource_id, row[0] + 1, resource
            )
            return PutResult(stored, created=False, changed=True)

    def create(self, resource_type: str, resource_id: str, resource: dict) -> dict:
        """Store a new resource under `resource_id`.

        Raises ResourceExistsError when the id has a current, undeleted
        version. An id whose last version is a deletion is created again with
        the next version number.
        """
        with self.transaction() as connection:
            row = self._current_row(connection, resource_type, resource_id)
            if row is not None and not row[3]:
                raise ResourceExistsError(
                    f"{resource_type}/{resource_id} already exists"
                )
            next_version = (row[0] + 1) if row else 1
            return self._insert(
                connection, resource_type, resource_id, next_version, resource
            )

    def delete(self, resource_type: str, resource_id: str) -> bool:
        """Record a deletion; return False when there was nothing current to delete."""
        with self.transaction() as connection:
            row = self._current_row(connection, resource_type, resource_id)
            if row is None or row[3]:
                return False
            self._insert(connection, resource_type, resource_id, row[0] + 1, None)
            return True


def _normalised(resource: dict, resource_type: str, resource_id: str) -> dict:
    # Stored copies always carry the URL's type and id; compare like with like.
    normalised = dict(resource)
    normalised["resourceType"] = resource_type
    normalised["id"] = resource_id
    return normalised
