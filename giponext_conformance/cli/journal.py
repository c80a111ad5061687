"""`giponext-conformance journal`: read the GipoNext mock's audit journal.

    journal list --db PATH [--tenant USERID] [--limit N]
    journal export --db PATH --format har|json [--output FILE]

The journal lives in the mock's SQLite file (`mock giponext --db PATH`), so
it can be read while the mock runs or after it stopped.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from giponext_conformance.errors import InputFileError, UsageError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "journal",
        help="list or export the GipoNext mock's audit journal",
        description="Read the audit journal that the GipoNext mock keeps in its"
        " SQLite file: every request with its status, verdict and findings.",
    )
    actions = parser.add_subparsers(
        title="actions", metavar="ACTION", parser_class=type(parser), required=True
    )

    listing = actions.add_parser("list", help="print one line per request")
    _add_common(listing)
    listing.add_argument(
        "--limit", type=int, help="print at most this many entries, the oldest first"
    )
    listing.set_defaults(handler=list_journal)

    export = actions.add_parser("export", help="write the journal as HAR 1.2 or JSON")
    _add_common(export)
    export.add_argument(
        "--format", choices=("har", "json"), default="har", help="output format"
    )
    export.add_argument(
        "--output", type=Path, help="file to write (default: standard output)"
    )
    export.set_defaults(handler=export_journal)


def _add_common(parser) -> None:
    parser.add_argument(
        "--db", type=Path, required=True, help="SQLite file of the GipoNext mock"
    )
    parser.add_argument(
        "--tenant", metavar="USERID", help="only this tenant's requests"
    )


def _entries(args, limit=None):
    from giponext_conformance.mocks.giponext.journal import open_journal

    if not args.db.is_file():
        raise InputFileError(f"no database at {args.db}; pass the --db of the mock")
    if limit is not None and limit < 1:
        raise UsageError("--limit must be positive")
    try:
        store, journal = open_journal(args.db)
    except sqlite3.Error as error:
        raise InputFileError(
            f"cannot read {args.db} as a mock database: {error}"
        ) from None
    try:
        return journal.entries(tenant=args.tenant, limit=limit)
    finally:
        store.close()


def _rules(entry) -> str:
    rules = []
    for issue in entry.findings:
        details = issue.get("details") or {}
        rule = details.get("text")
        if rule and rule not in rules:
            rules.append(rule)
    return ",".join(rules) or "-"


def list_journal(args) -> int:
    entries = _entries(args, args.limit)
    if not entries:
        print("The journal is empty.")
        return 0
    for entry in entries:
        print(
            f"{entry.seq:>5} {entry.started} {entry.method:<6} {entry.status}"
            f" {entry.verdict:<22} {_rules(entry):<20} {entry.url}"
        )
    return 0


def export_journal(args) -> int:
    from giponext_conformance.mocks.giponext.journal import export_har, export_json

    entries = _entries(args)
    document = export_har(entries) if args.format == "har" else export_json(entries)
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if args.output is None:
        sys.stdout.write(text + "\n")
        return 0
    try:
        args.output.write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        raise InputFileError(f"cannot write {args.output}: {error.strerror}") from None
    print(f"Wrote {len(entries)} entries to {args.output}")
    return 0
