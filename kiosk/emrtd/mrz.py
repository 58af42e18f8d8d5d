"""Machine readable zones (ICAO 9303 Parts 3, 4, 5): TD3 passports and TD1 cards like the CCCD.

    TD3  2 × 44   P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<
                  L898902C36UTO7408122F1204159ZE184226B<<<<<10
    TD1  3 × 30   I<UTOD231458907<<<<<<<<<<<<<<<
                  7408122F1204159UTO<<<<<<<<<<<6
                  ERIKSSON<<ANNA<MARIA<<<<<<<<<<

Check digits use weights 7, 3, 1 over digit values (0-9), letters (A=10 .. Z=35) and the filler
'<' (0). A bad check digit does not make the MRZ unreadable: ``MRZInfo.checks`` tells which ones
hold and ``valid`` whether all do, composite included. ``MRZError`` is for text that is no MRZ:
the wrong number or length of lines, characters outside A-Z 0-9 '<'.

The CCCD (Vietnam's chip ID card) carries a TD1 on its back: ``IDVNM``, the last 9 digits of the
12-digit ID number as the document number, its check digit, then the whole 12-digit number in the
optional data. ``mrz_key`` gives the string BAC hashes into its key seed and PACE uses as the MRZ
password: document number (at least 9 characters, '<'-padded) + check digit + date of birth +
check digit + date of expiry + check digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kiosk.emrtd.errors import MRZError

TD1_LINES, TD1_LENGTH = 3, 30
TD3_LINES, TD3_LENGTH = 2, 44

_WEIGHTS = (7, 3, 1)
_ALPHABET = re.compile(r"[A-Z0-9<]*")
_DATE = re.compile(r"\d{6}")


def _value(char: str) -> int:
    if char == "<":
        return 0
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    raise MRZError(f"{char!r} is not an MRZ character (A-Z, 0-9, <)")


def check_digit(field: str) -> str:
    """The 7-3-1 check digit of ``field`` (upper-case MRZ characters), as one character."""
    total = sum(_value(char) * _WEIGHTS[i % 3] for i, char in enumerate(field))
    return str(total % 10)


def _check(field: str, digit: str, *, may_be_filler: bool = False) -> bool:
    """Whether ``digit`` is the check digit of ``field``; an all-filler optional field may
    carry '<' (ICAO 9303-4 allows '<' or '0' there)."""
    if may_be_filler and digit == "<" and set(field) <= {"<"}:
        return True
    return digit == check_digit(field)


@dataclass(frozen=True)
class MRZInfo:
    """The fields of one MRZ. Dates are YYMMDD strings as printed; fillers are removed from the
    document number, the optional data and the names (``names`` is (surname, given names))."""

    document_code: str
    issuing_state: str
    document_number: str
    date_of_birth: str
    sex: str
    date_of_expiry: str
    nationality: str
    optional_data: str
    names: tuple[str, str]
    format: str
    valid: bool
    optional_data_2: str = ""  # TD1 only: line 2, positions 19-29
    checks: dict[str, bool] = field(default_factory=dict, hash=False)  # name -> digit holds
    lines: tuple[str, ...] = ()

    @property
    def surname(self) -> str:
        return self.names[0]

    @property
    def given_names(self) -> str:
        return self.names[1]

    @property
    def mrz_key(self) -> str:
        """The BAC key seed string / PACE MRZ password of this document."""
        return mrz_key(self.document_number, self.date_of_birth, self.date_of_expiry)


def _lines(text: str) -> list[str]:
    """Upper-cased lines without blanks; a single run of 88 or 90 characters is split."""
    if not isinstance(text, str):
        raise MRZError(f"MRZ text expected, got {type(text).__name__}")
    lines = [re.sub(r"\s+", "", line).upper() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) == 1:
        (single,) = lines
        if len(single) == TD3_LINES * TD3_LENGTH:
            lines = [single[:TD3_LENGTH], single[TD3_LENGTH:]]
        elif len(single) == TD1_LINES * TD1_LENGTH:
            lines = [single[i : i + TD1_LENGTH] for i in range(0, len(single), TD1_LENGTH)]
    shape = [len(line) for line in lines]
    if shape not in ([TD3_LENGTH] * TD3_LINES, [TD1_LENGTH] * TD1_LINES):
        raise MRZError(
            f"an MRZ has 2 lines of 44 (passport) or 3 lines of 30 (ID card); got {shape or 'none'}"
        )
    for number, line in enumerate(lines, 1):
        if not _ALPHABET.fullmatch(line):
            bad = sorted(set(re.sub(r"[A-Z0-9<]", "", line)))
            raise MRZError(f"line {number} has characters that are not A-Z, 0-9 or <: {bad}")
    return lines


def _names(zone: str) -> tuple[str, str]:
    surname, _, given = zone.partition("<<")
    return (
        " ".join(surname.replace("<", " ").split()),
        " ".join(given.replace("<", " ").split()),
    )


def _strip(field_text: str) -> str:
    return field_text.strip("<")


def parse_mrz(text: str) -> MRZInfo:
    """Parse a TD3 (2×44) or TD1 (3×30) MRZ; ``MRZError`` if the text is neither."""
    lines = _lines(text)
    if len(lines) == TD3_LINES:
        return _parse_td3(lines)
    return _parse_td1(lines)


def _parse_td3(lines: list[str]) -> MRZInfo:
    first, second = lines
    number, number_cd = second[0:9], second[9]
    birth, birth_cd = second[13:19], second[19]
    expiry, expiry_cd = second[21:27], second[27]
    personal, personal_cd = second[28:42], second[42]
    checks = {
        "document_number": _check(number, number_cd),
        "date_of_birth": _check(birth, birth_cd),
        "date_of_expiry": _check(expiry, expiry_cd),
        "optional_data": _check(personal, personal_cd, may_be_filler=True),
        "composite": _check(second[0:10] + second[13:20] + second[21:43], second[43]),
    }
    return MRZInfo(
        document_code=_strip(first[0:2]),
        issuing_state=_strip(first[2:5]),
        document_number=_strip(number),
        date_of_birth=birth,
        sex=second[20],
        date_of_expiry=expiry,
        nationality=_strip(second[10:13]),
        optional_data=_strip(personal),
        names=_names(first[5:44]),
        format="TD3",
        valid=all(checks.values()),
        checks=checks,
        lines=tuple(lines),
    )


def _parse_td1(lines: list[str]) -> MRZInfo:
    first, second, third = lines
    number, number_cd = first[5:14], first[14]
    optional = first[15:30]
    if number_cd == "<" and optional[0] != "<":
        # A document number longer than 9 characters: the rest and its check digit open the
        # optional data, which a filler then ends (ICAO 9303-5, note j).
        rest, _, optional = optional.partition("<")
        number, number_cd = number + rest[:-1], rest[-1:]
    birth, birth_cd = second[0:6], second[6]
    expiry, expiry_cd = second[8:14], second[14]
    checks = {
        "document_number": _check(number, number_cd),
        "date_of_birth": _check(birth, birth_cd),
        "date_of_expiry": _check(expiry, expiry_cd),
        "composite": _check(first[5:30] + second[0:7] + second[8:15] + second[18:29], second[29]),
    }
    return MRZInfo(
        document_code=_strip(first[0:2]),
        issuing_state=_strip(first[2:5]),
        document_number=_strip(number),
        date_of_birth=birth,
        sex=second[7],
        date_of_expiry=expiry,
        nationality=_strip(second[15:18]),
        optional_data=_strip(optional),
        names=_names(third),
        format="TD1",
        valid=all(checks.values()),
        optional_data_2=_strip(second[18:29]),
        checks=checks,
        lines=tuple(lines),
    )


def mrz_key(document_number: str, date_of_birth: str, date_of_expiry: str) -> str:
    """number (padded to 9 with '<') + cd + date of birth + cd + date of expiry + cd."""
    number = re.sub(r"\s+", "", document_number).upper()
    if not number.strip("<") or not _ALPHABET.fullmatch(number):
        raise MRZError(f"document number {document_number!r} is not A-Z, 0-9 and <")
    number = number.ljust(9, "<")
    for name, value in (("date of birth", date_of_birth), ("date of expiry", date_of_expiry)):
        if not _DATE.fullmatch(value):
            raise MRZError(f"{name} {value!r} is not YYMMDD")
    return (
        number
        + check_digit(number)
        + date_of_birth
        + check_digit(date_of_birth)
        + date_of_expiry
        + check_digit(date_of_expiry)
    )


def cccd_id_number(info: MRZInfo) -> str | None:
    """The 12-digit ID number of a CCCD's TD1: the optional data's first 12 digits, whose last 9
    must be the document number. None for any other document."""
    if info.format != "TD1" or info.issuing_state != "VNM":
        return None
    match = re.match(r"\d{12}", info.optional_data)
    if match is None or not match.group().endswith(info.document_number):
        return None
    if len(info.document_number) != 9:
        return None
    return match.group()
