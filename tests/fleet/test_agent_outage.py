"""The fleet agent's thread against a real back office that goes away and comes back: it says so
once, backs off up to its cap, queues nothing, and its heartbeats resume at their own pace;
``stop()`` is prompt even in the middle of a long wait; a refused credential is an outage too."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fleet_kiosk import OTHER, FleetKiosk, heartbeats_stored, register_kiosk
from sqlalchemy import select
from support.backoffice_server import BackofficeServer

from backoffice.db import Heartbeat

INTERVAL_S = 0.05
CAP_S = 0.4


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def beat_times(server: BackofficeServer, kiosk_id: str, since: float) -> list[float]:
    """When the back office received the kiosk's heartbeats from ``since`` on (its clock)."""
    ctx = server.context()
    try:
        with ctx.session() as session:
            times = session.scalars(
                select(Heartbeat.received_at)
                .where(Heartbeat.kiosk_id == kiosk_id, Heartbeat.received_at >= since)
                .order_by(Heartbeat.received_at)
            ).all()
    finally:
        ctx.close()
    return list(times)


def test_heartbeats_resume_after_the_back_office_was_away(
    server: BackofficeServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kid = register_kiosk(server)
    kiosk = FleetKiosk(
        server,
        tmp_path / "var",
        kiosk_id=kid,
        interval_s=INTERVAL_S,
        max_backoff_s=CAP_S,
        timeout_s=2,
    )
    agent = kiosk.agent
    caplog.set_level(logging.DEBUG, logger="kiosk")
    try:
        agent.start()
        wait_for(lambda: agent.stats.beats_sent >= 3)
        server.stop()
        down_at = time.monotonic()
        for n in range(5):  # what happens meanwhile is read from disk at the next beat
            kiosk.audit_log.append("system", "staff.pin_failed", {"account": None, "failures": n})
        time.sleep(2.0)
        stats = agent.stats
        assert stats.out_of_reach_since is not None
        assert stats.next_delay_s == CAP_S  # doubled up to the cap, no further
        # backing off: 0.1, 0.2, 0.4, 0.4, … s apart, not every 0.05 s (that would be ~50)
        assert 3 <= stats.beats_failed <= 12, stats
        warnings = [
            r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("kiosk")
        ]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert "cannot be reached" in warnings[0].getMessage()
        restarted = time.time()
        server.start()
        wait_for(lambda: agent.stats.out_of_reach_since is None, timeout_s=CAP_S * 2 + 10)
        resumed = time.monotonic()
        wait_for(lambda: len(beat_times(server, kid, restarted)) >= 10)
        time.sleep(1.0)
        after = beat_times(server, kid, restarted)
        first = after[0]
        # no backlog: the first quarter second after it came back holds a beat or a few, as
        # any other quarter second does, not the ~50 missed ones
        assert len([t for t in after if t < first + 0.25]) <= 6
        one_second = len([t for t in after if t < first + 1.0])
        # beating again (a loaded machine may manage fewer than 20 a second), never a burst
        assert 2 <= one_second <= 1.0 / INTERVAL_S + 4
        assert "answers again" in caplog.text
        assert resumed - down_at > 2.0
        assert agent.stats.consecutive_failures == 0
        assert agent.stats.next_delay_s == INTERVAL_S
        # the entries written while it was away reached it
        assert agent.status.audit is not None
        assert agent.status.audit.received_through == 5
    finally:
        kiosk.close()
        if server.proc is None:  # the other tests share this back office
            server.start()
    assert not agent.running


def test_stop_is_prompt_even_in_a_long_wait(server: BackofficeServer, tmp_path: Path) -> None:
    with socket.socket() as unused:  # a port where nothing listens: every beat fails at once
        unused.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{unused.getsockname()[1]}"
    kid = register_kiosk(server)
    kiosk = FleetKiosk(server, tmp_path / "var", kiosk_id=kid, url=nowhere, interval_s=300)
    try:
        kiosk.agent.start()
        wait_for(lambda: kiosk.agent.stats.beats_failed == 1)
        assert kiosk.agent.stats.next_delay_s == 600  # the next try in 10 minutes
        started = time.monotonic()
        kiosk.agent.stop()
        assert time.monotonic() - started < 1.0
        assert not kiosk.agent.running
    finally:
        kiosk.close()


def test_a_refused_credential_is_said_once_and_backed_off(
    server: BackofficeServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kid = register_kiosk(server)
    wrong = server.secrets[OTHER]  # type: ignore[attr-defined]
    kiosk = FleetKiosk(
        server,
        tmp_path / "var",
        kiosk_id=kid,
        secret=wrong,
        interval_s=INTERVAL_S,
        max_backoff_s=CAP_S,
    )
    caplog.set_level(logging.WARNING, logger="kiosk")
    try:
        kiosk.agent.start()
        wait_for(lambda: kiosk.agent.stats.beats_failed >= 4)
    finally:
        kiosk.close()
    assert kiosk.agent.stats.beats_sent == 0
    assert heartbeats_stored(server, kid) == 0
    said = [r.getMessage() for r in caplog.records if r.name.startswith("kiosk.fleet")]
    assert len(said) == 1 and "401" in said[0] and "bad signature" in said[0], said
