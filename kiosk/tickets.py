"""Queue tickets (số thứ tự): issuing, calling and counting, kept in a SQLite file.

Numbering scheme
----------------
* An ordinary ticket is ``<SERVICE>-<NNN>``: the service's letters and a daily number of at
  least three digits, e.g. ``IN-012``.
* A priority ticket is ``<SERVICE>-U<NN>`` (U for "ưu tiên"), with its own daily number of at
  least two digits, e.g. ``IN-U03``. The two series never collide.
* Both series restart at 1 every day (Vietnam's date, from the injected clock). Tickets of an
  earlier day that were never called no longer wait: ``waiting`` and ``call_next`` only see
  today's.

Calling policy (first version; a later issue adds anti-starvation and transfers): the next
ticket is the oldest waiting priority ticket, else the oldest waiting ordinary one (FIFO within
each class). ``people_ahead`` on a new ticket counts, in its service, the waiting tickets that
this policy calls before it.

Priority classes are data (``PRIORITY_CLASSES``): who may be served first under the
one-stop-shop rules, with Vietnamese and English labels.

Exceptions::

    KioskError
     └── TicketError                (citizen) no ticket could be issued or called
          ├── UnknownService        the service code is not one the kiosk offers
          └── UnknownPriorityClass  the priority class is not in PRIORITY_CLASSES
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.workdays import now_vietnam, to_vietnam_time

_SERVICE_RE = re.compile(r"^[A-Z]{1,3}$")
_COUNTER_RE = re.compile(r"^\S(.{0,30}\S)?$")


class TicketError(KioskError):
    """No ticket could be issued or called."""

    msgid = "A queue ticket could not be issued. Please ask the staff at the counter for help."


class UnknownService(TicketError):
    """The service code is not one the kiosk offers."""


class UnknownPriorityClass(TicketError):
    """The priority class is not in PRIORITY_CLASSES."""


@dataclass(frozen=True)
class PriorityClass:
    """A group of people served first, with its labels."""

    code: str
    label_vi: str
    label_en: str

    def label(self, lang: str) -> str:
        """The label in ``lang`` ("en" for English, Vietnamese otherwise)."""
        return self.label_en if lang == "en" else self.label_vi


PRIORITY_CLASSES: tuple[PriorityClass, ...] = (
    PriorityClass("elderly", "Người cao tuổi", "Older person"),
    PriorityClass("pregnant", "Phụ nữ mang thai", "Pregnant woman"),
    PriorityClass("disability", "Người khuyết tật", "Person with a disability"),
    PriorityClass("child_under_6", "Người đi cùng trẻ dưới 6 tuổi", "Person with a child under 6"),
    PriorityClass(
        "merit", "Người có công với cách mạng", "Person with meritorious service to the revolution"
    ),
)
_PRIORITY_BY_CODE = {p.code: p for p in PRIORITY_CLASSES}


def find_priority_class(code: str) -> PriorityClass:
    """The priority class with this code; UnknownPriorityClass if none."""
    try:
        return _PRIORITY_BY_CODE[code]
    except (KeyError, TypeError):
        known = ", ".join(_PRIORITY_BY_CODE)
        raise UnknownPriorityClass(f"priority class {code!r} is not one of: {known}") from None


@dataclass(frozen=True)
class Ticket:
    """A queue ticket; ``counter`` and ``called_at`` are set once it has been called."""

    number: str
    people_ahead: int
    issued_at: datetime
    service_code: str
    priority_class: str | None = None
    counter: str | None = None
    called_at: datetime | None = None

    @property
    def is_priority(self) -> bool:
        """True for a priority ticket."""
        return self.priority_class is not None


def format_ticket_number(service_code: str, seq: int, priority: bool) -> str:
    """``IN-012`` for an ordinary ticket, ``IN-U03`` for a priority one."""
    return f"{service_code}-U{seq:02d}" if priority else f"{service_code}-{seq:03d}"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    day            TEXT NOT NULL,
    service_code   TEXT NOT NULL,
    priority       INTEGER NOT NULL,
    priority_class TEXT,
    seq            INTEGER NOT NULL,
    number         TEXT NOT NULL,
    issued_at      TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'waiting',
    counter        TEXT,
    called_at      TEXT,
    UNIQUE (day, service_code, priority, seq)
);
CREATE INDEX IF NOT EXISTS tickets_waiting ON tickets(day, status, priority, id);
"""


class TicketStore:
    """Tickets in a SQLite file (WAL, synchronous=FULL); safe across threads and processes."""

    def __init__(
        self,
        db_path: Path,
        clock: Callable[[], datetime] = now_vietnam,
        services: Iterable[str] | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self._clock = clock
        self._services = frozenset(services) if services is not None else None
        self._lock = threading.Lock()
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.db_path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as e:
            raise TicketError(f"cannot open the ticket store {db_path}: {e}") from e

    def close(self) -> None:
        """Close the database."""
        self._conn.close()

    def __enter__(self) -> TicketStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:  # also when COMMIT itself failed
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                raise TicketError(f"ticket store failed: {e}") from e

    def _now(self) -> datetime:
        return to_vietnam_time(self._clock())

    def _check_service(self, service_code: str) -> None:
        if not isinstance(service_code, str) or not _SERVICE_RE.match(service_code):
            raise UnknownService(f"service code {service_code!r} is not 1 to 3 capital letters")
        if self._services is not None and service_code not in self._services:
            known = ", ".join(sorted(self._services))
            raise UnknownService(f"service {service_code!r} is not offered here (known: {known})")

    def issue(self, service_code: str, priority_class: str | None = None) -> Ticket:
        """A new ticket for ``service_code``; a priority ticket when ``priority_class`` is set."""
        self._check_service(service_code)
        if priority_class is not None:
            priority_class = find_priority_class(priority_class).code
        priority = priority_class is not None
        now = self._now()
        day = now.date().isoformat()
        with self._write() as conn:
            (seq,) = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets "
                "WHERE day = ? AND service_code = ? AND priority = ?",
                (day, service_code, int(priority)),
            ).fetchone()
            number = format_ticket_number(service_code, seq, priority)
            cursor = conn.execute(
                "INSERT INTO tickets (day, service_code, priority, priority_class, seq, number, "
                "issued_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (day, service_code, int(priority), priority_class, seq, number, now.isoformat()),
            )
            ticket_id = cursor.lastrowid
            # Called before a priority ticket: the priority tickets issued earlier. Before an
            # ordinary one: every priority ticket and the ordinary tickets issued earlier.
            before = "priority = 1 AND id < ?" if priority else "(priority = 1 OR id < ?)"
            (ahead,) = conn.execute(
                "SELECT count(*) FROM tickets WHERE day = ? AND service_code = ? "
                f"AND status = 'waiting' AND {before}",
                (day, service_code, ticket_id),
            ).fetchone()
        return Ticket(number, ahead, now, service_code, priority_class)

    def call_next(self, counter: str, services: Iterable[str] | None = None) -> Ticket | None:
        """Call today's next ticket to ``counter`` (of ``services``, or of any); None if none."""
        if not isinstance(counter, str) or not _COUNTER_RE.match(counter):
            raise TicketError(f"counter {counter!r} must be 1 to 32 characters, no outer spaces")
        wanted = sorted(set(services)) if services is not None else None
        now = self._now()
        day = now.date().isoformat()
        query = "SELECT id, number, issued_at, service_code, priority_class FROM tickets "
        query += "WHERE day = ? AND status = 'waiting' "
        params: list[object] = [day]
        if wanted is not None:
            if not wanted:
                return None
            query += f"AND service_code IN ({', '.join('?' * len(wanted))}) "
            params += wanted
        query += "ORDER BY priority DESC, id LIMIT 1"
        with self._write() as conn:
            row = conn.execute(query, params).fetchone()
            if row is None:
                return None
            ticket_id, number, issued_at, service_code, pclass = row
            conn.execute(
                "UPDATE tickets SET status = 'called', counter = ?, called_at = ? WHERE id = ?",
                (counter, now.isoformat(), ticket_id),
            )
        return Ticket(
            number, 0, datetime.fromisoformat(issued_at), service_code, pclass, counter, now
        )

    def waiting(self, service_code: str) -> int:
        """How many of today's tickets of ``service_code`` wait to be called."""
        return self.waiting_by_service().get(service_code, 0)

    def waiting_by_service(self) -> dict[str, int]:
        """Today's waiting tickets per service (services with none are left out)."""
        day = self._now().date().isoformat()
        try:
            with self._lock:
                rows = self._conn.execute(
                    "SELECT service_code, count(*) FROM tickets "
                    "WHERE day = ? AND status = 'waiting' GROUP BY service_code",
                    (day,),
                ).fetchall()
        except sqlite3.Error as e:
            raise TicketError(f"ticket store failed: {e}") from e
        return dict(rows)
