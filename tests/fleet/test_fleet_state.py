"""What the fleet agent keeps on the kiosk's disk (today's figures, the ids it ran) and the
``[fleet]`` and ``[staff]`` settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kiosk.config.settings import ConfigError, load_config
from kiosk.fleet.ran_commands import RanCommands
from kiosk.fleet.today import DayTally
from kiosk.flow.events import Events, SessionEnded, SessionOutcome
from kiosk.infra.clock import VIETNAM_TZ
from kiosk.session.ratings import RatingStore
from kiosk.session.state import Journey


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_todays_figures_count_sessions_and_ratings_and_start_again_each_day(
    tmp_path: Path,
) -> None:
    clock = Clock(datetime(2026, 12, 7, 7, 30, tzinfo=VIETNAM_TZ))
    ratings = RatingStore(tmp_path / "ratings.sqlite")
    ratings.record("KIOSK-01", "dossier", None, 5, clock.at - timedelta(days=1))  # yesterday
    events = Events()
    tally = DayTally(tmp_path / "fleet" / "today.json", ratings=ratings, clock=clock)
    tally.watch(events)
    events.emit(SessionEnded(Journey.DOSSIER, SessionOutcome.SUBMITTED))
    events.emit(SessionEnded(Journey.DOSSIER, SessionOutcome.TIMED_OUT))
    events.emit(SessionEnded(Journey.QUEUE, SessionOutcome.TICKET))
    for level in (5, 4, 3, 1):
        ratings.record("KIOSK-01", "dossier", None, level, clock.at)
    counts = tally.counts()
    assert counts.to_dict() == {"sessions": 3, "submitted": 1, "ratings": 4, "satisfied": 2}
    # a restart the same day keeps them (the baseline too)
    again = DayTally(tmp_path / "fleet" / "today.json", ratings=ratings, clock=clock)
    assert again.counts() == counts
    # the next morning starts from nothing
    clock.at += timedelta(days=1)
    assert again.counts().to_dict() == {"sessions": 0, "submitted": 0, "ratings": 0, "satisfied": 0}
    ratings.record("KIOSK-01", "lookup", None, 4, clock.at)
    events2 = Events()
    again.watch(events2)
    events2.emit(SessionEnded(Journey.LOOKUP, SessionOutcome.LOOKUP))
    assert again.counts().to_dict() == {"sessions": 1, "submitted": 0, "ratings": 1, "satisfied": 1}
    ratings.close()


def test_a_broken_state_file_starts_empty_and_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "fleet" / "today.json"
    path.parent.mkdir()
    path.write_text("{not json", encoding="utf-8")
    tally = DayTally(path)
    assert tally.counts().sessions == 0
    assert (tmp_path / "fleet" / "today.json.broken").read_text() == "{not json"


def test_the_ids_run_are_kept_bounded_and_across_a_restart(tmp_path: Path) -> None:
    ran = RanCommands(tmp_path / "commands.json", limit=5)
    for cid in range(1, 9):
        ran.start(cid, "restart")
        ran.finish(cid, "restart", True, f"done {cid}")
    assert len(ran) == 5
    again = RanCommands(tmp_path / "commands.json", limit=5)
    assert again.get(3) is None  # the oldest ids went first
    record = again.get(8)
    assert record is not None and (record.state, record.ok, record.detail) == (
        "done",
        True,
        "done 8",
    )
    again.start(9, "screenshot")
    running = RanCommands(tmp_path / "commands.json").get(9)
    assert running is not None and running.state == "running"
    assert (tmp_path / "commands.json").stat().st_mode & 0o777 == 0o600


def test_the_fleet_and_staff_settings(kiosk_env: dict[str, str]) -> None:
    cfg = load_config(None, env=kiosk_env)
    assert cfg.fleet.heartbeat_s == 60
    assert cfg.staff.session_timeout_s == 120
    off = load_config(None, env={**kiosk_env, "KIOSK_FLEET_HEARTBEAT_S": "0"})
    assert off.fleet.heartbeat_s == 0
    for key, value, problem in (
        ("KIOSK_FLEET_HEARTBEAT_S", "5", "[fleet] heartbeat_s: 5 s is too often"),
        ("KIOSK_FLEET_HEARTBEAT_S", "7200", "[fleet] heartbeat_s: 7200 is out of range"),
        ("KIOSK_STAFF_SESSION_TIMEOUT_S", "10", "[staff] session_timeout_s: 10 is out of range"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_config(None, env={**kiosk_env, key: value})
        assert problem in str(caught.value), str(caught.value)
