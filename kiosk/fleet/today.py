"""Today's figures for the heartbeat: sessions, dossiers submitted, ratings and satisfied ones.

``DayTally`` counts what the flow reports (``SessionEnded``: every session, and those that
ended with a dossier in the outbox) and reads the rating store's counts per level: today's
ratings are its counts now less its counts when the day began here (the store keeps no person,
only a level and a time; levels 4 and 5 are "satisfied", as ``RatingStore.satisfaction_rate``).
The day is Vietnam's; a new day starts the counts again.

The figures are kept in ``<data_dir>/fleet/today.json`` so that a restart does not zero them:
written when they are read (each heartbeat), not when a session ends, so that the UI thread
that reports a session never waits for a disk. A crash loses at most one heartbeat's worth.
The day's rating baseline is taken the first time the day is seen: at start-up, or within one
heartbeat of midnight while the kiosk runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Protocol

from kiosk.fleet.state_file import load_state, save_state
from kiosk.flow.events import Events, SessionEnded, SessionOutcome
from kiosk.infra.clock import now_vietnam, to_vietnam_time

log = logging.getLogger(__name__)

TODAY_FILE: Final = "today.json"
SATISFIED_LEVELS: Final = (4, 5)


class RatingCounts(Protocol):
    """The rating store's counts per level (kiosk/session/ratings.py ``RatingStore.summary``)."""

    def summary(self) -> dict[int, int]: ...


@dataclass(frozen=True)
class DayCounts:
    """Today's figures, as the heartbeat's ``today`` sends them."""

    sessions: int = 0
    submitted: int = 0
    ratings: int = 0
    satisfied: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "sessions": self.sessions,
            "submitted": self.submitted,
            "ratings": self.ratings,
            "satisfied": self.satisfied,
        }


def _levels(value: Any) -> dict[int, int]:
    if not isinstance(value, Mapping):
        return {}
    out: dict[int, int] = {}
    for key, count in value.items():
        try:
            out[int(key)] = int(count)
        except (TypeError, ValueError):
            continue
    return out


class DayTally:
    """Today's sessions and ratings at this kiosk; safe from any thread."""

    def __init__(
        self,
        path: Path,
        *,
        ratings: RatingCounts | None = None,
        clock: Callable[[], datetime] = now_vietnam,
    ) -> None:
        self.path = Path(path)
        self._ratings = ratings
        self._clock = clock
        self._lock = threading.Lock()
        state = load_state(self.path)
        self._day = str(state.get("day", ""))
        self._sessions = int(state.get("sessions", 0) or 0)
        self._submitted = int(state.get("submitted", 0) or 0)
        self._baseline = _levels(state.get("ratings_baseline"))
        self._dirty = False
        with self._lock:
            self._roll_over()  # a new day (or the first start): the baseline is taken now

    @classmethod
    def in_folder(cls, folder: Path, **kwargs: Any) -> DayTally:
        """The tally kept in ``folder/today.json`` (``folder``: the fleet state folder)."""
        return cls(Path(folder) / TODAY_FILE, **kwargs)

    def watch(self, events: Events) -> Callable[[], None]:
        """Count the sessions the flow reports; returns the call that stops counting."""
        return events.subscribe(SessionEnded, self.session_ended)

    def session_ended(self, event: SessionEnded) -> None:
        try:
            with self._lock:
                self._roll_over()
                self._sessions += 1
                if event.outcome is SessionOutcome.SUBMITTED:
                    self._submitted += 1
                self._dirty = True
        except Exception:  # noqa: BLE001 - counting never breaks a citizen's session
            log.exception("fleet: counting a session failed (the session goes on)")

    def counts(self) -> DayCounts:
        """Today's figures (kept on disk when they changed)."""
        with self._lock:
            self._roll_over()
            summary = self._rating_summary()
            ratings = sum(max(0, n - self._baseline.get(level, 0)) for level, n in summary.items())
            satisfied = sum(
                max(0, summary.get(level, 0) - self._baseline.get(level, 0))
                for level in SATISFIED_LEVELS
            )
            counts = DayCounts(self._sessions, self._submitted, ratings, satisfied)
            if self._dirty:
                self._save()
            return counts

    # -- inside --------------------------------------------------------------------------------

    def _today(self) -> str:
        return to_vietnam_time(self._clock()).date().isoformat()

    def _rating_summary(self) -> dict[int, int]:
        if self._ratings is None:
            return {}
        try:
            return _levels(self._ratings.summary())
        except Exception as exc:  # noqa: BLE001 - a store that cannot be read counts nothing
            log.warning("fleet: the rating store cannot be read: %s", exc)
            return dict(self._baseline)

    def _roll_over(self) -> None:
        today = self._today()
        if today == self._day:
            return
        self._day = today
        self._sessions = self._submitted = 0
        self._baseline = self._rating_summary() if self._ratings is not None else {}
        self._dirty = True

    def _save(self) -> None:
        state = {
            "day": self._day,
            "sessions": self._sessions,
            "submitted": self._submitted,
            "ratings_baseline": {str(k): v for k, v in sorted(self._baseline.items())},
        }
        try:
            save_state(self.path, state)
            self._dirty = False
        except OSError as e:
            log.warning("fleet: %s cannot be written (kept in memory): %s", self.path, e)
