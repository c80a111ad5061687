from giponext_conformance.redact import (
    MASK,
    redact_headers,
    redact_text,
    register_secret,
)


def test_redact_registered_secret():
    register_secret("tok-secret-123456")
    assert redact_text("value tok-secret-123456 end") == f"value {MASK} end"


def test_redact_authorization_header_keeps_scheme():
    headers = redact_headers({"Authorization": "Bearer abcdef", "Accept": "x"})
    assert headers == {"Authorization": f"Bearer {MASK}", "Accept": "x"}


def test_redact_oauth_form_fields():
    text = redact_text(
        "grant_type=refresh_token&refresh_token=r-1234567&client_secret=s3cr3t!"
    )
    assert "r-1234567" not in text
    assert "s3cr3t!" not in text
    assert "grant_type=refresh_token" in text
