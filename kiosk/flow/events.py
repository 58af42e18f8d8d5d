"""What the flow tells the screens: typed events, delivered to listeners on the screens' thread.

``Notice``        a message for the citizen (an English msgid), with the step whose action it
                  answers: the screen of that step shows it beside what the citizen did, the
                  shell's notice bar shows the rest
``ReadProgress``  one step of reading the chip (from the worker thread, posted to the UI's)
``NumberScanned`` the ID number the camera read from the card's QR or MRZ
``PageKept``      a captured page was kept for one of the dossier's documents

Listeners subscribe per event type and are called in the order they subscribed; nobody swaps
a callback slot, so an answer that arrives late still reaches the screen it belongs to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kiosk.session.state import Step

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
