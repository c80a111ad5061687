"""The command line builds its parser without loading the mocks or pytest.

Subcommands whose options need slow imports add them only when they are used
(the `complete` hook of the parser), and those options still parse and show
in the help.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from giponext_conformance.cli import build_parser

SLOW_MODULES = (
    "giponext_conformance.mocks.ris_pacs",
    "giponext_conformance.mocks.giponext",
    "giponext_conformance.validation",
    "giponext_conformance.plugin",
    "pytest",
    "flask",
)

PROBE = """
import sys
from giponext_conformance.cli import build_parser
build_parser().format_help()
print(",".join(name for name in sys.argv[1:] if name in sys.modules))
"""


def test_parser_leaves_slow_modules_unloaded():
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *SLOW_MODULES],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert completed.stdout.strip() == ""


@pytest.mark.parametrize(
    ("words", "option"),
    [
        (["run", "--help"], "--ris-url"),
        (["run", "--help"], "--report-quirk"),
        (["mock", "ris-pacs", "--help"], "--max-body-bytes"),
        (["mock", "giponext", "--help"], "--rate-limit"),
    ],
)
def test_deferred_options_in_help(capsys, words, option):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(words)

    assert exit_info.value.code == 0
    assert option in capsys.readouterr().out


def test_deferred_options_parse():
    args = build_parser().parse_args(
        ["mock", "ris-pacs", "--quirk", "no-auth", "--max-body-bytes", "2048"]
    )

    assert args.quirk == ["no-auth"]
    assert args.max_body_bytes == 2048


def test_deferred_choice_rejected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["mock", "ris-pacs", "--quirk", "not-a-quirk"])

    assert exit_info.value.code == 2
    assert "not-a-quirk" in capsys.readouterr().err
