"""redact_text finds credential patterns near their key words only.

It must mask exactly what a plain `re.sub` of the same patterns over the whole
text masks, including for characters that re.IGNORECASE matches to ASCII
letters (dotted and dotless i, long s, Kelvin sign).
"""

from __future__ import annotations

import random

import pytest

from giponext_conformance import redact
from giponext_conformance.redact import MASK, redact_text

PIECES = [
    *sorted(redact.SECRET_FIELDS),
    "Bearer",
    "BASIC",
    "bEaReR",
    "bas\u0130c",
    "ba\u017fic",
    "to\u212aen",
    "ACCESS_TOKEN",
    "\u0131d_token",
    '"',
    "'",
    ":",
    "=",
    " ",
    "\t",
    "\n",
    ",",
    "}",
    "{",
    "&",
    "abc123",
    "\u0130",
    "\u0131",
    "\u017f",
    "_",
    "-",
    "/",
    "x",
    "\u00e9",
]


def full_scan(text: str) -> str:
    """Redact with the patterns applied to every position of the text."""
    for secret in sorted(redact.registered_secrets(), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = redact._AUTH_PATTERN.sub(lambda match: f"{match.group(1)} {MASK}", text)
    return redact._FIELD_PATTERN.sub(lambda match: f"{match.group('key')}{MASK}", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: BEARER abc.def", f"Authorization: BEARER {MASK}"),
        ("ba\u017fic dXNlcjpwYXNz", f"ba\u017fic {MASK}"),
        ('{"to\u212aen": "t-1"}', f'{{"to\u212aen": "{MASK}"}}'),
        ("code_verifier=v1&x=2", f"code_verifier={MASK}&x=2"),
        ("xBearer abc", "xBearer abc"),
        ("\u0130 ap\u0130key=k1", f"\u0130 ap\u0130key={MASK}"),
    ],
)
def test_scan_masks_case_variants(text, expected):
    assert redact_text(text) == expected


def test_scan_matches_full_scan():
    rng = random.Random(20261204)

    for _ in range(20_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30)))
        assert redact_text(text) == full_scan(text), repr(text)


def test_scan_handles_large_body():
    body = " " * 300_000 + 'refresh_token="r-9876543"' + "y" * 300_000

    masked = redact_text(body)

    assert "r-9876543" not in masked
    assert masked == full_scan(body)
