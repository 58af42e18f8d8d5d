"""Satisfaction ratings: five levels of Thông tư 01/2018/TT-VPCP, stored anonymously in SQLite.

A rating keeps the kiosk, the procedure, the level and the time; never who gave it.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path

# Level 5 is the best. Message ids are English; the UI translates them.
LEVELS: dict[int, str] = {
    5: "Very satisfied",
    4: "Satisfied",
    3: "Acceptable",
    2: "Not satisfied",
    1: "Very dissatisfied",
}


class RatingStore:
    """Append-only store of ratings in a SQLite file."""

    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(db_path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS rating (id INTEGER PRIMARY KEY, kiosk_id TEXT NOT NULL,"
            " journey TEXT NOT NULL, procedure_code TEXT, level INTEGER NOT NULL"
            " CHECK (level BETWEEN 1 AND 5), rated_at TEXT NOT NULL)"
        )
        self._db.commit()

    def record(
        self, kiosk_id: str, journey: str, procedure_code: str | None, level: int, at: datetime
    ) -> None:
        if level not in LEVELS:
            raise ValueError(f"rating level must be 1..5, got {level}")
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO rating (kiosk_id, journey, procedure_code, level, rated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (kiosk_id, journey, procedure_code, level, at.isoformat()),
            )

    def summary(self) -> dict[int, int]:
        """Count of ratings per level (all five levels present)."""
        with self._lock:
            rows = self._db.execute("SELECT level, COUNT(*) FROM rating GROUP BY level").fetchall()
        counts = dict.fromkeys(LEVELS, 0)
        counts.update({level: n for level, n in rows})
        return counts

    def satisfaction_rate(self) -> float | None:
        """Share of ratings that are 'satisfied' or better (the plan's ≥ 95 % target)."""
        counts = self.summary()
        total = sum(counts.values())
        return None if total == 0 else (counts[4] + counts[5]) / total

    def close(self) -> None:
        with self._lock:
            self._db.close()
