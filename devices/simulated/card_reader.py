"""A card reader with a simulated CCCD chip on it, behind the same interface as PC/SC.

Bytes go through ``SimulatedCCCD.process`` exactly as they would go through a real reader, so
the kiosk's chip code runs unchanged. ``insert()`` lays a card on the reader, ``remove()``
lifts it, the card's ``remove_after(n)`` pulls it away in the middle of a read, and
``unplug()`` / ``replug()`` make the reader itself disappear. In demo mode a card is on the
reader from the start.

``PROFILES`` is the one place that holds the simulated citizens; the chip issue extends it
(photos, addresses, family) and builds the data groups from it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date

from devices.base import CardError, CardRemoved, Health
from devices.card_reader.interface import (
    DEVICE_NAME,
    CardConnection,
    CardReader,
    NoCard,
    ReaderUnavailable,
)
from devices.simulated.cccd_card import CardProfile, SimulatedCCCD

READER_NAME = "Simulated CCCD Reader 00 00"

PROFILES: dict[str, CardProfile] = {
    # Hà Nội (001), a man born in 1990 (century/sex digit 0).
    "demo": CardProfile(
        id_number="001090012345",
        full_name="Nguyễn Văn An",
        date_of_birth=date(1990, 5, 17),
        sex="Nam",
        place_of_origin="Xã Đông Anh, Thành phố Hà Nội",
        place_of_residence="Số 12 đường Trần Phú, Phường Hà Đông, Thành phố Hà Nội",
        date_of_issue=date(2021, 6, 10),
        date_of_expiry=date(2030, 5, 17),
    ),
    # Thành phố Hồ Chí Minh (079), a woman born in 1955 (digit 1): priority by age.
    "elderly": CardProfile(
        id_number="079155004321",
        full_name="Trần Thị Bình",
        date_of_birth=date(1955, 2, 3),
        sex="Nữ",
        place_of_origin="Xã Tân Phú, Tỉnh Đồng Nai",
        place_of_residence="Số 45 đường Lê Lợi, Phường Bến Thành, Thành phố Hồ Chí Minh",
        date_of_issue=date(2022, 1, 20),
        date_of_expiry=None,  # no expiry after the age of 60
    ),
    # Đà Nẵng (048), a woman born in 2003 (digit 3).
    "young": CardProfile(
        id_number="048303007890",
        full_name="Lê Thị Thu Hà",
        date_of_birth=date(2003, 9, 30),
        sex="Nữ",
        place_of_origin="Xã Hòa Vang, Thành phố Đà Nẵng",
        place_of_residence="Số 8 đường Bạch Đằng, Phường Hải Châu, Thành phố Đà Nẵng",
        date_of_issue=date(2021, 10, 5),
        date_of_expiry=date(2028, 9, 30),
    ),
}


def profiles() -> dict[str, CardProfile]:
    """The simulated citizens by name (a copy: changing it changes nothing)."""
    return dict(PROFILES)


class SimulatedCardConnection(CardConnection):
    """A connection to the simulated card that was on the reader when it was made."""

    def __init__(self, reader: SimulatedCardReader, card: SimulatedCCCD, generation: int) -> None:
        self._reader = reader
        self._card = card
        self._generation = generation
        self._closed = False

    def transmit(self, apdu: bytes) -> bytes:
        if self._closed:
            raise CardError(f"{READER_NAME}: the card connection is closed")
        self._reader._check_same_card(self._generation)
        try:
            return self._card.process(bytes(apdu))
        except CardRemoved:
            self._reader._card_left(self._generation)
            raise

    def atr(self) -> bytes:
        if self._closed:
            raise CardError(f"{READER_NAME}: the card connection is closed")
        self._reader._check_same_card(self._generation)
        return self._card.atr

    def close(self) -> None:
        self._closed = True


class SimulatedCardReader(CardReader):
    """A reader holding a ``SimulatedCCCD`` of the named profile (on it unless told not)."""

    def __init__(
        self,
        profile_name: str = "demo",
        *,
        card_present: bool = True,
        card_factory: Callable[[], SimulatedCCCD] | None = None,
    ) -> None:
        if card_factory is None and profile_name not in PROFILES:
            raise ReaderUnavailable(
                f"unknown simulated card profile {profile_name!r} "
                f"(known: {', '.join(sorted(PROFILES))})"
            )
        self.profile_name = profile_name
        self._factory = card_factory or (lambda: SimulatedCCCD(PROFILES[profile_name]))
        self._changed = threading.Condition()
        self._card: SimulatedCCCD | None = None
        self._generation = 0
        self._plugged = True
        if card_present:
            self.insert()

    def __repr__(self) -> str:
        return f"SimulatedCardReader({self.profile_name!r})"

    @property
    def card(self) -> SimulatedCCCD | None:
        """The card on the reader (in the field or just pulled), or None."""
        return self._card

    def insert(self, card: SimulatedCCCD | None = None) -> SimulatedCCCD:
        """Lay ``card`` (default: a new card of this reader's profile) on the reader."""
        if card is None:
            card = self._factory()
        with self._changed:
            card.power_on()
            self._card = card
            self._generation += 1
            self._changed.notify_all()
        return card

    def remove(self) -> None:
        """Lift the card off the reader: open connections raise ``CardRemoved``."""
        with self._changed:
            self._card = None
            self._generation += 1
            self._changed.notify_all()

    def unplug(self) -> None:
        """The reader's cable is pulled: everything raises ``ReaderUnavailable``."""
        with self._changed:
            self._plugged = False
            self._changed.notify_all()

    def replug(self) -> None:
        with self._changed:
            self._plugged = True
            self._changed.notify_all()

    def _check_plugged(self) -> None:
        if not self._plugged:
            raise ReaderUnavailable(f"{READER_NAME} is unplugged")

    def _in_field(self) -> bool:
        return self._card is not None and self._card.in_field

    def _check_same_card(self, generation: int) -> None:
        with self._changed:
            self._check_plugged()
            if generation != self._generation or not self._in_field():
                raise CardRemoved(f"{READER_NAME}: the card was taken off the reader")

    def _card_left(self, generation: int) -> None:
        with self._changed:
            if generation == self._generation:
                self._changed.notify_all()

    def readers(self) -> list[str]:
        self._check_plugged()
        return [READER_NAME]

    def wait_for_card(self, timeout_s: float) -> CardConnection:
        deadline = time.monotonic() + max(timeout_s, 0.0)
        with self._changed:
            while True:
                self._check_plugged()
                if self._card is not None and self._in_field():
                    return SimulatedCardConnection(self, self._card, self._generation)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise NoCard(f"no card on {READER_NAME} after {timeout_s:g} s")
                self._changed.wait(remaining)

    def card_present(self) -> bool:
        with self._changed:
            self._check_plugged()
            return self._in_field()

    def health(self) -> Health:
        with self._changed:
            if not self._plugged:
                return Health(DEVICE_NAME, False, f"{READER_NAME} is unplugged")
            card = "a card is on it" if self._in_field() else "no card on it"
            return Health(
                DEVICE_NAME,
                True,
                f"simulated reader {READER_NAME!r}, {card}, profile {self.profile_name!r}",
            )
