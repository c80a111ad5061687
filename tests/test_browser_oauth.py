"""Login, consent and device pages of GipoNext's OAuth server in headless Chromium.

A person's browser goes through the authorization-code flow with PKCE
(login, consent with one scope unticked, redirect to the client) and the
device flow (code entry, consent, confirmation). The mock and the client's
callback are served over TLS with a throwaway CA made for this test.
Screenshots go to the test's folder and to the project's reports/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from giponext_conformance.mocks.giponext import (
    GipoNextConfig,
    TenantConfig,
    create_app,
    mock_of,
)
from giponext_conformance.mocks.giponext.config import generate_api_key
from giponext_conformance.mocks.giponext.oauth import (
    default_settings,
    oauth_of,
    scripted,
)
from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PROJECT_SCREENSHOTS = Path(__file__).resolve().parents[1] / "reports" / "screenshots"
TENANT = "tenant-browser"


def callback_app(environ, start_response):
    """The client's redirect target: a page that shows it received a code."""
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<!doctype html><title>Client</title><h1>Client received the code</h1>"]


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(
                "/usr/bin/chromium is missing: .ci/run installs the chromium package"
            )
        pytest.skip("/usr/bin/chromium is missing: apt-get install chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def served(tmp_path):
    """The GipoNext mock and the client's callback, both over TLS."""
    authority = RunCA(tmp_path / "ca")
    cert_path, key_path = authority.issue()
    callback = start_server(callback_app, cert_path=cert_path, key_path=key_path)
    redirect_uri = f"{callback.url}/callback"

    config = GipoNextConfig(
        tenants={TENANT: TenantConfig(api_keys=[generate_api_key()])},
        db_path=str(tmp_path / "giponext.sqlite"),
        oauth=default_settings(
            [TENANT], redirect_uris=[redirect_uri], device_poll_interval=0
        ),
    )
    app = create_app(config)
    giponext = start_server(app, cert_path=cert_path, key_path=key_path)
    yield giponext.url, redirect_uri, str(authority.ca_cert_path), app
    giponext.stop()
    callback.stop()
    mock_of(app).close()


def _screenshot(page, tmp_path, name) -> Path:
    path = tmp_path / "screenshots" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    PROJECT_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (PROJECT_SCREENSHOTS / name).write_bytes(path.read_bytes())
    return path


def _new_page(browser):
    # Chromium takes trusted CAs from an NSS database, not from a PEM file.
    # The CA exists for this test alone, so the browser ignores HTTPS errors
    # instead. Every requests-based call below still verifies against it.
    context = browser.new_context(ignore_https_errors=True)
    return context, context.new_page()


def test_code_flow_in_browser(browser, served, tmp_path):
    base_url, redirect_uri, ca, app = served
    user = oauth_of(app).test_user(TENANT)
    client = oauth_of(app).client("ris-pacs")
    pkce = scripted.Pkce.generate()
    url = scripted.authorization_url(
        base_url, client.client_id, redirect_uri, "reports profile", "st-42", pkce
    )
    context, page = _new_page(browser)

    page.goto(url)
    assert page.title() == "Sign in · GipoNext mock"
    _screenshot(page, tmp_path, "oauth-login.png")
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("#sign-in")

    page.wait_for_selector("#allow")
    assert page.is_checked("#scope-reports")
    assert page.is_checked("#scope-profile")
    page.uncheck("#scope-profile")
    consent = _screenshot(page, tmp_path, "oauth-consent.png")
    page.click("#allow")
    page.wait_for_url(f"{redirect_uri}?*")

    query = parse_qs(urlsplit(page.url).query)
    context.close()
    token = scripted.exchange_code(
        base_url,
        client.client_id,
        client.client_secret,
        query["code"][0],
        redirect_uri,
        pkce,
        verify=ca,
    )
    assert query["state"] == ["st-42"]
    assert token.status_code == 200
    assert token.json()["scope"] == "reports"
    assert consent.stat().st_size > 0


def test_wrong_password_in_browser(browser, served, tmp_path):
    base_url, redirect_uri, _ca, app = served
    user = oauth_of(app).test_user(TENANT)
    pkce = scripted.Pkce.generate()
    url = scripted.authorization_url(
        base_url, "ris-pacs", redirect_uri, "reports", "st-1", pkce
    )
    context, page = _new_page(browser)

    page.goto(url)
    page.fill("#username", user.username)
    page.fill("#password", "wrong-password-typed")
    page.click("#sign-in")

    alert = page.text_content("[role=alert]")
    _screenshot(page, tmp_path, "oauth-login-error.png")
    context.close()
    assert alert == "Unknown user name or wrong password."


def test_device_flow_in_browser(browser, served, tmp_path):
    base_url, _redirect_uri, ca, app = served
    user = oauth_of(app).test_user(TENANT)
    authorization = scripted.start_device_authorization(
        base_url, "ris-pacs-device", None, "reports", verify=ca
    )
    context, page = _new_page(browser)

    page.goto(authorization["verification_uri"])
    page.fill("#user_code", authorization["user_code"].lower().replace("-", ""))
    _screenshot(page, tmp_path, "oauth-device-code.png")
    page.click("#continue")
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("#sign-in")
    page.wait_for_selector("#allow")
    page.click("#allow")

    heading = page.text_content("h1")
    _screenshot(page, tmp_path, "oauth-device-done.png")
    context.close()
    token = scripted.poll_device_token(
        base_url, "ris-pacs-device", None, authorization, verify=ca
    )
    assert heading == "Device connected"
    assert token["scope"] == "reports"
    assert oauth_of(app).resolve_access_token(token["access_token"]).tenant == TENANT
