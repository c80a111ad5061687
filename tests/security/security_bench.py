"""Fixtures of the security tests, loaded with `pytest_plugins = ["security_bench"]`.

A plugin module rather than a conftest.py: test folders without __init__.py
would all load their conftest.py under the one module name `conftest`, and
other folders import names from theirs. The fixture names are unique across
the project because plugin fixtures are visible to every test.
"""

from __future__ import annotations

import pytest
from security_values import REDIRECT_URI, TENANTS, SecuredGipoNext

from giponext_conformance.mocks.giponext import (
    GipoNextConfig,
    TenantConfig,
    create_app,
    mock_of,
)
from giponext_conformance.mocks.giponext.config import generate_api_key
from giponext_conformance.mocks.giponext.oauth import default_settings
from giponext_conformance.serving import start_server
from giponext_conformance.tls import RunCA


@pytest.fixture
def oauth_ca(tmp_path) -> RunCA:
    return RunCA(tmp_path / "ca")


@pytest.fixture
def start_oauth_giponext(oauth_ca, tmp_path):
    """Return a function that starts a GipoNext mock; every one stops at teardown.

    Keyword arguments set OAuthSettings lifetimes; `rate_limit` and
    `delivery_fault` go to GipoNextConfig.
    """
    running = []

    def start(rate_limit=None, delivery_fault=None, **oauth_options):
        oauth_options.setdefault("device_poll_interval", 0)
        api_keys = {tenant: generate_api_key() for tenant in TENANTS}
        config = GipoNextConfig(
            tenants={
                tenant: TenantConfig(api_keys=[key]) for tenant, key in api_keys.items()
            },
            db_path=str(tmp_path / f"oauth_giponext-{len(running)}.sqlite"),
            oauth=default_settings(
                TENANTS, redirect_uris=[REDIRECT_URI], **oauth_options
            ),
            rate_limit=rate_limit,
            delivery_fault=delivery_fault,
        )
        app = create_app(config)
        cert_path, key_path = oauth_ca.issue()
        server = start_server(app, cert_path=cert_path, key_path=key_path)
        running.append((server, app))
        return SecuredGipoNext(server.url, str(oauth_ca.ca_cert_path), app, api_keys)

    yield start
    for server, app in running:
        server.stop()
        mock_of(app).close()


@pytest.fixture
def oauth_giponext(start_oauth_giponext) -> SecuredGipoNext:
    return start_oauth_giponext()
