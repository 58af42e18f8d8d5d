"""A simulated CCCD chip: an ISO 7816-4 APDU processor with the eMRTD file layout.

It answers raw command APDUs with raw response APDUs (data + SW1 SW2), whatever carries them:
the simulated reader in-process, or pcscd through a virtual reader (devices/simulated/vpcd.py).

    SELECT (A4)        by AID (P1=04): the eMRTD application A0000002471001; the MF (P1=00,
                       3F00 or no data); an EF by file id in the current DF (P1=02 or 00)
    READ BINARY (B0)   offset in P1P2, or a short EF id in P1 (b8=1) with the offset in P2
    READ BINARY (B1)   the offset in a DO54, the data in a DO53: files larger than 32 KiB
    GET CHALLENGE (84) 8 random bytes; with BAC, the challenge of EXTERNAL AUTHENTICATE (82)
    MSE:Set AT (22), GENERAL AUTHENTICATE (86)  PACE (devices/simulated/chip_pace.py)
    INTERNAL AUTHENTICATE (88)  active authentication with the chip's DG15 key

Files: EF.CardAccess (011C) in the MF, readable in plain: a DER SecurityInfos announcing PACE
id-PACE-ECDH-GM-AES-CBC-CMAC-128 on brainpoolP256r1 (absent on a BAC-only chip). In the
application: EF.COM, EF.SOD, DG1, DG2, DG13, DG14, DG15, readable only under secure messaging
(6982 otherwise). Once PACE or BAC succeeds, commands with CLA 0C are unwrapped and answers
wrapped by the session's ``SecureMessaging``; a bad MAC or a plain command ends the session, as
ICAO 9303-11 asks of a chip.

``remove_after(n)`` makes the card leave the field after answering ``n`` more APDUs: the next
``process()`` raises ``CardRemoved``, as a reader does when the citizen lifts the card.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from devices.base import CardRemoved
from kiosk.emrtd import tlv
from kiosk.emrtd.apdu import CommandAPDU as ReaderCommandAPDU
from kiosk.emrtd.errors import EmrtdError

AID_EMRTD = bytes.fromhex("A0000002471001")
FID_MF = 0x3F00

OID_PACE_ECDH_GM_AES_CBC_CMAC_128 = "0.4.0.127.0.7.2.2.4.2.2"
PACE_VERSION = 2
PARAM_ID_BRAINPOOL_P256R1 = 13

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # end of file reached before reading Ne bytes
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_STATUS_NOT_SATISFIED = 0x6982
SW_NO_CURRENT_EF = 0x6986
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_OFFSET_OUTSIDE_EF = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_NO_PRECISE_DIAGNOSIS = 0x6F00

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_READ_BINARY_ODD = 0xB1
INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
INS_INTERNAL_AUTHENTICATE = 0x88
INS_MSE = 0x22
INS_GENERAL_AUTHENTICATE = 0x86
SW_SM_OBJECTS_MISSING = 0x6987
SW_SM_OBJECTS_INCORRECT = 0x6988
CLA_SM = 0x0C
CLA_CHAINING = 0x10


# --- DER, just what EF.CardAccess needs (X.690) -------------------------------------------


def der_length(length: int) -> bytes:
    """A DER length: short form below 128, long form (0x81.., 0x82..) above."""
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_tlv(tag: int, value: bytes) -> bytes:
    """A DER element with a one-byte tag."""
    return bytes([tag]) + der_length(len(value)) + value


def der_integer(number: int) -> bytes:
    """An INTEGER, two's complement, minimal length."""
    size = max(1, (number.bit_length() + 8) // 8)
    return der_tlv(0x02, number.to_bytes(size, "big", signed=True))


def der_oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER from its dotted form."""
    arcs = [int(arc) for arc in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"not an object identifier: {dotted!r}")
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return der_tlv(0x06, bytes(body))


def der_sequence(*items: bytes) -> bytes:
    return der_tlv(0x30, b"".join(items))


def der_set_of(*items: bytes) -> bytes:
    """A SET OF: DER orders the elements by their encodings."""
    return der_tlv(0x31, b"".join(sorted(items)))


def pace_info(protocol_oid: str, version: int, parameter_id: int | None) -> bytes:
    """PACEInfo ::= SEQUENCE { protocol OID, version INTEGER, parameterId INTEGER OPTIONAL }."""
    fields = [der_oid(protocol_oid), der_integer(version)]
    if parameter_id is not None:
        fields.append(der_integer(parameter_id))
    return der_sequence(*fields)


def card_access_content() -> bytes:
    """EF.CardAccess: SecurityInfos announcing PACE-ECDH-GM-AES-128 on brainpoolP256r1."""
    return der_set_of(
        pace_info(OID_PACE_ECDH_GM_AES_CBC_CMAC_128, PACE_VERSION, PARAM_ID_BRAINPOOL_P256R1)
    )


def contactless_atr(historical: bytes = b"") -> bytes:
    """The ATR a PC/SC reader builds for an ISO 14443-4 card (PC/SC part 3), with its TCK."""
    if len(historical) > 15:
        raise ValueError("at most 15 historical bytes")
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    tck = 0
    for byte in body:
        tck ^= byte
    return b"\x3b" + body + bytes([tck])


# --- APDUs --------------------------------------------------------------------------------


class MalformedAPDU(ValueError):
    """The bytes are not a command APDU of any ISO 7816-4 case (answered 6700)."""


@dataclass(frozen=True)
class CommandAPDU:
    """A parsed command APDU; ``ne`` is None without an Le field, else 1..256 or 1..65536."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None
    extended: bool = False

    @classmethod
    def parse(cls, raw: bytes) -> CommandAPDU:
        """Cases 1, 2S, 3S, 4S, 2E, 3E, 4E; anything else raises ``MalformedAPDU``.

        The parsing is the reader side's (``kiosk.emrtd.apdu.CommandAPDU.parse``): the card and
        the terminal read APDU bytes the same way; here Le is called Ne, as ISO 7816-4 does.
        """
        try:
            parsed = ReaderCommandAPDU.parse(raw)
        except EmrtdError as exc:
            raise MalformedAPDU(str(exc)) from None
        return cls(
            parsed.cla,
            parsed.ins,
            parsed.p1,
            parsed.p2,
            data=parsed.data,
            ne=parsed.le,
            extended=parsed.extended,
        )


def response(data: bytes, sw: int) -> bytes:
    """A response APDU: data then SW1 SW2."""
    return data + sw.to_bytes(2, "big")


# --- the citizen on the card --------------------------------------------------------------


@dataclass(frozen=True)
class CardProfile:
    """Who the simulated card belongs to; checked like a real CCCD number would be.

    The 12-digit number: province code 001..096, a digit for century and sex (0/1: 1900s
    male/female, 2/3: 2000s, ...), the last two digits of the birth year, six random digits.
    """

    id_number: str
    full_name: str
    date_of_birth: date
    sex: str  # "Nam" or "Nữ", as printed on the card
    nationality: str = "Việt Nam"
    place_of_origin: str = ""
    place_of_residence: str = ""
    date_of_issue: date | None = None
    date_of_expiry: date | None = None

    def __post_init__(self) -> None:
        for name in ("full_name", "sex", "nationality", "place_of_origin", "place_of_residence"):
            object.__setattr__(self, name, unicodedata.normalize("NFC", getattr(self, name)))
        number = self.id_number
        if len(number) != 12 or not number.isascii() or not number.isdigit():
            raise ValueError(f"ID number must be 12 digits, got {number!r}")
        if not 1 <= int(number[:3]) <= 96:
            raise ValueError(f"ID number {number}: province code {number[:3]} not in 001..096")
        if self.sex not in ("Nam", "Nữ"):
            raise ValueError(f"sex must be 'Nam' or 'Nữ', got {self.sex!r}")
        gender_century = int(number[3])
        century = 1900 + 100 * (gender_century // 2)
        sex = "Nam" if gender_century % 2 == 0 else "Nữ"
        year = century + int(number[4:6])
        if sex != self.sex or year != self.date_of_birth.year:
            raise ValueError(
                f"ID number {number} encodes {sex} born in {year}, "
                f"profile says {self.sex} born in {self.date_of_birth.year}"
            )
        if not self.full_name.strip():
            raise ValueError("full name is empty")

    @property
    def can(self) -> str:
        """The Card Access Number for PACE: the last 6 digits of the ID number."""
        return self.id_number[-6:]


# --- files --------------------------------------------------------------------------------


class Access(Enum):
    """Who may read a file."""

    PLAIN = "plain"  # anyone, without secure messaging
    SECURE_MESSAGING = "secure messaging"  # after PACE or BAC


@dataclass
class ElementaryFile:
    name: str
    fid: int
    sfi: int | None
    content: bytes = b""
    access: Access = Access.SECURE_MESSAGING


@dataclass
class DedicatedFile:
    name: str
    files: dict[int, ElementaryFile] = field(default_factory=dict)

    def add(self, ef: ElementaryFile) -> ElementaryFile:
        self.files[ef.fid] = ef
        return ef

    def by_sfi(self, sfi: int) -> ElementaryFile | None:
        return next((ef for ef in self.files.values() if ef.sfi == sfi), None)


Handler = Callable[[CommandAPDU], bytes]


class SimulatedCCCD:
    """The chip of one citizen ID card; ``process(apdu) -> response`` is its whole interface."""

    def __init__(self, profile: CardProfile, *, seed: int | None = None) -> None:
        self.profile = profile
        self.atr = contactless_atr()
        self._random = random.Random(seed) if seed is not None else None
        self.mf = DedicatedFile("MF")
        self.mf.add(
            ElementaryFile("EF.CardAccess", 0x011C, 0x1C, card_access_content(), Access.PLAIN)
        )
        self.emrtd = DedicatedFile("eMRTD")
        for name, fid, sfi in (
            ("EF.COM", 0x011E, 0x1E),
            ("EF.SOD", 0x011D, 0x1D),
            ("DG1", 0x0101, 0x01),
            ("DG2", 0x0102, 0x02),
            ("DG13", 0x010D, 0x0D),
        ):
            self.emrtd.add(ElementaryFile(name, fid, sfi))
        self.handlers: dict[int, Handler] = {
            INS_SELECT: self._select,
            INS_READ_BINARY: self._read_binary,
            INS_READ_BINARY_ODD: self._read_binary_odd,
            INS_GET_CHALLENGE: self._get_challenge,
        }
        self.supported_cla = frozenset({0x00})
        self.sm: Any = None  # kiosk.emrtd.secure_messaging.SecureMessaging once opened
        self.access_protocols: list[Any] = []  # PACEChip / BACChip: ``handle(cmd)``
        self.protocol_ins: dict[int, Any] = {}
        self.aa_signer: Callable[[bytes], bytes] | None = None
        self.in_field = True
        self._apdus_left: int | None = None
        self.apdu_count = 0
        self.reset()

    def __repr__(self) -> str:
        return f"SimulatedCCCD(id={self.profile.id_number}, in_field={self.in_field})"

    # --- the field -------------------------------------------------------------------------

    def reset(self) -> None:
        """Power-on state: the MF selected, no EF, no secure messaging, no challenge."""
        self.current_df = self.mf
        self.current_ef: ElementaryFile | None = None
        self.secure_messaging = False
        self.sm = None
        self.challenge: bytes | None = None

    def add_protocol(self, chip: Any, instructions: tuple[int, ...]) -> None:
        """Route ``instructions`` (e.g. PACE's 22 and 86) to ``chip.handle(cmd)``."""
        for ins in instructions:
            self.protocol_ins[ins] = chip

    def end_secure_messaging(self) -> None:
        self.sm = None
        self.secure_messaging = False

    def power_on(self) -> bytes:
        """The card enters a reader's field (again): reset, forget any pending removal."""
        self.in_field = True
        self._apdus_left = None
        self.reset()
        return self.atr

    def remove_after(self, n_apdus: int) -> None:
        """Answer ``n_apdus`` more APDUs, then leave the field (0: leave now)."""
        if n_apdus < 0:
            raise ValueError("n_apdus must be >= 0")
        self._apdus_left = n_apdus
        if n_apdus == 0:
            self.in_field = False

    # --- APDUs -----------------------------------------------------------------------------

    def random_bytes(self, count: int) -> bytes:
        if self._random is not None:
            return self._random.randbytes(count)
        return secrets.token_bytes(count)

    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU; raises ``CardRemoved`` when the card is out of the field."""
        if not self.in_field:
            raise CardRemoved("the simulated card is out of the reader's field")
        self.apdu_count += 1
        try:
            answer = self._dispatch(bytes(apdu))
        except Exception:  # a bug in a handler must not look like a card answer
            answer = response(b"", SW_NO_PRECISE_DIAGNOSIS)
        if self._apdus_left is not None:
            self._apdus_left -= 1
            if self._apdus_left <= 0:
                self.in_field = False
        return answer

    def _dispatch(self, raw: bytes) -> bytes:
        if len(raw) >= 4 and raw[0] & CLA_SM == CLA_SM:
            return self._dispatch_secured(raw)
        try:
            command = CommandAPDU.parse(raw)
        except MalformedAPDU:
            return response(b"", SW_WRONG_LENGTH)
        if self.sm is not None:  # a plain command ends the secure-messaging session
            self.end_secure_messaging()
        protocol = self.protocol_ins.get(command.ins)
        if protocol is not None and command.cla in (0x00, CLA_CHAINING):
            data, sw, sm = protocol.handle(command)
            if sm is not None:
                self.sm = sm
                self.secure_messaging = True
            return response(data, sw)
        if command.cla not in self.supported_cla:
            return response(b"", SW_CLA_NOT_SUPPORTED)
        return self._run(command)

    def _run(self, command: CommandAPDU) -> bytes:
        handler = self.handlers.get(command.ins)
        if handler is None:
            return response(b"", SW_INS_NOT_SUPPORTED)
        return handler(command)

    def _dispatch_secured(self, raw: bytes) -> bytes:
        sm = self.sm
        if sm is None:
            return response(b"", SW_SM_OBJECTS_INCORRECT)
        try:
            inner = sm.unprotect_command(raw)
        except EmrtdError as exc:
            self.end_secure_messaging()
            return response(b"", getattr(exc, "sw", None) or SW_SM_OBJECTS_INCORRECT)
        command = CommandAPDU(
            inner.cla & ~CLA_SM & 0xFF,
            inner.ins,
            inner.p1,
            inner.p2,
            bytes(inner.data),
            inner.le,
            getattr(inner, "extended", False),
        )
        answer = self._run(command)
        return sm.protect_response(answer[:-2], int.from_bytes(answer[-2:], "big"))

    def _readable(self, ef: ElementaryFile) -> bool:
        return ef.access is Access.PLAIN or self.secure_messaging

    def _select(self, command: CommandAPDU) -> bytes:
        if command.p2 not in (0x00, 0x04, 0x08, 0x0C):
            return response(b"", SW_WRONG_P1P2)
        if command.p1 == 0x04:
            if command.data != AID_EMRTD:
                return response(b"", SW_FILE_NOT_FOUND)
            self.current_df, self.current_ef = self.emrtd, None
            fci = b"" if command.p2 == 0x0C else der_tlv(0x6F, der_tlv(0x84, AID_EMRTD))
            return response(fci, SW_OK)
        if command.p1 == 0x00 and command.data in (b"", FID_MF.to_bytes(2, "big")):
            self.current_df, self.current_ef = self.mf, None
            return response(b"", SW_OK)
        if command.p1 not in (0x00, 0x02):
            return response(b"", SW_WRONG_P1P2)
        if len(command.data) != 2:
            return response(b"", SW_WRONG_LENGTH)
        ef = self.current_df.files.get(int.from_bytes(command.data, "big"))
        if ef is None:
            return response(b"", SW_FILE_NOT_FOUND)
        if not self._readable(ef):
            return response(b"", SW_SECURITY_STATUS_NOT_SATISFIED)
        self.current_ef = ef
        if command.p2 == 0x0C:
            return response(b"", SW_OK)
        fcp = der_tlv(
            0x62,
            der_tlv(0x80, len(ef.content).to_bytes(2, "big"))
            + der_tlv(0x82, b"\x01")
            + der_tlv(0x83, ef.fid.to_bytes(2, "big")),
        )
        return response(fcp, SW_OK)

    def _read_binary(self, command: CommandAPDU) -> bytes:
        if command.data or command.ne is None:
            return response(b"", SW_WRONG_LENGTH)
        if command.p1 & 0x80:
            if command.p1 & 0x60:
                return response(b"", SW_WRONG_P1P2)
            ef = self.current_df.by_sfi(command.p1 & 0x1F)
            if ef is None:
                return response(b"", SW_FILE_NOT_FOUND)
            offset = command.p2
        else:
            ef = self.current_ef
            if ef is None:
                return response(b"", SW_NO_CURRENT_EF)
            offset = (command.p1 << 8) | command.p2
        if not self._readable(ef):
            return response(b"", SW_SECURITY_STATUS_NOT_SATISFIED)
        self.current_ef = ef
        if offset >= len(ef.content):
            return response(b"", SW_OFFSET_OUTSIDE_EF)
        chunk = ef.content[offset : offset + command.ne]
        return response(chunk, SW_OK if len(chunk) == command.ne else SW_END_OF_FILE)

    def _read_binary_odd(self, command: CommandAPDU) -> bytes:
        """READ BINARY B1: the offset in a DO54, the answer wrapped in a DO53."""
        if command.ne is None or command.p1 or command.p2:
            return response(b"", SW_WRONG_P1P2 if command.ne is not None else SW_WRONG_LENGTH)
        try:
            offset_do = tlv.parse_one(command.data)[0]
        except EmrtdError:
            return response(b"", SW_WRONG_LENGTH)
        if offset_do.tag != 0x54 or not offset_do.value:
            return response(b"", SW_WRONG_LENGTH)
        ef = self.current_ef
        if ef is None:
            return response(b"", SW_NO_CURRENT_EF)
        if not self._readable(ef):
            return response(b"", SW_SECURITY_STATUS_NOT_SATISFIED)
        offset = int.from_bytes(offset_do.value, "big")
        if offset >= len(ef.content):
            return response(b"", SW_OFFSET_OUTSIDE_EF)
        head = 4 if command.ne > 0x7F else 2  # the DO53 header inside the answer
        chunk = ef.content[offset : offset + max(0, command.ne - head)]
        wrapped = tlv.encode(0x53, chunk)
        full = offset + len(chunk) == len(ef.content) or len(wrapped) == command.ne
        return response(wrapped, SW_OK if full else SW_END_OF_FILE)

    def _internal_authenticate(self, command: CommandAPDU) -> bytes:
        """Active authentication: sign the terminal's 8-byte nonce with the chip's DG15 key."""
        if self.aa_signer is None:
            return response(b"", SW_INS_NOT_SUPPORTED)
        if not self.secure_messaging:
            return response(b"", SW_SECURITY_STATUS_NOT_SATISFIED)
        if len(command.data) != 8:
            return response(b"", SW_WRONG_LENGTH)
        return response(self.aa_signer(command.data), SW_OK)

    def _get_challenge(self, command: CommandAPDU) -> bytes:
        if command.p1 or command.p2:
            return response(b"", SW_WRONG_P1P2)
        if command.data or command.ne != 8:
            return response(b"", SW_WRONG_LENGTH)
        self.challenge = self.random_bytes(8)
        return response(self.challenge, SW_OK)
