"""Tests of the Italian reference data and the codice fiscale checks."""

import random
import re
from datetime import date, timedelta

import codicefiscale
import pytest
from faker import Faker

from giponext_conformance import italy

SPEC_SAMPLE_CODES = ("RSSMRA80B12X876P", "ABCDEF86H12K897O", "XYZABC90A01H501Z")


def _omocodise(code: str, positions) -> str:
    chars = list(code[:15])
    for position in positions:
        chars[position] = italy.OMOCODIA_LETTERS[int(chars[position])]
    stem = "".join(chars)
    return stem + codicefiscale.encode_cin(stem)


# ---------------------------------------------------------------- municipalities


def test_municipality_by_istat_milano():
    milano = italy.municipality_by_istat("015146")

    assert milano.name == "Milano"
    assert milano.province == "MI"
    assert milano.belfiore == "F205"
    assert milano.region_code == "030"
    assert "20146" in milano.postal_codes
    assert milano.active is True


def test_municipality_by_belfiore_roma():
    roma = italy.municipality_by_belfiore("H501")

    assert roma.istat_code == "058091"
    assert roma.province == "RM"
    assert roma.region_code == "120"


def test_municipality_unknown_codes():
    assert italy.municipality_by_istat("999999") is None
    assert italy.municipality_by_belfiore("X876") is None


def test_former_istat_code_lookup():
    # Alghero had 090003 until the Sardinian provinces were reorganised.
    assert italy.municipality_by_istat("090003") is None
    assert italy.municipality_by_istat("090003", include_former=True).name == "Alghero"
    assert italy.municipality_by_istat("015146", include_former=True).name == "Milano"
    assert italy.municipality_by_istat("999999", include_former=True) is None


def test_trentino_region_codes_split():
    assert italy.municipality_by_istat("021008").region_code == "041"  # Bolzano
    assert italy.municipality_by_istat("022205").region_code == "042"  # Trento


def test_region_codes_list():
    assert italy.REGION_CODES == (
        "010", "020", "030", "041", "042", "050", "060", "070", "080", "090",
        "100", "110", "120", "130", "140", "150", "160", "170", "180", "190",
        "200",
    )  # fmt: skip


def test_every_municipality_in_region_and_province():
    municipalities = italy.all_municipalities()

    assert len(municipalities) > 7800
    assert all(m.region_code in italy.REGION_CODES for m in municipalities)
    assert all(m.province in italy.PROVINCES for m in municipalities)
    assert all(re.fullmatch(r"\d{6}", m.istat_code) for m in municipalities)
    assert all(re.fullmatch(r"[A-M]\d{3}", m.belfiore) for m in municipalities)


def test_provinces_include_known_codes():
    assert {"MI", "RM", "NA", "BZ", "TN", "AO"} <= italy.PROVINCES
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in italy.PROVINCES)
    assert "EE" not in italy.PROVINCES


def test_postal_codes_shape():
    with_cap = [m for m in italy.all_municipalities() if m.postal_codes]

    assert len(with_cap) > 7800
    for municipality in with_cap:
        assert all(re.fullmatch(r"\d{5}", cap) for cap in municipality.postal_codes)


def test_new_municipality_has_unknown_cap():
    # Misiliscemi was created in 2021, after the postal-code source was made.
    misiliscemi = italy.municipality_by_istat("081025")

    assert misiliscemi.name == "Misiliscemi"
    assert misiliscemi.postal_codes == ()


def test_random_municipality_seeded():
    first = [italy.random_municipality(random.Random(7)) for _ in range(3)]
    second = [italy.random_municipality(random.Random(7)) for _ in range(3)]

    assert first == second


def test_random_municipality_has_cap():
    rng = random.Random(11)
    for _ in range(300):
        municipality = italy.random_municipality(rng)
        assert municipality.postal_codes
        assert italy.municipality_by_istat(municipality.istat_code) == municipality


def test_belfiore_known_any_time():
    assert italy.belfiore_known("F205")  # current municipality
    assert italy.belfiore_known("F709")  # Moransengo, merged in 2023
    assert italy.belfiore_known("Z110")  # France
    assert italy.belfiore_known("Z105")  # Czechoslovakia, dissolved
    assert not italy.belfiore_known("X876")
    assert italy.municipality_by_belfiore("F709") is None


def test_country_by_belfiore():
    france = italy.country_by_belfiore("Z110")
    czechoslovakia = italy.country_by_belfiore("Z105")

    assert france.name == "Francia"
    assert france.active is True
    assert czechoslovakia.active is False
    assert italy.country_by_belfiore("F205") is None


# ---------------------------------------------------------------- codice fiscale


def test_check_known_personal_code():
    check = italy.check_codice_fiscale("RSSMRA80A01F205X")

    assert check.kind == "personal"
    assert check.shape_ok is True
    assert check.check_char_ok is True
    assert check.omocode is False
    assert check.birth_date == date(1980, 1, 1)
    assert check.sex == "male"
    assert check.belfiore == "F205"
    assert check.birthplace_known is True
    assert check.message == ""


def test_check_female_code():
    check = italy.check_codice_fiscale("BNCMRA90E55H501C")

    assert check.sex == "female"
    assert check.birth_date == date(1990, 5, 15)
    assert check.check_char_ok is True


@pytest.mark.parametrize("value", SPEC_SAMPLE_CODES)
def test_spec_sample_codes_shape_ok(value):
    check = italy.check_codice_fiscale(value)

    assert check.kind == "personal"
    assert check.shape_ok is True
    assert check.check_char_ok is False
    assert "check character" in check.message


def test_wrong_check_character_names_expected():
    check = italy.check_codice_fiscale("RSSMRA80A01F205Y")

    assert check.shape_ok is True
    assert check.check_char_ok is False
    assert "expected X" in check.message


def test_unknown_birthplace_keeps_shape():
    check = italy.check_codice_fiscale("RSSMRA80B12X876R")

    assert check.shape_ok is True
    assert check.check_char_ok is True
    assert check.birthplace_known is False
    assert "X876" in check.message


def test_omocode_last_digit():
    value = _omocodise("RSSMRA80A01F205X", [14])

    check = italy.check_codice_fiscale(value)

    assert value[:15] == "RSSMRA80A01F20R"
    assert check.omocode is True
    assert check.check_char_ok is True
    assert check.belfiore == "F205"
    assert codicefiscale.is_omocode(value)


def test_omocode_inside_z_code():
    plain = italy.encode_codice_fiscale("Dupont", "Jean", "1975-03-04", "male", "Z110")
    value = _omocodise(plain, [12, 13, 14])

    check = italy.check_codice_fiscale(value)

    assert value[11:15] == "ZMML"
    assert check.kind == "personal"
    assert check.belfiore == "Z110"
    assert check.birthplace_known is True
    assert check.check_char_ok is True


def test_suppressed_birthplace_valid():
    value = italy.encode_codice_fiscale("Verdi", "Anna", "1960-07-09", "female", "F709")

    check = italy.check_codice_fiscale(value)

    assert check.shape_ok is True
    assert check.birthplace_known is True
    assert check.message == ""


def test_dissolved_country_birthplace_valid():
    value = italy.encode_codice_fiscale("Novak", "Petr", "1970-01-20", "male", "Z105")

    check = italy.check_codice_fiscale(value)

    assert check.birthplace_known is True
    assert check.message == ""


@pytest.mark.parametrize(
    "value",
    [
        "RSSMRA80A01F205",  # 15 characters
        "RSSMRA80A01F205XX",  # 17 characters
        "RSSMRA80Z01F205X",  # Z is no month letter
        "RSSMRA8AA01F205X",  # A is no omocodia letter
        "RSSMRA80A32F205X",  # day 32
        "RSSMRA80A00F205X",  # day 0
        "RSSMRA80B30F205X",  # 30 February
        "RSSMRA80A01F205X ",  # trailing space
        "rssmra80a01f205x",  # lower case
        "12345678901",  # provisional code with wrong check digit
        "STP9990010000001",  # unknown region
        "STP08020100000",  # too short
        "",
    ],
)
def test_invalid_shapes(value):
    check = italy.check_codice_fiscale(value)

    assert check.kind == "invalid"
    assert check.shape_ok is False
    assert check.message


def test_non_string_invalid():
    check = italy.check_codice_fiscale(None)

    assert check.kind == "invalid"
    assert check.shape_ok is False


def test_provisional_code():
    check = italy.check_codice_fiscale("12345678903")

    assert check.kind == "provisional"
    assert check.shape_ok is True
    assert check.check_char_ok is True
    assert "provisional" in check.message


def test_luhn_check_digit_over_draws():
    rng = random.Random(5)
    for _ in range(200):
        stem = "".join(rng.choice("0123456789") for _ in range(10))
        good = stem + italy.luhn_check_digit(stem)
        bad = stem + str((int(good[10]) + 1) % 10)
        assert italy.check_codice_fiscale(good).kind == "provisional"
        assert italy.check_codice_fiscale(bad).kind == "invalid"


def test_stp_and_eni_codes():
    stp = italy.check_codice_fiscale("STP0802010000001")
    eni = italy.check_codice_fiscale("ENI0412010001234")

    assert stp.kind == "stp"
    assert stp.shape_ok is True
    assert eni.kind == "eni"
    assert eni.shape_ok is True


def test_birth_date_not_in_future():
    next_year = (date.today() + timedelta(days=366)).year % 100
    value = italy.encode_codice_fiscale("Rossi", "Luca", date(2000 + next_year, 1, 1),
                                        "male", "F205")  # fmt: skip

    check = italy.check_codice_fiscale(value)

    assert check.birth_date == date(1900 + next_year, 1, 1)


# ---------------------------------------------------------------- agreement


def test_agrees_known_answer():
    assert (
        italy.codice_fiscale_agrees("RSSMRA80A01F205X", "1980-01-01", "male", "F205")
        == []
    )


def test_agrees_reports_each_mismatch():
    found = italy.codice_fiscale_agrees(
        "RSSMRA80A01F205X", date(1980, 1, 2), "female", "H501"
    )

    assert len(found) == 3
    assert "birth date" in found[0]
    assert "sex female" not in found[1]
    assert "gender is female" in found[1]
    assert "H501" in found[2]


def test_agrees_skips_unknown_values():
    assert italy.codice_fiscale_agrees("RSSMRA80A01F205X", None, "unknown", None) == []


def test_agrees_non_personal_kinds():
    assert (
        italy.codice_fiscale_agrees("STP0802010000001", "1980-01-01", "male", "F205")
        == []
    )
    assert len(italy.codice_fiscale_agrees("XX", "1980-01-01", "male", "F205")) == 1


def test_agrees_omocode():
    value = _omocodise("RSSMRA80A01F205X", [14, 13, 12, 10])

    assert italy.codice_fiscale_agrees(value, "1980-01-01", "male", "F205") == []


# ---------------------------------------------------------------- encoding


def test_encode_known_answers():
    assert italy.encode_codice_fiscale(
        "Rossi", "Mario", "1980-01-01", "male", "F205"
    ) == ("RSSMRA80A01F205X")
    assert (
        italy.encode_codice_fiscale(
            "Bianchi", "Maria", date(1990, 5, 15), "female", "H501"
        )
        == "BNCMRA90E55H501C"
    )


def test_encode_rejects_bad_input():
    with pytest.raises(ValueError, match="sex"):
        italy.encode_codice_fiscale("Rossi", "Mario", "1980-01-01", "other", "F205")
    with pytest.raises(ValueError, match="Belfiore"):
        italy.encode_codice_fiscale("Rossi", "Mario", "1980-01-01", "male", "Milano")
    with pytest.raises(ValueError, match="birth date"):
        italy.encode_codice_fiscale("Rossi", "Mario", "1980-13-01", "male", "F205")


def test_encode_round_trip_over_draws():
    fake = Faker("it_IT")
    fake.seed_instance(2024)
    rng = random.Random(2024)
    for _ in range(300):
        sex = rng.choice(("male", "female"))
        given = fake.first_name_male() if sex == "male" else fake.first_name_female()
        family = fake.last_name()
        birth = fake.date_of_birth(minimum_age=0, maximum_age=99)
        belfiore = italy.random_municipality(rng).belfiore

        value = italy.encode_codice_fiscale(family, given, birth, sex, belfiore)
        check = italy.check_codice_fiscale(value)

        assert check.kind == "personal", value
        assert check.check_char_ok, value
        assert check.birth_date == birth, value
        assert italy.codice_fiscale_agrees(value, birth, sex, belfiore) == []
        assert value[:3] == codicefiscale.encode_lastname(family)
        assert value[3:6] == codicefiscale.encode_firstname(given)
        assert value[6:11] == codicefiscale.encode_birthdate(
            birth.isoformat(), sex[0].upper()
        )


def test_omocodes_over_draws():
    rng = random.Random(99)
    for _ in range(200):
        belfiore = italy.random_municipality(rng).belfiore
        birth = date(1930, 1, 1) + timedelta(days=rng.randrange(30000))
        plain = italy.encode_codice_fiscale("Neri", "Paolo", birth, "male", belfiore)
        positions = rng.sample(italy.DIGIT_POSITIONS, rng.randint(1, 7))

        value = _omocodise(plain, positions)
        check = italy.check_codice_fiscale(value)

        assert check.omocode is True, value
        assert check.check_char_ok is True, value
        assert check.belfiore == belfiore, value
        assert check.birth_date == birth, value
        assert codicefiscale.is_omocode(value), value
