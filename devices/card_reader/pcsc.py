"""A card reader through PC/SC (pcscd on Linux) with pyscard; pyscard errors end here.

    ReaderUnavailable                    (devices/card_reader/interface.py)
     └── PcscServiceUnavailable         the PC/SC service (pcscd) is not running

``pcsc_error()`` converts every pyscard exception into the kiosk's tree, by class first and
then by the PC/SC return code (``hresult``) it carries:

    no service / service stopped ............... PcscServiceUnavailable
    no reader, unknown or unavailable reader ... ReaderUnavailable
    card removed, no card, reset, unpowered .... CardRemoved
    card request timed out ..................... NoCard
    anything else .............................. CardError

Connections prefer T=1 (contactless cards always use it) and fall back to T=0. Status words
61XX (more data: GET RESPONSE) and 6CXX (wrong Le: send again) are handled here, so callers
see whole responses whatever the protocol.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import smartcard.System
from smartcard import scard
from smartcard.CardConnection import CardConnection as PyscardConnection
from smartcard.CardRequest import CardRequest
from smartcard.Exceptions import (
    CardRequestTimeoutException,
    CardServiceNotFoundException,
    CardServiceStoppedException,
    InvalidReaderException,
    ListReadersException,
    NoCardException,
    NoReadersException,
    SmartcardException,
)
from smartcard.pcsc.PCSCExceptions import BaseSCardException, EstablishContextException
from smartcard.pcsc.PCSCExceptions import ListReadersException as ScardListReadersException

from devices.base import CardError, CardRemoved, DeviceError, Health
from devices.card_reader.interface import (
    DEVICE_NAME,
    CardConnection,
    CardReader,
    NoCard,
    ReaderUnavailable,
)

PYSCARD_ERRORS: tuple[type[Exception], ...] = (SmartcardException, BaseSCardException)


def _code(hresult: int) -> int:
    """A PC/SC return code as an unsigned 32-bit value (pyscard may give it signed)."""
    return hresult & 0xFFFFFFFF


NO_SERVICE = frozenset(_code(c) for c in (scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED))
NO_READER = frozenset(
    _code(c)
    for c in (
        scard.SCARD_E_UNKNOWN_READER,
        scard.SCARD_E_READER_UNAVAILABLE,
        scard.SCARD_E_NO_READERS_AVAILABLE,
    )
)
CARD_GONE = frozenset(
    _code(c)
    for c in (
        scard.SCARD_W_REMOVED_CARD,
        scard.SCARD_E_NO_SMARTCARD,
        scard.SCARD_W_RESET_CARD,
        scard.SCARD_W_UNPOWERED_CARD,
    )
)
MAX_RESPONSE_ROUNDS = 64


class PcscServiceUnavailable(ReaderUnavailable):
    """The PC/SC service (pcscd) is not running, so no reader can be reached."""


def hresult_error(hresult: int, doing: str) -> DeviceError:
    """The kiosk error for a PC/SC return code met while ``doing`` something."""
    code = _code(hresult)
    text = f"{doing}: {scard.SCardGetErrorMessage(hresult)} (0x{code:08X})"
    if code in NO_SERVICE:
        return PcscServiceUnavailable(f"{text}; is pcscd running?")
    if code in NO_READER:
        return ReaderUnavailable(text)
    if code in CARD_GONE:
        return CardRemoved(text)
    if code == _code(scard.SCARD_E_TIMEOUT):
        return NoCard(text)
    return CardError(text)


def pcsc_error(exc: BaseException, doing: str) -> DeviceError:
    """The kiosk error for a pyscard exception raised while ``doing`` something."""
    hresult = getattr(exc, "hresult", -1)
    text = f"{doing}: {exc}"
    if isinstance(exc, EstablishContextException | CardServiceNotFoundException):
        return PcscServiceUnavailable(f"{text}; is pcscd running?")
    if isinstance(exc, CardServiceStoppedException):
        return PcscServiceUnavailable(text)
    if isinstance(exc, CardRequestTimeoutException):
        return NoCard(text)
    if isinstance(exc, NoCardException):
        return CardRemoved(text)
    if hresult not in (-1, None, 0):
        mapped = hresult_error(int(hresult), doing)
        if not isinstance(mapped, CardError):
            return mapped
    if isinstance(
        exc,
        NoReadersException
        | InvalidReaderException
        | ListReadersException
        | ScardListReadersException,
    ):
        return ReaderUnavailable(text)
    return CardError(text)


def _with_le(apdu: bytes, le: int) -> bytes | None:
    """``apdu`` (short case 2 or 4) with its Le byte replaced, or None for other cases."""
    if len(apdu) == 5 or (len(apdu) > 5 and apdu[4] != 0 and len(apdu) == 6 + apdu[4]):
        return apdu[:-1] + bytes([le])
    return None


class PcscCardConnection(CardConnection):
    """A connected card in a PC/SC reader (wraps a pyscard connection)."""

    def __init__(self, connection: Any, reader: str) -> None:
        self._connection: Any | None = connection
        self.reader = reader

    def __repr__(self) -> str:
        return f"PcscCardConnection({self.reader!r}, protocol={self.protocol})"

    @property
    def protocol(self) -> str:
        """ "T=1", "T=0" or "" when closed or unknown."""
        if self._connection is None:
            return ""
        try:
            protocol = self._connection.getProtocol()
        except PYSCARD_ERRORS:
            return ""
        if protocol == PyscardConnection.T1_protocol:
            return "T=1"
        if protocol == PyscardConnection.T0_protocol:
            return "T=0"
        return ""

    def _exchange(self, apdu: bytes) -> tuple[bytes, int, int]:
        if self._connection is None:
            raise CardError(f"{self.reader}: the card connection is closed")
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except PYSCARD_ERRORS as exc:
            raise pcsc_error(exc, f"transmit to {self.reader!r}") from exc
        return bytes(data), sw1, sw2

    def transmit(self, apdu: bytes) -> bytes:
        data, sw1, sw2 = self._exchange(apdu)
        rounds = 0
        while rounds < MAX_RESPONSE_ROUNDS:
            rounds += 1
            if sw1 == 0x6C:
                again = _with_le(apdu, sw2)
                if again is None:
                    break
                data, sw1, sw2 = self._exchange(again)
            elif sw1 == 0x61:
                more, sw1, sw2 = self._exchange(bytes([apdu[0] & 0x03, 0xC0, 0x00, 0x00, sw2]))
                data += more
            else:
                break
        return data + bytes([sw1, sw2])

    def atr(self) -> bytes:
        if self._connection is None:
            raise CardError(f"{self.reader}: the card connection is closed")
        try:
            return bytes(self._connection.getATR())
        except PYSCARD_ERRORS as exc:
            raise pcsc_error(exc, f"ATR from {self.reader!r}") from exc

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # The card may be gone already: closing cannot fail for the caller.
        with contextlib.suppress(*PYSCARD_ERRORS):
            connection.disconnect()
        with contextlib.suppress(*PYSCARD_ERRORS, AttributeError):
            connection.release()


class PcscCardReader(CardReader):
    """The first PC/SC reader whose name contains ``reader_name_substring`` (any case)."""

    def __init__(self, reader_name_substring: str = "") -> None:
        self.reader_name_substring = reader_name_substring

    def __repr__(self) -> str:
        return f"PcscCardReader({self.reader_name_substring!r})"

    def _all_readers(self) -> list[str]:
        try:
            return [str(r) for r in smartcard.System.readers()]
        except PYSCARD_ERRORS as exc:
            raise pcsc_error(exc, "listing PC/SC readers") from exc

    def readers(self) -> list[str]:
        wanted = self.reader_name_substring.casefold()
        return [name for name in self._all_readers() if wanted in name.casefold()]

    def _reader_name(self) -> str:
        names = self.readers()
        if not names:
            everything = self._all_readers()
            wanted = (
                f" matching {self.reader_name_substring!r}" if self.reader_name_substring else ""
            )
            raise ReaderUnavailable(
                f"no PC/SC reader{wanted} (readers: {', '.join(everything) or 'none'})"
            )
        return names[0]

    def _connect(self, connection: Any, name: str) -> PcscCardConnection:
        try:
            try:
                connection.connect(PyscardConnection.T1_protocol)
            except NoCardException:
                raise
            except PYSCARD_ERRORS:
                connection.connect()  # T=0 or T=1, whichever the card offers
        except PYSCARD_ERRORS as exc:
            raise pcsc_error(exc, f"connecting to the card in {name!r}") from exc
        return PcscCardConnection(connection, name)

    def wait_for_card(self, timeout_s: float) -> CardConnection:
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while True:
            name = self._reader_name()
            remaining = max(deadline - time.monotonic(), 0.0)
            try:
                with CardRequest(readers=[name], timeout=remaining, newcardonly=False) as req:
                    req.waitforcard()
                # The request's PC/SC context ends with the ``with``: connect through a fresh
                # connection of the reader, which holds a context of its own.
                reader = next(r for r in smartcard.System.readers() if str(r) == name)
                connection = reader.createConnection()
            except StopIteration:
                raise ReaderUnavailable(f"the reader {name!r} disappeared") from None
            except PYSCARD_ERRORS as exc:
                error = pcsc_error(exc, f"waiting for a card on {name!r}")
                if isinstance(error, CardError):
                    self._reader_name()  # a vanished reader explains the failure better
                raise error from exc
            try:
                return self._connect(connection, name)
            except CardRemoved as exc:
                # The card left between being seen and being connected: wait again.
                if time.monotonic() >= deadline:
                    raise NoCard(f"no card stayed on {name!r} for {timeout_s:g} s") from exc

    def card_present(self) -> bool:
        name = self._reader_name()
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise hresult_error(hresult, "opening a PC/SC context")
        try:
            hresult, states = scard.SCardGetStatusChange(
                context, 0, [(name, scard.SCARD_STATE_UNAWARE)]
            )
        finally:
            scard.SCardReleaseContext(context)
        if hresult not in (scard.SCARD_S_SUCCESS, scard.SCARD_E_TIMEOUT):
            raise hresult_error(hresult, f"reading the state of {name!r}")
        return any(state & scard.SCARD_STATE_PRESENT for _reader, state, _atr in states)

    def health(self) -> Health:
        try:
            name = self._reader_name()
            present = self.card_present()
        except PcscServiceUnavailable as exc:
            return Health(DEVICE_NAME, False, f"pcscd is not running: {exc}")
        except ReaderUnavailable as exc:
            return Health(DEVICE_NAME, False, f"no reader: {exc}")
        except DeviceError as exc:
            return Health(DEVICE_NAME, False, f"reader error: {exc}")
        card = "a card is on it" if present else "no card on it"
        return Health(DEVICE_NAME, True, f"ready: {name!r}, {card}")
