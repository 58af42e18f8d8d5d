"""Reading a CCCD chip: the declared list of steps, from EF.CardAccess to passive authentication.

``read_chip(transmit, key, trust)`` runs the steps in order and reports each to a listener the UI
supplies (progress bars and error messages follow from the step names)::

    CARD_ACCESS   read EF.CardAccess in the MF (plain): which PACE the chip offers
    ACCESS        PACE with the CAN or the MRZ (or BAC with the MRZ when the chip has no PACE)
    SELECT        select the eMRTD application (A0000002471001)
    READ_COM      EF.COM: which data groups the chip holds
    READ_DGn      DG1 (MRZ), DG2 (face), DG13 (Vietnamese data), DG14, DG15 when present
    READ_SOD      EF.SOD: the Document Security Object
    PASSIVE_AUTH  hashes against the SOD, the SOD's signature, the signer against the CSCAs
    ACTIVE_AUTH   INTERNAL AUTHENTICATE with the DG15 key, when the chip has one: the chip signs
                  a random nonce, or ``aa_challenge`` when the caller brings one (a back office's
                  presence challenge, signed in the same session that read DG13, DG15 and EF.SOD)

Files are read in blocks that fit one short response APDU under secure messaging, following the
length in the file's TLV header; offsets from 32 KiB on use READ BINARY with odd INS (B1).
Errors are the ``kiosk.emrtd.errors`` tree, with ``step`` set to the step that failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from kiosk.emrtd import tlv
from kiosk.emrtd.apdu import (
    CommandAPDU,
    ResponseAPDU,
    Transmit,
    read_binary,
    read_binary_odd,
    select_aid,
    select_ef,
    select_mf,
)
from kiosk.emrtd.errors import (
    AccessDenied,
    CardStatusError,
    EmrtdError,
    FileNotFoundOnCard,
    NotAnEmrtd,
    ParseError,
    UnsupportedProtocol,
)

log = logging.getLogger(__name__)

AID_EMRTD = bytes.fromhex("A0000002471001")
FID_CARD_ACCESS = 0x011C
FID_COM = 0x011E
FID_SOD = 0x011D
DG_FIDS = {1: 0x0101, 2: 0x0102, 13: 0x010D, 14: 0x010E, 15: 0x010F}
# EF.COM lists data groups by their LDS tags
DG_TAGS = {0x61: 1, 0x75: 2, 0x63: 3, 0x76: 4, 0x65: 5, 0x66: 6, 0x67: 7, 0x68: 8, 0x69: 9,
           0x6A: 10, 0x6B: 11, 0x6C: 12, 0x6D: 13, 0x6E: 14, 0x6F: 15, 0x70: 16}  # fmt: skip
PLAIN_BLOCK = 0xDF  # without secure messaging (BAC's SELECT/EF.CardAccess reads)
FIRST_READ = 8  # enough for any TLV header: tag (≤ 3 bytes) + length (≤ 4 bytes)
MAX_SHORT_OFFSET = 0x7FFF


class ReadStep(Enum):
    CARD_ACCESS = "card_access"
    ACCESS = "access"
    SELECT = "select"
    READ_COM = "read_com"
    READ_DG1 = "read_dg1"
    READ_DG2 = "read_dg2"
    READ_DG13 = "read_dg13"
    READ_DG14 = "read_dg14"
    READ_DG15 = "read_dg15"
    READ_SOD = "read_sod"
    PASSIVE_AUTH = "passive_auth"
    ACTIVE_AUTH = "active_auth"


Listener = Callable[[ReadStep, int, int], None]


@dataclass(frozen=True)
class AccessKey:
    """What opens the chip: the CAN (PACE) and/or the MRZ key string (PACE-MRZ or BAC)."""

    can: str | None = None
    mrz_key: str | None = None

    @classmethod
    def from_mrz(cls, mrz_text: str) -> AccessKey:
        from kiosk.emrtd.mrz import mrz_key, parse_mrz

        info = parse_mrz(mrz_text)
        return cls(mrz_key=mrz_key(info.document_number, info.date_of_birth, info.date_of_expiry))


@dataclass
class TransportStats:
    """APDUs and bytes that went over the raw transport (secure messaging included)."""

    apdus: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0


def counting(transmit: Transmit, stats: TransportStats) -> Transmit:
    def send(apdu: bytes) -> bytes:
        answer = transmit(apdu)
        stats.apdus += 1
        stats.bytes_sent += len(apdu)
        stats.bytes_received += len(answer)
        return answer

    return send


@dataclass
class ChipReadResult:
    """Everything read from one card, raw and parsed, with the authentication results."""

    protocol: str  # "PACE" or "BAC"
    files: dict[str, bytes] = field(default_factory=dict)  # "COM", "DG1", …, "SOD"
    data_groups: dict[int, bytes] = field(default_factory=dict)
    dg1: Any = None  # kiosk.emrtd.mrz.MRZInfo
    dg13: Any = None  # kiosk.emrtd.lds.DG13
    face_image: bytes | None = None
    face_mime: str | None = None
    passive: Any = None  # kiosk.emrtd.passive_auth.PassiveAuthResult
    active: Any = None  # kiosk.emrtd.active_auth.ActiveAuthResult
    stats: TransportStats = field(default_factory=TransportStats)
    block_size: int = 0

    def wipe(self) -> None:
        """Drop the personal data (the caller keeps only what the dossier needs)."""
        self.files.clear()
        self.data_groups.clear()
        self.dg1 = self.dg13 = self.face_image = None


def _check(answer: ResponseAPDU, step: ReadStep) -> bytes:
    return answer.check(step.value)


def _first_block(transmit: Transmit, block: int, step: ReadStep) -> bytes:
    """The file's first block: a small file comes whole (6282, end of file); a chip that
    refuses an Le beyond the file's end (6700, 6Cxx) is asked again for just the header."""
    answer = ResponseAPDU.parse(transmit(read_binary(0, block).encode()))
    if answer.sw >> 8 == 0x6C and answer.sw & 0xFF:
        answer = ResponseAPDU.parse(transmit(read_binary(0, answer.sw & 0xFF).encode()))
    elif answer.sw == 0x6700:
        answer = ResponseAPDU.parse(transmit(read_binary(0, FIRST_READ).encode()))
    return _check(answer, step)


def read_file(transmit: Transmit, fid: int, block: int, step: ReadStep) -> bytes:
    """SELECT an EF and READ BINARY it whole, in blocks of at most ``block`` bytes."""
    _check(ResponseAPDU.parse(transmit(select_ef(fid).encode())), step)
    first = _first_block(transmit, block, step)
    if not first:
        raise ParseError(f"file {fid:04X} is empty", step=step.value)
    try:
        _, length, head = tlv.header(first)
    except EmrtdError as exc:
        raise ParseError(f"file {fid:04X}: {exc}", step=step.value) from exc
    total = head + length
    data = bytearray(first[:total])
    while len(data) < total:
        offset = len(data)
        want = min(block, total - offset)
        try:
            if offset <= MAX_SHORT_OFFSET:
                command: CommandAPDU = read_binary(offset, want)
                chunk = _check(ResponseAPDU.parse(transmit(command.encode())), step)
            else:
                # odd INS: the offset in DO54, the answer in DO53; the DO header takes 4 bytes
                command = read_binary_odd(offset, min(want + 4, block))
                wrapped = _check(ResponseAPDU.parse(transmit(command.encode())), step)
                chunk = tlv.parse_one(wrapped)[0].value if wrapped else b""
        except CardStatusError as exc:
            if exc.sw != 0x6B00:  # 6B00: offset beyond the end of the file
                raise
            chunk = b""
        if not chunk:
            raise ParseError(
                f"file {fid:04X} ends at {offset} bytes, its header says {total}", step=step.value
            )
        data.extend(chunk[: total - offset])
    return bytes(data)


def _read_card_access(raw: Transmit, step: ReadStep) -> bytes | None:
    """EF.CardAccess from the MF, or None when the chip has none (then it has no PACE).

    A chip left in its application by an earlier session (the card was not reset) answers
    6A82 there: the MF is selected and the read tried once more.
    """
    try:
        return read_file(raw, FID_CARD_ACCESS, PLAIN_BLOCK, step)
    except FileNotFoundOnCard:
        pass
    except CardStatusError:
        return None
    if ResponseAPDU.parse(raw(select_mf().encode())).sw != 0x9000:
        return None
    try:
        return read_file(raw, FID_CARD_ACCESS, PLAIN_BLOCK, step)
    except CardStatusError:
        return None


def probe_card_access(raw: Transmit) -> tuple[str, ...]:
    """The PACE variants a chip offers in EF.CardAccess (names such as
    ``id-PACE-ECDH-GM-AES-CBC-CMAC-128``), () when it has none (a BAC-only chip). Reads only the
    unprotected file: no key, nothing personal (the maintenance screen's reader test)."""
    from kiosk.emrtd.card_access import PACE_ALGORITHMS, PACEInfo, parse_security_infos

    card_access = _read_card_access(raw, ReadStep.CARD_ACCESS)
    if card_access is None:
        return ()
    return tuple(
        PACE_ALGORITHMS[info.protocol_oid].name
        for info in parse_security_infos(card_access)
        if isinstance(info, PACEInfo) and info.protocol_oid in PACE_ALGORITHMS
    )


def _open_with_pace(transmit: Transmit, card_access: bytes, key: AccessKey) -> Any:
    from kiosk.emrtd.card_access import choose_pace, parse_security_infos
    from kiosk.emrtd.pace import PACEProtocol, PasswordType

    info = choose_pace(parse_security_infos(card_access))
    if info is None:
        raise UnsupportedProtocol("EF.CardAccess offers no PACE variant this kiosk implements")
    if key.can:
        password, kind = key.can, PasswordType.CAN
    elif key.mrz_key:
        password, kind = key.mrz_key, PasswordType.MRZ
    else:
        raise AccessDenied("no CAN and no MRZ to open the chip with")
    return PACEProtocol(transmit, info, password, kind).run().sm


def _open_with_bac(transmit: Transmit, key: AccessKey) -> Any:
    from kiosk.emrtd.bac import BACProtocol

    if not key.mrz_key:
        raise UnsupportedProtocol(
            "the chip offers only BAC, which needs the MRZ (scan the back of the card)"
        )
    return BACProtocol(transmit, key.mrz_key).run().sm


def read_chip(
    transmit: Transmit,
    key: AccessKey,
    trust: Any = None,
    *,
    listener: Listener | None = None,
    groups: tuple[int, ...] = (1, 2, 13, 14, 15),
    today: date | None = None,
    aa_challenge: bytes | None = None,
) -> ChipReadResult:
    """Open the chip, read its files, authenticate them. See the module docstring.

    ``aa_challenge`` (8 bytes) is the nonce Active Authentication has the chip sign instead of
    a random one; ``result.active.signature`` is then the chip's answer to it.
    """
    if aa_challenge is not None:
        from kiosk.emrtd.active_auth import NONCE_LENGTH

        aa_challenge = bytes(aa_challenge)
        if len(aa_challenge) != NONCE_LENGTH:
            raise ValueError(f"the Active Authentication challenge is {NONCE_LENGTH} bytes")
    stats = TransportStats()
    raw = counting(transmit, stats)
    steps = [ReadStep.CARD_ACCESS, ReadStep.ACCESS, ReadStep.SELECT, ReadStep.READ_COM]
    steps += [ReadStep(f"read_dg{n}") for n in groups]
    steps += [ReadStep.READ_SOD, ReadStep.PASSIVE_AUTH, ReadStep.ACTIVE_AUTH]
    total = len(steps)
    position = {step: i + 1 for i, step in enumerate(steps)}

    def report(step: ReadStep) -> None:
        if listener is not None:
            listener(step, position[step], total)

    def fail(exc: EmrtdError, step: ReadStep) -> EmrtdError:
        if exc.step is None:
            exc.step = step.value
        return exc

    step = ReadStep.CARD_ACCESS
    try:
        report(step)
        card_access = _read_card_access(raw, step)

        step = ReadStep.ACCESS
        report(step)
        if card_access is not None:
            sm = _open_with_pace(raw, card_access, key)
            protocol = "PACE"
            secured = sm.wrap(raw)
            step = ReadStep.SELECT
            report(step)
            _check(ResponseAPDU.parse(secured(select_aid(AID_EMRTD).encode())), step)
        else:
            answer = ResponseAPDU.parse(raw(select_aid(AID_EMRTD).encode()))
            if answer.sw != 0x9000:
                raise NotAnEmrtd(f"SELECT eMRTD application answered {answer.sw:04X}")
            sm = _open_with_bac(raw, key)
            protocol = "BAC"
            secured = sm.wrap(raw)
            step = ReadStep.SELECT
            report(step)
        block = sm.max_le
        result = ChipReadResult(protocol=protocol, stats=stats, block_size=block)

        step = ReadStep.READ_COM
        report(step)
        com = read_file(secured, FID_COM, block, step)
        result.files["COM"] = com
        present = _groups_in_com(com)
        for number in groups:
            step = ReadStep(f"read_dg{number}")
            report(step)
            if present is not None and number not in present:
                continue
            try:
                data = read_file(secured, DG_FIDS[number], block, step)
            except FileNotFoundOnCard:
                continue
            result.data_groups[number] = data
            result.files[f"DG{number}"] = data

        step = ReadStep.READ_SOD
        report(step)
        result.files["SOD"] = read_file(secured, FID_SOD, block, step)
        _parse_groups(result)

        step = ReadStep.PASSIVE_AUTH
        report(step)
        result.passive = _passive_auth(result, trust, today)

        step = ReadStep.ACTIVE_AUTH
        report(step)
        if 15 in result.data_groups:
            result.active = _active_auth(secured, result.data_groups, aa_challenge)
        return result
    except EmrtdError as exc:
        raise fail(exc, step) from None


def _active_auth(secured: Transmit, data_groups: dict[int, bytes], challenge: bytes | None) -> Any:
    """INTERNAL AUTHENTICATE with the DG15 key; the hash of an ECDSA key is the one DG14's
    ActiveAuthenticationInfo names (a DG14 that does not parse leaves the default)."""
    from kiosk.emrtd.active_auth import run_active_auth
    from kiosk.emrtd.lds import parse_dg14, parse_dg15

    algorithm = None
    if 14 in data_groups:
        try:
            algorithm = parse_dg14(data_groups[14]).active_authentication_algorithm
        except EmrtdError as exc:
            log.warning("DG14 does not parse (%s): Active Authentication with its default", exc)
    nonce: dict[str, Any] = {} if challenge is None else {"rng": lambda n: challenge}
    return run_active_auth(
        secured, parse_dg15(data_groups[15]), signature_algorithm=algorithm, **nonce
    )


def _groups_in_com(com: bytes) -> set[int] | None:
    try:
        outer = tlv.parse_one(com)[0]
        tag_list = outer.child(0x5C)
    except EmrtdError:
        return None
    if tag_list is None:
        return None
    return {DG_TAGS[t] for t in tag_list.value if t in DG_TAGS}


def _parse_groups(result: ChipReadResult) -> None:
    from kiosk.emrtd.lds import parse_dg1, parse_dg2, parse_dg13

    if 1 in result.data_groups:
        result.dg1 = parse_dg1(result.data_groups[1])
    if 13 in result.data_groups:
        result.dg13 = parse_dg13(result.data_groups[13])
    if 2 in result.data_groups:
        face = parse_dg2(result.data_groups[2])
        result.face_image, result.face_mime = face.image, face.mime_type


def _passive_auth(result: ChipReadResult, trust: Any, today: date | None) -> Any:
    from kiosk.emrtd.passive_auth import verify
    from kiosk.emrtd.sod import parse_sod

    sod = parse_sod(result.files["SOD"])
    return verify(sod, result.data_groups, trust, at=today or date.today())
