"""DG13 of the Vietnamese CCCD: the citizen's data as numbered fields (tag 6D).

ICAO 9303 leaves DG13 to the issuing state ("optional details"). No public specification of the
CCCD's DG13 exists; the structure below is what open-source CCCD readers document from real
cards (NghiaLio/NFC_CCCD_Reader ``nfc_dg13_parser.dart``, which describes it as decoded from a
real card's hex, and the field numbering confirmed by nguyenddat/ript-virtual-recep
``ExtractCCCD.py`` and a VN-CCCD-2024 document profile)::

    6D  DG13
      30  SEQUENCE
        02 01 01            INTEGER version (1)
        06 ..               OID 1.0.10646.1.0.8 (ISO/IEC 10646 UTF-8, the text encoding)
        31  SET OF field
          30 { 02 01 nn, 0C "value" }              one field: its number, then its value
          30 { 02 01 0D, 30 { 0C father, 0C mother } }   field 13 nests its two names
          30 { 02 01 0E, 30 { 0C spouse } }              field 14 nests the spouse's name

    1 ID number · 2 full name · 3 date of birth (dd/mm/yyyy) · 4 sex (Nam / Nữ) · 5 nationality
    6 ethnicity · 7 religion · 8 hometown (quê quán) · 9 residence (nơi thường trú)
    10 identifying marks · 11 date of issue · 12 date of expiry (or a text such as
    "Không thời hạn") · 13 father's and mother's names · 14 spouse · 15 and later vary with the
    card generation (another document's number, the old 9-digit ID, a card serial) and are kept
    raw in ``DG13.unknown``.

The parser does not depend on the exact nesting: it walks SEQUENCEs and SETs and takes every
SEQUENCE that starts with an INTEGER followed only by values (strings, or SEQUENCEs of strings)
as a field; nested values are flattened in order. A field may be absent, or carry no value.
Strings are UTF8String (PrintableString, IA5String, BMPString also read), NFC-normalized; other
values are kept as bytes. Only ``TLVError``/``ParseError`` are raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from kiosk.emrtd import tlv
from kiosk.emrtd.datagroups import decode_oid, decode_small_int, nfc, unwrap
from kiosk.emrtd.errors import ParseError

TAG_DG13 = 0x6D
TAG_INTEGER = 0x02
TAG_OID = 0x06
TAG_SEQUENCE = 0x30
TAG_SET = 0x31
TEXT_OID_UTF8 = "1.0.10646.1.0.8"
MAX_DEPTH = 8

FIELD_ID_NUMBER = 1
FIELD_FULL_NAME = 2
FIELD_DATE_OF_BIRTH = 3
FIELD_SEX = 4
FIELD_NATIONALITY = 5
FIELD_ETHNICITY = 6
FIELD_RELIGION = 7
FIELD_HOMETOWN = 8
FIELD_RESIDENCE = 9
FIELD_IDENTIFYING_MARKS = 10
FIELD_DATE_OF_ISSUE = 11
FIELD_DATE_OF_EXPIRY = 12
FIELD_PARENTS = 13
FIELD_SPOUSE = 14
KNOWN_FIELDS = range(1, 15)

Value = str | bytes

_STRING_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x13: "ascii",  # PrintableString
    0x16: "ascii",  # IA5String
    0x1A: "ascii",  # VisibleString
    0x14: "latin-1",  # T61String (read as Latin-1: good enough for what CCCDs hold)
    0x1E: "utf-16-be",  # BMPString
}
_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})|(\d{2})(\d{2})(\d{4})")


@dataclass(frozen=True)
class DG13:
    """The CCCD's DG13, typed; ``fields`` has every field as read, ``unknown`` the numbers ≥ 15."""

    id_number: str | None = None
    full_name: str | None = None
    date_of_birth: date | None = None
    sex: str | None = None  # as printed: "Nam" or "Nữ"
    nationality: str | None = None
    ethnicity: str | None = None
    religion: str | None = None
    hometown: str | None = None
    residence: str | None = None
    identifying_marks: str | None = None
    date_of_issue: date | None = None
    date_of_expiry: date | None = None  # None also when field 12 is a text ("Không thời hạn")
    father_name: str | None = None
    mother_name: str | None = None
    spouse_name: str | None = None
    unknown: dict[int, list[Value]] = field(default_factory=dict)
    fields: dict[int, list[Value]] = field(default_factory=dict, repr=False)
    version: int | None = None

    def text(self, number: int) -> str | None:
        """Field ``number``'s first value as text (dates as printed), None when absent."""
        return _first_text(self.fields.get(number))


def parse_date(text: str | None) -> date | None:
    """A CCCD date ``dd/mm/yyyy`` (also ``dd-mm-yyyy``, ``ddmmyyyy``); None if not a real date."""
    if not text:
        return None
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    day, month, year = (int(g) for g in (match.groups()[:3] if match[1] else match.groups()[3:]))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _first_text(values: list[Value] | None) -> str | None:
    if not values:
        return None
    value = values[0]
    return value if isinstance(value, str) else None


def _text_at(values: list[Value] | None, index: int) -> str | None:
    if not values or len(values) <= index:
        return None
    value = values[index]
    return value if isinstance(value, str) else None


def _decode_value(item: tlv.TLV) -> Value:
    codec = _STRING_CODECS.get(item.tag)
    if codec is None:
        return item.value
    try:
        return nfc(item.value.decode(codec))
    except UnicodeDecodeError:
        return item.value  # keep what cannot be read, rather than lose the field


def _is_value(item: tlv.TLV) -> bool:
    """A field value: a primitive that is not an OID or INTEGER, or a container of primitives."""
    if item.tag in (TAG_SEQUENCE, TAG_SET):
        return all(not child.constructed for child in item.children())
    return not item.constructed and item.tag not in (TAG_OID, TAG_INTEGER)


def _as_field(item: tlv.TLV) -> tuple[int, list[Value]] | None:
    if item.tag != TAG_SEQUENCE:
        return None
    children = item.children()
    if not children or children[0].tag != TAG_INTEGER or not 1 <= len(children[0].value) <= 4:
        return None
    if not all(_is_value(child) for child in children[1:]):
        return None
    number = decode_small_int(children[0].value, "DG13 field number")
    if number <= 0:
        return None
    values: list[Value] = []
    for child in children[1:]:
        if child.tag in (TAG_SEQUENCE, TAG_SET):
            values.extend(_decode_value(grandchild) for grandchild in child.children())
        else:
            values.append(_decode_value(child))
    return number, values


@dataclass
class _Walk:
    fields: dict[int, list[Value]] = field(default_factory=dict)
    version: int | None = None
    text_oid: str | None = None


def _walk(items: list[tlv.TLV], walk: _Walk, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ParseError(f"DG13 nests deeper than {MAX_DEPTH} levels")
    for item in items:
        found = _as_field(item)
        if found is not None:
            number, values = found
            walk.fields.setdefault(number, []).extend(values)
        elif item.tag in (TAG_SEQUENCE, TAG_SET):
            _walk(item.children(), walk, depth + 1)
        elif item.tag == TAG_INTEGER and walk.version is None:
            walk.version = decode_small_int(item.value, "DG13 version")
        elif item.tag == TAG_OID and walk.text_oid is None:
            walk.text_oid = decode_oid(item.value)


def parse_dg13(data: bytes) -> DG13:
    """DG13 of a CCCD (see the module docstring for the structure)."""
    outer = unwrap(data, TAG_DG13, "DG13")
    walk = _Walk()
    _walk(outer.children(), walk, 0)
    if not walk.fields:
        raise ParseError("DG13 holds no numbered field")
    fields = walk.fields
    parents = fields.get(FIELD_PARENTS)
    return DG13(
        id_number=_first_text(fields.get(FIELD_ID_NUMBER)),
        full_name=_first_text(fields.get(FIELD_FULL_NAME)),
        date_of_birth=parse_date(_first_text(fields.get(FIELD_DATE_OF_BIRTH))),
        sex=_first_text(fields.get(FIELD_SEX)),
        nationality=_first_text(fields.get(FIELD_NATIONALITY)),
        ethnicity=_first_text(fields.get(FIELD_ETHNICITY)),
        religion=_first_text(fields.get(FIELD_RELIGION)),
        hometown=_first_text(fields.get(FIELD_HOMETOWN)),
        residence=_first_text(fields.get(FIELD_RESIDENCE)),
        identifying_marks=_first_text(fields.get(FIELD_IDENTIFYING_MARKS)),
        date_of_issue=parse_date(_first_text(fields.get(FIELD_DATE_OF_ISSUE))),
        date_of_expiry=parse_date(_first_text(fields.get(FIELD_DATE_OF_EXPIRY))),
        father_name=_text_at(parents, 0),
        mother_name=_text_at(parents, 1),
        spouse_name=_first_text(fields.get(FIELD_SPOUSE)),
        unknown={n: list(v) for n, v in fields.items() if n not in KNOWN_FIELDS},
        fields={n: list(v) for n, v in fields.items()},
        version=walk.version,
    )
