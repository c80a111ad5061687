"""Pages and endpoints of the authorization server.

Pages (login, consent, device verification) live in one blueprint and the
machine endpoints (token, device authorization, revocation, userinfo) in
another, so that rate limits can apply to the endpoints a client calls
without throttling a person typing a password.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from pathlib import Path
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from authlib.oauth2.rfc6749.util import scope_to_list
from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .settings import SCOPE_DESCRIPTIONS

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

pages_blueprint = Blueprint(
    "giponext_oauth_pages",
    __name__,
    url_prefix="/oauth",
    template_folder=str(TEMPLATES),
)
api_blueprint = Blueprint("giponext_oauth_api", __name__, url_prefix="/oauth")

SESSION_USER = "oauth_user"
SESSION_CSRF = "oauth_csrf"

# Characters of a user code (Authlib's default alphabet has no vowels).
USER_CODE_CHARACTERS = re.compile(r"[^A-Z]")


def _provider():
    return current_app.extensions["giponext_oauth"]


def _csrf_token() -> str:
    if SESSION_CSRF not in session:
        session[SESSION_CSRF] = secrets.token_urlsafe(24)
    return session[SESSION_CSRF]


def _check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    expected = session.get(SESSION_CSRF, "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, "The form has expired. Reload the page and try again.")


def _signed_in_user():
    username = session.get(SESSION_USER)
    return _provider().storage.get_user(username) if username else None


def _safe_next(target: str | None) -> str:
    # Only paths of this server: an absolute URL here would be an open redirect.
    if target and target.startswith("/oauth/") and not target.startswith("//"):
        return target
    return url_for("giponext_oauth_pages.device")


def _scope_rows(scope: str) -> list[dict]:
    return [
        {"name": name, "description": SCOPE_DESCRIPTIONS.get(name, name)}
        for name in scope_to_list(scope) or ()
    ]


def _granted_scope(requested: str) -> str:
    """Return the ticked scopes, limited to those requested, in request order."""
    ticked = set(request.form.getlist("granted_scope"))
    return " ".join(name for name in scope_to_list(requested) or () if name in ticked)


def _render_error(message: str, status: int = 400):
    return render_template("oauth/error.html", message=message), status


def _reject_plain_http(error: InsecureTransportError):
    # Authlib refuses OAuth over plain HTTP (RFC 6749 section 3.1 requires
    # TLS); that is the client's mistake, so 400 rather than a server error.
    logger.info("OAuth request over plain HTTP to %s", request.path)
    response = jsonify(error=error.error, error_description="OAuth 2.0 requires HTTPS.")
    response.status_code = 400
    return response


pages_blueprint.register_error_handler(InsecureTransportError, _reject_plain_http)
api_blueprint.register_error_handler(InsecureTransportError, _reject_plain_http)


@pages_blueprint.after_request
def _protect_page(response):
    # Pages show codes and forms: never cache them, never frame them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    # No form-action directive: browsers apply it to the redirect that
    # carries the code to the client, which lives on another origin.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    return response


# -- sign-in ------------------------------------------------------------------


def _render_login(next_path: str, error: str | None = None, status: int = 200):
    page = render_template(
        "oauth/login.html",
        next_path=next_path,
        csrf_token=_csrf_token(),
        error=error,
        username=request.form.get("username", ""),
    )
    return page, status


@pages_blueprint.get("/login")
def login_page():
    return _render_login(_safe_next(request.args.get("next")))


@pages_blueprint.post("/login")
def login():
    _check_csrf()
    next_path = _safe_next(request.form.get("next"))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")

    user = _provider().storage.check_password(username, password)
    if user is None:
        logger.info("failed sign-in for %r", username)
        return _render_login(next_path, "Unknown user name or wrong password.", 401)

    # A new session identity on sign-in prevents session fixation.
    session.clear()
    session[SESSION_USER] = user.username
    logger.info("user %s of tenant %s signed in", user.username, user.tenant)
    return redirect(next_path, code=303)


@pages_blueprint.post("/logout")
def logout():
    _check_csrf()
    session.clear()
    return render_template(
        "oauth/message.html", title="Signed out", message="You are signed out."
    )


# -- authorization code flow (RFC 6749 4.1 with RFC 7636) ------------------------


@pages_blueprint.route("/authorize", methods=["GET", "POST"])
def authorize():
    server = _provider().server
    user = _signed_in_user()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _authorization_error(server, error)

    if user is None:
        return _render_login(request.full_path)

    client = grant.client
    requested = grant.request.scope
    if request.method == "GET":
        return render_template(
            "oauth/consent.html",
            client=client,
            user=user,
            scopes=_scope_rows(requested),
            csrf_token=_csrf_token(),
            action=request.full_path,
        )

    _check_csrf()
    granted = _granted_scope(requested)
    if request.form.get("decision") != "allow" or not granted:
        logger.info("user %s denied client %s", user.username, client.get_client_id())
        return server.create_authorization_response(grant=grant, grant_user=None)

    grant.request.granted_scope = granted
    return server.create_authorization_response(grant=grant, grant_user=user)


def _authorization_error(server, error: OAuth2Error):
    # Errors about the client or redirect URI must not redirect (RFC 6749
    # 4.1.2.1); Authlib sets redirect_uri only when redirecting is safe.
    if error.redirect_uri:
        return server.handle_error_response(None, error)
    message = error.description or error.error
    return _render_error(f"The authorization request is invalid: {message}")


# -- device flow verification page (RFC 8628 3.3) --------------------------------


def normalise_user_code(text: str) -> str:
    """Return a user code in its issued form (`BCDF-GHJK`) from what a person typed."""
    letters = USER_CODE_CHARACTERS.sub("", text.upper())
    if len(letters) == 8:
        return f"{letters[:4]}-{letters[4:]}"
    return letters


def _pending_device(user_code: str):
    credential = _provider().storage.find_device_by_user_code(user_code)
    if credential is None or credential.is_expired() or credential.approved is not None:
        return None
    return credential


@pages_blueprint.get("/device")
def device():
    typed = request.args.get("user_code", "")
    if not typed:
        return render_template(
            "oauth/device.html", csrf_token=_csrf_token(), error=None
        )

    user_code = normalise_user_code(typed)
    credential = _pending_device(user_code)
    if credential is None:
        page = render_template(
            "oauth/device.html",
            csrf_token=_csrf_token(),
            error="This code is unknown, expired or already used.",
        )
        return page, 400

    user = _signed_in_user()
    if user is None:
        next_path = url_for(".device", user_code=user_code)
        return _render_login(next_path)

    client = _provider().storage.get_client(credential.client_id)
    return render_template(
        "oauth/consent.html",
        client=client,
        user=user,
        scopes=_scope_rows(credential.scope),
        csrf_token=_csrf_token(),
        action=url_for(".device_decision"),
        user_code=user_code,
    )


@pages_blueprint.post("/device")
def device_decision():
    _check_csrf()
    user_code = normalise_user_code(request.form.get("user_code", ""))
    decision = request.form.get("decision")
    if decision is None:
        # The code entry form: show the consent page for that code.
        return redirect(
            url_for(".device") + "?" + urlencode({"user_code": user_code}), 303
        )

    user = _signed_in_user()
    credential = _pending_device(user_code)
    if user is None:
        return _render_error("Sign in before approving a device.", 401)
    if credential is None:
        return _render_error("This code is unknown, expired or already used.")

    granted = _granted_scope(credential.scope)
    approved = decision == "allow" and bool(granted)
    _provider().storage.decide_device(user_code, user.username, approved, granted)
    logger.info(
        "user %s %s device of client %s",
        user.username,
        "approved" if approved else "denied",
        credential.client_id,
    )
    return render_template("oauth/device_done.html", approved=approved, scopes=granted)


# -- machine endpoints --------------------------------------------------------


@api_blueprint.post("/token")
def issue_token():
    return _provider().server.create_token_response()


@api_blueprint.post("/device_authorization")
def device_authorization():
    return _provider().server.create_endpoint_response("device_authorization")


@api_blueprint.post("/revoke")
def revoke_token():
    return _provider().server.create_endpoint_response("revocation")


@api_blueprint.get("/userinfo")
def userinfo():
    """Return the user and tenant behind an access token with the profile scope."""
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    provider = _provider()
    token = (
        provider.storage.find_access_token(credential.strip()) if credential else None
    )
    if (
        scheme.lower() != "bearer"
        or token is None
        or token.is_revoked()
        or token.is_expired()
    ):
        response = jsonify(
            error="invalid_token", error_description="A live access token is required."
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    if "profile" not in token.scopes:
        response = jsonify(
            error="insufficient_scope",
            error_description="The profile scope is required.",
        )
        response.status_code = 403
        response.headers["WWW-Authenticate"] = (
            'Bearer error="insufficient_scope", scope="profile"'
        )
        return response
    user = provider.storage.get_user(token.username)
    return jsonify(sub=user.username, name=user.display_name, tenant=user.tenant)
