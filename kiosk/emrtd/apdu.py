"""Command and response APDUs (ISO/IEC 7816-4), and the transport a protocol talks through.

A transport is any ``transmit(apdu: bytes) -> bytes`` returning response data followed by the
two status bytes: a PC/SC connection, the in-process simulated chip, or a secure-messaging
wrapper around either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.emrtd.errors import (
    CardStatusError,
    EmrtdError,
    FileNotFoundOnCard,
    SecurityStatusNotSatisfied,
)

Transmit = Callable[[bytes], bytes]

SW_OK = 0x9000
SW_SECURITY_STATUS = 0x6982
SW_FILE_NOT_FOUND = 0x6A82
SW_AUTH_FAILED = 0x6300

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
INS_INTERNAL_AUTHENTICATE = 0x88
INS_MSE = 0x22
INS_GENERAL_AUTHENTICATE = 0x86


@dataclass(frozen=True)
class CommandAPDU:
    """One command. ``le`` None: no Le field; else Ne, the bytes expected (1..65536; 0 is
    read as the maximum, 256 short or 65536 extended). ``extended`` forces extended length."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    @classmethod
    def parse(cls, raw: bytes) -> CommandAPDU:
        """ISO 7816-4 cases 1, 2S, 3S, 4S, 2E, 3E, 4E; anything else raises ``EmrtdError``."""
        raw = bytes(raw)
        if len(raw) < 4:
            raise EmrtdError(f"command APDU of {len(raw)} byte(s), a header needs 4")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        if body[0] != 0:
            lc = body[0]
            if len(body) == 1 + lc:
                return cls(cla, ins, p1, p2, body[1:])
            if len(body) == 2 + lc:
                return cls(cla, ins, p1, p2, body[1:-1], le=body[-1] or 256)
            raise EmrtdError(f"Lc={lc} but {len(body) - 1} byte(s) follow")
        if len(body) == 3:
            return cls(cla, ins, p1, p2, le=int.from_bytes(body[1:], "big") or 65536, extended=True)
        if len(body) < 3:
            raise EmrtdError("extended length field cut short")
        lc = int.from_bytes(body[1:3], "big")
        if lc and len(body) == 3 + lc:
            return cls(cla, ins, p1, p2, body[3:], extended=True)
        if lc and len(body) == 5 + lc:
            le = int.from_bytes(body[-2:], "big") or 65536
            return cls(cla, ins, p1, p2, body[3:-2], le=le, extended=True)
        raise EmrtdError(f"extended Lc={lc} but {len(body) - 3} byte(s) follow")

    def encode(self) -> bytes:
        head = bytes([self.cla, self.ins, self.p1, self.p2])
        extended = self.extended or len(self.data) > 255 or (self.le is not None and self.le > 256)
        body = b""
        if extended:
            if self.data:
                body += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.le is not None:
                le = self.le if self.le < 65536 else 0
                body += (b"" if self.data else b"\x00") + le.to_bytes(2, "big")
        else:
            if self.data:
                body += bytes([len(self.data)]) + self.data
            if self.le is not None:
                body += bytes([self.le if self.le < 256 else 0])
        return head + body


@dataclass(frozen=True)
class ResponseAPDU:
    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> ResponseAPDU:
        if len(raw) < 2:
            raise EmrtdError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK or (self.sw >> 8) == 0x61

    def check(self, step: str | None = None) -> bytes:
        """The data, or the matching ``CardStatusError`` for an error status word."""
        if self.sw == SW_OK or self.sw == 0x6282:  # 6282: end of file reached before Le
            return self.data
        raise status_error(self.sw, step)


def status_error(sw: int, step: str | None = None) -> CardStatusError:
    if sw == SW_FILE_NOT_FOUND:
        return FileNotFoundOnCard("file not found", sw=sw, step=step)
    if sw == SW_SECURITY_STATUS:
        return SecurityStatusNotSatisfied("security status not satisfied", sw=sw, step=step)
    return CardStatusError("card returned an error", sw=sw, step=step)


def send(transmit: Transmit, command: CommandAPDU, step: str | None = None) -> ResponseAPDU:
    """Send ``command`` through ``transmit`` and parse the answer (status not checked)."""
    return ResponseAPDU.parse(transmit(command.encode()))


def select_aid(aid: bytes) -> CommandAPDU:
    return CommandAPDU(0x00, INS_SELECT, 0x04, 0x0C, aid)


def select_ef(fid: int) -> CommandAPDU:
    return CommandAPDU(0x00, INS_SELECT, 0x02, 0x0C, fid.to_bytes(2, "big"))


def select_mf() -> CommandAPDU:
    return CommandAPDU(0x00, INS_SELECT, 0x00, 0x0C, b"\x3f\x00")


def read_binary(offset: int, length: int) -> CommandAPDU:
    """READ BINARY at ``offset`` (< 32768: the offset goes in P1-P2) of ``length`` bytes."""
    if not 0 <= offset < 0x8000:
        raise ValueError("offsets from 32768 need READ BINARY with odd INS (B1)")
    return CommandAPDU(0x00, INS_READ_BINARY, offset >> 8, offset & 0xFF, le=length)


def read_binary_odd(offset: int, length: int) -> CommandAPDU:
    """READ BINARY B1: the offset in a DO 54, for files larger than 32 KiB."""
    from kiosk.emrtd.tlv import encode

    body = offset.to_bytes(max(1, (offset.bit_length() + 7) // 8), "big")
    return CommandAPDU(0x00, 0xB1, 0x00, 0x00, encode(0x54, body), le=length)
