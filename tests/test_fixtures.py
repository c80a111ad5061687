"""Tests of the Faker fixtures that generate GipoNext-shaped resources."""

import base64
import io
import re
from datetime import UTC, date, datetime

import pytest
from fhir.resources.STU3.diagnosticreport import DiagnosticReport
from fhir.resources.STU3.patient import Patient
from fhir.resources.STU3.procedurerequest import ProcedureRequest
from pypdf import PdfReader

from giponext_conformance import italy
from giponext_conformance.fixtures import providers
from giponext_conformance.fixtures.pdf import make_report_pdf
from giponext_conformance.fixtures.providers import build_intake, make_faker

SEEDS = range(200)
DATETIME_WITH_ZONE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?[+-]\d{2}:\d{2}"
)


def _identifier(resource: dict, system: str) -> str:
    values = [i["value"] for i in resource["identifier"] if i["system"] == system]
    assert len(values) == 1, f"expected one identifier with system {system}"
    return values[0]


def _extension(resource: dict, url: str) -> dict:
    matches = [e for e in resource.get("extension", []) if e["url"] == url]
    assert len(matches) == 1, f"expected one extension {url}"
    return matches[0]


def _loinc_check_digit(number: str) -> str:
    total = 0
    for index, char in enumerate(reversed(number)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return str((10 - total % 10) % 10)


def _report(seed: int) -> tuple[dict, dict, list, dict]:
    patient, procedure_request, doctors = build_intake(seed)
    report = make_faker(seed + 10_000).gipo_diagnostic_report(
        [procedure_request], patient, doctors
    )
    return patient, procedure_request, doctors, report


def _pdf_text(report: dict) -> str:
    data = base64.b64decode(report["presentedForm"][0]["data"], validate=True)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


# ---------------------------------------------------------------- determinism


def test_intake_same_seed_same_resources():
    assert build_intake(7) == build_intake(7)


def test_report_same_seed_same_bytes():
    assert _report(7)[3] == _report(7)[3]


def test_intake_different_seeds_differ():
    assert build_intake(7)[0] != build_intake(8)[0]


def test_intake_known_answer():
    patient, procedure_request, doctors = build_intake(42)

    # NOTE: these values depend on Faker's it_IT tables, so a Faker release
    # that changes them changes this answer too.
    assert patient["id"] == "1719683"
    assert patient["name"] == [{"family": "Leone", "given": ["Alfio"]}]
    assert patient["birthDate"] == "1975-01-03"
    assert _identifier(patient, providers.CODICE_FISCALE_SYSTEM) == "LNELFA75A03G607O"
    assert procedure_request["id"] == "A239068R4742I2"
    assert procedure_request["requisition"]["value"] == "239068"
    assert doctors[0]["codice_fiscale"] == "VLLRAI69C54A676B"


# ---------------------------------------------------------------- Patient


@pytest.mark.parametrize("seed", SEEDS)
def test_patient_codice_fiscale_agrees(seed):
    patient = make_faker(seed).gipo_patient()
    value = _identifier(patient, providers.CODICE_FISCALE_SYSTEM)
    birth_place = _extension(patient, providers.BIRTH_PLACE_URL)["valueAddress"]
    istat_code = birth_place["extension"][0]["valueCoding"]["code"]
    municipality = italy.municipality_by_istat(istat_code)

    check = italy.check_codice_fiscale(value)

    assert check.kind == "personal"
    assert check.check_char_ok is True
    assert municipality is not None
    assert birth_place["city"] == municipality.name
    assert birth_place["country"] == "IT"
    assert (
        italy.codice_fiscale_agrees(
            value, patient["birthDate"], patient["gender"], municipality.belfiore
        )
        == []
    )
    assert italy.belfiore_first_used(municipality.belfiore) <= check.birth_date


@pytest.mark.parametrize("seed", SEEDS)
def test_patient_address_matches_municipality(seed):
    address = make_faker(seed).gipo_patient()["address"][0]
    coding = _extension(address, providers.ADDRESS_ISTAT_URL)["valueCoding"]
    municipality = italy.municipality_by_istat(coding["code"])

    assert coding["system"] == providers.ISTAT_SYSTEM
    assert coding["display"] == municipality.name
    assert address["city"] == municipality.name
    assert address["postalCode"] in municipality.postal_codes
    assert address["district"] == municipality.province
    assert address["state"] == municipality.province
    assert address["country"] == "IT"
    assert address["line"][0]


@pytest.mark.parametrize("seed", range(50))
def test_patient_born_abroad(seed):
    patient = make_faker(seed).gipo_patient(born_abroad=True)
    birth_place = _extension(patient, providers.BIRTH_PLACE_URL)["valueAddress"]
    value = _identifier(patient, providers.CODICE_FISCALE_SYSTEM)
    check = italy.check_codice_fiscale(value)

    assert "extension" not in birth_place
    assert birth_place["country"] != "IT"
    assert re.fullmatch(r"[A-Z]{2}", birth_place["country"])
    assert check.belfiore.startswith("Z")
    assert italy.country_by_belfiore(check.belfiore) is not None
    assert (
        italy.codice_fiscale_agrees(
            value, patient["birthDate"], patient["gender"], None
        )
        == []
    )


@pytest.mark.parametrize("seed", range(50))
def test_patient_basic_elements(seed):
    patient = make_faker(seed).gipo_patient()
    telecom = [(t["system"], t["use"]) for t in patient["telecom"]]

    assert _identifier(patient, providers.GIPONEXT_SYSTEM) == patient["id"]
    assert re.fullmatch(r"\d+", _identifier(patient, providers.RISPACS_SYSTEM))
    assert patient["gender"] in ("male", "female")
    assert date.fromisoformat(patient["birthDate"]) < date.today()
    assert patient["name"][0]["family"]
    assert patient["name"][0]["given"][0]
    assert telecom == [
        ("email", "home"),
        ("phone", "mobile"),
        ("phone", "home"),
        ("phone", "work"),
    ]
    assert patient["telecom"][0]["value"].split("@")[1] in providers.EMAIL_DOMAINS
    assert all(
        re.fullmatch(r"\+39\d{8,11}", t["value"]) for t in patient["telecom"][1:]
    )


def test_patient_without_rispacs_id():
    patient = make_faker(3).gipo_patient(with_rispacs_id=False)

    systems = [identifier["system"] for identifier in patient["identifier"]]

    assert providers.RISPACS_SYSTEM not in systems


# ---------------------------------------------------------------- ProcedureRequest


@pytest.mark.parametrize("seed", SEEDS)
def test_procedure_request_shape(seed):
    patient, request, doctors = build_intake(seed)
    category_codings = request["category"][0]["coding"]
    code_systems = [coding["system"] for coding in request["code"]["coding"]]

    assert re.fullmatch(r"A(\d+)R\d+I\d+", request["id"])
    assert request["id"].startswith(f"A{request['requisition']['value']}R")
    assert _identifier(request, providers.GIPONEXT_SYSTEM) == request["id"]
    assert request["requisition"]["system"] == providers.GIPONEXT_SYSTEM
    assert request["status"] == "active"
    assert request["intent"] == "order"
    assert all(c["system"] == providers.GIPONEXT_SYSTEM for c in category_codings)
    assert sum(bool(c.get("userSelected")) for c in category_codings) <= 1
    assert code_systems[:2] == [providers.RISPACS_SYSTEM, providers.GIPONEXT_SYSTEM]
    assert DATETIME_WITH_ZONE.fullmatch(request["authoredOn"])
    assert DATETIME_WITH_ZONE.fullmatch(request["occurrenceDateTime"])
    assert request["subject"]["reference"] == f"Patient/{patient['id']}"
    assert request["subject"]["identifier"]["value"] == patient["id"]
    assert request["performer"]["identifier"]["value"] == doctors[1]["codice_fiscale"]


@pytest.mark.parametrize("seed", SEEDS)
def test_procedure_request_prescription(seed):
    patient, request, _doctors = build_intake(seed)
    prescription = request["supportingInfo"][0]
    values = {
        extension["url"].removeprefix(providers.PRESCRIPTION_URL): extension
        for extension in prescription["extension"]
    }
    home = italy.municipality_by_istat(
        patient["address"][0]["extension"][0]["valueCoding"]["code"]
    )

    assert prescription["identifier"]["system"] == providers.NRE_SYSTEM
    assert len(prescription["identifier"]["value"]) == 15
    assert (
        prescription["reference"]
        == "Prescription/" + prescription["identifier"]["value"]
    )
    assert sorted(values) == sorted(
        [
            "oscurato",
            "totale-impegnativa",
            "totale-prestazioni",
            "esente",
            "codice-asl",
            "codice-regione",
        ]
    )
    assert isinstance(values["oscurato"]["valueBoolean"], bool)
    assert isinstance(values["esente"]["valueBoolean"], bool)
    assert values["totale-impegnativa"]["valueDecimal"] >= 0
    assert values["totale-prestazioni"]["valueDecimal"] >= 0
    assert re.fullmatch(r"\d{3}", values["codice-asl"]["valueString"])
    assert values["codice-regione"]["valueString"] == home.region_code
    assert values["codice-regione"]["valueString"] in italy.REGION_CODES


@pytest.mark.parametrize("seed", range(50))
def test_procedure_request_doctors_valid(seed):
    _patient, request, doctors = build_intake(seed)
    reporter = _extension(request, providers.ASSIGNED_REPORTER_URL)["valueReference"]

    for doctor in doctors:
        check = italy.check_codice_fiscale(doctor["codice_fiscale"])
        assert check.kind == "personal"
        assert check.check_char_ok is True
        assert (
            italy.codice_fiscale_agrees(
                doctor["codice_fiscale"], doctor["birth_date"], doctor["sex"], None
            )
            == []
        )
    assert reporter["identifier"]["system"] == providers.CODICE_FISCALE_SYSTEM
    assert reporter["identifier"]["value"] == doctors[0]["codice_fiscale"]
    assert reporter["reference"] == f"Doctors/{doctors[0]['id']}"


def test_procedure_request_without_doctors():
    fake = make_faker(5)
    request = fake.gipo_procedure_request(fake.gipo_patient())

    assert "performer" not in request
    assert "extension" not in request


def test_fraction_lengths_vary():
    fractions = set()
    for seed in range(40):
        authored = build_intake(seed)[1]["authoredOn"]
        match = re.search(r"\.(\d+)", authored)
        fractions.add(len(match.group(1)) if match else 0)

    assert fractions == {0, 3, 7}


# ---------------------------------------------------------------- DiagnosticReport


@pytest.mark.parametrize("seed", SEEDS)
def test_diagnostic_report_shape(seed):
    patient, request, doctors, report = _report(seed)
    loinc = [
        c for c in report["code"]["coding"] if c["system"] == providers.LOINC_SYSTEM
    ]
    number, check_digit = loinc[0]["code"].split("-")
    roles = [p["role"]["coding"][0]["code"] for p in report["performer"]]

    assert report["basedOn"] == [{"reference": f"ProcedureRequest/{request['id']}"}]
    assert report["subject"] == {"reference": f"Patient/{patient['id']}"}
    assert report["status"] == "final"
    assert _loinc_check_digit(number) == check_digit
    assert DATETIME_WITH_ZONE.fullmatch(report["issued"])
    assert providers.parse_datetime(report["issued"]) > providers.parse_datetime(
        request["occurrenceDateTime"]
    )
    assert roles == ["SPRF", "PRF"]
    assert [p["actor"]["identifier"]["value"] for p in report["performer"]] == [
        doctor["codice_fiscale"] for doctor in doctors
    ]
    assert isinstance(
        _extension(report, providers.AVAILABLE_ONLINE_URL)["valueBoolean"], bool
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_diagnostic_report_pdf(seed):
    patient, _request, _doctors, report = _report(seed)
    form = report["presentedForm"][0]
    name = patient["name"][0]

    text = _pdf_text(report)

    assert form["contentType"] == "application/pdf"
    assert "url" not in form
    assert form["title"] in text
    assert name["family"] in text
    assert name["given"][0] in text
    assert len(base64.b64decode(form["data"])) < 8000


def test_diagnostic_report_several_requests():
    fake = make_faker(9)
    patient = fake.gipo_patient()
    requests = [fake.gipo_procedure_request(patient) for _ in range(2)]

    report = fake.gipo_diagnostic_report(requests, patient, [fake.gipo_doctor()])

    assert [b["reference"] for b in report["basedOn"]] == [
        f"ProcedureRequest/{r['id']}" for r in requests
    ]
    assert [p["role"]["coding"][0]["code"] for p in report["performer"]] == ["SPRF"]


# ---------------------------------------------------------------- FHIR STU3 models


@pytest.mark.parametrize("seed", range(30))
def test_resources_parse_as_stu3(seed):
    patient, request, _doctors, report = _report(seed)
    abroad = make_faker(seed).gipo_patient(born_abroad=True)

    assert Patient.model_validate(patient).id == patient["id"]
    assert Patient.model_validate(abroad).id == abroad["id"]
    assert ProcedureRequest.model_validate(request).id == request["id"]
    assert DiagnosticReport.model_validate(report).id == report["id"]


# ---------------------------------------------------------------- tables and helpers


def test_loinc_table_check_digits():
    for code in providers.loinc_codes():
        number, check_digit = code.split("-")
        assert _loinc_check_digit(number) == check_digit, code


def test_loinc_check_digit_known_answer():
    assert _loinc_check_digit("18748") == "4"


def test_procedures_refer_to_tables():
    branch_codes = {row["code"] for row in providers.branches()}

    for procedure in providers.procedures():
        assert procedure["loinc"] in providers.loinc_codes()
        assert procedure["branch"] in branch_codes
        assert re.fullmatch(r"X\d{5}", procedure["rispacs_code"])


def test_birth_countries_known():
    for row in providers.birth_countries():
        country = italy.country_by_belfiore(row["belfiore"])
        assert country is not None, row
        assert country.active is True, row
        assert re.fullmatch(r"[A-Z]{2}", row["iso_code"]), row
        assert row["iso_code"] != "IT"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), 1),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 2),
        (datetime(2026, 10, 25, 0, 59, tzinfo=UTC), 2),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 1),
        (datetime(2025, 7, 1, tzinfo=UTC), 2),
        (datetime(2025, 12, 1, tzinfo=UTC), 1),
    ],
)
def test_rome_offset(moment, expected):
    assert providers.rome_offset(moment).total_seconds() == expected * 3600


def test_format_datetime_seven_digits():
    moment = datetime(2026, 2, 27, 10, 38, 27, tzinfo=UTC)

    text = providers.format_datetime(moment, "4525418")

    assert text == "2026-02-27T11:38:27.4525418+01:00"
    assert providers.parse_datetime(text) == datetime(
        2026, 2, 27, 10, 38, 27, 452541, UTC
    )


def test_make_report_pdf_text():
    data = make_report_pdf(
        "TC torace",
        "Maria Rossi",
        "Reperto nella norma: è così.",
        physician="Dott. Neri",
    )

    reader = PdfReader(io.BytesIO(data))
    text = reader.pages[0].extract_text()

    assert data.startswith(b"%PDF-")
    assert "TC torace" in text
    assert "Maria Rossi" in text
    assert "è così" in text
    assert "Dott. Neri" in text
