"""MRZ parsing, check digits and the BAC/PACE MRZ key (ICAO 9303 Parts 3, 4, 5 and 11)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.emrtd.errors import MRZError
from kiosk.emrtd.mrz import MRZInfo, cccd_id_number, check_digit, mrz_key, parse_mrz

# ICAO 9303 Part 4 (TD3) and Part 5 (TD1) specimens: the fictional Utopian Anna Maria Eriksson.
TD3_SPECIMEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
)
TD1_SPECIMEN = (
    "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
)

# A CCCD-shaped TD1 built for these tests (not a real person): ID 079203001234 (province 079,
# 2 = a man born in the 2000s, 03 = 2003), born 2003-05-15, card valid to 2028-05-15.
# Check digits worked by hand with weights 7 3 1:
#   203001234  2·7+0·3+3·1+0·7+0·3+1·1+2·7+3·3+4·1 = 45 → 5
#   030515     0·7+3·3+0·1+5·7+1·3+5·1 = 52 → 2
#   280515     2·7+8·3+0·1+5·7+1·3+5·1 = 81 → 1
#   079203001234 (the last character of line 1, as printed on cards) = 75 → 5
#   composite over line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
#     "2030012345079203001234<<5" = 256, "0305152" = 60, "2805151" = 86, fillers 0 → 402 → 2
CCCD_LINES = (
    "IDVNM2030012345079203001234<<5",
    "0305152M2805151VNM<<<<<<<<<<<2",
    "NGUYEN<<VAN<AN<<<<<<<<<<<<<<<<",
)
CCCD_MRZ = "\n".join(CCCD_LINES)


@pytest.mark.parametrize(
    ("field", "digit"),
    [
        ("L898902C3", "6"),  # Part 4 specimen document number
        ("740812", "2"),
        ("120415", "9"),
        ("ZE184226B<<<<<", "1"),
        ("D23145890", "7"),  # Part 5 specimen
        ("L898902C<", "3"),  # Part 11 Appendix D.2
        ("690806", "1"),
        ("940623", "6"),
        ("<<<<<<", "0"),
        ("", "0"),
    ],
)
def test_check_digit_icao_examples(field: str, digit: str) -> None:
    assert check_digit(field) == digit


def test_check_digit_refuses_non_mrz_characters() -> None:
    with pytest.raises(MRZError):
        check_digit("L8989-2C3")
    with pytest.raises(MRZError):
        check_digit("l898902c3")


def test_td3_icao_9303_part4_specimen() -> None:
    info = parse_mrz(TD3_SPECIMEN)
    assert info.format == "TD3"
    assert (info.document_code, info.issuing_state, info.nationality) == ("P", "UTO", "UTO")
    assert info.document_number == "L898902C3"
    assert (info.date_of_birth, info.sex, info.date_of_expiry) == ("740812", "F", "120415")
    assert info.optional_data == "ZE184226B"
    assert info.names == ("ERIKSSON", "ANNA MARIA")
    assert (info.surname, info.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert info.checks == {
        "document_number": True,
        "date_of_birth": True,
        "date_of_expiry": True,
        "optional_data": True,
        "composite": True,
    }
    assert info.valid
    assert info.mrz_key == "L898902C3674081221204159"


def test_td1_icao_9303_part5_specimen() -> None:
    info = parse_mrz(TD1_SPECIMEN)
    assert info.format == "TD1"
    assert (info.document_code, info.issuing_state, info.nationality) == ("I", "UTO", "UTO")
    assert info.document_number == "D23145890"
    assert (info.date_of_birth, info.sex, info.date_of_expiry) == ("740812", "F", "120415")
    assert (info.optional_data, info.optional_data_2) == ("", "")
    assert info.names == ("ERIKSSON", "ANNA MARIA")
    assert info.valid and all(info.checks.values()) and "composite" in info.checks
    assert cccd_id_number(info) is None  # not a Vietnamese card


def test_cccd_td1_built_by_hand() -> None:
    info = parse_mrz(CCCD_MRZ)
    assert info.valid, info.checks
    assert (info.document_code, info.issuing_state, info.nationality) == ("ID", "VNM", "VNM")
    assert info.document_number == "203001234"
    assert info.optional_data == "079203001234<<5"
    assert (info.date_of_birth, info.sex, info.date_of_expiry) == ("030515", "M", "280515")
    assert info.names == ("NGUYEN", "VAN AN")
    assert cccd_id_number(info) == "079203001234"
    # the hand-worked check digits, computed by the function
    assert check_digit("203001234") == "5"
    assert check_digit("030515") == "2"
    assert check_digit("280515") == "1"
    assert check_digit("079203001234") == "5"
    assert check_digit(CCCD_LINES[0][5:30] + "0305152" + "2805151" + "<" * 11) == "2"
    assert info.mrz_key == "203001234503051522805151"


def test_cccd_id_number_needs_the_document_number_at_its_end() -> None:
    other = CCCD_LINES[0][:15] + "079203009999<<5"
    info = parse_mrz("\n".join((other, *CCCD_LINES[1:])))
    assert not info.checks["composite"]  # the optional data is under the composite digit
    assert cccd_id_number(info) is None


def test_bad_check_digits_are_reported_not_raised() -> None:
    line2 = CCCD_LINES[1].replace("0305152", "0305153")
    info = parse_mrz("\n".join((CCCD_LINES[0], line2, CCCD_LINES[2])))
    assert not info.valid
    assert info.checks["date_of_birth"] is False
    assert info.checks["composite"] is False
    assert info.checks["document_number"] and info.checks["date_of_expiry"]

    td3 = TD3_SPECIMEN.replace("L898902C36", "L898902C39")
    info = parse_mrz(td3)
    assert not info.valid and not info.checks["document_number"]


def test_td3_empty_personal_number_may_have_filler_or_zero_check_digit() -> None:
    first = TD3_SPECIMEN.splitlines()[0]
    for personal_digit in "<0":
        line2 = "L898902C36UTO7408122F1204159" + "<" * 14 + personal_digit
        line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:43])
        info = parse_mrz(first + "\n" + line2)
        assert info.valid, info.checks
        assert info.optional_data == ""


def test_tolerates_spaces_lowercase_and_a_single_run() -> None:
    spaced = (
        "\n  i<uto d23145890 7<<<<<<<<<<<<<<< \n\n"
        "7408122F1204159UTO<<<<<<<<<<<6\r\nERIKSSON<<ANNA<MARIA<<<<<<<<<<\n"
    )
    assert parse_mrz(spaced) == parse_mrz(TD1_SPECIMEN)
    assert parse_mrz(TD3_SPECIMEN.replace("\n", "")) == parse_mrz(TD3_SPECIMEN)
    assert parse_mrz(CCCD_MRZ.replace("\n", " ")) == parse_mrz(CCCD_MRZ)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n  ",
        TD3_SPECIMEN[:-1],  # 43 characters on line 2
        TD3_SPECIMEN + "<",
        TD1_SPECIMEN + "\n" + "<" * 30,  # four lines
        "\n".join(TD1_SPECIMEN.splitlines()[:2]),  # two lines of 30
        TD3_SPECIMEN.splitlines()[0] + "\n" + TD1_SPECIMEN.splitlines()[1],
        TD1_SPECIMEN.replace("ERIKSSON", "ERIKSSÖN"),
        TD1_SPECIMEN.replace("ERIKSSON<<", "ERIKSSON-,"),
        "X" * 72,  # TD2 length: not supported
    ],
)
def test_no_mrz_raises_mrz_error(text: str) -> None:
    with pytest.raises(MRZError):
        parse_mrz(text)


def test_td1_document_number_longer_than_nine_characters() -> None:
    # ICAO 9303-5: 9 characters, '<', then the rest and the check digit in the optional data.
    number = "D23145890123"
    digit = check_digit(number)
    line1 = f"I<UTO{number[:9]}<{number[9:]}{digit}<".ljust(30, "<")
    line2 = "7408122F1204159UTO<<<<<<<<<<<"
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    info = parse_mrz("\n".join((line1, line2, "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")))
    assert info.document_number == number
    assert info.optional_data == ""
    assert info.valid, info.checks
    assert info.mrz_key == number + digit + "7408122" + "1204159"


def test_mrz_key_icao_9303_11_appendix_d2() -> None:
    assert mrz_key("L898902C", "690806", "940623") == "L898902C<369080619406236"
    assert mrz_key("L898902C<", "690806", "940623") == "L898902C<369080619406236"
    assert mrz_key(" l898902c ", "690806", "940623") == "L898902C<369080619406236"


@pytest.mark.parametrize(
    ("number", "birth", "expiry"),
    [
        ("", "690806", "940623"),
        ("<<<", "690806", "940623"),
        ("L89-8902", "690806", "940623"),
        ("L898902C", "69086", "940623"),
        ("L898902C", "690806", "94O623"),
    ],
)
def test_mrz_key_refuses_bad_fields(number: str, birth: str, expiry: str) -> None:
    with pytest.raises(MRZError):
        mrz_key(number, birth, expiry)


def test_mrz_info_is_the_documented_shape() -> None:
    info = parse_mrz(TD1_SPECIMEN)
    assert isinstance(info, MRZInfo)
    assert info.lines == tuple(TD1_SPECIMEN.splitlines())
    assert hash(info) == hash(parse_mrz(TD1_SPECIMEN))  # usable as a key despite ``checks``


mrz_text = st.one_of(
    st.text(max_size=120),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", min_size=88, max_size=90),
    st.lists(
        st.text(alphabet="ABCXYZ0189<a -\t", min_size=28, max_size=46), min_size=1, max_size=4
    ).map("\n".join),
)


@settings(max_examples=400, deadline=None)
@given(mrz_text)
def test_parse_mrz_raises_only_mrz_error(text: str) -> None:
    try:
        info = parse_mrz(text)
    except MRZError:
        return
    assert info.format in ("TD1", "TD3")
    assert info.valid == all(info.checks.values())
    cccd_id_number(info)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12), st.text(max_size=8), st.text(max_size=8))
def test_mrz_key_raises_only_mrz_error(number: str, birth: str, expiry: str) -> None:
    try:
        key = mrz_key(number, birth, expiry)
    except MRZError:
        return
    assert len(key) >= 24
