"""Checks of the typed values that have rules of their own: phone, e-mail, ID number, tax code.

Each ``*_problem(text)`` returns ``None`` when the value is right, else a ``Problem``: an English
msgid (translated by the screen) and the numbers to put in it, so the citizen reads exactly
what is wrong ("An ID number has 12 digits; this one has 9."). ``normalise_*`` turn what was
typed into the stored form (separators removed). The form engine registers these as JSON Schema
formats (``vn-phone``, ``vn-personal-id``, ``vn-tax-code``, ``email``) in its format checker.

Rules:
- Phone (Vietnam's numbering plan since the 2018 change of mobile prefixes): a mobile number is
  10 digits starting 03, 05, 07, 08 or 09; a fixed line is 11 digits starting 02 (area code of
  2–3 digits after the 0). ``+84``/``84`` before the number stands for the leading 0.
- Tax code (mã số thuế, Thông tư 105/2020/TT-BTC): 10 digits, the 10th a check digit over the
  first nine with weights 31 29 23 19 17 13 7 5 3: ``10 - (sum mod 11)``; a remainder of 0
  gives no digit and such numbers are not issued. A dependent unit adds ``-`` and 3 digits
  (001–999). Since 1 July 2025 an individual's tax code is their 12-digit personal ID number
  (Luật Quản lý thuế 2019 as applied by Thông tư 86/2024/TT-BTC), accepted as such.
- ID number: see ``kiosk.identity.id_number.parse_id_number``.
- E-mail: one ``@``, a local part of the characters mail systems accept, a domain of dot-separated
  labels with a top-level label of letters; 254 characters at most (RFC 5321).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from kiosk.identity.id_number import InvalidIdNumber, parse_id_number

MSG_PHONE = "Enter a Vietnamese phone number: 10 digits starting with 0, such as 0912345678."
MSG_PHONE_LENGTH = "A mobile phone number has 10 digits; this one has {count}."
MSG_EMAIL = "Enter an e-mail address such as ten@example.vn."
MSG_ID_LENGTH = "An ID number has 12 digits; this one has {count}."
MSG_ID_DIGITS = "An ID number has digits only."
MSG_ID_INVALID = "This is not a valid ID number. Please check it against your ID card."
MSG_TAX_FORMAT = "A tax code has 10 digits, or 10 digits, a dash and 3 more for a branch."
MSG_TAX_CHECK = "This tax code is not valid: its last digit does not match. Please check it."

TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_SEPARATORS = re.compile(r"[\s.\-()]")
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


@dataclass(frozen=True)
class Problem:
    """What is wrong with a value: an English msgid and the numbers that fill it."""

    msgid: str
    params: dict[str, int | str] = field(default_factory=dict)

    def text(self, gettext: object) -> str:
        """The message in the language of ``gettext`` (a one-argument translate function)."""
        translated = gettext(self.msgid) if callable(gettext) else self.msgid
        return str(translated).format(**self.params) if self.params else str(translated)


# --- phone -----------------------------------------------------------------------------------


def normalise_phone(text: str) -> str:
    """Digits only, with +84/84 turned into the leading 0."""
    digits = _SEPARATORS.sub("", text.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits


def phone_problem(text: str) -> Problem | None:
    number = normalise_phone(text)
    if not number.isdigit() or not number.startswith("0"):
        return Problem(MSG_PHONE)
    if number.startswith("02"):
        return None if len(number) == 11 else Problem(MSG_PHONE)
    if number[1] in "35789":
        return None if len(number) == 10 else Problem(MSG_PHONE_LENGTH, {"count": len(number)})
    return Problem(MSG_PHONE)


# --- e-mail ----------------------------------------------------------------------------------


def normalise_email(text: str) -> str:
    """Trimmed, with the domain in lower case (the local part is the mailbox owner's)."""
    text = text.strip()
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}" if at else text


def email_problem(text: str) -> Problem | None:
    text = normalise_email(text)
    if len(text) > 254 or not _EMAIL.match(text) or len(text.split("@")[0]) > 64:
        return Problem(MSG_EMAIL)
    return None


# --- ID number -------------------------------------------------------------------------------


def normalise_id(text: str) -> str:
    return _SEPARATORS.sub("", text)


def id_number_problem(text: str, today: date | None = None) -> Problem | None:
    number = normalise_id(text)
    if not number.isdigit():
        return Problem(MSG_ID_DIGITS)
    if len(number) != 12:
        return Problem(MSG_ID_LENGTH, {"count": len(number)})
    try:
        parse_id_number(number, today=today)
    except InvalidIdNumber:
        return Problem(MSG_ID_INVALID)
    return None


# --- tax code --------------------------------------------------------------------------------


def tax_check_digit(first_nine: str) -> int | None:
    """The check digit of a 10-digit tax code, or None when no digit fits (never issued)."""
    total = sum(int(d) * w for d, w in zip(first_nine, TAX_WEIGHTS, strict=True))
    check = 10 - total % 11
    return None if check == 10 else check


def normalise_tax_code(text: str) -> str:
    """``0101234567``, ``0101234567-001`` (13 digits typed without the dash get it back)."""
    compact = re.sub(r"[\s.]", "", text)
    if compact.isdigit() and len(compact) == 13:
        return f"{compact[:10]}-{compact[10:]}"
    return compact


def tax_code_problem(text: str, today: date | None = None) -> Problem | None:
    code = normalise_tax_code(text)
    if re.fullmatch(r"\d{12}", code):  # an individual's personal ID number, since 07/2025
        return None if id_number_problem(code, today) is None else Problem(MSG_ID_INVALID)
    match = re.fullmatch(r"(\d{10})(?:-(\d{3}))?", code)
    if not match or match.group(2) == "000":
        return Problem(MSG_TAX_FORMAT)
    main = match.group(1)
    if tax_check_digit(main[:9]) != int(main[9]):
        return Problem(MSG_TAX_CHECK)
    return None
