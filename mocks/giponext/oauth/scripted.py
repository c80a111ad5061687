"""The harness side of the OAuth flows, over real HTTP with requests.

`ScriptedUser` plays a test user at a browser: it opens the login, consent
and device pages, fills in their forms and presses a button, so the flows
run through the same pages a person uses. The functions below it are the
client half: PKCE, the token requests and device polling (RFC 8628 3.4).

From a shell, the same device flow is three requests (`-k` is never needed:
pass the run's CA with `--cacert`):

    curl --cacert ca.pem -d client_id=ris-pacs-device -d scope=reports \\
         https://127.0.0.1:PORT/oauth/device_authorization
    # open verification_uri_complete, sign in, tick the scopes, press Allow
    curl --cacert ca.pem -d client_id=ris-pacs-device -d device_code=... \\
         -d grant_type=urn:ietf:params:oauth:grant-type:device_code \\
         https://127.0.0.1:PORT/oauth/token
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from giponext_conformance.redact import register_secret

from .settings import DEVICE_CODE

logger = logging.getLogger(__name__)

# Seconds for one HTTP exchange with the authorization server.
TIMEOUT = 10

# Seconds that RFC 8628 3.5 requires a client to add to its interval on slow_down.
SLOW_DOWN_STEP = 5


class OAuthFlowError(Exception):
    """A page or endpoint that did not respond as the flow expects."""


# -- HTML forms -----------------------------------------------------------------


@dataclass
class Form:
    """One HTML form: its action and its fields, in document order."""

    action: str
    method: str
    inputs: list[dict] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        return next(
            (i.get("value", "") for i in self.inputs if i.get("name") == name), None
        )

    def checkbox_values(self, name: str) -> list[str]:
        return [
            i.get("value", "")
            for i in self.inputs
            if i.get("name") == name and i.get("type") == "checkbox"
        ]


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            self.forms.append(Form(attributes.get("action") or "", method))
        elif tag in ("input", "button") and self.forms:
            self.forms[-1].inputs.append(attributes)


def parse_forms(html: str) -> list[Form]:
    """Return the forms of an HTML page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def _form_posting_to(page: requests.Response, fragment: str) -> Form | None:
    for form in parse_forms(page.text):
        if fragment in form.action and form.method == "post":
            return form
    return None


# -- the user at the browser ------------------------------------------------------


class ScriptedUser:
    """A test user who signs in and fills in consent pages like a person would.

    `verify` is what requests takes: True, or the path of the CA bundle that
    signed the mock's certificate. It is never False.
    """

    def __init__(self, username: str, password: str, *, verify=True):
        if verify is False:
            raise ValueError(
                "TLS verification stays on: pass the CA bundle path instead"
            )
        self.username = username
        self._password = password
        register_secret(password)
        self.session = requests.Session()
        # Passed on every call: requests lets REQUESTS_CA_BUNDLE override a
        # Session's own `verify`, which would drop the run's CA.
        self._verify = verify

    def _get(self, url: str) -> requests.Response:
        return self.session.get(
            url, timeout=TIMEOUT, allow_redirects=False, verify=self._verify
        )

    def _post(self, url: str, data) -> requests.Response:
        return self.session.post(
            url, data=data, timeout=TIMEOUT, allow_redirects=False, verify=self._verify
        )

    def _sign_in_if_asked(self, page: requests.Response) -> requests.Response:
        """Fill in the login form when the page is one; return the page after it."""
        form = _form_posting_to(page, "/oauth/login")
        if form is None:
            return page

        answer = self._post(
            urljoin(page.url, form.action),
            {
                "csrf_token": form.value("csrf_token"),
                "next": form.value("next"),
                "username": self.username,
                "password": self._password,
            },
        )
        if answer.status_code != 303:
            raise OAuthFlowError(
                f"sign-in as {self.username} failed: expected 303,"
                f" got {answer.status_code}"
            )
        return self._get(urljoin(page.url, answer.headers["Location"]))

    def _answer_consent(self, page, scopes, allow: bool) -> requests.Response:
        form = next(
            (f for f in parse_forms(page.text) if f.checkbox_values("granted_scope")),
            None,
        )
        if form is None:
            raise OAuthFlowError(
                f"expected the consent page at {page.url},"
                f" got status {page.status_code}"
            )

        offered = form.checkbox_values("granted_scope")
        ticked = offered if scopes is None else [s for s in offered if s in scopes]
        data = [("csrf_token", form.value("csrf_token"))]
        if form.value("user_code") is not None:
            data.append(("user_code", form.value("user_code")))
        data += [("granted_scope", scope) for scope in ticked]
        data.append(("decision", "allow" if allow else "deny"))
        return self._post(urljoin(page.url, form.action), data)

    def authorize(self, authorization_url: str, scopes=None, *, allow=True) -> str:
        """Go through login and consent; return the redirect URI the server sends back.

        `scopes` None ticks every offered scope; a list ticks only those.
        """
        page = self._sign_in_if_asked(self._get(authorization_url))
        answer = self._answer_consent(page, scopes, allow)
        if answer.status_code != 302:
            raise OAuthFlowError(
                f"expected a 302 redirect after consent, got {answer.status_code}"
            )
        return answer.headers["Location"]

    def approve_device(
        self, verification_uri: str, user_code: str, scopes=None, *, allow=True
    ):
        """Enter the user code, sign in and submit the consent page.

        Returns True when the server confirms the device is connected.
        """
        url = f"{verification_uri}?{urlencode({'user_code': user_code})}"
        page = self._sign_in_if_asked(self._get(url))
        answer = self._answer_consent(page, scopes, allow)
        if answer.status_code != 200:
            raise OAuthFlowError(
                f"device decision failed with status {answer.status_code}"
            )
        return "Device connected" in answer.text


# -- the client half --------------------------------------------------------------


@dataclass(frozen=True)
class Pkce:
    """A PKCE verifier and its S256 challenge (RFC 7636 4.1 and 4.2)."""

    verifier: str
    challenge: str

    @classmethod
    def generate(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        register_secret(verifier)
        return cls(verifier, create_s256_code_challenge(verifier))


def authorization_url(
    base_url, client_id, redirect_uri, scope, state, pkce: Pkce
) -> str:
    """Build the authorization request URL of the code flow with PKCE."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    return f"{base_url}/oauth/authorize?{urlencode(query)}"


def _client_auth(client_id: str, client_secret: str | None):
    """Return (auth, form fields): HTTP Basic for confidential clients."""
    if client_secret is None:
        return None, {"client_id": client_id}
    return (client_id, client_secret), {}


def token_request(base_url, client_id, client_secret, fields: dict, *, verify=True):
    """POST to the token endpoint; return the response, tokens registered as secrets."""
    auth, extra = _client_auth(client_id, client_secret)
    response = requests.post(
        f"{base_url}/oauth/token",
        data={**fields, **extra},
        auth=auth,
        verify=verify,
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    if response.headers.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        register_secret(body.get("access_token"))
        register_secret(body.get("refresh_token"))
    return response


def exchange_code(
    base_url, client_id, client_secret, code, redirect_uri, pkce, *, verify=True
):
    """Exchange an authorization code for tokens; return the token response."""
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": pkce.verifier,
    }
    return token_request(base_url, client_id, client_secret, fields, verify=verify)


def refresh(base_url, client_id, client_secret, refresh_token, *, verify=True):
    """Exchange a refresh token; return the token endpoint's response."""
    fields = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return token_request(base_url, client_id, client_secret, fields, verify=verify)


def revoke(base_url, client_id, client_secret, token, hint=None, *, verify=True):
    """Revoke a token (RFC 7009); return the revocation endpoint's response."""
    auth, extra = _client_auth(client_id, client_secret)
    data = {"token": token, **extra}
    if hint:
        data["token_type_hint"] = hint
    return requests.post(
        f"{base_url}/oauth/revoke", data=data, auth=auth, verify=verify, timeout=TIMEOUT
    )


def start_device_authorization(
    base_url, client_id, client_secret=None, scope=None, *, verify=True
):
    """Request a device code and user code (RFC 8628 3.1); return the JSON answer."""
    auth, data = _client_auth(client_id, client_secret)
    if scope:
        data["scope"] = scope
    response = requests.post(
        f"{base_url}/oauth/device_authorization",
        data=data,
        auth=auth,
        verify=verify,
        timeout=TIMEOUT,
    )
    if response.status_code != 200:
        raise OAuthFlowError(
            f"device authorization failed with {response.status_code}:"
            f" {response.text[:200]}"
        )
    body = response.json()
    register_secret(body["device_code"])
    return body


def poll_device_token(
    base_url,
    client_id,
    client_secret,
    authorization: dict,
    *,
    verify=True,
    sleep=time.sleep,
) -> dict:
    """Poll the token endpoint until the user decides or the code expires.

    Waits `interval` seconds between polls and adds five after each
    slow_down. Returns the token JSON; raises OAuthFlowError on a refusal,
    an expiry or any other error.
    """
    interval = authorization.get("interval", 5)
    deadline = time.monotonic() + authorization["expires_in"]
    fields = {"grant_type": DEVICE_CODE, "device_code": authorization["device_code"]}
    while time.monotonic() < deadline:
        response = token_request(
            base_url, client_id, client_secret, fields, verify=verify
        )
        body = response.json()
        if response.status_code == 200:
            return body

        error = body.get("error")
        if error == "slow_down":
            interval += SLOW_DOWN_STEP
        elif error != "authorization_pending":
            raise OAuthFlowError(
                f"device flow ended with {response.status_code} {error}"
            )
        sleep(interval)
    raise OAuthFlowError("the device code expired before the user decided")


def obtain_token_by_device_flow(
    base_url, client_id, client_secret, user: ScriptedUser, scope=None, *, verify=True
) -> dict:
    """Run the whole device flow with `user` approving; return the token JSON.

    The user approves before the first poll, so the flow needs one poll and
    no waiting.
    """
    authorization = start_device_authorization(
        base_url, client_id, client_secret, scope, verify=verify
    )
    approved = user.approve_device(
        authorization["verification_uri"], authorization["user_code"]
    )
    if not approved:
        raise OAuthFlowError(f"user {user.username} could not approve the device")
    return poll_device_token(
        base_url, client_id, client_secret, authorization, verify=verify
    )
