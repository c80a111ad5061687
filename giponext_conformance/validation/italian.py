"""Italian layer: the checks of the GipoNext profiles that no schema expresses.

They need reference tables (ISTAT municipalities, postal codes, provinces,
health-service region codes), arithmetic (codice fiscale and LOINC check
characters) or comparisons between two elements (an identifier equal to the
id). Checks that need stored state, such as an unknown order or doctor, belong
to the GipoNext mock. Every accessor tolerates payloads of the wrong shape:
the base and profile layers report those.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from giponext_conformance import italy
from giponext_conformance.findings import Finding

from .attachments import check_attachments
from .paths import fhirpath

LAYER = "italian"

GIPONEXT_SYSTEM = "https://www.giponext.it"
CODICE_FISCALE_SYSTEM = "urn:oid:2.16.840.1.113883.2.9.4.3.2"
NRE_SYSTEM = "urn:oid:2.16.840.1.113883.2.9.4.3.8"
LOINC_SYSTEM = "http://loinc.org"
BIRTHPLACE_URL = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
BIRTHPLACE_ISTAT_URL = "https://api.giponext.it/fhir/birthPlace/codice-istat-comune"
ADDRESS_ISTAT_URL = "https://api.giponext.it/fhir/address/codice-istat-comune"
ASSIGNED_REPORTER_URL = "https://api.giponext.it/fhir/assignedReporter"
REGION_CODE_URL = "https://api.giponext.it/fhir/impegnativa/codice-regione"

LOINC_CODE = re.compile(r"([0-9]{1,7})-([0-9])")
PROCEDURE_REQUEST_REFERENCE = re.compile(r"ProcedureRequest/[A-Za-z0-9.\-]{1,64}")
NRE_VALUE = re.compile(r"[0-9A-Z]{15}")


def check_italian(resource: dict, resource_type: str) -> list[Finding]:
    """Return the findings of the checks for one resource type."""
    checks = {
        "Patient": _patient,
        "ProcedureRequest": _procedure_request,
        "DiagnosticReport": _diagnostic_report,
    }
    check = checks.get(resource_type)
    if check is None:
        return []
    collector = _Collector(resource_type)
    check(resource, collector)
    return collector.findings


class _Collector:
    def __init__(self, root: str):
        self.root = root
        self.findings: list[Finding] = []

    def error(self, rule, location, diagnostics, code="value"):
        self._add(rule, "error", code, location, diagnostics)

    def warning(self, rule, location, diagnostics, code="value"):
        self._add(rule, "warning", code, location, diagnostics)

    def _add(self, rule, severity, code, location, diagnostics):
        expression = fhirpath(self.root, location)
        self.findings.append(
            Finding(rule, severity, code, expression, diagnostics, LAYER)
        )


# ---------------------------------------------------------------- accessors


def _objects(node, key):
    """Yield (index, item) for the object items of an array member."""
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        if isinstance(item, dict):
            yield index, item


def _object(node, key) -> dict | None:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, dict) else None


def _text(node, key) -> str | None:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, str) else None


def _extensions(node, url):
    """Yield (index, extension) for the extensions of a node with this URL."""
    for index, extension in _objects(node, "extension"):
        if extension.get("url") == url:
            yield index, extension


def _normalized(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    letters = (char for char in decomposed if char.isalnum())
    return "".join(letters).casefold()


def _same_place(found: str, municipality) -> bool:
    # ISTAT writes bilingual names with a slash (Bolzano/Bozen); either half
    # names the municipality.
    names = [municipality.name, *municipality.name.split("/")]
    return _normalized(found) in {_normalized(name) for name in names}


# ---------------------------------------------------------------- codice fiscale


def check_codice_fiscale_identifier(collect, rule, identifier, location):
    """Check the value of a codice fiscale identifier under `rule`."""
    value_location = location + ("value",)
    value = identifier.get("value")
    if value is None:
        collect.error(
            rule,
            value_location,
            "The codice fiscale identifier has no value; send the 16-character code.",
            code="required",
        )
        return None
    check = italy.check_codice_fiscale(value)
    if check.kind == "invalid":
        collect.error(
            rule, value_location, f"{_sentence(check.message)} Correct the code."
        )
    elif check.kind == "provisional":
        collect.warning(
            rule,
            value_location,
            f"{value} is an 11-digit provisional code, not a full codice fiscale; send "
            "the 16-character code once the person has one.",
        )
    elif check.kind in ("stp", "eni"):
        collect.warning(
            rule,
            value_location,
            f"{value} is an {check.kind.upper()} code for a foreign person without a "
            "codice fiscale, not a codice fiscale; send it under its own system.",
        )
    elif check.message:
        collect.warning(
            rule,
            value_location,
            f"{_sentence(check.message)} The code is well formed but may be mistyped; "
            "check it against the person's documents.",
        )
    return check


def _sentence(message: str) -> str:
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def _codice_fiscale_identifiers(node, key="identifier"):
    """Yield (location suffix, identifier) of codice fiscale identifiers."""
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, dict):
        if value.get("system") == CODICE_FISCALE_SYSTEM:
            yield (key,), value
        return
    for index, identifier in _objects(node, key):
        if identifier.get("system") == CODICE_FISCALE_SYSTEM:
            yield (key, index), identifier


# ---------------------------------------------------------------- Patient


def _patient(resource, collect):
    _identifier_equals_id(resource, collect, "PAT-03")
    birthplace = _birthplace(resource, collect)
    for suffix, identifier in _codice_fiscale_identifiers(resource):
        check = check_codice_fiscale_identifier(collect, "PAT-04", identifier, suffix)
        if check is not None and check.kind == "personal":
            _codice_fiscale_agreement(resource, collect, check, suffix, birthplace)
    for index, address in _objects(resource, "address"):
        _address(address, ("address", index), collect)
    _birth_date_not_future(resource, collect)


def _identifier_equals_id(resource, collect, rule):
    resource_id = resource.get("id")
    if not isinstance(resource_id, str):
        return
    for index, identifier in _objects(resource, "identifier"):
        value = identifier.get("value")
        if identifier.get("system") == GIPONEXT_SYSTEM and value != resource_id:
            collect.error(
                rule,
                ("identifier", index, "value"),
                f"The GipoNext identifier is {value!r} but the id is {resource_id!r}; "
                "they must be equal.",
            )


def _birthplace(resource, collect):
    """Check the ISTAT coding of the birthplace; return its municipality."""
    for index, extension in _extensions(resource, BIRTHPLACE_URL):
        address = _object(extension, "valueAddress")
        if address is None:
            continue
        location = ("extension", index, "valueAddress")
        for inner, istat in _extensions(address, BIRTHPLACE_ISTAT_URL):
            municipality = _istat_coding(
                istat, location + ("extension", inner, "valueCoding"), "PAT-07", collect
            )
            if municipality is not None:
                _city_matches(address, municipality, location, "PAT-07", collect)
                return municipality
    return None


def _istat_coding(extension, location, rule, collect):
    coding = _object(extension, "valueCoding")
    code = _text(coding, "code")
    if code is None or not re.fullmatch(r"[0-9]{6}", code):
        return None  # the profile schema reports a missing or malformed code
    municipality = italy.municipality_by_istat(code, include_former=True)
    if municipality is None:
        collect.error(
            rule,
            location + ("code",),
            f"ISTAT code {code} is no Italian municipality; use the 6-digit code of "
            "the ISTAT list of municipalities.",
            code="code-invalid",
        )
        return None
    # Province reorganisations renumbered some municipalities. A birthplace may
    # keep the code it had then, but an address should use today's code.
    if municipality.istat_code != code and rule == "PAT-08":
        collect.warning(
            rule,
            location + ("code",),
            f"ISTAT code {code} is the former code of {municipality.name}; use "
            f"its current code {municipality.istat_code}.",
        )
    display = _text(coding, "display")
    if display is not None and not _same_place(display, municipality):
        collect.error(
            rule,
            location + ("display",),
            f"display is {display!r} but ISTAT code {code} is {municipality.name}; "
            "correct the code or the display.",
        )
    return municipality


def _city_matches(address, municipality, location, rule, collect):
    city = _text(address, "city")
    if city is not None and not _same_place(city, municipality):
        collect.error(
            rule,
            location + ("city",),
            f"city is {city!r} but the ISTAT code names {municipality.name}; "
            "correct the city or the code.",
        )


def _codice_fiscale_agreement(resource, collect, check, suffix, birthplace):
    belfiore = birthplace.belfiore if birthplace is not None else None
    disagreements = italy.codice_fiscale_agrees(
        check.value, resource.get("birthDate"), resource.get("gender"), belfiore
    )
    if _born_abroad(resource) and not check.belfiore.startswith("Z"):
        disagreements.append(
            f"codice fiscale {check.value} encodes the Italian birthplace "
            f"{check.belfiore}, but the patient was born abroad, whose codes start "
            "with Z"
        )
    for message in disagreements:
        collect.warning(
            "PAT-05",
            suffix + ("value",),
            f"{_sentence(message)} Check the codice fiscale and the patient's data.",
            code="business-rule",
        )


def _born_abroad(resource) -> bool:
    for _index, extension in _extensions(resource, BIRTHPLACE_URL):
        country = _text(_object(extension, "valueAddress"), "country")
        if country is not None and country != "IT":
            return True
    return False


def _address(address, location, collect):
    country = address.get("country")
    if country not in (None, "IT"):
        return
    municipality = None
    for index, extension in _extensions(address, ADDRESS_ISTAT_URL):
        municipality = _istat_coding(
            extension, location + ("extension", index, "valueCoding"), "PAT-08", collect
        )
    if municipality is not None:
        _city_matches(address, municipality, location, "PAT-08", collect)
    _postal_code(address, municipality, location, collect)
    for key in ("district", "state"):
        _province(address, key, municipality, location, collect)


def _postal_code(address, municipality, location, collect):
    postal_code = _text(address, "postalCode")
    if postal_code is None or not re.fullmatch(r"[0-9]{5}", postal_code):
        return
    if municipality is None:
        return
    if not municipality.postal_codes:
        collect.warning(
            "PAT-08",
            location + ("postalCode",),
            f"The postal code table has no entry for {municipality.name}, so postal "
            f"code {postal_code} could not be checked.",
            code="informational",
        )
    elif postal_code not in municipality.postal_codes:
        collect.error(
            "PAT-08",
            location + ("postalCode",),
            f"Postal code {postal_code} does not belong to {municipality.name} "
            f"(its codes: {_list(municipality.postal_codes)}); correct the postal "
            "code or the municipality.",
        )


def _list(values, limit=6) -> str:
    shown = ", ".join(values[:limit])
    return shown + ", ..." if len(values) > limit else shown


def _province(address, key, municipality, location, collect):
    province = _text(address, key)
    if province is None or not re.fullmatch(r"[A-Z]{2}", province):
        return
    if province not in italy.PROVINCES:
        collect.error(
            "PAT-08",
            location + (key,),
            f"{province} is no Italian province code; use the 2-letter code of the "
            "municipality's province.",
            code="code-invalid",
        )
    elif municipality is not None and province != municipality.province:
        collect.error(
            "PAT-08",
            location + (key,),
            f"{key} is {province} but {municipality.name} is in province "
            f"{municipality.province}; correct the province or the municipality.",
        )


def _birth_date_not_future(resource, collect):
    value = _text(resource, "birthDate")
    if value is None or not re.fullmatch(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?", value):
        return
    today = date.today().isoformat()
    if value > today[: len(value)]:
        collect.error(
            "PAT-09",
            ("birthDate",),
            f"birthDate {value} is in the future; send the real birth date.",
        )


# ---------------------------------------------------------------- ProcedureRequest


def _procedure_request(resource, collect):
    _identifier_equals_id(resource, collect, "PR-05")
    _user_selected(resource, collect)
    _subject_identifiers(resource, collect)
    for index, info in _objects(resource, "supportingInfo"):
        _prescription(info, ("supportingInfo", index), collect)
    for suffix, identifier in _codice_fiscale_identifiers(
        _object(resource, "performer")
    ):
        check_codice_fiscale_identifier(
            collect, "PR-12", identifier, ("performer", *suffix)
        )
    for index, extension in _extensions(resource, ASSIGNED_REPORTER_URL):
        reference = _object(extension, "valueReference")
        location = ("extension", index, "valueReference")
        for suffix, identifier in _codice_fiscale_identifiers(reference):
            check_codice_fiscale_identifier(
                collect, "PR-12", identifier, location + suffix
            )


def _user_selected(resource, collect):
    selected = []
    for index, category in _objects(resource, "category"):
        for inner, coding in _objects(category, "coding"):
            if coding.get("userSelected") is True:
                selected.append(("category", index, "coding", inner, "userSelected"))
    categories_with_selection = {location[1] for location in selected}
    # Two selections inside one category are the schema's finding already.
    if len(categories_with_selection) > 1:
        collect.error(
            "PR-07",
            selected[1],
            f"{len(selected)} category codings have userSelected true; at most one "
            "specialty is the one the user selected.",
        )


def _subject_identifiers(resource, collect):
    subject = _object(resource, "subject")
    reference = _text(subject, "reference")
    if reference is None or not reference.startswith("Patient/"):
        return
    patient_id = reference.removeprefix("Patient/")
    identifier = _object(subject, "identifier")
    value = _text(identifier, "value")
    if (
        identifier
        and identifier.get("system") == GIPONEXT_SYSTEM
        and value != patient_id
    ):
        collect.error(
            "PR-09",
            ("subject", "identifier", "value"),
            f"subject.identifier is {value!r} but subject.reference names patient "
            f"{patient_id!r}; they must name the same patient.",
        )
    for index, extension in _extensions(subject, GIPONEXT_SYSTEM):
        found = extension.get("valueString")
        if found != patient_id:
            collect.error(
                "PR-09",
                ("subject", "extension", index, "valueString"),
                f"The GipoNext identifier extension is {found!r} "
                f"but subject.reference names patient {patient_id!r}; they must be "
                "equal.",
            )


def _prescription(info, location, collect):
    identifier = _object(info, "identifier")
    if identifier is None or identifier.get("system") != NRE_SYSTEM:
        return
    value = identifier.get("value")
    if isinstance(value, str) and not NRE_VALUE.fullmatch(value):
        collect.error(
            "PR-11",
            location + ("identifier", "value"),
            f"NRE {value!r} has {len(value)} characters; the electronic prescription "
            "number has 15 digits or capital letters.",
        )
    for index, extension in _extensions(info, REGION_CODE_URL):
        code = extension.get("valueString")
        # A code that is not 3 digits is the profile schema's finding.
        well_formed = isinstance(code, str) and re.fullmatch(r"[0-9]{3}", code)
        if well_formed and code not in italy.REGION_CODES:
            collect.error(
                "PR-11",
                location + ("extension", index, "valueString"),
                f"Region code {code} is none of the 21 health-service region "
                f"codes ({_list(italy.REGION_CODES, 21)}).",
                code="code-invalid",
            )


# ---------------------------------------------------------------- DiagnosticReport


def _diagnostic_report(resource, collect):
    for index, based_on in _objects(resource, "basedOn"):
        _based_on(based_on, ("basedOn", index), collect)
    code = _object(resource, "code")
    for index, coding in _objects(code, "coding"):
        if coding.get("system") == LOINC_SYSTEM:
            _loinc(coding, ("code", "coding", index), collect)
    for index, performer in _objects(resource, "performer"):
        actor = _object(performer, "actor")
        location = ("performer", index, "actor")
        for suffix, identifier in _codice_fiscale_identifiers(actor):
            check_codice_fiscale_identifier(
                collect, "DR-08", identifier, location + suffix
            )
    collect.findings.extend(check_attachments(resource))


def _based_on(reference, location, collect):
    value = reference.get("reference")
    if value is None:
        if "identifier" in reference:
            collect.error(
                "DR-03",
                location,
                "basedOn identifies the order by identifier only; GipoNext needs the "
                "literal reference ProcedureRequest/{id}.",
            )
        return
    if not isinstance(value, str):
        return
    if value.startswith("#"):
        problem = "is a contained reference; GipoNext resolves only orders it sent"
    elif "://" in value:
        problem = "is an absolute URL; send the relative form"
    elif not PROCEDURE_REQUEST_REFERENCE.fullmatch(value):
        problem = "is not of the form ProcedureRequest/{id}"
    else:
        return
    collect.error(
        "DR-03",
        location + ("reference",),
        f"basedOn reference {value!r} {problem}: use ProcedureRequest/{{id}} with the "
        "id of the ProcedureRequest GipoNext sent.",
    )


def loinc_check_digit(number: str) -> str:
    """Return the LOINC mod-10 check digit of the digits before the hyphen.

    Counting from the right, the digits in odd positions are doubled, and a
    product over 9 counts as the sum of its two digits. The check digit brings
    the sum of all these values up to a multiple of ten.
    """
    total = 0
    for position, char in enumerate(reversed(number)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return str((10 - total % 10) % 10)


def _loinc(coding, location, collect):
    code = _text(coding, "code")
    match = LOINC_CODE.fullmatch(code) if code else None
    if match is None:
        return  # the profile schema reports a malformed code
    expected = loinc_check_digit(match.group(1))
    if match.group(2) != expected:
        collect.error(
            "DR-06",
            location + ("code",),
            f"LOINC code {code} has check digit {match.group(2)}, but the digits "
            f"{match.group(1)} give {expected}; correct the code.",
            code="code-invalid",
        )
