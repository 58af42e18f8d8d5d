"""The Logical Data Structure (ICAO 9303-10): the chip's files, their ids and tags, and parsers.

    FILES          every EF the kiosk knows: name, file id, short file id, outer tag, DG number
    parse_com      EF.COM  (60): 5F01 LDS version "0107", 5F36 Unicode version "040000", 5C tags
    parse_dg1      DG1     (61): 5F1F the MRZ → ``kiosk.emrtd.mrz.MRZInfo`` (``dg1_mrz``: raw)
    parse_dg2      DG2     (75): the face (datagroups/dg2.py), ``decode_face_image`` for the UI
    parse_dg13     DG13    (6D): Vietnam's numbered fields (datagroups/dg13.py)
    parse_dg14     DG14    (6E): SecurityInfos (``kiosk.emrtd.card_access.parse_security_infos``)
    parse_dg15     DG15    (6F): the Active Authentication public key (SubjectPublicKeyInfo)

EF.SOD (77) is parsed in ``kiosk.emrtd.sod``. Every parser takes the whole file as read from the
chip (trailing padding allowed) and raises only ``TLVError``, ``ParseError`` or ``MRZError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiosk.emrtd import tlv
from kiosk.emrtd.datagroups import decode_oid, unwrap
from kiosk.emrtd.datagroups.dg2 import (
    DG2,
    FaceImage,
    FeaturePoint,
    decode_face_image,
    image_mime_type,
    parse_dg2,
    parse_facial_record,
)
from kiosk.emrtd.datagroups.dg13 import DG13, parse_date, parse_dg13
from kiosk.emrtd.datagroups.public_key import EcdsaKey, PublicKey, curve_name, load_public_key
from kiosk.emrtd.errors import ParseError

if TYPE_CHECKING:
    from kiosk.emrtd.mrz import MRZInfo

__all__ = [
    "COM",
    "DG2",
    "DG13",
    "DG14",
    "DG15",
    "FILES",
    "EcdsaKey",
    "FaceImage",
    "FeaturePoint",
    "LDSFile",
    "PublicKey",
    "decode_face_image",
    "dg1_mrz",
    "file_for_dg",
    "file_for_tag",
    "image_mime_type",
    "load_public_key",
    "mrz_lines",
    "parse_com",
    "parse_date",
    "parse_dg1",
    "parse_dg2",
    "parse_dg13",
    "parse_dg14",
    "parse_dg15",
    "parse_facial_record",
]


@dataclass(frozen=True)
class LDSFile:
    name: str
    fid: int
    sfi: int
    tag: int | None  # the file's outer tag; EF.CardAccess is a bare SET
    dg: int | None = None


FILES: tuple[LDSFile, ...] = (
    LDSFile("EF.CardAccess", 0x011C, 0x1C, None),
    LDSFile("EF.COM", 0x011E, 0x1E, 0x60),
    LDSFile("EF.SOD", 0x011D, 0x1D, 0x77),
    LDSFile("DG1", 0x0101, 0x01, 0x61, 1),
    LDSFile("DG2", 0x0102, 0x02, 0x75, 2),
    LDSFile("DG3", 0x0103, 0x03, 0x63, 3),
    LDSFile("DG4", 0x0104, 0x04, 0x76, 4),
    LDSFile("DG5", 0x0105, 0x05, 0x65, 5),
    LDSFile("DG6", 0x0106, 0x06, 0x66, 6),
    LDSFile("DG7", 0x0107, 0x07, 0x67, 7),
    LDSFile("DG8", 0x0108, 0x08, 0x68, 8),
    LDSFile("DG9", 0x0109, 0x09, 0x69, 9),
    LDSFile("DG10", 0x010A, 0x0A, 0x6A, 10),
    LDSFile("DG11", 0x010B, 0x0B, 0x6B, 11),
    LDSFile("DG12", 0x010C, 0x0C, 0x6C, 12),
    LDSFile("DG13", 0x010D, 0x0D, 0x6D, 13),
    LDSFile("DG14", 0x010E, 0x0E, 0x6E, 14),
    LDSFile("DG15", 0x010F, 0x0F, 0x6F, 15),
    LDSFile("DG16", 0x0110, 0x10, 0x70, 16),
)
_BY_DG = {f.dg: f for f in FILES if f.dg is not None}
_BY_TAG = {f.tag: f for f in FILES if f.tag is not None}

TAG_COM = 0x60
TAG_LDS_VERSION = 0x5F01
TAG_UNICODE_VERSION = 0x5F36
TAG_TAG_LIST = 0x5C
TAG_DG1 = 0x61
TAG_MRZ = 0x5F1F
TAG_DG14 = 0x6E
TAG_DG15 = 0x6F
OID_ACTIVE_AUTHENTICATION = "2.23.136.1.1.5"


def file_for_dg(number: int) -> LDSFile:
    try:
        return _BY_DG[number]
    except KeyError:
        raise ParseError(f"there is no DG{number}") from None


def file_for_tag(tag: int) -> LDSFile | None:
    return _BY_TAG.get(tag)


# --- EF.COM -------------------------------------------------------------------------------


@dataclass(frozen=True)
class COM:
    lds_version: str  # "0107": LDS 1.7
    unicode_version: str  # "040000": Unicode 4.0.0
    tags: tuple[int, ...]

    @property
    def data_groups(self) -> list[int]:
        """The DG numbers the tag list announces (unknown tags left out)."""
        return [f.dg for t in self.tags if (f := _BY_TAG.get(t)) is not None and f.dg is not None]

    @property
    def lds_version_text(self) -> str:
        return f"{int(self.lds_version[:2])}.{int(self.lds_version[2:])}"


def _digits(item: tlv.TLV | None, size: int, what: str) -> str:
    if item is None:
        raise ParseError(f"EF.COM has no {what}")
    text = item.value.decode("ascii", "replace")
    if len(item.value) != size or not text.isdigit():
        raise ParseError(f"EF.COM {what} {item.value.hex()} is not {size} digits")
    return text


def parse_com(data: bytes) -> COM:
    items = unwrap(data, TAG_COM, "EF.COM").children()
    tag_list = tlv.require(items, TAG_TAG_LIST, "EF.COM")
    return COM(
        lds_version=_digits(tlv.find(items, TAG_LDS_VERSION), 4, "LDS version"),
        unicode_version=_digits(tlv.find(items, TAG_UNICODE_VERSION), 6, "Unicode version"),
        tags=tuple(tag_list.value),
    )


# --- DG1 ----------------------------------------------------------------------------------

_MRZ_LINES = {90: 30, 88: 44, 72: 36}  # TD1 3×30, TD3 2×44, TD2 2×36


def dg1_mrz(data: bytes) -> str:
    """DG1's MRZ as stored (one string, no line breaks), checked for a TD1/TD2/TD3 length."""
    mrz_item = tlv.require(unwrap(data, TAG_DG1, "DG1").children(), TAG_MRZ, "DG1")
    try:
        text = mrz_item.value.decode("ascii")
    except UnicodeDecodeError:
        raise ParseError("DG1 MRZ is not ASCII") from None
    if len(text) not in _MRZ_LINES:
        raise ParseError(f"DG1 MRZ of {len(text)} characters is no TD1, TD2 or TD3")
    return text


def mrz_lines(mrz: str) -> list[str]:
    """The MRZ of DG1 cut into its lines."""
    width = _MRZ_LINES.get(len(mrz))
    if width is None:
        raise ParseError(f"MRZ of {len(mrz)} characters is no TD1, TD2 or TD3")
    return [mrz[i : i + width] for i in range(0, len(mrz), width)]


def parse_dg1(data: bytes) -> MRZInfo:
    """DG1 → ``kiosk.emrtd.mrz.MRZInfo`` (check digits reported in it; MRZError on structure)."""
    from kiosk.emrtd.mrz import parse_mrz

    return parse_mrz("\n".join(mrz_lines(dg1_mrz(data))))


# --- DG14 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DG14:
    """The SecurityInfos of DG14 (Chip and Active Authentication info), raw and parsed."""

    security_infos: bytes  # the DER SET OF SecurityInfo
    infos: list[Any] | None = field(default=None, compare=False)  # card_access.SecurityInfo

    @property
    def active_authentication_algorithm(self) -> str | None:
        """The signature algorithm OID of ActiveAuthenticationInfo (for ECDSA AA), if any."""
        for item in tlv.parse_all(tlv.parse_one(self.security_infos)[0].value):
            parts = item.children() if item.tag == 0x30 else []
            if (
                len(parts) == 3
                and parts[0].tag == 0x06
                and parts[2].tag == 0x06
                and decode_oid(parts[0].value) == OID_ACTIVE_AUTHENTICATION
            ):
                return decode_oid(parts[2].value)
        return None


def parse_dg14(data: bytes) -> DG14:
    outer = unwrap(data, TAG_DG14, "DG14")
    inner, end = tlv.parse_one(outer.value)
    if inner.tag != 0x31 or end != len(outer.value):
        raise ParseError("DG14 does not hold exactly one SET OF SecurityInfo")
    raw = inner.encode()
    inner.children()  # a SET of well-formed TLVs
    try:
        from kiosk.emrtd.card_access import parse_security_infos
    except ImportError:
        return DG14(raw)
    return DG14(raw, parse_security_infos(raw))


# --- DG15 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DG15:
    """The Active Authentication public key (RSA or EC), with its SubjectPublicKeyInfo."""

    public_key: PublicKey = field(compare=False)
    subject_public_key_info: bytes

    @property
    def algorithm(self) -> str:
        return "RSA" if curve_name(self.public_key) is None else "EC"

    @property
    def curve(self) -> str | None:
        return curve_name(self.public_key)


def parse_dg15(data: bytes) -> DG15:
    outer = unwrap(data, TAG_DG15, "DG15")
    spki, end = tlv.parse_one(outer.value)
    if spki.tag != 0x30 or end != len(outer.value):
        raise ParseError("DG15 does not hold exactly one SubjectPublicKeyInfo")
    raw = spki.encode()
    return DG15(load_public_key(raw), raw)


# --- by number ----------------------------------------------------------------------------

PARSERS = {1: parse_dg1, 2: parse_dg2, 13: parse_dg13, 14: parse_dg14, 15: parse_dg15}


def parse_data_group(number: int, data: bytes) -> Any:
    """The parsed DG ``number``; ParseError for a DG this kiosk does not read."""
    parser = PARSERS.get(number)
    if parser is None:
        raise ParseError(f"DG{number} is not read by this kiosk")
    return parser(data)
