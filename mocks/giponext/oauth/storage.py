"""SQLite tables of the authorization server, on the mock's resource store.

Codes and tokens are stored as SHA-256 digests, never as issued, so the
database file of a run contains no usable credential. Passwords are stored
as salted hashes. Every method runs in one transaction of the store.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid

from werkzeug.security import check_password_hash, generate_password_hash

from .models import AuthorizationCode, Client, DeviceCredential, Token, User

# werkzeug method for the test users' password hashes: scrypt with N = 2**10,
# about 5 ms per hash on a 2-vCPU machine, where werkzeug's default N = 2**15
# takes about 150 ms. That work factor is too low for real passwords, and the
# mock holds none: its users are generated or configured test accounts in a
# SQLite file of one run, and every OAuth scenario creates users and signs in.
TEST_PASSWORD_HASH = "scrypt:1024:8:1"  # noqa: S105 (a hash method name, not a password)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS oauth_users (
        username TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS oauth_clients (
        client_id TEXT PRIMARY KEY,
        secret_digest TEXT,
        name TEXT NOT NULL,
        redirect_uris TEXT NOT NULL,
        scopes TEXT NOT NULL,
        grant_types TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS oauth_codes (
        code_digest TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        username TEXT NOT NULL,
        redirect_uri TEXT,
        scope TEXT NOT NULL,
        code_challenge TEXT,
        code_challenge_method TEXT,
        expires_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS oauth_tokens (
        row_id INTEGER PRIMARY KEY,
        family_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        username TEXT NOT NULL,
        tenant TEXT NOT NULL,
        scope TEXT NOT NULL,
        access_digest TEXT NOT NULL UNIQUE,
        refresh_digest TEXT UNIQUE,
        issued_at REAL NOT NULL,
        access_expires_at REAL NOT NULL,
        refresh_expires_at REAL,
        access_revoked INTEGER NOT NULL DEFAULT 0,
        refresh_revoked INTEGER NOT NULL DEFAULT 0,
        rotated INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS oauth_devices (
        device_digest TEXT PRIMARY KEY,
        user_code TEXT NOT NULL UNIQUE,
        client_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        expires_at REAL NOT NULL,
        last_poll REAL,
        username TEXT,
        approved INTEGER,
        granted_scope TEXT,
        consumed INTEGER NOT NULL DEFAULT 0
    )""",
)


_ISSUED_COLUMNS = (
    "SELECT row_id, family_id, client_id, username, tenant, scope, issued_at,"
    " access_expires_at, refresh_expires_at, access_revoked, refresh_revoked, rotated"
    " FROM oauth_tokens"
)
TOKEN_QUERIES = {
    "access_digest": _ISSUED_COLUMNS + " WHERE access_digest = ?",
    "refresh_digest": _ISSUED_COLUMNS + " WHERE refresh_digest = ?",
}

_DEVICE_COLUMNS = (
    "SELECT device_digest, user_code, client_id, scope, expires_at, last_poll,"
    " username, approved, granted_scope, consumed FROM oauth_devices"
)
DEVICE_QUERIES = {
    "device_digest": _DEVICE_COLUMNS + " WHERE device_digest = ?",
    "user_code": _DEVICE_COLUMNS + " WHERE user_code = ?",
}


def digest(value: str) -> str:
    """Return the SHA-256 hex digest under which a code or token is stored."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class OAuthStorage:
    """Users, clients, codes, tokens and device grants of one mock.

    `store` is the mock's ResourceStore (anything whose `transaction()` yields
    a sqlite3 connection).
    """

    def __init__(self, store):
        self._store = store
        with self._store.transaction() as connection:
            for statement in SCHEMA:
                connection.execute(statement)

    # -- users and clients ----------------------------------------------------

    def add_user(self, username, password, tenant, display_name="") -> None:
        password_hash = generate_password_hash(password, TEST_PASSWORD_HASH)
        with self._store.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO oauth_users VALUES (?, ?, ?, ?)",
                (username, tenant, display_name or username, password_hash),
            )

    def check_password(self, username: str, password: str) -> User | None:
        """Return the user when the password matches, else None."""
        with self._store.transaction() as connection:
            row = connection.execute(
                "SELECT username, tenant, display_name, password_hash"
                " FROM oauth_users WHERE username = ?",
                (username,),
            ).fetchone()
        if row is None:
            # Hash anyway so that an unknown name costs as much as a wrong password.
            check_password_hash(
                generate_password_hash("x", TEST_PASSWORD_HASH), password
            )
            return None
        if not check_password_hash(row[3], password):
            return None
        return User(row[0], row[1], row[2])

    def get_user(self, username: str) -> User | None:
        with self._store.transaction() as connection:
            row = connection.execute(
                "SELECT username, tenant, display_name FROM oauth_users"
                " WHERE username = ?",
                (username,),
            ).fetchone()
        return User(*row) if row else None

    def add_client(self, registration) -> None:
        secret = registration.client_secret
        with self._store.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO oauth_clients VALUES (?, ?, ?, ?, ?, ?)",
                (
                    registration.client_id,
                    digest(secret) if secret is not None else None,
                    registration.name or registration.client_id,
                    json.dumps(list(registration.redirect_uris)),
                    json.dumps(list(registration.scopes)),
                    json.dumps(list(registration.grant_types)),
                ),
            )

    def get_client(self, client_id: str | None) -> Client | None:
        if not client_id:
            return None
        with self._store.transaction() as connection:
            row = connection.execute(
                "SELECT client_id, secret_digest, name, redirect_uris, scopes,"
                " grant_types"
                " FROM oauth_clients WHERE client_id = ?",
                (client_id,),
            ).fetchone()
        if row is None:
            return None
        return Client(
            client_id=row[0],
            secret_digest=row[1],
            name=row[2],
            redirect_uris=tuple(json.loads(row[3])),
            scopes=tuple(json.loads(row[4])),
            grant_types=tuple(json.loads(row[5])),
        )

    # -- authorization codes ------------------------------------------------

    def save_code(self, code: str, record: AuthorizationCode) -> None:
        with self._store.transaction() as connection:
            connection.execute(
                "INSERT INTO oauth_codes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    digest(code),
                    record.client_id,
                    record.username,
                    record.redirect_uri,
                    record.scope,
                    record.code_challenge,
                    record.code_challenge_method,
                    record.expires_at,
                ),
            )

    def take_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Return an unexpired code issued to the client, else None."""
        with self._store.transaction() as connection:
            row = connection.execute(
                "SELECT client_id, username, redirect_uri, scope, code_challenge,"
                " code_challenge_method, expires_at, code_digest FROM oauth_codes"
                " WHERE code_digest = ? AND client_id = ?",
                (digest(code), client_id),
            ).fetchone()
        if row is None or row[6] < time.time():
            return None
        return AuthorizationCode(*row)

    def delete_code(self, record: AuthorizationCode) -> None:
        with self._store.transaction() as connection:
            connection.execute(
                "DELETE FROM oauth_codes WHERE code_digest = ?", (record.code_digest,)
            )

    # -- tokens ---------------------------------------------------------------

    def save_token(self, token: dict, *, client_id, user, family_id, refresh_lifetime):
        now = time.time()
        refresh = token.get("refresh_token")
        with self._store.transaction() as connection:
            connection.execute(
                "INSERT INTO oauth_tokens (family_id, client_id, username, tenant,"
                " scope,"
                " access_digest, refresh_digest, issued_at, access_expires_at,"
                " refresh_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    family_id or uuid.uuid4().hex,
                    client_id,
                    user.username,
                    user.tenant,
                    token.get("scope", ""),
                    digest(token["access_token"]),
                    digest(refresh) if refresh else None,
                    now,
                    now + int(token["expires_in"]),
                    now + refresh_lifetime if refresh else None,
                ),
            )

    def _token_where(self, column: str, value: str) -> Token | None:
        with self._store.transaction() as connection:
            row = connection.execute(TOKEN_QUERIES[column], (digest(value),)).fetchone()
        return Token(*row) if row else None

    def find_access_token(self, access_token: str) -> Token | None:
        return self._token_where("access_digest", access_token)

    def find_refresh_token(self, refresh_token: str) -> Token | None:
        return self._token_where("refresh_digest", refresh_token)

    def rotate(self, token: Token) -> None:
        """Retire a refresh token that has just been exchanged for a new one."""
        with self._store.transaction() as connection:
            connection.execute(
                "UPDATE oauth_tokens SET rotated = 1, refresh_revoked = 1,"
                " access_revoked = 1 WHERE row_id = ?",
                (token.row_id,),
            )

    def revoke_access(self, token: Token) -> None:
        with self._store.transaction() as connection:
            connection.execute(
                "UPDATE oauth_tokens SET access_revoked = 1 WHERE row_id = ?",
                (token.row_id,),
            )

    def revoke_family(self, family_id: str) -> int:
        """Revoke every token descending from one grant; return how many."""
        with self._store.transaction() as connection:
            cursor = connection.execute(
                "UPDATE oauth_tokens SET access_revoked = 1, refresh_revoked = 1"
                " WHERE family_id = ? AND (access_revoked = 0 OR refresh_revoked = 0)",
                (family_id,),
            )
            return cursor.rowcount

    # -- device grants (RFC 8628) -------------------------------------------

    def save_device(self, device_code, user_code, client_id, scope, expires_at) -> None:
        with self._store.transaction() as connection:
            connection.execute(
                "INSERT INTO oauth_devices (device_digest, user_code, client_id, scope,"
                " expires_at) VALUES (?, ?, ?, ?, ?)",
                (digest(device_code), user_code, client_id, scope, expires_at),
            )

    def _device_where(self, column: str, value: str) -> DeviceCredential | None:
        with self._store.transaction() as connection:
            row = connection.execute(DEVICE_QUERIES[column], (value,)).fetchone()
        return DeviceCredential(*row) if row else None

    def find_device(self, device_code: str) -> DeviceCredential | None:
        return self._device_where("device_digest", digest(device_code))

    def find_device_by_user_code(self, user_code: str) -> DeviceCredential | None:
        return self._device_where("user_code", user_code)

    def record_poll(self, credential: DeviceCredential) -> float | None:
        """Store the time of this poll; return the time of the previous one."""
        with self._store.transaction() as connection:
            row = connection.execute(
                "SELECT last_poll FROM oauth_devices WHERE device_digest = ?",
                (credential.device_digest,),
            ).fetchone()
            connection.execute(
                "UPDATE oauth_devices SET last_poll = ? WHERE device_digest = ?",
                (time.time(), credential.device_digest),
            )
        return row[0] if row else None

    def decide_device(self, user_code, username, approved, granted_scope) -> bool:
        """Record the user's decision once; return False if already decided."""
        with self._store.transaction() as connection:
            cursor = connection.execute(
                "UPDATE oauth_devices SET username = ?, approved = ?, granted_scope = ?"
                " WHERE user_code = ? AND approved IS NULL AND expires_at > ?",
                (username, int(approved), granted_scope, user_code, time.time()),
            )
            return cursor.rowcount == 1

    def consume_device(self, credential: DeviceCredential) -> None:
        with self._store.transaction() as connection:
            connection.execute(
                "UPDATE oauth_devices SET consumed = 1 WHERE device_digest = ?",
                (credential.device_digest,),
            )
