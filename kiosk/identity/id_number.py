"""The rules of the 12-digit personal identification number (số định danh cá nhân).

Nghị định 137/2015/NĐ-CP and Thông tư 07/2016/TT-BCA: 3 digits of the province of birth
registration, 1 digit of century and sex (0/1 = 20th century male/female, 2/3 = 21st, 4/5 =
22nd, …), 2 digits of the year of birth, 6 random digits. The CAN printed on the CCCD, used for
PACE, is its last 6 digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.errors import KioskError

# Province codes of Thông tư 07/2016/TT-BCA (the 63 provinces before the 2025 merger). Numbers
# issued under them stay valid after the merger, so the kiosk keeps accepting all of them.
PROVINCE_CODES: frozenset[str] = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 "
    "035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 "
    "070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)


class InvalidIdNumber(KioskError):
    """A typed ID number that cannot be a Vietnamese personal identification number."""

    msgid = "This is not a valid 12-digit ID number. Please check the number on your card."


@dataclass
class IdNumberFacts:
    """What the digits of an ID number tell by themselves."""

    province_code: str
    sex: str  # "M" or "F"
    birth_year: int


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumberFacts:
    """Check a 12-digit ID number's structure and return what its digits say.

    Raises ``InvalidIdNumber`` (with the reason in ``str()``) when it has the wrong length, a
    province code that does not exist or a birth year in the future.
    """
    digits = "".join(ch for ch in raw if not ch.isspace())
    if len(digits) != 12 or not digits.isdigit():
        raise InvalidIdNumber(f"ID number must be 12 digits, got {len(digits)} characters")
    province = digits[:3]
    if province not in PROVINCE_CODES:
        raise InvalidIdNumber(f"unknown province code {province}")
    century_sex = int(digits[3])
    century = 1900 + 100 * (century_sex // 2)
    birth_year = century + int(digits[4:6])
    today = today or date.today()
    if birth_year > today.year:
        raise InvalidIdNumber(f"birth year {birth_year} is in the future")
    return IdNumberFacts(province, "F" if century_sex % 2 else "M", birth_year)


def normalise_id_number(raw: str, *, today: date | None = None) -> str:
    """The 12 digits of a valid ID number, spaces removed; raises ``InvalidIdNumber``."""
    parse_id_number(raw, today=today)
    return "".join(ch for ch in raw if not ch.isspace())


def can_from_id_number(id_number: str) -> str:
    """The card access number (CAN) of a CCCD: the last 6 digits of the 12-digit ID number."""
    return normalise_id_number(id_number)[-6:]
