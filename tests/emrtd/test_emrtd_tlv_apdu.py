"""BER-TLV and APDU encoding: the byte-level ground the chip protocols stand on."""

from __future__ import annotations

import pytest

from kiosk.emrtd import tlv
from kiosk.emrtd.apdu import CommandAPDU, ResponseAPDU, read_binary, read_binary_odd
from kiosk.emrtd.errors import (
    CardStatusError,
    EmrtdError,
    FileNotFoundOnCard,
    SecurityStatusNotSatisfied,
    TLVError,
)


def test_tlv_round_trip_short_and_long_lengths() -> None:
    for size in (0, 1, 127, 128, 255, 256, 40_000):
        value = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
        encoded = tlv.encode(0x5F2E, value)
        item, end = tlv.parse_one(encoded)
        assert (item.tag, item.value, end) == (0x5F2E, value, len(encoded))


def test_tlv_header_tells_the_file_size_from_its_first_bytes() -> None:
    dg2 = tlv.encode(0x75, bytes(20_000))
    assert tlv.header(dg2[:8]) == (0x75, 20_000, 4)
    assert tlv.header(bytes.fromhex("7F61820100")) == (0x7F61, 256, 5)


def test_tlv_constructed_children() -> None:
    com = tlv.encode(0x60, tlv.encode(0x5F01, b"0107") + tlv.encode(0x5C, b"\x61\x75\x6d"))
    outer = tlv.parse_one(com)[0]
    assert outer.constructed
    assert outer.child(0x5C).value == b"\x61\x75\x6d"
    assert outer.child(0x99) is None
    with pytest.raises(TLVError):
        tlv.require(outer.children(), 0x99, "EF.COM")


@pytest.mark.parametrize(
    "raw",
    [
        b"\x75",  # no length
        b"\x75\x05abc",  # value cut short
        b"\x75\x80",  # indefinite length
        b"\x75\x85\x01\x02\x03\x04\x05",  # 5 length bytes
        b"\x5f",  # multi-byte tag cut short
        b"\x00\x01a",  # tag 00
        b"\x75\x82\x01",  # length bytes cut short
    ],
)
def test_tlv_malformed_input_raises_tlv_error(raw: bytes) -> None:
    with pytest.raises(TLVError):
        tlv.parse_all(raw)


def test_command_apdu_cases_round_trip() -> None:
    cases = [
        CommandAPDU(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("A0000002471001")),
        CommandAPDU(0x00, 0xB0, 0x00, 0x00, le=256),
        CommandAPDU(0x00, 0x84, 0x00, 0x00, le=8),
        CommandAPDU(0x0C, 0xB0, 0x01, 0x00, b"\x97\x01\xdf", le=256),
        CommandAPDU(0x00, 0x22, 0xC1, 0xA4, bytes(300)),
        CommandAPDU(0x00, 0xB1, 0x00, 0x00, b"\x54\x02\x80\x00", le=1000),
        CommandAPDU(0x00, 0x70, 0x00, 0x00),
    ]
    for command in cases:
        encoded = command.encode()
        assert CommandAPDU.parse(encoded).encode() == encoded
    assert read_binary(0x1234, 0xDF).encode() == bytes.fromhex("00B01234DF")
    assert read_binary_odd(0x8000, 0xDF).encode() == bytes.fromhex("00B100000454028000DF")
    with pytest.raises(ValueError):
        read_binary(0x8000, 16)


@pytest.mark.parametrize("raw", ["00", "00A404", "00A4040C05A000", "00A4040C0000"])
def test_malformed_command_apdus_are_refused(raw: str) -> None:
    with pytest.raises(EmrtdError):
        CommandAPDU.parse(bytes.fromhex(raw))


def test_response_status_words_map_to_errors() -> None:
    assert ResponseAPDU.parse(b"ab\x90\x00").check() == b"ab"
    assert ResponseAPDU.parse(b"ab\x62\x82").check() == b"ab"
    with pytest.raises(FileNotFoundOnCard):
        ResponseAPDU.parse(b"\x6a\x82").check()
    with pytest.raises(SecurityStatusNotSatisfied):
        ResponseAPDU.parse(b"\x69\x82").check()
    with pytest.raises(CardStatusError) as err:
        ResponseAPDU.parse(b"\x6d\x00").check("select")
    assert err.value.sw == 0x6D00 and "select" in str(err.value)
    with pytest.raises(EmrtdError):
        ResponseAPDU.parse(b"\x90")
