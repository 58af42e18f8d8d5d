"""Queue tickets (số thứ tự) and counters (quầy), kept in a SQLite file that survives restarts.

Numbering scheme
----------------
* An ordinary ticket is ``<SERVICE>-<NNN>``: the service's letters and a daily number of at
  least three digits, e.g. ``IN-012``. A priority ticket is ``<SERVICE>-U<NN>`` (U for "ưu
  tiên"), e.g. ``IN-U03``. The two series never collide; both restart at 1 every day (Vietnam's
  date, from the injected clock). Tickets of an earlier day no longer wait.
* A ticket keeps its number when staff transfer it to another service.

Counters and services
---------------------
Counters, the services each serves and whether it opens by default come from config/queue.toml
(``kiosk/tickets/config.py``); the store keeps them with their state: open or closed (a staff
change holds for the day it was made; the next day starts from the configured default), the
ticket being served, and the counter's place in the priority/ordinary cycle. A ticket for a
service that no open counter serves is refused (``NoOpenCounter``): the citizen is told, and no
ticket is issued.

Calling
-------
``call_next`` asks ``kiosk.tickets.policy.choose_next`` (priority first in proportion, FIFO within
a class, and anyone waiting ``max_wait`` or longer first) and claims the chosen ticket with
``UPDATE ... WHERE status = 'waiting'``, checking the row count: two counters, in two threads or
two processes, can never call the same ticket; the loser chooses again. Calling the next ticket
completes the counter's current one. Staff also recall (say it again), skip (no-show), transfer
to another service (the ticket keeps its place by issue time), complete, call a given number
(a no-show who came back), and confirm or downgrade a declared priority (who did it is kept).

Estimates: each completed service updates the service's exponentially weighted mean service
time; a new ticket's ``people_ahead`` is its place in the order the policy would call today's
waiting tickets, and ``estimated_wait`` (minutes) comes from that place, the mean and the open
counters (``queue_policy.estimate_wait_s``).

A locked or damaged file
------------------------
The file is kept by kiosk/infra/sqlite_store.py (WAL, ``synchronous=FULL``, a connection per
thread, ``BEGIN IMMEDIATE`` write transactions). Another process holding the write lock longer
than ``busy_timeout_s`` is retried ``lock_retries`` times, then ``StoreLocked`` (the citizen is
asked to try again; nothing is half-written). A damaged file (not a database, malformed pages,
a failed ``integrity_check`` at open, or a corruption error met while in use) is moved aside as
``tickets.corrupt-<time>.sqlite`` (with its -wal and -shm, and a ``.reason`` file beside them;
nothing is deleted), staff are alerted, and a fresh store takes over at once: today's tickets
that can still be read are copied over, and today's numbering continues after the highest
number known (read from the damaged file, or failing that found by scanning its bytes), so no
number is handed out twice. Other processes reconnect to the fresh store by themselves.

Exceptions::

    KioskError
     └── TicketError                 (citizen) no ticket could be issued or called
          ├── UnknownService         the service code is not one the kiosk offers
          ├── UnknownPriorityClass   the priority class is not configured
          ├── NoOpenCounter          no open counter serves the service
          ├── StoreUnavailable       the store file cannot be used
          │    └── StoreLocked       another process holds the write lock too long
          └── CounterError           (staff) a counter action that cannot be done
               ├── UnknownCounter    no such counter in config/queue.toml
               ├── CounterClosed     the counter is closed
               ├── NoCurrentTicket   recall/skip/complete/transfer/confirm with none called
               ├── AlreadyCalled     another counter already called this ticket
               └── UnknownTicket     no such ticket today, or it is finished
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from kiosk.errors import KioskError
from kiosk.infra.clock import now_vietnam, to_vietnam_time
from kiosk.infra.sqlite_store import SqliteStore, run_script, transaction
from kiosk.tickets.config import (
    DEFAULT_PRIORITY_CLASSES,
    CounterConfig,
    PriorityClass,
    QueueConfig,
    load_queue_config,
)
from kiosk.tickets.policy import (
    Candidate,
    Choice,
    CycleState,
    choose_next,
    estimate_wait_s,
    ewma,
    order_of_calls,
    wait_minutes,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

_SERVICE_RE = re.compile(r"^[A-Z]{1,3}$")
_STAFF_RE = re.compile(r"^\S(.{0,62}\S)?$")
_MAX_CLAIM_TRIES = 20
SCHEMA_VERSION = 1

__all__ = [
    "PRIORITY_CLASSES",
    "AlreadyCalled",
    "CounterClosed",
    "CounterError",
    "CounterState",
    "Event",
    "NoCurrentTicket",
    "NoOpenCounter",
    "PriorityClass",
    "StoreLocked",
    "StoreUnavailable",
    "Ticket",
    "TicketError",
    "TicketStatus",
    "TicketStore",
    "UnknownCounter",
    "UnknownPriorityClass",
    "UnknownService",
    "UnknownTicket",
    "find_priority_class",
    "format_ticket_number",
]


# --------------------------------------------------------------------------- errors


class TicketError(KioskError):
    """No ticket could be issued or called."""

    msgid = "A queue ticket could not be issued. Please ask the staff at the counter for help."


class UnknownService(TicketError):
    """The service code is not one the kiosk offers."""


class UnknownPriorityClass(TicketError):
    """The priority class is not configured."""


class NoOpenCounter(TicketError):
    """No open counter serves the service: no ticket is issued."""

    msgid = (
        "No counter is serving this service right now. Please ask the staff at the reception desk."
    )


class StoreUnavailable(TicketError):
    """The ticket store file cannot be used."""


class StoreLocked(StoreUnavailable):
    """Another process held the store's write lock longer than the busy timeout, every try."""

    msgid = "The queue system is busy. Please try again in a moment."


class CounterError(TicketError):
    """A counter action that cannot be done (staff)."""

    msgid = "This counter action could not be done. Please check the counter and the ticket number."


class UnknownCounter(CounterError):
    """No such counter in the queue configuration."""


class CounterClosed(CounterError):
    """The counter is closed."""


class NoCurrentTicket(CounterError):
    """The counter has no ticket called."""


class AlreadyCalled(CounterError):
    """Another counter already called this ticket."""

    msgid = "This number has already been called to another counter."


class UnknownTicket(CounterError):
    """No such ticket today, or it is finished."""


class _LostRace(Exception):
    """Another counter changed what this call relied on: choose again."""


# --------------------------------------------------------------------------- values

PRIORITY_CLASSES: tuple[PriorityClass, ...] = DEFAULT_PRIORITY_CLASSES
_PRIORITY_BY_CODE = {p.code: p for p in PRIORITY_CLASSES}


def find_priority_class(code: str) -> PriorityClass:
    """The default priority class with this code; UnknownPriorityClass if none."""
    try:
        return _PRIORITY_BY_CODE[code]
    except (KeyError, TypeError):
        known = ", ".join(_PRIORITY_BY_CODE)
        raise UnknownPriorityClass(f"priority class {code!r} is not one of: {known}") from None


class TicketStatus(StrEnum):
    """Where a ticket is in its day."""

    WAITING = "waiting"
    CALLED = "called"
    DONE = "done"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class Ticket:
    """A queue ticket. ``estimated_wait`` is in minutes (at issue); ``counter`` and
    ``called_at`` are set once it has been called; ``priority_check`` is None, "confirmed" or
    "downgraded" once staff looked at a declared priority, ``priority_checked_by`` who did."""

    number: str
    people_ahead: int
    issued_at: datetime
    service_code: str
    priority_class: str | None = None
    counter: int | None = None
    called_at: datetime | None = None
    estimated_wait: int | None = None
    status: TicketStatus = TicketStatus.WAITING
    counter_name: str | None = None
    priority_source: str | None = None  # "declared" (one tap) or "chip" (age from the chip)
    priority_check: str | None = None
    priority_checked_by: str | None = None
    recalls: int = 0
    finished_at: datetime | None = None
    id: int = field(default=0, compare=False)

    @property
    def is_priority(self) -> bool:
        """True for a priority ticket (its number is in the U series)."""
        return self.priority_class is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {
            "number": self.number,
            "service": self.service_code,
            "priority_class": self.priority_class,
            "priority_source": self.priority_source,
            "priority_check": self.priority_check,
            "priority_checked_by": self.priority_checked_by,
            "status": self.status.value,
            "people_ahead": self.people_ahead,
            "estimated_wait_min": self.estimated_wait,
            "issued_at": self.issued_at.isoformat(timespec="seconds"),
            "counter": self.counter,
            "counter_name": self.counter_name,
            "called_at": _iso(self.called_at),
            "finished_at": _iso(self.finished_at),
            "recalls": self.recalls,
        }


@dataclass(frozen=True)
class CounterState:
    """A counter now: open or not today, its services, the ticket it serves, its cycle."""

    number: int
    name: str
    services: tuple[str, ...]
    open: bool
    current: Ticket | None
    cycle: CycleState
    has_token: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "services": list(self.services),
            "open": self.open,
            "current": self.current.to_dict() if self.current else None,
        }


@dataclass(frozen=True)
class Event:
    """Something that happened at a counter: called, recalled, skipped, completed,
    transferred, confirmed, downgraded, opened, closed."""

    id: int
    at: datetime
    kind: str
    number: str | None
    counter: int | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(timespec="seconds"),
            "kind": self.kind,
            "number": self.number,
            "counter": self.counter,
            "detail": self.detail,
        }


def format_ticket_number(service_code: str, seq: int, priority: bool) -> str:
    """``IN-012`` for an ordinary ticket, ``IN-U03`` for a priority one."""
    return f"{service_code}-U{seq:02d}" if priority else f"{service_code}-{seq:03d}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# --------------------------------------------------------------------------- schema

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    day                 TEXT NOT NULL,
    series              TEXT NOT NULL,
    service_code        TEXT NOT NULL,
    priority            INTEGER NOT NULL,
    priority_class      TEXT,
    priority_source     TEXT,
    priority_check      TEXT,
    priority_checked_by TEXT,
    seq                 INTEGER NOT NULL,
    number              TEXT NOT NULL,
    issued_at           TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'waiting',
    counter             INTEGER,
    counter_name        TEXT,
    called_at           TEXT,
    finished_at         TEXT,
    recalls             INTEGER NOT NULL DEFAULT 0,
    transfers           INTEGER NOT NULL DEFAULT 0,
    people_ahead        INTEGER NOT NULL DEFAULT 0,
    estimated_wait_min  INTEGER,
    UNIQUE (day, series, priority, seq)
);
CREATE INDEX IF NOT EXISTS tickets_waiting ON tickets(day, status, service_code, id);
CREATE INDEX IF NOT EXISTS tickets_number ON tickets(day, number);
CREATE TABLE IF NOT EXISTS counters (
    number         INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    default_open   INTEGER NOT NULL,
    open           INTEGER NOT NULL,
    open_day       TEXT,
    current_ticket INTEGER,
    priority_run   INTEGER NOT NULL DEFAULT 0,
    normal_run     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counter_services (
    counter      INTEGER NOT NULL,
    service_code TEXT NOT NULL,
    PRIMARY KEY (counter, service_code)
);
CREATE TABLE IF NOT EXISTS service_stats (
    service_code TEXT PRIMARY KEY,
    mean_s       REAL NOT NULL,
    samples      INTEGER NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    ticket_id INTEGER,
    number    TEXT,
    counter   INTEGER,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS number_floor (
    day      TEXT NOT NULL,
    series   TEXT NOT NULL,
    priority INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (day, series, priority)
);
"""

_TICKET_COLUMNS = (
    "id, number, people_ahead, issued_at, service_code, priority_class, counter, called_at, "
    "estimated_wait_min, status, counter_name, priority_source, priority_check, "
    "priority_checked_by, recalls, finished_at"
)
_COPY_COLUMNS = (
    "id, day, series, service_code, priority, priority_class, priority_source, priority_check, "
    "priority_checked_by, seq, number, issued_at, status, counter, counter_name, called_at, "
    "finished_at, recalls, transfers, people_ahead, estimated_wait_min"
)
# Priority that still counts for the queue: a downgraded ticket queues as an ordinary one.
_QUEUES_AS_PRIORITY = "(priority = 1 AND COALESCE(priority_check, '') != 'downgraded')"


def _ticket(row: tuple[Any, ...]) -> Ticket:
    (
        ticket_id,
        number,
        ahead,
        issued_at,
        service_code,
        pclass,
        counter,
        called_at,
        wait_min,
        status,
        counter_name,
        source,
        check,
        checked_by,
        recalls,
        finished_at,
    ) = row
    return Ticket(
        number=number,
        people_ahead=ahead,
        issued_at=datetime.fromisoformat(issued_at),
        service_code=service_code,
        priority_class=pclass,
        counter=counter,
        called_at=_dt(called_at),
        estimated_wait=wait_min,
        status=TicketStatus(status),
        counter_name=counter_name,
        priority_source=source,
        priority_check=check,
        priority_checked_by=checked_by,
        recalls=recalls,
        finished_at=_dt(finished_at),
        id=ticket_id,
    )


# --------------------------------------------------------------------------- the store


class TicketStore:
    """Tickets and counters in a SQLite file (WAL, synchronous=FULL); safe across threads and
    processes.

    ``config`` is the queue configuration (None: config/queue.toml as shipped); ``services``
    the service codes of the catalog (None: any 1-3 capital letters); ``alert`` tells staff
    (e.g. ``Services.alert_staff``; None: the log only).
    """

    def __init__(
        self,
        db_path: Path,
        clock: Callable[[], datetime] = now_vietnam,
        services: Iterable[str] | None = None,
        config: QueueConfig | None = None,
        alert: Callable[[str], None] | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self._clock = clock
        self._services = frozenset(services) if services is not None else None
        if config is None:
            try:
                config = load_queue_config(known_services=self._services)
            except KioskError as e:
                raise TicketError(f"cannot load the queue configuration: {e}") from e
        self.config = config
        self._classes = {p.code: p for p in config.priority_classes}
        self._counters = {c.number: c for c in config.counters}
        self._alert = alert
        self._closed = False
        if self._services is not None:
            for c in config.counters:
                unknown = sorted(set(c.services) - self._services)
                if unknown:
                    raise TicketError(
                        f"{config.source or 'queue config'}: counter {c.number} serves "
                        f"{', '.join(unknown)}, not a service of the catalog"
                    )
        self._db = SqliteStore(
            self.db_path,
            label="ticket store",
            prepare=self._migrate,
            salvage=self._salvage,
            alert=self._tell_staff,
            clock=self._now,
            busy_timeout_s=config.store.busy_timeout_s,
            lock_retries=config.store.lock_retries,
            quarantine_in_use=True,
            unavailable=StoreUnavailable,
            locked=StoreLocked,
        )
        self._db.open()
        self._run(self._seed_counters, write=True)
        self._run(self._purge, write=True)

    # ---------------------------------------------------------------- the file

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Create the schema, or bring an older file up to date (in the open's transaction)."""
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version == SCHEMA_VERSION:
            return
        if version == 0:
            columns = {r[1] for r in conn.execute("PRAGMA table_info(tickets)")}
            if columns and "series" not in columns:  # the first version's file
                conn.execute("DROP INDEX IF EXISTS tickets_waiting")
                conn.execute("ALTER TABLE tickets RENAME TO tickets_v0")
                run_script(conn, _SCHEMA)
                conn.execute(
                    "INSERT INTO tickets (id, day, series, service_code, priority, "
                    "priority_class, priority_source, seq, number, issued_at, status, "
                    "counter_name, called_at) SELECT id, day, service_code, service_code, "
                    "priority, priority_class, CASE WHEN priority = 1 THEN 'declared' END, "
                    "seq, number, issued_at, status, counter, called_at FROM tickets_v0"
                )
                conn.execute("DROP TABLE tickets_v0")
            else:
                run_script(conn, _SCHEMA)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the database."""
        self._closed = True
        self._db.close()

    def __enter__(self) -> TicketStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, op: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """``op`` in a write transaction (or a read one), retried while the file is locked,
        after a quarantine when it is damaged (kiosk/infra/sqlite_store.py)."""
        if self._closed:
            raise StoreUnavailable(f"the ticket store {self.db_path} is closed")
        return self._db.write(op) if write else self._db.read(op)

    def _tell_staff(self, message: str) -> None:
        log.error("ticket store: %s", message)
        if self._alert is not None:
            try:
                self._alert(message)
            except Exception:  # noqa: BLE001 - an alert must never stop the queue
                log.exception("staff alert failed")

    def _salvage(
        self, old: sqlite3.Connection | None, old_path: Path, fresh: sqlite3.Connection
    ) -> str:
        """Today's tickets that still read from a damaged file, copied into the fresh one, and
        the numbering continued after the highest number known."""
        day = self._now().date().isoformat()
        rows, floors = _readable_tickets(old, old_path, day)
        placeholders = ", ".join("?" * len(_COPY_COLUMNS.split(",")))
        with transaction(fresh) as conn:
            for row in rows:
                conn.execute(f"INSERT INTO tickets ({_COPY_COLUMNS}) VALUES ({placeholders})", row)
            for (series, priority), seq in floors.items():
                conn.execute(
                    "INSERT OR REPLACE INTO number_floor VALUES (?, ?, ?, ?)",
                    (day, series, priority, seq),
                )
            self._seed_counters(conn)
        continuing = ", ".join(
            format_ticket_number(series, seq, bool(p))
            for (series, p), seq in sorted(floors.items())
        )
        return (
            f"{len(rows)} of today's tickets recovered; numbering continues after: "
            f"{continuing or 'nothing known (restarts at 1)'}"
        )

    # ---------------------------------------------------------------- small helpers

    def _now(self) -> datetime:
        return to_vietnam_time(self._clock())

    def _check_service(self, service_code: str) -> None:
        if not isinstance(service_code, str) or not _SERVICE_RE.match(service_code):
            raise UnknownService(f"service code {service_code!r} is not 1 to 3 capital letters")
        if self._services is not None and service_code not in self._services:
            known = ", ".join(sorted(self._services))
            raise UnknownService(f"service {service_code!r} is not offered here (known: {known})")

    def _check_class(self, code: str) -> str:
        if isinstance(code, str) and code in self._classes:
            return code
        known = ", ".join(self._classes)
        raise UnknownPriorityClass(f"priority class {code!r} is not one of: {known}")

    def _counter(self, counter: int | str) -> CounterConfig:
        number: int | None = None
        if isinstance(counter, int) and not isinstance(counter, bool):
            number = counter
        elif isinstance(counter, str) and counter.strip().isdigit():
            number = int(counter.strip())
        if number is None:
            raise CounterError(f"counter {counter!r} must be a counter number such as 3")
        found = self._counters.get(number)
        if found is None:
            known = ", ".join(str(n) for n in sorted(self._counters))
            raise UnknownCounter(f"counter {number} is not configured (counters: {known})")
        return found

    def _seed_counters(self, conn: sqlite3.Connection) -> None:
        """Make the store's counters those of the config (their state is kept)."""
        numbers = [c.number for c in self.config.counters]
        marks = ", ".join("?" * len(numbers))
        conn.execute(f"DELETE FROM counters WHERE number NOT IN ({marks})", numbers)
        conn.execute("DELETE FROM counter_services")
        for c in self.config.counters:
            conn.execute(
                "INSERT INTO counters (number, name, default_open, open) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(number) DO UPDATE SET name = excluded.name, "
                "default_open = excluded.default_open",
                (c.number, c.name, int(c.open), int(c.open)),
            )
            conn.executemany(
                "INSERT INTO counter_services VALUES (?, ?)", [(c.number, s) for s in c.services]
            )

    def _purge(self, conn: sqlite3.Connection) -> None:
        keep = (self._now().date() - timedelta(days=self.config.store.keep_days)).isoformat()
        conn.execute("DELETE FROM tickets WHERE day < ?", (keep,))
        conn.execute("DELETE FROM events WHERE at < ?", (keep,))
        conn.execute("DELETE FROM number_floor WHERE day < ?", (keep,))

    @staticmethod
    def _open_sql() -> str:
        """SQL for "the counter is open today" (a staff change holds for its day)."""
        return "(CASE WHEN open_day = :day THEN open ELSE default_open END)"

    def _mean_service_s(self, conn: sqlite3.Connection, service_code: str) -> float:
        row = conn.execute(
            "SELECT mean_s FROM service_stats WHERE service_code = ?", (service_code,)
        ).fetchone()
        return row[0] if row else self.config.estimate.default_service_min * 60.0

    def _open_counters(self, conn: sqlite3.Connection, service_code: str, day: str) -> list[Any]:
        """(number, current_ticket is being served, priority_run, normal_run) of the open
        counters serving the service, by number."""
        return conn.execute(
            "SELECT c.number, EXISTS (SELECT 1 FROM tickets t WHERE t.id = c.current_ticket "
            "AND t.status = 'called'), c.priority_run, c.normal_run "
            "FROM counters c JOIN counter_services s ON s.counter = c.number "
            f"WHERE s.service_code = :service AND {self._open_sql()} = 1 ORDER BY c.number",
            {"service": service_code, "day": day},
        ).fetchall()

    def _candidates(self, conn: sqlite3.Connection, day: str, services: list[str]) -> list[Any]:
        marks = ", ".join("?" * len(services))
        return conn.execute(
            f"SELECT id, issued_at, {_QUEUES_AS_PRIORITY} FROM tickets "
            f"WHERE day = ? AND status = 'waiting' AND service_code IN ({marks})",
            [day, *services],
        ).fetchall()

    def _place(
        self,
        conn: sqlite3.Connection,
        service_code: str,
        now: datetime,
        ticket_id: int | None,
        priority: bool = False,
    ) -> tuple[int, int | None]:
        """(people ahead, estimated minutes) of ticket ``ticket_id`` — or, with None, of a new
        ticket of that priority not issued yet. Minutes are None with no open counter."""
        day = now.date().isoformat()
        counters = self._open_counters(conn, service_code, day)
        rows = self._candidates(conn, day, [service_code])
        cands = [
            Candidate(r[0], datetime.fromisoformat(r[1]).timestamp(), bool(r[2])) for r in rows
        ]
        me = ticket_id
        if me is None:
            me = -1
            cands.append(Candidate(me, now.timestamp() + 1e-3, priority))
        mean = self._mean_service_s(conn, service_code)
        if not counters:
            return sum(1 for c in cands if c.key != me), None
        state = CycleState(counters[0][2], counters[0][3])
        order = order_of_calls(
            cands,
            now.timestamp(),
            state,
            self.config.policy,
            call_interval_s=mean / len(counters),
            until=me,
        )
        ahead = len(order) - 1
        free = sum(1 for c in counters if not c[1])
        return ahead, wait_minutes(estimate_wait_s(ahead, mean, len(counters), free))

    def _select_ticket(self, conn: sqlite3.Connection, where: str, params: Any) -> Ticket | None:
        row = conn.execute(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE {where}", params
        ).fetchone()
        return _ticket(row) if row else None

    def _event(
        self,
        conn: sqlite3.Connection,
        now: datetime,
        kind: str,
        ticket: Ticket | None,
        counter: int | None,
        detail: str = "",
    ) -> None:
        conn.execute(
            "INSERT INTO events (at, kind, ticket_id, number, counter, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                now.isoformat(),
                kind,
                ticket.id if ticket else None,
                ticket.number if ticket else None,
                counter,
                detail,
            ),
        )

    # ---------------------------------------------------------------- issuing

    def issue(
        self, service_code: str, priority_class: str | None = None, *, from_chip: bool = False
    ) -> Ticket:
        """A new ticket for ``service_code``; a priority ticket when ``priority_class`` is set
        (``from_chip``: the class came from the chip, e.g. age 60+, not from a tap).

        NoOpenCounter when no open counter serves the service: then no ticket is issued.
        """
        self._check_service(service_code)
        if priority_class is not None:
            priority_class = self._check_class(priority_class)
        priority = priority_class is not None
        source = ("chip" if from_chip else "declared") if priority else None
        now = self._now()
        day = now.date().isoformat()

        def op(conn: sqlite3.Connection) -> Ticket:
            if not self._open_counters(conn, service_code, day):
                raise NoOpenCounter(f"no open counter serves service {service_code!r}")
            (seq,) = conn.execute(
                "SELECT MAX(COALESCE((SELECT MAX(seq) FROM tickets WHERE day = :d AND "
                "series = :s AND priority = :p), 0), COALESCE((SELECT seq FROM number_floor "
                "WHERE day = :d AND series = :s AND priority = :p), 0)) + 1",
                {"d": day, "s": service_code, "p": int(priority)},
            ).fetchone()
            number = format_ticket_number(service_code, seq, priority)
            cursor = conn.execute(
                "INSERT INTO tickets (day, series, service_code, priority, priority_class, "
                "priority_source, seq, number, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    day,
                    service_code,
                    service_code,
                    int(priority),
                    priority_class,
                    source,
                    seq,
                    number,
                    now.isoformat(),
                ),
            )
            ticket_id = cursor.lastrowid
            assert ticket_id is not None
            ahead, minutes = self._place(conn, service_code, now, ticket_id)
            conn.execute(
                "UPDATE tickets SET people_ahead = ?, estimated_wait_min = ? WHERE id = ?",
                (ahead, minutes, ticket_id),
            )
            ticket = self._select_ticket(conn, "id = ?", (ticket_id,))
            assert ticket is not None
            return ticket

        return self._run(op, write=True)

    # ---------------------------------------------------------------- calling

    def call_next(self, counter: int | str, services: Iterable[str] | None = None) -> Ticket | None:
        """Call the next ticket to ``counter`` by the calling policy, among the services it
        serves (narrowed to ``services`` if given); its current ticket is completed first.
        None when nobody waits.

        The choice and the claim happen in one write transaction (``BEGIN IMMEDIATE``): no other
        counter can claim in between, so two counters never get the same ticket and none loses
        a race however busy the store (an optimistic snapshot-then-claim starved a counter
        when two processes called back to back). The claim still checks ``WHERE status =
        'waiting'`` and the row count, as a guard."""
        cfg = self._counter(counter)
        wanted = [s for s in cfg.services if services is None or s in set(services)]

        def op(conn: sqlite3.Connection) -> Ticket | None:
            now = self._now()
            day = now.date().isoformat()
            state, rows, interval = self._snapshot(conn, cfg=cfg, day=day, wanted=wanted)
            is_open, expected = bool(state[0]), tuple(state[1:])
            if not is_open:
                raise CounterClosed(f"counter {cfg.number} is closed; open it first")
            cands = [
                Candidate(r[0], datetime.fromisoformat(r[1]).timestamp(), bool(r[2])) for r in rows
            ]
            cycle = CycleState(expected[1], expected[2])
            choice = choose_next(
                cands, now.timestamp(), cycle, self.config.policy, call_interval_s=interval
            )
            return self._claim(conn, cfg=cfg, now=now, expected=expected, choice=choice)

        for _ in range(_MAX_CLAIM_TRIES):
            try:
                return self._run(op, write=True)
            except _LostRace:  # cannot happen inside one transaction; kept as a guard
                log.warning("counter %s lost a race for a ticket; choosing again", cfg.number)
        raise StoreLocked(f"counter {cfg.number}: no ticket could be claimed after retries")

    def _snapshot(
        self, conn: sqlite3.Connection, *, cfg: CounterConfig, day: str, wanted: list[str]
    ) -> tuple[Any, list[Any], float]:
        """The counter's row, the tickets it may call, and the interval between calls (mean
        service time / open counters, averaged over its services) for the policy's look-ahead."""
        state = conn.execute(
            f"SELECT {self._open_sql()}, current_ticket, priority_run, normal_run "
            "FROM counters WHERE number = :n",
            {"n": cfg.number, "day": day},
        ).fetchone()
        intervals = [
            self._mean_service_s(conn, s) / max(1, len(self._open_counters(conn, s, day)))
            for s in wanted
        ]
        interval = sum(intervals) / len(intervals) if intervals else 0.0
        return state, self._candidates(conn, day, wanted) if wanted else [], interval

    def _claim(
        self,
        conn: sqlite3.Connection,
        *,
        cfg: CounterConfig,
        now: datetime,
        expected: tuple[Any, ...],
        choice: Choice | None,
    ) -> Ticket | None:
        row = conn.execute(
            "SELECT current_ticket, priority_run, normal_run FROM counters WHERE number = ?",
            (cfg.number,),
        ).fetchone()
        if tuple(row) != expected:
            raise _LostRace  # the same counter acted meanwhile (another terminal)
        self._finish_current(conn, cfg.number, now, TicketStatus.DONE)
        if choice is None:
            return None
        cursor = conn.execute(
            "UPDATE tickets SET status = 'called', counter = ?, counter_name = ?, "
            "called_at = ? WHERE id = ? AND status = 'waiting'",
            (cfg.number, cfg.name, now.isoformat(), choice.candidate.key),
        )
        if cursor.rowcount != 1:
            raise _LostRace  # another counter called it first
        conn.execute(
            "UPDATE counters SET current_ticket = ?, priority_run = ?, normal_run = ? "
            "WHERE number = ?",
            (choice.candidate.key, choice.state.priority_run, choice.state.normal_run, cfg.number),
        )
        ticket = self._select_ticket(conn, "id = ?", (choice.candidate.key,))
        assert ticket is not None
        self._event(conn, now, "called", ticket, cfg.number, choice.reason.value)
        return ticket

    def call(self, counter: int | str, number: str) -> Ticket:
        """Call ticket ``number`` (waiting, or a no-show who came back) to ``counter``.

        AlreadyCalled if another counter has called it; UnknownTicket if there is no such
        ticket today or it is finished."""
        cfg = self._counter(counter)
        number = str(number).strip().upper()
        now = self._now()
        day = now.date().isoformat()

        def op(conn: sqlite3.Connection) -> Ticket:
            (is_open,) = conn.execute(
                f"SELECT {self._open_sql()} FROM counters WHERE number = :n",
                {"n": cfg.number, "day": day},
            ).fetchone()
            if not is_open:
                raise CounterClosed(f"counter {cfg.number} is closed; open it first")
            found = self._select_ticket(conn, "day = ? AND number = ?", (day, number))
            if found is None:
                raise UnknownTicket(f"no ticket {number} today")
            if found.service_code not in cfg.services:
                raise CounterError(
                    f"counter {cfg.number} does not serve {found.service_code} "
                    f"(it serves {', '.join(cfg.services)}); transfer the ticket first"
                )
            self._finish_current(conn, cfg.number, now, TicketStatus.DONE, keep=found.id)
            cursor = conn.execute(
                "UPDATE tickets SET status = 'called', counter = ?, counter_name = ?, "
                "called_at = ?, finished_at = NULL WHERE id = ? AND status IN ('waiting', "
                "'no_show')",
                (cfg.number, cfg.name, now.isoformat(), found.id),
            )
            if cursor.rowcount != 1:
                if found.status is TicketStatus.CALLED and found.counter != cfg.number:
                    raise AlreadyCalled(
                        f"ticket {number} was already called to counter {found.counter} at "
                        f"{found.called_at:%H:%M}"
                    )
                if found.status is TicketStatus.CALLED:
                    raise AlreadyCalled(f"ticket {number} is already at this counter; recall it")
                raise UnknownTicket(f"ticket {number} is finished ({found.status.value})")
            conn.execute(
                "UPDATE counters SET current_ticket = ? WHERE number = ?", (found.id, cfg.number)
            )
            ticket = self._select_ticket(conn, "id = ?", (found.id,))
            assert ticket is not None
            self._event(conn, now, "called", ticket, cfg.number, "by number")
            return ticket

        return self._run(op, write=True)

    def _current(self, conn: sqlite3.Connection, counter: int) -> Ticket | None:
        return self._select_ticket(
            conn,
            "id = (SELECT current_ticket FROM counters WHERE number = ?) AND status = 'called' "
            "AND counter = ?",
            (counter, counter),
        )

    def _finish_current(
        self,
        conn: sqlite3.Connection,
        counter: int,
        now: datetime,
        status: TicketStatus,
        keep: int | None = None,
    ) -> Ticket | None:
        """End the counter's current ticket (done or no-show); a done one is measured."""
        current = self._current(conn, counter)
        conn.execute("UPDATE counters SET current_ticket = NULL WHERE number = ?", (counter,))
        if current is None or current.id == keep:
            return None
        conn.execute(
            "UPDATE tickets SET status = ?, finished_at = ? WHERE id = ?",
            (status.value, now.isoformat(), current.id),
        )
        if status is TicketStatus.DONE and current.called_at is not None:
            self._measure(
                conn, current.service_code, (now - current.called_at).total_seconds(), now
            )
        kind = "completed" if status is TicketStatus.DONE else "skipped"
        self._event(conn, now, kind, current, counter)
        return self._select_ticket(conn, "id = ?", (current.id,))

    def _measure(
        self, conn: sqlite3.Connection, service_code: str, seconds: float, now: datetime
    ) -> None:
        est = self.config.estimate
        if not est.min_service_s <= seconds <= est.max_service_s:
            return  # a mis-tap or a forgotten "complete": not a service time
        row = conn.execute(
            "SELECT mean_s, samples FROM service_stats WHERE service_code = ?", (service_code,)
        ).fetchone()
        prior = row[0] if row else est.default_service_min * 60.0
        mean = ewma(prior, seconds, est.alpha)
        conn.execute(
            "INSERT INTO service_stats VALUES (?, ?, 1, ?) ON CONFLICT(service_code) DO UPDATE "
            "SET mean_s = excluded.mean_s, samples = samples + 1, updated_at = excluded.updated_at",
            (service_code, mean, now.isoformat()),
        )

    def _with_current(
        self,
        counter: int | str,
        action: Callable[[sqlite3.Connection, CounterConfig, Ticket, datetime], Ticket],
    ) -> Ticket:
        cfg = self._counter(counter)
        now = self._now()

        def op(conn: sqlite3.Connection) -> Ticket:
            current = self._current(conn, cfg.number)
            if current is None:
                raise NoCurrentTicket(f"counter {cfg.number} has no ticket called")
            return action(conn, cfg, current, now)

        return self._run(op, write=True)

    def recall(self, counter: int | str) -> Ticket:
        """Call the counter's current ticket again (the board and the voice repeat it)."""

        def action(
            conn: sqlite3.Connection, cfg: CounterConfig, t: Ticket, now: datetime
        ) -> Ticket:
            conn.execute("UPDATE tickets SET recalls = recalls + 1 WHERE id = ?", (t.id,))
            ticket = self._select_ticket(conn, "id = ?", (t.id,))
            assert ticket is not None
            self._event(conn, now, "recalled", ticket, cfg.number, str(ticket.recalls))
            return ticket

        return self._with_current(counter, action)

    def skip(self, counter: int | str) -> Ticket:
        """The citizen did not come: the current ticket becomes a no-show (it can be called
        again by number)."""

        def action(
            conn: sqlite3.Connection, cfg: CounterConfig, t: Ticket, now: datetime
        ) -> Ticket:
            done = self._finish_current(conn, cfg.number, now, TicketStatus.NO_SHOW)
            assert done is not None
            return done

        return self._with_current(counter, action)

    def complete(self, counter: int | str) -> Ticket:
        """The counter has finished with its current ticket (its service time is measured)."""

        def action(
            conn: sqlite3.Connection, cfg: CounterConfig, t: Ticket, now: datetime
        ) -> Ticket:
            done = self._finish_current(conn, cfg.number, now, TicketStatus.DONE)
            assert done is not None
            return done

        return self._with_current(counter, action)

    def transfer(self, counter: int | str, service_code: str) -> Ticket:
        """Send the counter's current ticket to another service: it waits there with its
        number, in its place by issue time. NoOpenCounter if no open counter serves it."""
        self._check_service(service_code)

        def action(
            conn: sqlite3.Connection, cfg: CounterConfig, t: Ticket, now: datetime
        ) -> Ticket:
            if service_code == t.service_code:
                raise CounterError(f"ticket {t.number} is already in service {service_code}")
            if not self._open_counters(conn, service_code, now.date().isoformat()):
                raise NoOpenCounter(f"no open counter serves service {service_code!r}")
            if t.called_at is not None:
                seconds = (now - t.called_at).total_seconds()
                self._measure(conn, t.service_code, seconds, now)
            conn.execute(
                "UPDATE tickets SET status = 'waiting', service_code = ?, counter = NULL, "
                "counter_name = NULL, called_at = NULL, transfers = transfers + 1 WHERE id = ?",
                (service_code, t.id),
            )
            conn.execute(
                "UPDATE counters SET current_ticket = NULL WHERE number = ?", (cfg.number,)
            )
            ahead, minutes = self._place(conn, service_code, now, t.id)
            conn.execute(
                "UPDATE tickets SET people_ahead = ?, estimated_wait_min = ? WHERE id = ?",
                (ahead, minutes, t.id),
            )
            ticket = self._select_ticket(conn, "id = ?", (t.id,))
            assert ticket is not None
            self._event(
                conn, now, "transferred", ticket, cfg.number, f"{t.service_code}>{service_code}"
            )
            return ticket

        return self._with_current(counter, action)

    def confirm_priority(self, counter: int | str, staff: str, confirmed: bool = True) -> Ticket:
        """Staff at the counter confirm the current ticket's declared priority, or downgrade it
        (the citizen was not eligible); ``staff`` (their name or id) is recorded."""
        if not isinstance(staff, str) or not _STAFF_RE.match(staff):
            raise CounterError(f"staff {staff!r} must be 1 to 64 characters, no outer spaces")

        def action(
            conn: sqlite3.Connection, cfg: CounterConfig, t: Ticket, now: datetime
        ) -> Ticket:
            if not t.is_priority:
                raise CounterError(f"ticket {t.number} is not a priority ticket")
            check = "confirmed" if confirmed else "downgraded"
            conn.execute(
                "UPDATE tickets SET priority_check = ?, priority_checked_by = ? WHERE id = ?",
                (check, staff, t.id),
            )
            ticket = self._select_ticket(conn, "id = ?", (t.id,))
            assert ticket is not None
            self._event(conn, now, check, ticket, cfg.number, f"{t.priority_class} by {staff}")
            return ticket

        return self._with_current(counter, action)

    def set_counter_open(self, counter: int | str, is_open: bool) -> CounterState:
        """Open or close a counter for today (tomorrow starts from the configured default).
        A closed counter calls nobody; its current ticket stays until completed."""
        cfg = self._counter(counter)
        now = self._now()

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE counters SET open = ?, open_day = ? WHERE number = ?",
                (int(is_open), now.date().isoformat(), cfg.number),
            )
            self._event(conn, now, "opened" if is_open else "closed", None, cfg.number)

        self._run(op, write=True)
        return next(c for c in self.counters() if c.number == cfg.number)

    # ---------------------------------------------------------------- reading

    def find(self, number: str) -> Ticket | None:
        """Today's ticket with this number, or None."""
        day = self._now().date().isoformat()
        key = str(number).strip().upper()
        return self._run(
            lambda conn: self._select_ticket(conn, "day = ? AND number = ?", (day, key)),
            write=False,
        )

    def waiting(self, service_code: str) -> int:
        """How many of today's tickets of ``service_code`` wait to be called."""
        return self.waiting_by_service().get(service_code, 0)

    def waiting_by_service(self) -> dict[str, int]:
        """Today's waiting tickets per service (services with none are left out)."""
        day = self._now().date().isoformat()
        rows = self._run(
            lambda conn: conn.execute(
                "SELECT service_code, count(*) FROM tickets "
                "WHERE day = ? AND status = 'waiting' GROUP BY service_code",
                (day,),
            ).fetchall(),
            write=False,
        )
        return dict(rows)

    def waiting_tickets(self, service_code: str | None = None) -> list[Ticket]:
        """Today's waiting tickets (of one service or all), oldest first."""
        day = self._now().date().isoformat()
        where, params = "day = ? AND status = 'waiting'", [day]
        if service_code is not None:
            where, params = where + " AND service_code = ?", [day, service_code]

        def op(conn: sqlite3.Connection) -> list[Ticket]:
            rows = conn.execute(
                f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE {where} ORDER BY issued_at, id",
                params,
            ).fetchall()
            return [_ticket(r) for r in rows]

        return self._run(op, write=False)

    def counters(self) -> list[CounterState]:
        """Every configured counter's state now."""
        day = self._now().date().isoformat()

        def op(conn: sqlite3.Connection) -> list[CounterState]:
            rows = conn.execute(
                f"SELECT number, name, {self._open_sql()}, priority_run, normal_run "
                "FROM counters ORDER BY number",
                {"day": day},
            ).fetchall()
            out = []
            for number, name, is_open, p_run, n_run in rows:
                cfg = self._counters.get(number)
                out.append(
                    CounterState(
                        number,
                        name,
                        cfg.services if cfg else (),
                        bool(is_open),
                        self._current(conn, number),
                        CycleState(p_run, n_run),
                        bool(cfg and cfg.token),
                    )
                )
            return out

        return self._run(op, write=False)

    def estimate(self, service_code: str, priority: bool = False) -> tuple[int, int | None]:
        """(people ahead, minutes) for a ticket of ``service_code`` issued now; minutes is None
        when no open counter serves it."""
        self._check_service(service_code)
        now = self._now()
        return self._run(
            lambda conn: self._place(conn, service_code, now, None, priority), write=False
        )

    def mean_service_s(self, service_code: str) -> float:
        """The service's current mean service time in seconds (the configured default until
        one has been measured)."""
        return self._run(lambda conn: self._mean_service_s(conn, service_code), write=False)

    def last_event_id(self) -> int:
        row = self._run(
            lambda conn: conn.execute("SELECT MAX(id) FROM events").fetchone(), write=False
        )
        return row[0] or 0

    def events_since(self, after_id: int, limit: int = 100) -> list[Event]:
        """Events with an id above ``after_id``, oldest first."""

        def op(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(
                "SELECT id, at, kind, number, counter, detail FROM events WHERE id > ? "
                "ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()

        return [
            Event(r[0], datetime.fromisoformat(r[1]), *r[2:]) for r in self._run(op, write=False)
        ]

    def recent_calls(self, limit: int = 6) -> list[Event]:
        """Today's latest calls and recalls, newest first."""
        day = self._now().date().isoformat()

        def op(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(
                "SELECT id, at, kind, number, counter, detail FROM events WHERE at >= ? AND "
                "kind IN ('called', 'recalled') ORDER BY id DESC LIMIT ?",
                (day, limit),
            ).fetchall()

        return [
            Event(r[0], datetime.fromisoformat(r[1]), *r[2:]) for r in self._run(op, write=False)
        ]

    def status(self, recent: int = 6) -> dict[str, Any]:
        """JSON-able: counters, waiting and estimates per service, recent calls."""
        now = self._now()
        counters = self.counters()
        services: dict[str, Any] = {}
        codes = sorted(
            {s for c in self.config.counters for s in c.services} | set(self.waiting_by_service())
        )
        tickets = self.waiting_tickets()
        for code in codes:
            waiting = [t for t in tickets if t.service_code == code]
            ahead, minutes = self.estimate(code)
            services[code] = {
                "waiting": len(waiting),
                "priority_waiting": sum(1 for t in waiting if t.is_priority),
                "open_counters": [c.number for c in counters if c.open and code in c.services],
                "estimated_wait_min": minutes,
                "mean_service_min": round(self.mean_service_s(code) / 60, 1),
                "longest_wait_min": round((now - waiting[0].issued_at).total_seconds() / 60, 1)
                if waiting
                else 0.0,
            }
        return {
            "time": now.isoformat(timespec="seconds"),
            "policy": {
                "mode": self.config.policy.mode.value,
                "priority_calls": self.config.policy.priority_calls,
                "normal_calls": self.config.policy.normal_calls,
                "max_wait_min": self.config.policy.max_wait_s / 60,
            },
            "counters": [c.to_dict() for c in counters],
            "services": services,
            "recent_calls": [e.to_dict() for e in self.recent_calls(recent)],
        }


# --------------------------------------------------------------------------- salvage


def _readable_tickets(
    old: sqlite3.Connection | None, path: Path, day: str
) -> tuple[list[tuple[Any, ...]], dict[tuple[str, int], int]]:
    """Today's readable ticket rows from a damaged file (``old``: read-only), and the highest
    number per series (from the rows, else from the file's bytes)."""
    rows: list[tuple[Any, ...]] = []
    floors: dict[tuple[str, int], int] = {}
    try:
        if old is not None:
            rows = old.execute(
                f"SELECT {_COPY_COLUMNS} FROM tickets NOT INDEXED WHERE day = ? ORDER BY id",
                (day,),
            ).fetchall()
    except sqlite3.Error as e:
        log.warning("no rows could be read from the damaged ticket store %s: %s", path, e)
        rows = []
    for row in rows:
        series, priority, seq = row[2], row[4], row[9]
        floors[(series, priority)] = max(floors.get((series, priority), 0), seq)
    for (series, priority), seq in _scan_numbers(path, day).items():
        floors[(series, priority)] = max(floors.get((series, priority), 0), seq)
    return rows, floors


def _scan_numbers(path: Path, day: str) -> dict[tuple[str, int], int]:
    """The highest ticket number of ``day`` per series, found in the raw bytes of the file and
    its WAL: a ticket row stores the day a few bytes before its number, and the number right
    before its issue time (hence the look-ahead for a date). A stray digit after a number can
    only make the floor higher: numbers may skip, never repeat."""
    pattern = re.compile(
        re.escape(day.encode())
        + rb".{0,60}?([A-Z]{1,3})-(U?)([0-9]{2,6}?)(?=[0-9]{4}-[0-9]{2}-[0-9]{2}T|[^0-9]|$)",
        re.DOTALL,
    )
    found: dict[tuple[str, int], int] = {}
    for suffix in ("", "-wal"):
        try:
            data = Path(f"{path}{suffix}").read_bytes()
        except OSError:
            continue
        for m in pattern.finditer(data):
            key = (m.group(1).decode(), 1 if m.group(2) else 0)
            found[key] = max(found.get(key, 0), int(m.group(3)))
    return found
