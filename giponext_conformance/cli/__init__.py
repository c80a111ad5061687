"""Command line of the harness: `giponext-conformance SUBCOMMAND ...`.

Each subcommand lives in a module of this package that offers
`register(subparsers)`; the parser it adds sets `handler`, a function that
takes the parsed arguments and returns the exit status.

Building the parser must stay cheap, because every invocation builds all of
it, `--help` and usage errors included. A subcommand whose options need slow
imports (the mocks, pytest, the validation engine) passes
`complete=function` to `add_parser`; the function adds those options only
when that subcommand is parsed or its help is printed.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from giponext_conformance import __version__
from giponext_conformance.errors import HarnessError

# Modules that register subcommands, in the order `--help` lists them.
SUBCOMMAND_MODULES = (
    "run",
    "mock",
    "validate",
    "generate",
    "rules",
    "report",
    "steps",
    "journal",
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that reports usage errors in one sentence, exit 2.

    `complete(parser)`, when given, is called once before the parser first
    parses arguments or formats its usage or help.
    """

    def __init__(self, *args, complete=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._complete = complete

    def _completed(self) -> None:
        if self._complete is not None:
            complete, self._complete = self._complete, None
            complete(self)

    def parse_known_args(self, args=None, namespace=None):
        self._completed()
        return super().parse_known_args(args, namespace)

    def format_usage(self):
        self._completed()
        return super().format_usage()

    def format_help(self):
        self._completed()
        return super().format_help()

    def error(self, message):
        self.exit(2, f"{self.prog}: {message}. Run '{self.prog} --help' for usage.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="giponext-conformance",
        description="Certify a RIS-PACS against the GipoNext FHIR STU3 integration.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log requests and decisions to stderr",
    )
    subparsers = parser.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser
    )
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"giponext_conformance.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"giponext_conformance.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except HarnessError as error:
        print(f"giponext-conformance: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("giponext-conformance: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of a pipe (such as `rules | head`) stopped early. Pointing
        # stdout at /dev/null keeps the flush at exit from raising again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
