"""The card reader as the kiosk sees it: ``CardReader`` waits for a card and gives a
``CardConnection`` that moves APDUs (``transmit(apdu: bytes) -> bytes``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Protocol

from devices.base import CardError, DeviceTimeout, DeviceUnavailable, Health

DEVICE_NAME = "card reader"


SW_OK = 0x9000


class ReaderUnavailable(DeviceUnavailable):
    """No card reader: not plugged in, unplugged, or the PC/SC service is not running."""

    msgid = "The card reader is not connected. Please ask the staff for help."


class NoCard(DeviceTimeout):
    """No card was laid on the reader before the timeout."""

    msgid = "Please place your citizen ID card on the reader."


class CardReaderSettingsLike(Protocol):
    """The fields of ``kiosk.config.settings.CardReaderSettings`` that ``make_card_reader``
    reads."""

    @property
    def mode(self) -> str: ...
    @property
    def reader(self) -> str: ...
    @property
    def profile(self) -> str: ...


def split_response(response: bytes) -> tuple[bytes, int]:
    """A response APDU split into its data and its status word SW1SW2 as an int."""
    if len(response) < 2:
        raise CardError(f"response APDU of {len(response)} byte(s), no status word")
    return response[:-2], int.from_bytes(response[-2:], "big")


class CardConnection(ABC):
    """One card in the reader's field; close it when done (or use ``with``)."""

    @abstractmethod
    def transmit(self, apdu: bytes) -> bytes:
        """Send a command APDU; returns response data + SW1 SW2.

        Raises ``CardRemoved`` when the card left, ``CardError`` when the exchange failed,
        ``ReaderUnavailable`` when the reader went away.
        """

    @abstractmethod
    def atr(self) -> bytes:
        """The card's Answer To Reset (for contactless cards, the one the reader builds)."""

    @abstractmethod
    def close(self) -> None:
        """Release the card; harmless when already closed."""

    def __enter__(self) -> CardConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CardReader(ABC):
    """A reader that cards are laid on."""

    @abstractmethod
    def readers(self) -> list[str]:
        """The names of the readers this object can use; raises ``ReaderUnavailable``."""

    @abstractmethod
    def wait_for_card(self, timeout_s: float) -> CardConnection:
        """Wait up to ``timeout_s`` for a card and connect to it.

        Raises ``NoCard`` (a ``DeviceTimeout``) when none came, ``ReaderUnavailable`` (a
        ``DeviceUnavailable``) when there is no reader.
        """

    @abstractmethod
    def card_present(self) -> bool:
        """Whether a card is in the field now; raises ``ReaderUnavailable`` without a reader."""

    @abstractmethod
    def health(self) -> Health:
        """The reader's state for logs and ``kiosk doctor``; never raises."""
