"""kiosk/infra/sqlite_store.py on real SQLite files in tmp_path: the pragmas and a connection per
thread, write transactions that serialise threads and processes, the lock retry budget and the
caller's errors, and the one quarantine policy (moved aside with a reason, nothing deleted, a
fresh file salvaged into place, staff told, other users following it)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.errors import KioskError
from kiosk.infra.clock import VIETNAM_TZ
from kiosk.infra.sqlite_store import (
    SqliteStore,
    StoreLocked,
    StoreUnavailable,
    is_corruption,
    is_lock,
    transaction,
)

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=VIETNAM_TZ)
TARGET = "box.corrupt-20260303-090000.sqlite"


class BoxError(KioskError):
    """The caller's own "unavailable" error."""


class BoxLocked(BoxError):
    """The caller's own "locked" error."""


def _prepare(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "value INTEGER NOT NULL)"
    )
    conn.execute("INSERT OR IGNORE INTO counter VALUES (1, 0)")


def _salvage(old: sqlite3.Connection | None, old_path: Path, fresh: sqlite3.Connection) -> str:
    try:
        rows = [] if old is None else old.execute("SELECT name FROM item NOT INDEXED").fetchall()
    except sqlite3.Error:
        rows = []
    rows = [r for r in rows if r[0] != "bad"]
    with transaction(fresh) as conn:
        conn.executemany("INSERT OR IGNORE INTO item (name) VALUES (?)", rows)
    return f"{len(rows)} item(s) recovered"


def _flagged(conn: sqlite3.Connection) -> str | None:
    """The caller's own check: a file holding an item named 'bad' is damaged."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'item'").fetchone():
        return None
    bad = conn.execute("SELECT count(*) FROM item WHERE name = 'bad'").fetchone()[0]
    return "an item is marked bad" if bad else None


def open_store(path: Path, alerts: list[str] | None = None, **kw: Any) -> SqliteStore:
    store = SqliteStore(
        path,
        label="test box",
        prepare=_prepare,
        salvage=_salvage,
        alert=alerts.append if alerts is not None else None,
        clock=lambda: NOW,
        unavailable=BoxError,
        locked=BoxLocked,
        **kw,
    )
    store.open()
    return store


def add(store: SqliteStore, *items: str) -> None:
    store.write(
        lambda c: c.executemany("INSERT INTO item (name) VALUES (?)", [(n,) for n in items])
    )


def names(store: SqliteStore) -> list[str]:
    return [r[0] for r in store.query("SELECT name FROM item ORDER BY id")]


def _leave_wal(path: Path, *items: str) -> None:
    """Write ``items`` in a process that dies without closing: its -wal and -shm stay."""
    script = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA journal_mode=WAL')\n"
        "c.execute('CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
        "UNIQUE)')\n"
        "for n in sys.argv[2:]: c.execute('INSERT INTO item (name) VALUES (?)', (n,))\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path), *items], check=True, timeout=60)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".quarantine", ".new")))


# --- opening, pragmas, connections -------------------------------------------------------------


def test_connections_are_wal_synchronous_full_and_one_per_thread(tmp_path: Path) -> None:
    store = open_store(tmp_path / "sub" / "box.sqlite")  # the folder is created
    assert store.query("PRAGMA journal_mode") == [("wal",)]
    assert store.query("PRAGMA synchronous") == [(2,)]  # FULL
    mine = store.read(lambda c: c)
    assert store.read(lambda c: c) is mine  # one connection per thread, kept
    seen: list[sqlite3.Connection] = []
    worker = threading.Thread(target=lambda: seen.append(store.read(lambda c: c)))
    worker.start()
    worker.join()
    assert seen[0] is not mine
    # The finished thread's connection is closed when another thread opens one.
    late = threading.Thread(target=lambda: store.read(lambda c: c))
    late.start()
    late.join()
    with pytest.raises(sqlite3.ProgrammingError):
        seen[0].execute("SELECT 1")
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        mine.execute("SELECT 1")
    assert names(store) == []  # the next use reconnects
    store.close()


def test_a_folder_in_place_of_the_file_is_the_callers_unavailable_error(tmp_path: Path) -> None:
    with pytest.raises(BoxError, match="it is a folder"):
        open_store(tmp_path)
    plain = SqliteStore(tmp_path, label="plain")
    with pytest.raises(StoreUnavailable):  # the defaults, for a caller without its own errors
        plain.open()


def test_a_check_that_refuses_the_file_leaves_it_exactly_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "box.sqlite"
    store = open_store(path)
    add(store, "a")
    store.close()
    before = path.read_bytes()

    def newer(conn: sqlite3.Connection) -> str | None:
        raise BoxError("written by a newer version")

    with pytest.raises(BoxError, match="newer version"):
        open_store(path, check=newer)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*corrupt*")) and _leftovers(tmp_path) == []


# --- transactions: serialised, retried, mapped -------------------------------------------------


def test_concurrent_writers_from_threads_of_two_stores_serialise(tmp_path: Path) -> None:
    """Read-modify-write from 8 threads over two store objects (two processes' worth): no
    update is lost and no two write transactions overlap."""
    path = tmp_path / "box.sqlite"
    stores = [open_store(path, busy_timeout_s=5.0, lock_retries=3) for _ in range(2)]
    spans: list[tuple[float, float]] = []
    spans_lock = threading.Lock()

    def increment(conn: sqlite3.Connection) -> None:
        start = time.monotonic()
        (value,) = conn.execute("SELECT value FROM counter").fetchone()
        time.sleep(0.001)  # another writer would slip in here without the lock
        conn.execute("UPDATE counter SET value = ?", (value + 1,))
        with spans_lock:
            spans.append((start, time.monotonic()))

    def work(store: SqliteStore) -> None:
        for _ in range(25):
            store.write(increment)

    threads = [threading.Thread(target=work, args=(stores[i % 2],)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert stores[0].query("SELECT value FROM counter") == [(200,)]
    spans.sort()
    assert all(end <= nxt for (_, end), (nxt, _) in zip(spans, spans[1:], strict=False))
    for store in stores:
        store.close()


def test_a_locked_database_raises_the_locked_error_after_the_retry_budget(
    tmp_path: Path,
) -> None:
    path = tmp_path / "box.sqlite"
    store = open_store(path, busy_timeout_s=0.1, lock_retries=2)
    add(store, "a")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process's long write
    started = time.monotonic()
    with pytest.raises(BoxLocked) as caught:
        store.write(lambda c: c.execute("INSERT INTO item (name) VALUES ('b')"), doing="adding b")
    waited = time.monotonic() - started
    assert 0.3 <= waited < 5  # three tries of 0.1 s (and short sleeps between)
    assert "adding b: locked by another process (waited 3 x 0.1 s)" in str(caught.value)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert names(store) == ["a"]  # reads still work; nothing half-written
    # Released while the store is still retrying: the write goes through.
    timer = threading.Timer(0.15, holder.execute, ["COMMIT"])
    timer.start()
    add(store, "b")
    timer.join()
    assert names(store) == ["a", "b"]
    holder.close()
    store.close()


def test_errors_keep_their_types_and_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path / "box.sqlite")
    add(store, "a")

    def half_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO item (name) VALUES ('half')")
        raise ValueError("the caller's own error")

    with pytest.raises(ValueError, match="the caller's own error"):
        store.write(half_then_fail)
    with pytest.raises(BoxError, match=r"adding a again: UNIQUE constraint failed") as caught:
        store.write(
            lambda c: c.execute("INSERT INTO item (name) VALUES ('a')"), doing="adding a again"
        )
    assert type(caught.value) is BoxError
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
    assert names(store) == ["a"]
    add(store, "c")  # the store goes on
    assert names(store) == ["a", "c"]
    store.close()


def test_lock_and_corruption_are_told_apart() -> None:
    assert is_lock(sqlite3.OperationalError("database is locked"))
    assert not is_lock(sqlite3.OperationalError("disk I/O error"))
    assert is_corruption(sqlite3.DatabaseError("database disk image is malformed"))
    assert is_corruption(sqlite3.DatabaseError("file is not a database"))
    assert not is_corruption(sqlite3.OperationalError("database is locked"))
    assert issubclass(StoreLocked, StoreUnavailable)


# --- quarantine --------------------------------------------------------------------------------


def test_a_corrupted_file_is_quarantined_and_a_fresh_one_opened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "box.sqlite"
    garbage = b"this is not an SQLite database at all" * 200
    path.write_bytes(garbage)
    alerts: list[str] = []
    store = open_store(path, alerts)
    target = tmp_path / TARGET
    assert store.quarantined == target and target.read_bytes() == garbage  # nothing deleted
    assert len(alerts) == 1
    assert f"test box {path} was damaged (not a readable test box database" in alerts[0]
    assert f"moved aside to {TARGET}; a fresh test box took over; 0 item(s)" in alerts[0]
    reason = Path(f"{target}.reason").read_text(encoding="utf-8")
    assert reason.startswith("2026-03-03T09:00:00+07:00 test box") and "not a database" in reason
    assert store.quarantined_files() == [TARGET]
    assert _leftovers(tmp_path) == []
    add(store, "a")  # a fresh, working store
    assert names(store) == ["a"]
    store.close()
    again: list[str] = []
    store = open_store(path, again)
    assert again == [] and store.quarantined is None and names(store) == ["a"]
    store.close()
    # Without an alert callback, the line goes to the log.
    path.write_bytes(garbage)
    with caplog.at_level("ERROR", logger="kiosk.infra.sqlite_store"):
        open_store(path).close()
    assert "was damaged" in caplog.text
    assert store.quarantined_files() == sorted([TARGET, "box.corrupt-20260303-090000-2.sqlite"])


def test_the_wal_and_shm_go_aside_with_the_file_and_what_reads_is_salvaged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "box.sqlite"
    _leave_wal(path, "a", "bad", "b")  # "bad" makes the caller's check call it damaged
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    assert wal.exists() and shm.exists()
    originals = {s: Path(f"{path}{s}").read_bytes() for s in ("", "-wal")}
    alerts: list[str] = []
    store = open_store(path, alerts, check=_flagged)
    target = tmp_path / TARGET
    for suffix, content in originals.items():
        assert Path(f"{target}{suffix}").read_bytes() == content
    assert Path(f"{target}-shm").exists()  # the WAL's index (no data: SQLite may rebuild it)
    assert "(an item is marked bad)" in alerts[0] and "2 item(s) recovered" in alerts[0]
    assert names(store) == ["a", "b"]
    store.close()


def test_a_wal_without_its_database_is_moved_aside_not_replayed(tmp_path: Path) -> None:
    path = tmp_path / "box.sqlite"
    _leave_wal(path, "lost")
    Path(f"{path}-shm").unlink()
    kept = tmp_path / "elsewhere.sqlite"
    path.rename(kept)  # the database went missing; its WAL stayed
    wal = Path(f"{path}-wal").read_bytes()
    alerts: list[str] = []
    store = open_store(path, alerts)
    assert Path(f"{tmp_path / TARGET}-wal").read_bytes() == wal
    assert "a write-ahead log without its database" in alerts[0]
    assert names(store) == []
    store.close()


def test_a_quarantine_cut_short_by_a_power_cut_is_completed_at_the_next_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "box.sqlite"
    garbage = b"\x00garbage" * 100
    path.write_bytes(garbage)
    target = tmp_path / "box.corrupt-20260302-170000.sqlite"
    Path(f"{path}.quarantine").write_text(f"{target}\n")  # written, then the power went
    alerts: list[str] = []
    store = open_store(path, alerts)
    assert store.quarantined == target and target.read_bytes() == garbage
    assert "interrupted by a restart" in alerts[0]
    assert _leftovers(tmp_path) == []
    add(store, "a")
    store.close()


def test_corruption_met_in_use_is_quarantined_and_the_operation_retried(tmp_path: Path) -> None:
    path = tmp_path / "box.sqlite"
    alerts: list[str] = []
    store = open_store(path, alerts, quarantine_in_use=True)
    add(store, *(f"item {n}" for n in range(200)))
    store.close()  # checkpointed into the main file
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'item'").fetchone()
    conn.close()
    with path.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * page_size)
    damaged = path.read_bytes()
    assert store.query("SELECT count(*) FROM item") == [(0,)]  # answered by the fresh file
    assert len(alerts) == 1 and "malformed" in alerts[0]
    assert (tmp_path / TARGET).read_bytes() == damaged
    add(store, "after")
    assert names(store) == ["after"]
    store.close()
    plain = open_store(path, [], quarantine_in_use=False)
    plain.close()
    with path.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * page_size)
    with pytest.raises(BoxError, match="malformed"):  # without it: the caller's error
        plain.query("SELECT count(*) FROM item")
    plain.close()


def test_another_user_of_the_file_follows_the_fresh_one(tmp_path: Path) -> None:
    path = tmp_path / "box.sqlite"
    other = open_store(path)  # e.g. another process with the file open
    add(other, "a", "bad")
    alerts: list[str] = []
    kiosk = open_store(path, alerts, check=_flagged)  # finds it damaged, replaces it
    assert len(alerts) == 1 and "1 item(s) recovered" in alerts[0]
    add(other, "from the other")  # reconnected: written to the fresh file, not the old one
    assert names(kiosk) == ["a", "from the other"]
    old = sqlite3.connect(f"file:{tmp_path / TARGET}?mode=ro", uri=True)
    assert [r[0] for r in old.execute("SELECT name FROM item ORDER BY id")] == ["a", "bad"]
    old.close()
    other.close()
    kiosk.close()
