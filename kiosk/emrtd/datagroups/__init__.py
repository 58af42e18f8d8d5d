"""The LDS data groups, one module each where the structure is more than a wrapper.

    dg2.py         DG2: the face, an ISO/IEC 19794-5 facial record in a biometric template
    dg13.py        DG13: Vietnam's own data group (numbered fields of the CCCD)
    public_key.py  SubjectPublicKeyInfo → a key object (DG15, certificates), incl. explicit curves

``kiosk.emrtd.lds`` is the entry point: it holds the file table and the small files (EF.COM, DG1,
DG14, DG15) and re-exports what these modules define. ``unwrap`` and the string helpers here are
shared by all of them.
"""

from __future__ import annotations

import unicodedata

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import ParseError


def unwrap(data: bytes, tag: int, name: str) -> tlv.TLV:
    """The file's outer TLV, which must carry ``tag``; bytes after it (padding) are ignored."""
    data = bytes(data)
    if not data:
        raise ParseError(f"{name} is empty")
    outer, _ = tlv.parse_one(data)
    if outer.tag != tag:
        raise ParseError(f"{name} starts with tag {outer.tag:X}, expected {tag:X}")
    return outer


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def decode_oid(content: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's content octets (X.690 §8.19)."""
    if not content or content[-1] & 0x80:
        raise ParseError("OBJECT IDENTIFIER is empty or cut short")
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def decode_small_int(content: bytes, what: str) -> int:
    """A DER INTEGER of at most 4 content bytes."""
    if not 1 <= len(content) <= 4:
        raise ParseError(f"{what}: INTEGER of {len(content)} bytes")
    return int.from_bytes(content, "big", signed=True)
