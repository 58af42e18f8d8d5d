"""The text of the QR code on a citizen ID card: the CCCD front (2021), the Căn cước back (2024).

    001090012345|123456789|Nguyễn Văn An|15051990|Nam|Số 12 Trần Phú, Hà Đông, Hà Nội|10042021
    ID number    old ID    full name     born      sex residence                       issued

Fields are separated by ``|``: the 12-digit ID number, the old 9-digit ID (CMND; empty when
there was none, and on the 2024 card), the full name, the date of birth (ddmmyyyy), the sex
(Nam / Nữ), the residence, the issue date (ddmmyyyy). Newer cards may add fields after these
seven (kept in ``extra``, empty ones included) or leave some empty.

``parse_cccd_qr`` checks what it can, so that any other QR code (a web address, a receipt, a
payment code) is refused with ``NotACCCDQR``: at least seven fields, a valid 12-digit ID number
(kiosk.identity.id_number.parse_id_number) whose year of birth and sex agree with the date of
birth and the sex fields, real dates, a date of birth before the issue date. Text is NFC.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from kiosk.identity.id_number import InvalidIdNumber, can_from_id_number, parse_id_number
from kiosk.vision.errors import NotACCCDQR

MIN_FIELDS = 7
MAX_LENGTH = 2000  # a CCCD's QR text is a few hundred characters at most
_ID = re.compile(r"[0-9]{12}")
_OLD_ID = re.compile(r"(?:[0-9]{9}|[0-9]{12})?")
_DATE = re.compile(r"[0-9]{8}")
_SEXES = {"nam": "Nam", "nữ": "Nữ"}


@dataclass(frozen=True)
class CCCDQR:
    """The fields of a CCCD's QR code. ``sex`` is as printed (Nam or Nữ); ``old_id`` is ""
    when the card has none; ``extra`` holds the fields after the seventh, as they are."""

    id_number: str
    old_id: str
    full_name: str
    date_of_birth: date
    sex: str
    residence: str
    issue_date: date
    extra: list[str] = field(default_factory=list)

    @property
    def can(self) -> str:
        """The card access number for PACE: the last 6 digits of the ID number."""
        return can_from_id_number(self.id_number)

    @property
    def sex_letter(self) -> str:
        """M or F, as the MRZ and the kiosk's ``Identity`` write the sex."""
        return "M" if self.sex == "Nam" else "F"


def parse_cccd_qr(text: str, *, today: date | None = None) -> CCCDQR:
    """Parse a CCCD QR code's text; ``NotACCCDQR`` (with the reason in ``str()``) for any
    text that is not one."""
    if not isinstance(text, str):
        raise NotACCCDQR(f"QR content must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise NotACCCDQR(f"QR text of {len(text)} characters is too long for a CCCD")
    text = unicodedata.normalize("NFC", text).strip()
    fields = [part.strip() for part in text.split("|")]
    if len(fields) < MIN_FIELDS:
        raise NotACCCDQR(
            f"a CCCD QR has at least {MIN_FIELDS} |-separated fields, got {len(fields)}"
        )
    id_number, old_id, full_name, born, sex, residence, issued = fields[:MIN_FIELDS]
    if not _ID.fullmatch(id_number):
        raise NotACCCDQR("the first field is not a 12-digit ID number")
    try:
        facts = parse_id_number(id_number, today=today)
    except InvalidIdNumber as exc:
        raise NotACCCDQR(f"the ID number is not valid: {exc}") from exc
    if not _OLD_ID.fullmatch(old_id):
        raise NotACCCDQR("the second field is neither empty nor an old 9-digit ID number")
    if not full_name or any(ch.isdigit() or not ch.isprintable() for ch in full_name):
        raise NotACCCDQR("the third field is not a name")
    date_of_birth = _date(born, "date of birth")
    issue_date = _date(issued, "issue date")
    sex_printed = _SEXES.get(sex.casefold())
    if sex_printed is None:
        raise NotACCCDQR("the fifth field is not a sex (Nam or Nữ)")
    if facts.birth_year != date_of_birth.year:
        raise NotACCCDQR(f"the ID number says born in {facts.birth_year}, not {date_of_birth.year}")
    if facts.sex != ("M" if sex_printed == "Nam" else "F"):
        raise NotACCCDQR("the ID number and the sex field disagree")
    if issue_date < date_of_birth or issue_date > (today or date.today()):
        raise NotACCCDQR(f"issue date {issue_date} is before the birth or in the future")
    if any(not ch.isprintable() for ch in residence):
        raise NotACCCDQR("the residence holds control characters")
    return CCCDQR(
        id_number=id_number,
        old_id=old_id,
        full_name=full_name,
        date_of_birth=date_of_birth,
        sex=sex_printed,
        residence=residence,
        issue_date=issue_date,
        extra=fields[MIN_FIELDS:],
    )


def _date(value: str, name: str) -> date:
    if not _DATE.fullmatch(value):
        raise NotACCCDQR(f"the {name} is not ddmmyyyy")
    try:
        return date(int(value[4:]), int(value[2:4]), int(value[:2]))
    except ValueError as exc:
        raise NotACCCDQR(f"the {name} {value} is not a date") from exc
