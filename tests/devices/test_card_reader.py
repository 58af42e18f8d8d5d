"""Card readers: the simulated CCCD chip APDU by APDU, the simulated reader, PC/SC mapping."""

from __future__ import annotations

import dataclasses
import threading
import unicodedata
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from smartcard import scard
from smartcard.CardConnection import CardConnection as PyscardConnection
from smartcard.Exceptions import (
    CardConnectionException,
    CardRequestException,
    CardRequestTimeoutException,
    CardServiceStoppedException,
    InvalidReaderException,
    ListReadersException,
    NoCardException,
    NoReadersException,
)
from smartcard.pcsc.PCSCExceptions import EstablishContextException

from devices.base import CardError, CardRemoved, DeviceTimeout, DeviceUnavailable, Health
from devices.card_reader.interface import NoCard, ReaderUnavailable, split_response
from devices.card_reader.pcsc import (
    PcscCardConnection,
    PcscCardReader,
    PcscServiceUnavailable,
    hresult_error,
    pcsc_error,
)
from devices.factory import make_card_reader
from devices.simulated.card_reader import READER_NAME, SimulatedCardReader, profiles
from devices.simulated.cccd_card import (
    CardProfile,
    CommandAPDU,
    MalformedAPDU,
    SimulatedCCCD,
    der_integer,
    der_length,
    der_oid,
)

READER_MSGID = "The card reader is not connected. Please ask the staff for help."
REMOVED_MSGID = "The card was moved away. Please lay it flat on the reader again and keep it still."
NO_CARD_MSGID = "Please place your citizen ID card on the reader."

SELECT_APP = bytes.fromhex("00A4040C07A0000002471001")
SELECT_CARD_ACCESS = bytes.fromhex("00A4020C02011C")
SELECT_MF = bytes.fromhex("00A4000C023F00")
# EF.CardAccess announcing id-PACE-ECDH-GM-AES-CBC-CMAC-128, version 2, brainpoolP256r1 (13):
# the encoding of BSI TR-03110 / ICAO 9303-11 SecurityInfos, as on real PACE cards.
CARD_ACCESS = bytes.fromhex("3114301206 0A 04007F00070202040202 020102 02010D".replace(" ", ""))


def sw(answer: bytes) -> int:
    return int.from_bytes(answer[-2:], "big")


def read_binary(offset: int, le: int) -> bytes:
    return bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, le & 0xFF])


@pytest.fixture
def card() -> SimulatedCCCD:
    return SimulatedCCCD(profiles()["demo"], seed=42)


# --- APDU parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_apdu", "data", "ne", "extended"),
    [
        ("00A40000", "", None, False),  # case 1
        ("00B0000010", "", 16, False),  # case 2S
        ("00B0000000", "", 256, False),  # case 2S, Le=00
        ("00A4020C02011C", "011C", None, False),  # case 3S
        ("00A4020002011C00", "011C", 256, False),  # case 4S
        ("00B00000000100", "", 256, True),  # case 2E
        ("00B00000000000", "", 65536, True),  # case 2E, Le=0000
        ("00A4020C000002011C", "011C", None, True),  # case 3E
        ("00A40200000002011C0010", "011C", 16, True),  # case 4E
    ],
)
def test_apdu_cases_parse(hex_apdu: str, data: str, ne: int | None, extended: bool) -> None:
    apdu = CommandAPDU.parse(bytes.fromhex(hex_apdu))
    assert (apdu.data, apdu.ne, apdu.extended) == (bytes.fromhex(data), ne, extended)


@pytest.mark.parametrize(
    "hex_apdu",
    [
        "",
        "00A402",  # header cut short
        "00A4020C03011C",  # Lc=3, 2 bytes follow
        "00A4020C02011C0000",  # one byte too many for case 4S
        "00B0000000FF",  # extended length cut short
        "00A4020C0000000000",  # extended Lc=0
        "00A4020C0000030102",  # extended Lc=3, 2 bytes follow
    ],
)
def test_malformed_apdus_answer_6700(card: SimulatedCCCD, hex_apdu: str) -> None:
    raw = bytes.fromhex(hex_apdu)
    with pytest.raises(MalformedAPDU):
        CommandAPDU.parse(raw)
    assert card.process(raw) == b"\x67\x00"
    # The card is still usable afterwards.
    assert sw(card.process(SELECT_CARD_ACCESS)) == 0x9000


# --- SELECT ---------------------------------------------------------------------------------


def test_select_the_emrtd_application(card: SimulatedCCCD) -> None:
    assert card.process(SELECT_APP) == b"\x90\x00"
    assert card.current_df.name == "eMRTD"
    answer = card.process(bytes.fromhex("00A4040007A000000247100100"))
    assert answer == bytes.fromhex("6F098407A0000002471001 9000".replace(" ", ""))


def test_select_an_unknown_aid_is_file_not_found(card: SimulatedCCCD) -> None:
    assert card.process(bytes.fromhex("00A4040C07A0000002471002")) == b"\x6a\x82"
    assert card.current_df.name == "MF"


def test_select_ef_card_access_at_mf_level(card: SimulatedCCCD) -> None:
    assert card.process(SELECT_CARD_ACCESS) == b"\x90\x00"
    # With P2=00 the file control parameters come back: size 22, transparent EF, id 011C.
    assert card.process(bytes.fromhex("00A4020002011C00")) == bytes.fromhex(
        "620B 80020016 820101 8302011C 9000".replace(" ", "")
    )
    # EF.CardAccess lives in the MF, not in the application; back to the MF finds it again.
    assert card.process(SELECT_APP) == b"\x90\x00"
    assert card.process(SELECT_CARD_ACCESS) == b"\x6a\x82"
    assert card.process(SELECT_MF) == b"\x90\x00"
    assert card.process(SELECT_CARD_ACCESS) == b"\x90\x00"


@pytest.mark.parametrize("fid", ["011E", "011D", "0101", "0102", "010D"])
def test_protected_files_need_secure_messaging(card: SimulatedCCCD, fid: str) -> None:
    assert card.process(SELECT_APP) == b"\x90\x00"
    assert card.process(bytes.fromhex("00A4020C02" + fid)) == b"\x69\x82"
    sfi = int(fid, 16) & 0x1F
    assert card.process(bytes([0x00, 0xB0, 0x80 | sfi, 0x00, 0x00])) == b"\x69\x82"
    assert card.current_ef is None


def test_select_errors(card: SimulatedCCCD) -> None:
    assert card.process(bytes.fromhex("00A4020C020999")) == b"\x6a\x82"  # no such EF
    assert card.process(bytes.fromhex("00A4020C03011C00")) == b"\x67\x00"  # 3-byte file id
    assert card.process(bytes.fromhex("00A4080C02011C")) == b"\x6a\x86"  # P1 path: unsupported
    assert card.process(bytes.fromhex("00A4021002011C")) == b"\x6a\x86"  # P2 unknown


# --- READ BINARY ----------------------------------------------------------------------------


def test_read_binary_with_offset_and_le(card: SimulatedCCCD) -> None:
    card.process(SELECT_CARD_ACCESS)
    assert card.process(read_binary(0, 4)) == CARD_ACCESS[:4] + b"\x90\x00"
    assert card.process(read_binary(18, 4)) == CARD_ACCESS[18:22] + b"\x90\x00"
    # Asking past the end: what is there, and 6282 (end of file before Ne bytes).
    assert card.process(read_binary(16, 10)) == CARD_ACCESS[16:] + b"\x62\x82"
    assert card.process(read_binary(0, 0)) == CARD_ACCESS + b"\x62\x82"  # Le=00 is 256
    # An offset outside the file: 6B00, no data.
    assert card.process(read_binary(22, 1)) == b"\x6b\x00"
    assert card.process(read_binary(0x0100, 1)) == b"\x6b\x00"
    # Extended Le.
    assert card.process(bytes.fromhex("00B00000000100")) == CARD_ACCESS + b"\x62\x82"


def test_read_binary_in_chunks_reassembles_the_file(card: SimulatedCCCD) -> None:
    card.process(SELECT_CARD_ACCESS)
    content = b""
    while True:
        answer = card.process(read_binary(len(content), 5))
        content += answer[:-2]
        if sw(answer) != 0x9000:
            break
    assert sw(answer) == 0x6282
    assert content == CARD_ACCESS


def test_read_binary_by_short_file_id(card: SimulatedCCCD) -> None:
    assert card.process(bytes([0x00, 0xB0, 0x9C, 0x02, 0x04])) == CARD_ACCESS[2:6] + b"\x90\x00"
    assert card.current_ef is not None and card.current_ef.name == "EF.CardAccess"
    assert card.process(read_binary(6, 2)) == CARD_ACCESS[6:8] + b"\x90\x00"
    assert card.process(bytes([0x00, 0xB0, 0x9B, 0x00, 0x04])) == b"\x6a\x82"  # SFI 1B: none
    assert card.process(bytes([0x00, 0xB0, 0xDC, 0x00, 0x04])) == b"\x6a\x86"  # bits 6-7 set


def test_read_binary_errors(card: SimulatedCCCD) -> None:
    assert card.process(read_binary(0, 4)) == b"\x69\x86"  # no current EF
    card.process(SELECT_CARD_ACCESS)
    assert card.process(bytes.fromhex("00B00000")) == b"\x67\x00"  # no Le
    assert card.process(bytes.fromhex("00B000000100")) == b"\x67\x00"  # data in a read


# --- EF.CardAccess is DER -------------------------------------------------------------------


def der_read(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """(tag, value, next position) of the DER element at ``pos``."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    return tag, data[pos : pos + length], pos + length


def der_children(value: bytes) -> list[tuple[int, bytes]]:
    children, pos = [], 0
    while pos < len(value):
        tag, child, pos = der_read(value, pos)
        children.append((tag, child))
    return children


def oid_text(value: bytes) -> str:
    arcs, arc = [value[0] // 40, value[0] % 40], 0
    for byte in value[1:]:
        arc = (arc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    return ".".join(map(str, arcs))


def test_ef_card_access_is_der_security_infos_announcing_pace(card: SimulatedCCCD) -> None:
    card.process(SELECT_CARD_ACCESS)
    content = card.process(read_binary(0, 0))[:-2]
    tag, security_infos, end = der_read(content)
    assert (tag, end) == (0x31, len(content))  # SET OF, nothing after it
    [(info_tag, pace_info)] = der_children(security_infos)
    assert info_tag == 0x30
    (oid_tag, oid), (v_tag, version), (p_tag, parameter) = der_children(pace_info)
    assert (oid_tag, v_tag, p_tag) == (0x06, 0x02, 0x02)
    assert oid_text(oid) == "0.4.0.127.0.7.2.2.4.2.2"  # id-PACE-ECDH-GM-AES-CBC-CMAC-128
    assert int.from_bytes(version, "big") == 2
    assert int.from_bytes(parameter, "big") == 13  # brainpoolP256r1
    assert content == CARD_ACCESS


def test_der_encoder_pieces() -> None:
    assert der_length(0x7F) == b"\x7f"
    assert der_length(200) == b"\x81\xc8"
    assert der_length(300) == b"\x82\x01\x2c"
    assert der_integer(0) == b"\x02\x01\x00"
    assert der_integer(128) == b"\x02\x02\x00\x80"
    assert der_integer(-1) == b"\x02\x01\xff"
    assert der_oid("1.2.840.113549") == bytes.fromhex("06062A864886F70D")
    with pytest.raises(ValueError, match="object identifier"):
        der_oid("3.1")


# --- GET CHALLENGE, unknown commands --------------------------------------------------------


def test_get_challenge_returns_8_random_bytes(card: SimulatedCCCD) -> None:
    first = card.process(bytes.fromhex("0084000008"))
    second = card.process(bytes.fromhex("0084000008"))
    assert len(first) == 10 and sw(first) == 0x9000
    assert first[:-2] != second[:-2]
    assert card.challenge == second[:-2]
    again = SimulatedCCCD(profiles()["demo"], seed=42)
    assert again.process(bytes.fromhex("0084000008")) == first  # seeded: reproducible
    unseeded = SimulatedCCCD(profiles()["demo"])
    assert sw(unseeded.process(bytes.fromhex("0084000008"))) == 0x9000


def test_get_challenge_errors(card: SimulatedCCCD) -> None:
    assert card.process(bytes.fromhex("0084000004")) == b"\x67\x00"
    assert card.process(bytes.fromhex("00840000")) == b"\x67\x00"
    assert card.process(bytes.fromhex("0084010008")) == b"\x6a\x86"


def test_unknown_instruction_and_class(card: SimulatedCCCD) -> None:
    assert card.process(bytes.fromhex("00CA000000")) == b"\x6d\x00"
    assert card.process(bytes.fromhex("80A4020C02011C")) == b"\x6e\x00"
    # a secured command before PACE/BAC: the secure-messaging objects are not acceptable
    assert card.process(bytes.fromhex("0C84000008")) == b"\x69\x88"


def test_a_failing_handler_answers_6f00(card: SimulatedCCCD) -> None:
    def broken(_command: CommandAPDU) -> bytes:
        raise RuntimeError("bug")

    card.handlers[0xCA] = broken
    assert card.process(bytes.fromhex("00CA000000")) == b"\x6f\x00"
    assert sw(card.process(SELECT_CARD_ACCESS)) == 0x9000


def test_card_leaves_the_field_after_n_apdus(card: SimulatedCCCD) -> None:
    card.remove_after(2)
    card.process(SELECT_CARD_ACCESS)
    assert card.in_field
    card.process(read_binary(0, 4))
    assert not card.in_field
    with pytest.raises(CardRemoved):
        card.process(read_binary(4, 4))
    card.power_on()
    assert card.current_ef is None  # a fresh start
    assert card.process(SELECT_CARD_ACCESS) == b"\x90\x00"


# --- profiles -------------------------------------------------------------------------------


def test_profiles_are_valid_citizens() -> None:
    registry = profiles()
    assert {"demo", "elderly", "young"} <= set(registry)
    for profile in registry.values():
        assert profile.can == profile.id_number[-6:]
        assert unicodedata.is_normalized("NFC", profile.full_name)
    assert registry["demo"].can == "012345"
    registry.clear()
    assert profiles()  # a copy was cleared, not the registry


def test_profile_names_are_stored_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn An")
    profile = CardProfile("001090012345", decomposed, date(1990, 1, 1), "Nam")
    assert profile.full_name == unicodedata.normalize("NFC", "Nguyễn Văn An")


@pytest.mark.parametrize(
    ("number", "born", "sex", "message"),
    [
        ("00109001234", date(1990, 1, 1), "Nam", "12 digits"),
        ("00109001234A", date(1990, 1, 1), "Nam", "12 digits"),
        ("000090012345", date(1990, 1, 1), "Nam", "province code 000"),
        ("097090012345", date(1990, 1, 1), "Nam", "province code 097"),
        ("001190012345", date(1990, 1, 1), "Nam", "encodes Nữ born in 1990"),
        ("001290012345", date(1990, 1, 1), "Nam", "encodes Nam born in 2090"),
        ("001090012345", date(1990, 1, 1), "nam", "sex must be"),
    ],
)
def test_implausible_profiles_are_refused(number: str, born: date, sex: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CardProfile(number, "Nguyễn Văn An", born, sex)


# --- the simulated reader -------------------------------------------------------------------


def test_demo_reader_has_a_card_and_reads_through_the_interface() -> None:
    reader = SimulatedCardReader("demo")
    assert reader.readers() == [READER_NAME]
    assert reader.card_present()
    health = reader.health()
    assert (health.device, health.ok) == ("card reader", True)
    assert "a card is on it" in health.detail
    with reader.wait_for_card(1.0) as connection:
        assert connection.atr() == bytes.fromhex("3B80800101")
        assert connection.transmit(SELECT_CARD_ACCESS) == b"\x90\x00"
        data, status = split_response(connection.transmit(read_binary(0, 0)))
        assert (data, status) == (CARD_ACCESS, 0x6282)
    with pytest.raises(CardError, match="closed"):
        connection.transmit(SELECT_CARD_ACCESS)


def test_card_pulled_mid_read_raises_card_removed_through_the_reader() -> None:
    reader = SimulatedCardReader("demo")
    connection = reader.wait_for_card(1.0)
    assert reader.card is not None
    reader.card.remove_after(3)
    connection.transmit(SELECT_CARD_ACCESS)
    chunks = [connection.transmit(read_binary(0, 8)), connection.transmit(read_binary(8, 8))]
    assert [sw(c) for c in chunks] == [0x9000, 0x9000]
    with pytest.raises(CardRemoved) as caught:
        connection.transmit(read_binary(16, 8))
    assert caught.value.user_message() == REMOVED_MSGID
    assert not reader.card_present()
    with pytest.raises(NoCard):
        reader.wait_for_card(0.01)
    # The citizen lays the card again: the read starts over and completes.
    reader.insert(reader.card)
    with reader.wait_for_card(1.0) as again:
        again.transmit(SELECT_CARD_ACCESS)
        assert again.transmit(read_binary(0, 0))[:-2] == CARD_ACCESS
    with pytest.raises(CardRemoved):  # the old connection stays dead
        connection.transmit(SELECT_CARD_ACCESS)


def test_card_lifted_with_an_open_connection() -> None:
    reader = SimulatedCardReader("young")
    connection = reader.wait_for_card(1.0)
    reader.remove()
    assert reader.card is None and not reader.card_present()
    with pytest.raises(CardRemoved, match="taken off"):
        connection.transmit(SELECT_CARD_ACCESS)
    with pytest.raises(CardRemoved):
        connection.atr()
    reader.insert()
    with pytest.raises(CardRemoved):  # another card now: the old connection is not it
        connection.transmit(SELECT_CARD_ACCESS)
    assert reader.wait_for_card(1.0).transmit(SELECT_CARD_ACCESS) == b"\x90\x00"


def test_wait_for_card_times_out_without_a_card() -> None:
    reader = SimulatedCardReader("demo", card_present=False)
    assert not reader.card_present()
    assert "no card on it" in reader.health().detail
    with pytest.raises(NoCard) as caught:
        reader.wait_for_card(0.05)
    assert isinstance(caught.value, DeviceTimeout)
    assert caught.value.user_message() == NO_CARD_MSGID


def test_wait_for_card_returns_when_a_card_is_laid() -> None:
    reader = SimulatedCardReader("elderly", card_present=False)
    timer = threading.Timer(0.05, reader.insert)
    timer.start()
    try:
        connection = reader.wait_for_card(10.0)
    finally:
        timer.join()
    assert connection.transmit(SELECT_APP) == b"\x90\x00"
    assert reader.card is not None and reader.card.profile.id_number == "079155004321"


def test_unplugged_reader_is_unavailable_until_replugged() -> None:
    reader = SimulatedCardReader("demo")
    connection = reader.wait_for_card(1.0)
    reader.unplug()
    for call in (reader.readers, reader.card_present, lambda: reader.wait_for_card(0.01)):
        with pytest.raises(ReaderUnavailable) as caught:
            call()
        assert isinstance(caught.value, DeviceUnavailable)
        assert caught.value.user_message() == READER_MSGID
    with pytest.raises(ReaderUnavailable):
        connection.transmit(SELECT_CARD_ACCESS)
    assert not reader.health().ok and "unplugged" in reader.health().detail
    reader.replug()
    assert reader.health().ok
    assert reader.wait_for_card(1.0).transmit(SELECT_CARD_ACCESS) == b"\x90\x00"


def test_unknown_profile_is_a_configuration_error() -> None:
    with pytest.raises(ReaderUnavailable, match="'nobody'.*demo"):
        SimulatedCardReader("nobody")


def test_card_error_carries_the_status_word() -> None:
    error = CardError("SELECT DG1", sw=0x6982)
    assert error.sw == 0x6982
    assert str(error) == "SELECT DG1 (SW=6982)"
    assert error.user_message() == (
        "The card could not be read. Please lay it flat on the reader again and keep it still."
    )
    assert CardError().sw is None and str(CardError(sw=0x6F00)) == "SW=6F00"
    health = Health("card reader", True, "ready")
    with pytest.raises(dataclasses.FrozenInstanceError):
        health.ok = False  # type: ignore[misc]


def test_split_response() -> None:
    assert split_response(b"\x01\x02\x90\x00") == (b"\x01\x02", 0x9000)
    with pytest.raises(CardError, match="no status word"):
        split_response(b"\x90")


def test_make_card_reader_follows_the_settings() -> None:
    simulated = make_card_reader(SimpleNamespace(mode="simulated", reader="", profile="young"))
    assert isinstance(simulated, SimulatedCardReader) and simulated.profile_name == "young"
    pcsc = make_card_reader(SimpleNamespace(mode="pcsc", reader="ACR122", profile="demo"))
    assert isinstance(pcsc, PcscCardReader) and pcsc.reader_name_substring == "ACR122"
    with pytest.raises(ReaderUnavailable, match="nfc"):
        make_card_reader(SimpleNamespace(mode="nfc", reader="", profile="demo"))


# --- PC/SC: pyscard's exceptions mapped ------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (EstablishContextException(scard.SCARD_E_NO_SERVICE), PcscServiceUnavailable),
        (
            CardServiceStoppedException(hresult=scard.SCARD_E_SERVICE_STOPPED),
            PcscServiceUnavailable,
        ),
        (CardConnectionException("ctx", hresult=scard.SCARD_E_NO_SERVICE), PcscServiceUnavailable),
        (ListReadersException(scard.SCARD_E_INVALID_HANDLE), ReaderUnavailable),
        (NoReadersException(), ReaderUnavailable),
        (InvalidReaderException("ACR122"), ReaderUnavailable),
        (CardConnectionException("x", hresult=scard.SCARD_E_READER_UNAVAILABLE), ReaderUnavailable),
        (CardConnectionException("x", hresult=scard.SCARD_E_UNKNOWN_READER), ReaderUnavailable),
        (CardConnectionException("x", hresult=scard.SCARD_W_REMOVED_CARD), CardRemoved),
        (CardConnectionException("x", hresult=scard.SCARD_W_RESET_CARD), CardRemoved),
        (NoCardException("Unable to connect", scard.SCARD_E_NO_SMARTCARD), CardRemoved),
        (CardRequestTimeoutException(hresult=scard.SCARD_E_TIMEOUT), NoCard),
        (CardConnectionException("x", hresult=scard.SCARD_F_COMM_ERROR), CardError),
        (CardRequestException("x", hresult=scard.SCARD_E_INVALID_PARAMETER), CardError),
        (CardConnectionException("Card not connected"), CardError),
    ],
)
def test_pyscard_exceptions_map_to_kiosk_errors(exc: Exception, expected: type) -> None:
    error = pcsc_error(exc, "doing X")
    assert type(error) is expected
    assert str(error).startswith("doing X: ")


def test_mapped_errors_carry_the_citizen_messages() -> None:
    no_service = pcsc_error(EstablishContextException(scard.SCARD_E_NO_SERVICE), "listing")
    assert no_service.user_message() == READER_MSGID
    assert "pcscd" in str(no_service)
    removed = pcsc_error(
        CardConnectionException("x", hresult=scard.SCARD_W_REMOVED_CARD), "transmit"
    )
    assert removed.user_message() == REMOVED_MSGID
    timeout = pcsc_error(CardRequestTimeoutException(hresult=scard.SCARD_E_TIMEOUT), "waiting")
    assert timeout.user_message() == NO_CARD_MSGID


def test_signed_hresults_map_like_unsigned_ones() -> None:
    signed = scard.SCARD_W_REMOVED_CARD - 2**32 if scard.SCARD_W_REMOVED_CARD > 0 else None
    if signed is not None:
        assert isinstance(hresult_error(signed, "transmit"), CardRemoved)
    assert isinstance(hresult_error(scard.SCARD_W_REMOVED_CARD, "transmit"), CardRemoved)
    assert isinstance(hresult_error(scard.SCARD_E_TIMEOUT, "waiting"), NoCard)


class ScriptedPyscard:
    """Stands for a connected pyscard connection: answers from a script, records commands."""

    def __init__(self, answers: list[Any], protocol: int = PyscardConnection.T1_protocol) -> None:
        self.answers = list(answers)
        self.sent: list[bytes] = []
        self.protocol = protocol
        self.disconnected = False

    def transmit(self, command: list[int]) -> tuple[list[int], int, int]:
        self.sent.append(bytes(command))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        data = bytes.fromhex(answer)
        return list(data[:-2]), data[-2], data[-1]

    def getATR(self) -> list[int]:  # noqa: N802 - pyscard's name
        return [0x3B, 0x80, 0x80, 0x01, 0x01]

    def getProtocol(self) -> int:  # noqa: N802 - pyscard's name
        return self.protocol

    def disconnect(self) -> None:
        self.disconnected = True
        raise CardConnectionException("x", hresult=scard.SCARD_W_REMOVED_CARD)

    def release(self) -> None:
        pass


def test_pcsc_connection_moves_bytes_and_maps_a_removed_card() -> None:
    fake = ScriptedPyscard(
        ["0102039000", CardConnectionException("x", hresult=scard.SCARD_W_REMOVED_CARD)]
    )
    connection = PcscCardConnection(fake, "ACS ACR122U PICC Interface 00 00")
    assert connection.protocol == "T=1"
    assert connection.atr() == bytes.fromhex("3B80800101")
    assert connection.transmit(read_binary(0, 3)) == bytes.fromhex("0102039000")
    with pytest.raises(CardRemoved) as caught:
        connection.transmit(read_binary(3, 3))
    assert caught.value.user_message() == REMOVED_MSGID
    assert "ACR122U" in str(caught.value)
    connection.close()  # the card is gone: closing still succeeds
    assert fake.disconnected
    with pytest.raises(CardError, match="closed"):
        connection.transmit(read_binary(0, 3))


def test_pcsc_connection_follows_61xx_and_6cxx() -> None:
    fake = ScriptedPyscard(["AABB6102", "CCDD9000", "6C04", "010203046282"])
    connection = PcscCardConnection(fake, "reader")
    assert connection.transmit(bytes.fromhex("0084000000")) == bytes.fromhex("AABBCCDD9000")
    assert connection.transmit(bytes.fromhex("00B0000000")) == bytes.fromhex("010203046282")
    assert fake.sent == [
        bytes.fromhex("0084000000"),
        bytes.fromhex("00C0000002"),  # GET RESPONSE for the 2 bytes waiting
        bytes.fromhex("00B0000000"),
        bytes.fromhex("00B0000004"),  # sent again with the Le the card asked for
    ]
