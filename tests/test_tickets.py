"""Queue tickets on a real SQLite file: numbering, priority, day change, reopening, bad input."""

from __future__ import annotations

import sqlite3
import threading
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.tickets import (
    PRIORITY_CLASSES,
    Ticket,
    TicketError,
    TicketStore,
    UnknownPriorityClass,
    UnknownService,
    find_priority_class,
    format_ticket_number,
)
from kiosk.workdays import VIETNAM_TZ

TICKET_MSG = "A queue ticket could not be issued. Please ask the staff at the counter for help."


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 3, 8, 0, tzinfo=VIETNAM_TZ))


@pytest.fixture
def store(tmp_path: Path, clock: Clock):
    s = TicketStore(tmp_path / "q" / "tickets.sqlite3", clock)
    yield s
    s.close()


def tick(clock: Clock) -> None:
    clock.now += timedelta(seconds=30)


def test_numbering_per_service_and_kind(store: TicketStore, clock: Clock) -> None:
    numbers = []
    for service, pclass in [("IN", None), ("IN", None), ("IN", "elderly"), ("BC", None)]:
        tick(clock)
        numbers.append(store.issue(service, pclass).number)
    assert numbers == ["IN-001", "IN-002", "IN-U01", "BC-001"]
    assert format_ticket_number("IN", 1234, False) == "IN-1234"
    assert format_ticket_number("IN", 123, True) == "IN-U123"


def test_ticket_fields(store: TicketStore, clock: Clock) -> None:
    t = store.issue("IN", "pregnant")
    assert t == Ticket("IN-U01", 0, clock.now, "IN", "pregnant")
    assert t.is_priority and t.counter is None


def test_people_ahead_follows_the_calling_policy(store: TicketStore, clock: Clock) -> None:
    assert store.issue("IN").people_ahead == 0
    assert store.issue("IN").people_ahead == 1
    assert store.issue("IN", "disability").people_ahead == 0  # served before ordinary tickets
    assert store.issue("IN", "merit").people_ahead == 1
    assert store.issue("IN").people_ahead == 4
    assert store.issue("BC").people_ahead == 0  # other service, other queue
    store.call_next("Quầy 1", ["IN"])
    assert store.issue("IN", "elderly").people_ahead == 1


def test_call_next_priority_first_then_fifo(store: TicketStore, clock: Clock) -> None:
    for pclass in [None, None, "elderly", None, "child_under_6"]:
        tick(clock)
        store.issue("IN", pclass)
    clock.now = datetime(2026, 3, 3, 9, 0, tzinfo=VIETNAM_TZ)
    called = [store.call_next("Quầy 1") for _ in range(5)]
    assert [t.number for t in called if t] == ["IN-U01", "IN-U02", "IN-001", "IN-002", "IN-003"]
    first = called[0]
    assert first is not None and first.counter == "Quầy 1" and first.called_at == clock.now
    assert first.priority_class == "elderly" and first.people_ahead == 0
    assert store.call_next("Quầy 1") is None
    assert store.waiting("IN") == 0


def test_call_next_for_some_services(store: TicketStore) -> None:
    store.issue("IN")
    store.issue("BC")
    store.issue("BC", "merit")
    t = store.call_next("2", services=["IN"])
    assert t is not None and t.number == "IN-001"
    assert store.call_next("2", services=["IN"]) is None
    assert store.call_next("2", services=[]) is None
    assert store.waiting_by_service() == {"BC": 2}
    t = store.call_next("3")
    assert t is not None and t.number == "BC-U01"


def test_waiting_counts(store: TicketStore) -> None:
    assert store.waiting("IN") == 0
    store.issue("IN")
    store.issue("IN", "elderly")
    store.issue("BC")
    assert store.waiting("IN") == 2 and store.waiting("BC") == 1
    assert store.waiting_by_service() == {"IN": 2, "BC": 1}


def test_numbering_restarts_each_day_and_old_tickets_stop_waiting(
    store: TicketStore, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 3, 16, 59, tzinfo=VIETNAM_TZ)
    assert store.issue("IN").number == "IN-001"
    assert store.issue("IN", "elderly").number == "IN-U01"
    assert store.issue("IN").number == "IN-002"
    clock.now = datetime(2026, 3, 4, 7, 30, tzinfo=VIETNAM_TZ)
    assert store.waiting("IN") == 0
    assert store.call_next("1") is None  # yesterday's tickets are not called
    t = store.issue("IN")
    assert t.number == "IN-001" and t.people_ahead == 0
    assert store.issue("IN", "merit").number == "IN-U01"


def test_the_day_is_vietnams(store: TicketStore, clock: Clock) -> None:
    clock.now = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)  # 23:00 in Hà Nội on 3/3
    assert store.issue("IN").number == "IN-001"
    clock.now = datetime(2026, 3, 3, 17, 30, tzinfo=UTC)  # 00:30 on 4/3 in Hà Nội
    assert store.issue("IN").number == "IN-001"


def test_survives_reopening(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "tickets.sqlite3"
    with TicketStore(path, clock) as s:
        s.issue("IN")
        s.issue("IN", "elderly")
        s.call_next("1")
    with TicketStore(path, clock) as s:
        assert s.waiting("IN") == 1
        assert s.issue("IN").number == "IN-002"
        assert s.issue("IN", "pregnant").number == "IN-U02"
        t = s.call_next("1")
        assert t is not None and t.number == "IN-U02"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_two_stores_on_one_file_with_8_threads(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "tickets.sqlite3"
    stores = [TicketStore(path, clock), TicketStore(path, clock)]
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


# --- bad input: a message, and nothing issued ---


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
    assert isinstance(e.value, TicketError)
    assert e.value.user_message() == TICKET_MSG
    assert store.waiting_by_service() == {}


def test_service_not_offered(tmp_path: Path, clock: Clock) -> None:
    with TicketStore(tmp_path / "t.sqlite3", clock, services=["IN", "BC"]) as s:
        with pytest.raises(UnknownService, match=r"'XB' is not offered here \(known: BC, IN\)"):
            s.issue("XB")
        assert s.issue("BC").number == "BC-001"
        assert s.waiting_by_service() == {"BC": 1}


@pytest.mark.parametrize("counter", ["", " 1", "x" * 40, None])
def test_bad_counter_calls_nobody(store: TicketStore, counter: object) -> None:
    store.issue("IN")
    with pytest.raises(TicketError, match="counter"):
        store.call_next(counter)  # type: ignore[arg-type]
    assert store.waiting("IN") == 1


def test_unusable_file(tmp_path: Path) -> None:
    with pytest.raises(TicketError) as e:
        TicketStore(tmp_path)  # a folder, not a file
    assert e.value.user_message() == TICKET_MSG
