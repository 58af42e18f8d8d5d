"""What the flow tells the screens: typed events, delivered to listeners on the screens' thread.

``Notice``        a message for the citizen (an English msgid), with the step whose action it
                  answers: the screen of that step shows it beside what the citizen did, the
                  shell's notice bar shows the rest
``ReadProgress``  one step of reading the chip (from the worker thread, posted to the UI's)
``NumberScanned`` the ID number the camera read from the card's QR or MRZ
``PageKept``      a captured page was kept for one of the dossier's documents

What the kiosk's telemetry counts (kiosk/telemetry/), free of personal data (each carries only
values from a closed set):

``SessionEnded``      a citizen's session ended: its journey and its ``SessionOutcome``
``ChipReadFinished``  a chip read ended (even for a citizen who left): its ``ChipReadResult``
``CardScanFinished``  the camera's look for the card's QR or MRZ ended: its ``CardScanResult``

Listeners subscribe per event type and are called in the order they subscribed; nobody swaps
a callback slot, so an answer that arrives late still reaches the screen it belongs to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal, TypeVar

from kiosk.session.state import Journey, Step

E = TypeVar("E")


@dataclass(frozen=True)
class Notice:
    """A message for the citizen: an English msgid, and whether it is an error or a note."""

    msgid: str
    error: bool = True
    step: Step | None = None  # the step whose action it answers; None: the kiosk's own


@dataclass(frozen=True)
class ReadProgress:
    """The chip read reached ``name`` (``index`` of ``total`` steps)."""

    name: str
    index: int
    total: int

    @property
    def fraction(self) -> float:
        return self.index / max(self.total, 1)


@dataclass(frozen=True)
class NumberScanned:
    """The camera read the card's 12-digit ID number; the chip is read next."""

    id_number: str


@dataclass(frozen=True)
class PageKept:
    """A page was kept for the document ``requirement_id`` (a file in the session's folder)."""

    requirement_id: str
    path: Path


class SessionOutcome(Enum):
    """How a session ended: what the citizen got, else how they left."""

    SUBMITTED = "submitted"  # the dossier reached the outbox (a receipt followed)
    TICKET = "ticket"  # a queue number was issued
    LOOKUP = "lookup"  # a dossier's status was shown
    CANCELLED = "cancelled"  # the citizen cancelled, or went back past the first step
    TIMED_OUT = "timed_out"  # nobody touched the screen for the idle timeout
    DECLINED = "declined"  # consent to read the card was declined


@dataclass(frozen=True)
class SessionEnded:
    """A session of ``journey`` ended with ``outcome`` (the kiosk is back at welcome)."""

    journey: Journey
    outcome: SessionOutcome


class ChipReadResult(Enum):
    """How a chip read ended."""

    OK = "ok"  # read, signer verified
    OK_UNVERIFIED = "ok_unverified"  # read and accepted, its signer not verified (a warning)
    NO_CARD = "no_card"  # no card came on the reader in time
    ACCESS_DENIED = "access_denied"  # the chip refused the CAN / MRZ key
    NOT_AUTHENTIC = "not_authentic"  # tampered data groups, or active authentication failed
    EXPIRED = "expired"
    SIGNER_REFUSED = "signer_refused"  # signer not trusted and the kiosk refuses such cards
    WRONG_CARD = "wrong_card"  # the chip holds another ID number than the one typed
    CARD_ERROR = "card_error"  # the exchange failed: card moved, error status, bad data
    READER_ERROR = "reader_error"  # the reader is missing or its service is down
    ABANDONED = "abandoned"  # the citizen left before the read ended
    ERROR = "error"  # anything else (a bug: the log has it)


@dataclass(frozen=True)
class ChipReadFinished:
    """A chip read ended with ``result``."""

    result: ChipReadResult


class CardScanResult(Enum):
    """How the camera's look for the card's QR or MRZ ended."""

    OK = "ok"  # the ID number was read
    NOT_FOUND = "not_found"  # nothing found in the time given
    UNREADABLE = "unreadable"  # found, but it did not read right (check digits, another QR)
    CAMERA_ERROR = "camera_error"  # the camera is missing or failed
    ERROR = "error"  # anything else (a bug: the log has it)


@dataclass(frozen=True)
class CardScanFinished:
    """The camera's look for the card's ``kind`` of code ended with ``result``."""

    kind: Literal["qr", "mrz"]
    result: CardScanResult


class Events:
    """Listeners per event type; ``emit`` calls those of the event's type."""

    def __init__(self) -> None:
        self._listeners: dict[type, list[Callable[[Any], None]]] = defaultdict(list)

    def subscribe(self, kind: type[E], listener: Callable[[E], None]) -> Callable[[], None]:
        """Call ``listener(event)`` for each event of ``kind``; returns the unsubscribe call."""
        self._listeners[kind].append(listener)
        return lambda: self._listeners[kind].remove(listener)

    def emit(self, event: object) -> None:
        for listener in list(self._listeners[type(event)]):
            listener(event)
