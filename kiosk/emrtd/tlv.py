"""BER-TLV as ICAO 9303 uses it: tags of one or more bytes, short and long definite lengths.

Parsing is strict: a truncated value, an indefinite length, a length longer than 4 bytes or a
tag running off the end raise ``TLVError`` with the offset. ``header()`` reads just a tag and a
length, which is how a file's total size is learnt from its first bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kiosk.emrtd.errors import TLVError

MAX_LENGTH_BYTES = 4


@dataclass(frozen=True)
class TLV:
    """One tag-length-value; ``value`` holds the raw content bytes."""

    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        """Bit 6 of the first tag byte: the value is itself a sequence of TLVs."""
        first = self.tag
        while first > 0xFF:
            first >>= 8
        return bool(first & 0x20)

    def children(self) -> list[TLV]:
        """The TLVs inside a constructed value."""
        return parse_all(self.value)

    def child(self, tag: int) -> TLV | None:
        return find(self.children(), tag)

    def encode(self) -> bytes:
        return encode(self.tag, self.value)


def _tag(data: bytes, offset: int) -> tuple[int, int]:
    if offset >= len(data):
        raise TLVError(f"tag expected at offset {offset}, data ends")
    first = data[offset]
    if first in (0x00, 0xFF):
        raise TLVError(f"invalid tag byte {first:02X} at offset {offset}")
    tag = first
    offset += 1
    if first & 0x1F == 0x1F:  # multi-byte tag: continuation bytes have bit 8 set
        count = 0
        while True:
            if offset >= len(data):
                raise TLVError("multi-byte tag runs off the end")
            byte = data[offset]
            tag = (tag << 8) | byte
            offset += 1
            count += 1
            if not byte & 0x80:
                break
            if count >= 3:
                raise TLVError(f"tag longer than 4 bytes at offset {offset}")
    return tag, offset


def _length(data: bytes, offset: int) -> tuple[int, int]:
    if offset >= len(data):
        raise TLVError(f"length expected at offset {offset}, data ends")
    first = data[offset]
    offset += 1
    if first < 0x80:
        return first, offset
    count = first & 0x7F
    if count == 0:
        raise TLVError(f"indefinite length at offset {offset - 1} is not allowed")
    if count > MAX_LENGTH_BYTES:
        raise TLVError(f"length of {count} bytes at offset {offset - 1}")
    if offset + count > len(data):
        raise TLVError("length bytes run off the end")
    return int.from_bytes(data[offset : offset + count], "big"), offset + count


def header(data: bytes, offset: int = 0) -> tuple[int, int, int]:
    """(tag, value length, header length) of the TLV at ``offset``; the value may be absent."""
    tag, after_tag = _tag(data, offset)
    length, after_length = _length(data, after_tag)
    return tag, length, after_length - offset


def parse_one(data: bytes, offset: int = 0) -> tuple[TLV, int]:
    """The TLV at ``offset`` and the offset just after it."""
    data = bytes(data)
    tag, length, head = header(data, offset)
    start = offset + head
    end = start + length
    if end > len(data):
        raise TLVError(
            f"value of tag {tag:X} needs {length} bytes at offset {start}, "
            f"only {len(data) - start} left"
        )
    return TLV(tag, data[start:end]), end


def iter_tlvs(data: bytes) -> Iterator[TLV]:
    offset = 0
    data = bytes(data)
    while offset < len(data):
        item, offset = parse_one(data, offset)
        yield item


def parse_all(data: bytes) -> list[TLV]:
    """Every TLV in ``data``, which must hold nothing else."""
    return list(iter_tlvs(data))


def find(items: Iterable[TLV], tag: int) -> TLV | None:
    for item in items:
        if item.tag == tag:
            return item
    return None


def require(items: Iterable[TLV], tag: int, where: str = "") -> TLV:
    found = find(items, tag)
    if found is None:
        raise TLVError(f"tag {tag:X} missing{' in ' + where if where else ''}")
    return found


def encode_tag(tag: int) -> bytes:
    if tag <= 0:
        raise ValueError(f"bad tag {tag}")
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big")


def encode_length(length: int) -> bytes:
    if length < 0:
        raise ValueError("negative length")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(body) > MAX_LENGTH_BYTES:
        raise ValueError("length too large")
    return bytes([0x80 | len(body)]) + body


def encode(tag: int, value: bytes) -> bytes:
    """DER-style encoding of one TLV (shortest length form)."""
    return encode_tag(tag) + encode_length(len(value)) + bytes(value)
