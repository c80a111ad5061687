"""Rate limits of the GipoNext mock (GAUTH-05), with Flask-Limiter.

Requests are counted per OAuth client or per API key in a sliding window
(Flask-Limiter's moving-window strategy): a request is refused when the
client already made `limit` requests in the last `window_seconds`. The FHIR
endpoints share one window per client, and the OAuth endpoints that clients
call (token, device authorization, revocation) another, so that refreshing
a token does not use up report deliveries. Sign-in pages are not limited.

A refused request gets 429, `Retry-After` in whole seconds until the oldest
counted request leaves the window, and a JSON body
`{"error": "rate_limit_exceeded", "message": ...}`. It passes through the
mock's after-request hook, so the audit journal records it like any response.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from flask import jsonify, request
from flask_limiter import Limiter, RateLimitExceeded

logger = logging.getLogger(__name__)

API_SCOPE = "giponext-api"
OAUTH_SCOPE = "giponext-oauth"


@dataclass(frozen=True)
class RateLimitSettings:
    """At most `limit` requests per client in any `window_seconds` seconds.

    `token_limit` applies to the OAuth endpoints; None uses `limit` there too.
    """

    limit: int = 60
    window_seconds: int = 60
    token_limit: int | None = None

    def __post_init__(self):
        if self.limit < 1 or self.window_seconds < 1:
            raise ValueError(
                f"rate limit must allow at least 1 request in at least 1 second,"
                f" not {self.limit} in {self.window_seconds}"
            )
        if self.token_limit is not None and self.token_limit < 1:
            raise ValueError(f"token_limit must be at least 1, not {self.token_limit}")

    def expression(self, amount: int) -> str:
        """Return the limit in Flask-Limiter's notation, e.g. `60 per 60 second`."""
        return f"{amount} per {self.window_seconds} second"


def parse_rate_limit(text: str) -> RateLimitSettings:
    """Parse `COUNT/SECONDS` (for example `60/60`) into RateLimitSettings.

    Raises ValueError with the expected form, which argparse reports as a
    usage error.
    """
    count, slash, seconds = text.partition("/")
    if not slash or not count.strip().isdigit() or not seconds.strip().isdigit():
        raise ValueError(f"expected COUNT/SECONDS such as 60/60, not {text!r}")
    return RateLimitSettings(limit=int(count), window_seconds=int(seconds))


def _credential_digest(credential: str) -> str:
    # Limiter keys end up in storage and logs: never the credential itself.
    return hashlib.sha256(credential.encode("utf-8")).hexdigest()[:32]


def api_key_function(client_for_token=None):
    """Return a key function for FHIR requests: the OAuth client, else the API key.

    `client_for_token(token)` returns the client id of a live access token or
    None; requests without a bearer credential are keyed by remote address.
    """

    def key() -> str:
        scheme, _, credential = (
            request.headers.get("Authorization", "").strip().partition(" ")
        )
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            return f"address:{request.remote_addr}"
        client_id = client_for_token(credential) if client_for_token else None
        if client_id:
            return f"client:{client_id}"
        return f"credential:{_credential_digest(credential)}"

    return key


def oauth_client_key() -> str:
    """Key of a request to an OAuth endpoint: the client id it names."""
    authorization = request.authorization
    client_id = None
    if authorization is not None and authorization.type == "basic":
        client_id = authorization.username
    client_id = client_id or request.form.get("client_id")
    if client_id:
        return f"client:{client_id}"
    return f"address:{request.remote_addr}"


def retry_after_seconds(reset_at: float, now: float | None = None) -> int:
    """Return whole seconds until `reset_at`, at least 1 (RFC 9110 10.2.3)."""
    now = time.time() if now is None else now
    return max(1, math.ceil(reset_at - now))


def _breach_response(settings: RateLimitSettings):
    def respond(request_limit):
        # WindowStats.reset_time is when the oldest counted request expires.
        seconds = retry_after_seconds(request_limit.window.reset_time)
        amount = request_limit.limit.amount
        message = (
            f"more than {amount} requests in {settings.window_seconds} seconds from"
            f" this client: retry after {seconds} seconds"
        )
        logger.info("rate limit hit on %s %s", request.method, request.path)
        response = jsonify(error="rate_limit_exceeded", message=message)
        response.status_code = 429
        response.headers["Retry-After"] = str(seconds)
        return response

    return respond


def install_rate_limits(
    app,
    settings: RateLimitSettings,
    *,
    api_blueprints=(),
    oauth_blueprints=(),
    client_for_token=None,
) -> Limiter:
    """Limit the given blueprints of `app`; return the Limiter.

    Blueprints can be registered on the app before or after this call.
    """
    limiter = Limiter(
        key_func=api_key_function(client_for_token),
        app=app,
        strategy="moving-window",
        storage_uri="memory://",
        headers_enabled=False,
        on_breach=_breach_response(settings),
    )

    api_limit = limiter.shared_limit(
        settings.expression(settings.limit), scope=API_SCOPE
    )
    for blueprint in api_blueprints:
        api_limit(blueprint)

    token_amount = settings.token_limit or settings.limit
    oauth_limit = limiter.shared_limit(
        settings.expression(token_amount), scope=OAUTH_SCOPE, key_func=oauth_client_key
    )
    for blueprint in oauth_blueprints:
        oauth_limit(blueprint)

    @app.errorhandler(RateLimitExceeded)
    def answer_rate_limited(error: RateLimitExceeded):
        # The breach callback always builds the response; this handler keeps
        # the app's generic HTTPException handler from replacing it.
        return error.get_response()

    return limiter
