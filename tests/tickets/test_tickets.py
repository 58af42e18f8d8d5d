"""Queue tickets and counters on a real SQLite file: numbering, the calling policy, counter
actions, estimates, day change, reopening, races between threads and processes, and the bad
inputs of issue 7: no open counter, a ticket another counter already called, the file locked
or damaged."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.infra.clock import VIETNAM_TZ
from kiosk.tickets.config import QueueConfig, parse_queue_config
from kiosk.tickets.store import (
    PRIORITY_CLASSES,
    AlreadyCalled,
    CounterClosed,
    CounterError,
    NoCurrentTicket,
    NoOpenCounter,
    StoreLocked,
    StoreUnavailable,
    Ticket,
    TicketError,
    TicketStatus,
    TicketStore,
    UnknownCounter,
    UnknownPriorityClass,
    UnknownService,
    UnknownTicket,
    find_priority_class,
    format_ticket_number,
)

ROOT = Path(__file__).resolve().parents[2]
TICKET_MSG = "A queue ticket could not be issued. Please ask the staff at the counter for help."
NO_COUNTER_MSG = (
    "No counter is serving this service right now. Please ask the staff at the reception desk."
)
BUSY_MSG = "The queue system is busy. Please try again in a moment."

CONFIG_DATA: dict[str, Any] = {
    "policy": {"mode": "bounded", "priority_calls": 3, "normal_calls": 1, "max_wait_min": 30},
    "estimate": {"default_service_min": 8.0, "alpha": 0.5, "min_service_s": 20},
    "store": {"busy_timeout_s": 0.2, "lock_retries": 2},
    "counters": [
        {"number": 1, "services": ["IN"]},
        {"number": 2, "services": ["IN", "BC"]},
        {"number": 3, "services": ["BC"], "open": False},
    ],
}


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 30) -> None:
        self.now += timedelta(seconds=seconds)


def make_config(store: dict[str, Any] | None = None, **policy: Any) -> QueueConfig:
    data = json.loads(json.dumps(CONFIG_DATA))
    data["policy"].update(policy)
    data["store"].update(store or {})
    return parse_queue_config(data, "test-queue.toml", known_services=["IN", "BC", "XB"])


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 3, 8, 0, tzinfo=VIETNAM_TZ))


@pytest.fixture
def alerts() -> list[str]:
    return []


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "q" / "tickets.sqlite"


def open_store(
    path: Path,
    clock: Clock,
    alerts: list[str] | None = None,
    store: dict[str, Any] | None = None,
    **policy: Any,
) -> TicketStore:
    return TicketStore(
        path,
        clock,
        services=["IN", "BC", "XB"],
        config=make_config(store, **policy),
        alert=alerts.append if alerts is not None else None,
    )


@pytest.fixture
def store(path: Path, clock: Clock, alerts: list[str]):
    s = open_store(path, clock, alerts)
    yield s
    s.close()


def issue_many(store: TicketStore, clock: Clock, spec: str, service: str = "IN") -> list[Ticket]:
    """ "NNP" → two ordinary tickets and one priority ticket, 30 s apart."""
    out = []
    for ch in spec:
        clock.tick()
        out.append(store.issue(service, "elderly" if ch == "P" else None))
    return out


def drain(store: TicketStore, counter: int) -> list[str]:
    called = []
    while (t := store.call_next(counter)) is not None:
        called.append(t.number)
    return called


# --- numbering and the ticket ---


def test_numbering_per_service_and_kind(store: TicketStore, clock: Clock) -> None:
    numbers = []
    for service, pclass in [("IN", None), ("IN", None), ("IN", "elderly"), ("BC", None)]:
        clock.tick()
        numbers.append(store.issue(service, pclass).number)
    assert numbers == ["IN-001", "IN-002", "IN-U01", "BC-001"]
    assert format_ticket_number("IN", 1234, False) == "IN-1234"
    assert format_ticket_number("IN", 123, True) == "IN-U123"


def test_ticket_fields(store: TicketStore, clock: Clock) -> None:
    t = store.issue("IN", "pregnant")
    assert (t.number, t.people_ahead, t.issued_at, t.service_code) == ("IN-U01", 0, clock.now, "IN")
    assert t.priority_class == "pregnant" and t.priority_source == "declared" and t.is_priority
    assert t.status is TicketStatus.WAITING and t.counter is None and t.estimated_wait == 0
    chip = store.issue("IN", "elderly", from_chip=True)
    assert chip.priority_source == "chip"
    plain = store.issue("BC")
    assert plain.priority_source is None and not plain.is_priority
    assert json.loads(json.dumps(plain.to_dict()))["number"] == "BC-001"


def test_people_ahead_and_estimate_follow_the_policy(store: TicketStore, clock: Clock) -> None:
    # IN is served by counters 1 and 2 (both free): the first two called need not wait.
    first = issue_many(store, clock, "NNN")
    assert [t.people_ahead for t in first] == [0, 1, 2]
    assert [t.estimated_wait for t in first] == [0, 0, 2]  # (2 - 2 free + 0.5) x 8 min / 2
    prio = store.issue("IN", "disability")
    assert prio.people_ahead == 0  # priority first
    clock.tick()
    assert store.issue("IN").people_ahead == 4
    assert store.issue("BC").people_ahead == 0  # another queue
    assert store.estimate("IN") == (5, 14)  # a new ordinary ticket: (5 - 2 + 0.5) x 4 min
    assert store.estimate("IN", priority=True) == (1, 0)


# --- the calling policy through the store ---


def test_calls_three_priority_to_one_ordinary(store: TicketStore, clock: Clock) -> None:
    issue_many(store, clock, "NNNNN" + "PPPPP")
    assert drain(store, 1) == [
        "IN-U01",
        "IN-U02",
        "IN-U03",
        "IN-001",
        "IN-U04",
        "IN-U05",
        "IN-002",
        "IN-003",
        "IN-004",
        "IN-005",
    ]


def test_strict_and_fcfs_modes(path: Path, clock: Clock) -> None:
    with open_store(path, clock, mode="strict") as s:
        issue_many(s, clock, "NNPP")
        assert drain(s, 1) == ["IN-U01", "IN-U02", "IN-001", "IN-002"]
    with open_store(path.with_name("f.sqlite"), clock, mode="fcfs") as s:
        issue_many(s, clock, "NNPP")
        assert drain(s, 1) == ["IN-001", "IN-002", "IN-U01", "IN-U02"]


def test_nobody_waits_past_the_bound(store: TicketStore, clock: Clock) -> None:
    issue_many(store, clock, "N")
    clock.tick(20 * 60)
    issue_many(store, clock, "PPPPPP")
    # Each call takes 8 min / 2 counters = 4 min. Calling U01 now pushes IN-001 (waiting 23
    # min) to 27 min: allowed. Four minutes later, calling U02 would push it to 31: IN-001 goes.
    first = store.call_next(1)
    clock.tick(4 * 60)
    second = store.call_next(1)
    assert first is not None and first.number == "IN-U01"
    assert second is not None and second.number == "IN-001"
    events = store.events_since(0)
    assert [e.detail for e in events if e.kind == "called"] == ["priority", "deadline"]


def test_overdue_ticket_is_called_first(store: TicketStore, clock: Clock) -> None:
    issue_many(store, clock, "N")
    clock.tick(31 * 60)
    issue_many(store, clock, "PP")
    t = store.call_next(1)
    assert t is not None and t.number == "IN-001"
    assert store.events_since(0)[-1].detail == "overdue"


def test_counter_calls_only_its_services(store: TicketStore, clock: Clock) -> None:
    store.issue("BC")
    assert store.call_next(1) is None  # counter 1 serves IN only
    store.issue("IN")
    t = store.call_next(2, services=["IN"])
    assert t is not None and t.number == "IN-001"
    assert store.call_next(2, services=["IN"]) is None
    t = store.call_next(2)
    assert t is not None and t.number == "BC-001" and t.counter == 2 and t.counter_name == "Quầy 2"


def test_call_next_completes_the_current_ticket(store: TicketStore, clock: Clock) -> None:
    issue_many(store, clock, "NN")
    first = store.call_next(1)
    clock.tick(300)
    store.call_next(1)
    assert first is not None
    done = store.find(first.number)
    assert done is not None and done.status is TicketStatus.DONE and done.finished_at == clock.now
    assert store.mean_service_s("IN") == pytest.approx(0.5 * 480 + 0.5 * 300)


# --- counter actions ---


def test_recall_skip_and_call_back_a_no_show(store: TicketStore, clock: Clock) -> None:
    issue_many(store, clock, "NN")
    t = store.call_next(1)
    assert t is not None
    assert store.recall(1).recalls == 1
    assert store.recall(1).recalls == 2
    skipped = store.skip(1)
    assert skipped.status is TicketStatus.NO_SHOW and skipped.number == t.number
    with pytest.raises(NoCurrentTicket):
        store.recall(1)
    back = store.call(1, t.number.lower())  # the citizen came back
    assert back.status is TicketStatus.CALLED and back.counter == 1
    kinds = [e.kind for e in store.events_since(0)]
    assert kinds == ["called", "recalled", "recalled", "skipped", "called"]
    assert store.mean_service_s("IN") == 480.0  # a no-show is not a service time


def test_complete_measures_only_plausible_service_times(store: TicketStore, clock: Clock) -> None:
    issue_many(store, clock, "NNN")
    store.call_next(1)
    clock.tick(5)  # a mis-tap: under min_service_s
    store.complete(1)
    assert store.mean_service_s("IN") == 480.0
    store.call_next(1)
    clock.tick(600)
    done = store.complete(1)
    assert done.status is TicketStatus.DONE
    assert store.mean_service_s("IN") == pytest.approx(540.0)
    with pytest.raises(NoCurrentTicket):
        store.complete(1)


def test_transfer_keeps_number_and_place(store: TicketStore, clock: Clock) -> None:
    early = store.issue("IN")
    issue_many(store, clock, "N", service="BC")
    t = store.call_next(1)
    assert t is not None and t.number == early.number
    moved = store.transfer(1, "BC")
    assert moved.number == "IN-001" and moved.service_code == "BC"
    assert moved.status is TicketStatus.WAITING and moved.people_ahead == 0
    assert store.waiting_by_service() == {"BC": 2}
    t = store.call_next(2, services=["BC"])
    assert t is not None and t.number == "IN-001"  # issued first, called first
    assert store.events_since(0)[1].detail == "IN>BC"


def test_transfer_to_a_service_with_no_open_counter(store: TicketStore, clock: Clock) -> None:
    store.issue("IN")
    store.call_next(1)
    with pytest.raises(NoOpenCounter):
        store.transfer(1, "XB")  # offered, but no counter serves it
    with pytest.raises(UnknownService):
        store.transfer(1, "ZZ")
    with pytest.raises(CounterError, match="already in service IN"):
        store.transfer(1, "IN")
    current = store.counters()[0].current
    assert current is not None and current.number == "IN-001"  # still at counter 1


def test_staff_confirm_or_downgrade_a_declared_priority(store: TicketStore, clock: Clock) -> None:
    issue_many(store, clock, "PPN")
    store.call_next(1)
    confirmed = store.confirm_priority(1, "Nguyễn Thị Lan")
    assert confirmed.priority_check == "confirmed"
    assert confirmed.priority_checked_by == "Nguyễn Thị Lan"
    store.call_next(1)
    down = store.confirm_priority(1, "cb-0042", confirmed=False)
    assert down.priority_check == "downgraded" and down.priority_class == "elderly"
    # Sent on to another service, a downgraded ticket queues as an ordinary one.
    store.transfer(1, "BC")
    store.issue("BC", "merit")
    t = store.call_next(2, services=["BC"])
    assert t is not None and t.number == "BC-U01"
    kinds = [e.kind for e in store.events_since(0)]
    assert "confirmed" in kinds and "downgraded" in kinds
    store.call_next(1)  # IN-001
    with pytest.raises(CounterError, match="not a priority ticket"):
        store.confirm_priority(1, "cb-0042")
    with pytest.raises(CounterError, match="staff"):
        store.confirm_priority(1, " ")


def test_counter_open_close_holds_for_the_day(store: TicketStore, clock: Clock) -> None:
    store.issue("BC")
    with pytest.raises(CounterClosed):
        store.call_next(3)  # closed by default
    assert store.set_counter_open(3, True).open
    t = store.call_next(3)
    assert t is not None and t.number == "BC-001"
    store.set_counter_open(1, False)
    assert [c.open for c in store.counters()] == [False, True, True]
    clock.now += timedelta(days=1)
    assert [c.open for c in store.counters()] == [True, True, False]  # the configured default


# --- bad input: a clear message, and nothing issued or lost ---


def test_no_open_counter_no_ticket(store: TicketStore, clock: Clock) -> None:
    store.set_counter_open(2, False)  # BC: counter 2 closed, counter 3 closed by default
    with pytest.raises(NoOpenCounter) as e:
        store.issue("BC")
    assert e.value.user_message() == NO_COUNTER_MSG
    assert isinstance(e.value, TicketError)
    assert store.waiting_by_service() == {}
    with pytest.raises(NoOpenCounter):
        store.issue("XB")  # offered by the catalog, served by no counter
    assert store.issue("IN").number == "IN-001"  # counter 1 is open
    store.set_counter_open(3, True)
    assert store.issue("BC").number == "BC-001"  # no number was used up
    assert store.status()["services"]["BC"]["open_counters"] == [3]


def test_a_ticket_another_counter_called(store: TicketStore, clock: Clock) -> None:
    issue_many(store, clock, "NN")
    t = store.call_next(1)
    assert t is not None
    with pytest.raises(AlreadyCalled) as e:
        store.call(2, t.number)
    assert "already called to counter 1" in str(e.value)
    assert e.value.user_message() == "This number has already been called to another counter."
    with pytest.raises(AlreadyCalled, match="already at this counter"):
        store.call(1, t.number)
    current = store.counters()[0].current
    assert current is not None and current.number == t.number  # counter 1 keeps it
    assert store.counters()[1].current is None
    store.complete(1)
    with pytest.raises(UnknownTicket, match="finished"):
        store.call(2, t.number)
    with pytest.raises(UnknownTicket, match="no ticket IN-099"):
        store.call(2, "IN-099")
    store.issue("BC")
    with pytest.raises(CounterError, match="does not serve BC"):
        store.call(1, "BC-001")


@pytest.mark.parametrize("counter", [0, 9, "x", "", None, True, 1.5])
def test_bad_counter_calls_nobody(store: TicketStore, counter: object) -> None:
    store.issue("IN")
    with pytest.raises(CounterError, match="counter"):
        store.call_next(counter)  # type: ignore[arg-type]
    assert store.waiting("IN") == 1


def test_unknown_counter_names_the_known_ones(store: TicketStore) -> None:
    with pytest.raises(UnknownCounter, match=r"counter 9 is not configured \(counters: 1, 2, 3\)"):
        store.recall("9")


@pytest.mark.parametrize("pclass", ["vip", "Elderly", ""])
def test_unknown_priority_class(store: TicketStore, pclass: str) -> None:
    with pytest.raises(UnknownPriorityClass) as e:
        store.issue("IN", pclass)
    assert e.value.user_message() == TICKET_MSG
    assert "elderly" in str(e.value)
    assert store.waiting_by_service() == {}


@pytest.mark.parametrize("service", ["in", "", "INFO", "I-N", 7])
def test_bad_service_code(store: TicketStore, service: object) -> None:
    with pytest.raises(UnknownService) as e:
        store.issue(service)  # type: ignore[arg-type]
    assert e.value.user_message() == TICKET_MSG
    assert store.waiting_by_service() == {}


def test_service_not_offered(store: TicketStore) -> None:
    with pytest.raises(UnknownService, match=r"'ZB' is not offered here \(known: BC, IN, XB\)"):
        store.issue("ZB")


def test_counter_config_must_match_the_catalog(path: Path, clock: Clock) -> None:
    with pytest.raises(TicketError, match="counter 2 serves BC, not a service of the catalog"):
        TicketStore(path, clock, services=["IN"], config=make_config())


def test_unusable_file(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable) as e:
        TicketStore(tmp_path, config=make_config())  # a folder, not a file
    assert e.value.user_message() == TICKET_MSG


def test_store_locked_by_another_process(path: Path, clock: Clock) -> None:
    with open_store(path, clock) as s:
        s.issue("IN")
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another process's long write
        started = time.monotonic()
        with pytest.raises(StoreLocked) as e:
            s.issue("IN")
        waited = time.monotonic() - started
        assert 0.6 <= waited < 5  # three tries of 0.2 s
        assert e.value.user_message() == BUSY_MSG
        assert "locked by another process" in str(e.value)
        assert s.waiting("IN") == 1  # reads still work; nothing half-written
        # Released while the store is still retrying: the ticket is issued.
        timer = threading.Timer(0.3, holder.execute, ["COMMIT"])
        timer.start()
        assert s.issue("IN").number == "IN-002"
        timer.join()
        holder.close()


def test_damaged_file_is_moved_aside_and_numbering_continues(
    path: Path, clock: Clock, alerts: list[str]
) -> None:
    with open_store(path, clock) as s:
        issue_many(s, clock, "NNNP")
    with path.open("r+b") as fh:
        fh.write(b"this is not a database any more!" * 4)  # the header is gone
    with open_store(path, clock, alerts) as s:
        assert len(alerts) == 1 and "was damaged" in alerts[0]
        assert "numbering continues after: IN-003, IN-U01" in alerts[0]
        aside = list(path.parent.glob("tickets.corrupt-*.sqlite"))  # kiosk/infra/sqlite_store.py
        assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
        assert "not a database" in Path(f"{aside[0]}.reason").read_text(encoding="utf-8")
        assert s.issue("IN").number == "IN-004"  # never a number handed out twice
        assert s.issue("IN", "merit").number == "IN-U02"
        assert [c.number for c in s.counters()] == [1, 2, 3]
    with open_store(path, clock, alerts) as s:
        assert len(alerts) == 1  # the fresh store is healthy
        assert s.waiting("IN") == 2


def test_another_process_follows_the_fresh_store(
    path: Path, clock: Clock, alerts: list[str]
) -> None:
    other = open_store(path, clock)  # e.g. the board's process, with the file open
    issue_many(other, clock, "NN")
    checkpoint = sqlite3.connect(path)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    checkpoint.close()
    with path.open("r+b") as fh:
        fh.write(b"this is not a database any more!" * 4)
    with open_store(path, clock, alerts) as kiosk:  # finds it damaged, replaces it
        assert len(alerts) == 1 and "IN-002" in alerts[0]
        assert other.issue("IN").number == "IN-003"  # reconnected to the fresh store
        assert kiosk.issue("IN").number == "IN-004"
        assert kiosk.waiting("IN") == other.waiting("IN") == 2
    other.close()


def test_damaged_index_keeps_todays_tickets(path: Path, clock: Clock, alerts: list[str]) -> None:
    with open_store(path, clock) as s:
        issue_many(s, clock, "NNP")
        s.call_next(1)
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'tickets_waiting'"
        ).fetchone()
    conn.close()
    with path.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(bytes([0x0D]) + b"\xff" * (page_size - 1))
    with open_store(path, clock, alerts) as s:
        assert len(alerts) == 1 and "3 of today's tickets recovered" in alerts[0]
        assert s.waiting("IN") == 2  # the two still waiting are still waiting
        assert drain(s, 1) == ["IN-001", "IN-002"]
        assert s.issue("IN").number == "IN-003"


# --- day change, reopening, old files ---


def test_numbering_restarts_each_day_and_old_tickets_stop_waiting(
    store: TicketStore, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 3, 16, 59, tzinfo=VIETNAM_TZ)
    assert store.issue("IN").number == "IN-001"
    assert store.issue("IN", "elderly").number == "IN-U01"
    clock.now = datetime(2026, 3, 4, 7, 30, tzinfo=VIETNAM_TZ)
    assert store.waiting("IN") == 0
    assert store.call_next(1) is None  # yesterday's tickets are not called
    t = store.issue("IN")
    assert t.number == "IN-001" and t.people_ahead == 0
    assert store.issue("IN", "merit").number == "IN-U01"


def test_the_day_is_vietnams(store: TicketStore, clock: Clock) -> None:
    clock.now = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)  # 23:00 in Hà Nội on 3/3
    assert store.issue("IN").number == "IN-001"
    clock.now = datetime(2026, 3, 3, 17, 30, tzinfo=UTC)  # 00:30 on 4/3 in Hà Nội
    assert store.issue("IN").number == "IN-001"


def test_survives_reopening(path: Path, clock: Clock) -> None:
    with open_store(path, clock) as s:
        issue_many(s, clock, "NNNNPPPP")
        s.call_next(1)  # U01
        s.call_next(1)  # U02: the counter is two calls into its 3:1 cycle
        s.set_counter_open(3, True)
        clock.tick(400)
        s.complete(1)
    with open_store(path, clock) as s:
        assert s.waiting("IN") == 6
        assert s.counters()[2].open
        assert s.mean_service_s("IN") == pytest.approx(0.5 * 480 + 0.5 * 400)
        assert s.issue("IN").number == "IN-005"
        assert drain(s, 1)[:3] == ["IN-U03", "IN-001", "IN-U04"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_first_version_file_is_migrated(path: Path, clock: Clock) -> None:
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, day TEXT NOT NULL,
                service_code TEXT NOT NULL, priority INTEGER NOT NULL, priority_class TEXT,
                seq INTEGER NOT NULL, number TEXT NOT NULL, issued_at TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'waiting', counter TEXT, called_at TEXT,
                UNIQUE (day, service_code, priority, seq));
            CREATE INDEX tickets_waiting ON tickets(day, status, priority, id);
            """
        )
        day, at = "2026-03-03", "2026-03-03T07:45:00+07:00"
        conn.executemany(
            "INSERT INTO tickets (day, service_code, priority, priority_class, seq, number, "
            "issued_at, status, counter) VALUES (?, 'IN', ?, ?, ?, ?, ?, ?, ?)",
            [
                (day, 0, None, 1, "IN-001", at, "called", "Quầy 1"),
                (day, 0, None, 2, "IN-002", at, "waiting", None),
                (day, 1, "elderly", 1, "IN-U01", at, "waiting", None),
            ],
        )
    conn.close()
    with open_store(path, clock) as s:
        assert s.waiting("IN") == 2
        assert s.issue("IN").number == "IN-003"
        assert drain(s, 1) == ["IN-U01", "IN-002", "IN-003"]
        old = s.find("IN-001")
        assert old is not None and old.counter_name == "Quầy 1" and old.counter is None


# --- concurrency: one claim per ticket ---


def test_two_stores_on_one_file_with_8_threads(path: Path, clock: Clock) -> None:
    stores = [open_store(path, clock), open_store(path, clock)]
    numbers: list[str] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        for _ in range(5):
            n = stores[i % 2].issue("IN", "elderly" if i == 0 else None).number
            with lock:
                numbers.append(n)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for s in stores:
        s.close()
    assert len(numbers) == 40 and len(set(numbers)) == 40
    assert sorted(n for n in numbers if "-U" in n) == [f"IN-U{i:02d}" for i in range(1, 6)]
    assert sorted(n for n in numbers if "-U" not in n) == [f"IN-{i:03d}" for i in range(1, 36)]


def test_two_counters_racing_in_threads_never_share_a_ticket(path: Path, clock: Clock) -> None:
    with open_store(path, clock) as s:
        issued = {t.number for t in issue_many(s, clock, "NNNP" * 15)}
    stores = [open_store(path, clock, store={"lock_retries": 20}) for _ in range(2)]
    got: dict[int, list[str]] = {1: [], 2: []}
    barrier = threading.Barrier(4)

    def work(counter: int, store: TicketStore) -> None:
        barrier.wait()
        while (t := store.call_next(counter)) is not None:
            got[counter].append(t.number)

    # Two threads per counter, each counter through its own store (connection).
    threads = [
        threading.Thread(target=work, args=(c, stores[i % 2])) for i, c in enumerate((1, 2, 1, 2))
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    called = got[1] + got[2]
    assert sorted(called) == sorted(issued)  # every ticket called exactly once
    with open_store(path, clock) as s:
        calls = [e for e in s.events_since(0, limit=1000) if e.kind == "called"]
        assert len(calls) == 60 and len({e.number for e in calls}) == 60
    for store in stores:
        store.close()


_RACER = """
import json, sys, time
from datetime import datetime
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from kiosk.tickets.config import parse_queue_config
from kiosk.tickets.store import TicketStore
now = datetime.fromisoformat(sys.argv[4])
cfg = parse_queue_config(json.loads(sys.argv[5]))
store = TicketStore(Path(sys.argv[2]), lambda: now, config=cfg)
Path(sys.argv[2]).with_name("ready-" + sys.argv[3]).touch()
go = Path(sys.argv[2]).with_name("go")
while not go.exists():
    time.sleep(0.0005)
got = []
while (t := store.call_next(int(sys.argv[3]))) is not None:
    got.append(t.number)
print(json.dumps(got))
"""


def test_two_counters_racing_in_two_processes(path: Path, clock: Clock) -> None:
    with open_store(path, clock) as s:
        issued = {t.number for t in issue_many(s, clock, "NNP" * 50)}
    data = json.loads(json.dumps(CONFIG_DATA))
    data["store"]["lock_retries"] = 20
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _RACER,
                str(ROOT),
                str(path),
                str(counter),
                clock.now.isoformat(),
                json.dumps(data),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for counter in (1, 2)
    ]
    deadline = time.monotonic() + 30
    while not all(path.with_name(f"ready-{c}").exists() for c in (1, 2)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.01)
    path.with_name("go").touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    called = results[0] + results[1]
    assert sorted(called) == sorted(issued) and len(called) == 150  # each called exactly once
    # (which counter gets how many depends on the scheduler: on a loaded machine one process
    # may take them all before the other starts, so that is not asserted)


# --- reading ---


def test_status_and_waiting_tickets(store: TicketStore, clock: Clock) -> None:
    issue_many(store, clock, "NP")
    store.issue("BC")
    store.call_next(1)
    status = json.loads(json.dumps(store.status()))
    assert status["policy"] == {
        "mode": "bounded",
        "priority_calls": 3,
        "normal_calls": 1,
        "max_wait_min": 30.0,
    }
    assert status["counters"][0]["current"]["number"] == "IN-U01"
    assert status["counters"][2]["open"] is False
    assert status["services"]["IN"]["waiting"] == 1
    assert status["services"]["IN"]["open_counters"] == [1, 2]
    assert status["services"]["BC"]["estimated_wait_min"] == 4  # after BC-001, 8 min / 2
    assert status["recent_calls"][0]["number"] == "IN-U01"
    assert [t.number for t in store.waiting_tickets()] == ["IN-001", "BC-001"]
    assert [t.number for t in store.waiting_tickets("BC")] == ["BC-001"]
    assert store.find("in-u01") is not None and store.find("IN-777") is None


# --- priority classes ---


def test_priority_classes_are_data_with_labels() -> None:
    assert [p.code for p in PRIORITY_CLASSES] == [
        "elderly",
        "pregnant",
        "disability",
        "child_under_6",
        "merit",
    ]
    assert find_priority_class("elderly").label("vi") == "Người cao tuổi"
    assert find_priority_class("merit").label("vi") == "Người có công với cách mạng"
    assert find_priority_class("child_under_6").label("en") == "Person with a child under 6"
    for p in PRIORITY_CLASSES:
        assert unicodedata.is_normalized("NFC", p.label_vi) and p.label_en
    with pytest.raises(UnknownPriorityClass):
        find_priority_class("vip")
