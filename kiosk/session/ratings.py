"""Satisfaction ratings: five levels of Thông tư 01/2018/TT-VPCP, stored anonymously in SQLite.

A rating keeps the kiosk, the procedure, the level and the time; never who gave it. The file is
kept by kiosk/infra/sqlite_store.py (WAL, a connection per thread, write transactions, a damaged
file moved aside and the ratings that still read copied into a fresh one).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from kiosk.infra.sqlite_store import SqliteStore, transaction

# Level 5 is the best. Message ids are English; the UI translates them.
LEVELS: dict[int, str] = {
    5: "Very satisfied",
    4: "Satisfied",
    3: "Acceptable",
    2: "Not satisfied",
    1: "Very dissatisfied",
}

_COLUMNS = "kiosk_id, journey, procedure_code, level, rated_at"


def _create_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS rating (id INTEGER PRIMARY KEY, kiosk_id TEXT NOT NULL,"
        " journey TEXT NOT NULL, procedure_code TEXT, level INTEGER NOT NULL"
        " CHECK (level BETWEEN 1 AND 5), rated_at TEXT NOT NULL)"
    )


def _salvage(old: sqlite3.Connection | None, old_path: Path, fresh: sqlite3.Connection) -> str:
    """The ratings that still read from a damaged file, copied into the fresh one."""
    try:
        rows = [] if old is None else old.execute(f"SELECT {_COLUMNS} FROM rating").fetchall()
    except sqlite3.Error as e:
        return f"no rating could be read ({e})"
    with transaction(fresh) as conn:
        conn.executemany(f"INSERT OR IGNORE INTO rating ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)", rows)
    return f"{len(rows)} rating(s) recovered"


class RatingStore:
    """Append-only store of ratings in a SQLite file."""

    def __init__(self, db_path: Path) -> None:
        self._db = SqliteStore(
            db_path, label="ratings store", prepare=_create_table, salvage=_salvage
        )
        self._db.open()

    def record(
        self, kiosk_id: str, journey: str, procedure_code: str | None, level: int, at: datetime
    ) -> None:
        if level not in LEVELS:
            raise ValueError(f"rating level must be 1..5, got {level}")
        self._db.write(
            lambda conn: conn.execute(
                f"INSERT INTO rating ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (kiosk_id, journey, procedure_code, level, at.isoformat()),
            )
        )

    def summary(self) -> dict[int, int]:
        """Count of ratings per level (all five levels present)."""
        rows = self._db.query("SELECT level, COUNT(*) FROM rating GROUP BY level")
        counts = dict.fromkeys(LEVELS, 0)
        counts.update({level: n for level, n in rows})
        return counts

    def satisfaction_rate(self) -> float | None:
        """Share of ratings that are 'satisfied' or better (the plan's ≥ 95 % target)."""
        counts = self.summary()
        total = sum(counts.values())
        return None if total == 0 else (counts[4] + counts[5]) / total

    def close(self) -> None:
        self._db.close()
