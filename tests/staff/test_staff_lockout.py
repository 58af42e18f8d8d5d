"""The PIN pad's lock-out (kiosk/staff/lockout.py) through the staff desk (kiosk/staff/desk.py):
30 s after three wrong PINs, doubling to an hour, for the whole pad, across a restart and
against a clock set back; sessions that end after inactivity."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from kiosk.staff.accounts import ScryptParams
from kiosk.staff.desk import Refusal, SignInRefused, StaffDesk, StaffSession
from kiosk.staff.errors import SessionExpired
from kiosk.staff.lockout import LockoutPolicy, PinLockout

PIN = "480215"
OTHER_PIN = "935170"
WRONG = "111222"
CARD = "079203001234"
FAST = ScryptParams(n=2**10)  # the rules do not depend on the cost; the tests run faster
START = 1_800_000_000.0


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_desk(tmp_path: Path, clock: FakeClock, idle: FakeClock | None = None) -> StaffDesk:
    return StaffDesk(
        tmp_path,
        kiosk_id="KIOSK-01",
        clock=clock,
        idle_clock=idle or FakeClock(0.0),
        params=FAST,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def desk(tmp_path: Path, clock: FakeClock) -> StaffDesk:
    d = make_desk(tmp_path, clock)
    d.accounts.add("Nguyễn Văn An", "technician", PIN, card_number=CARD)
    d.accounts.add("Trần Thị Bình", "supervisor", OTHER_PIN)
    return d


def refused(result: StaffSession | SignInRefused) -> SignInRefused:
    assert isinstance(result, SignInRefused), result
    return result


def fail_until_locked(desk: StaffDesk, account: str = "NV001") -> float:
    """Wrong PINs until one locks the pad; its lock in seconds."""
    for _ in range(10):
        result = refused(desk.sign_in(account, WRONG))
        assert result.reason is Refusal.WRONG_PIN
        if result.wait_s:
            return result.wait_s
    raise AssertionError("never locked")


def test_the_schedule() -> None:
    policy = LockoutPolicy()
    locks = [policy.lock_after(n) for n in range(1, 13)]
    assert locks == [0, 0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert policy.lock_after(10_000) == 3600


def test_the_lock_grows_30_60_120_and_a_locked_pad_takes_no_pin(
    desk: StaffDesk, clock: FakeClock
) -> None:
    assert refused(desk.sign_in("NV001", WRONG)).wait_s == 0
    assert refused(desk.sign_in("NV001", WRONG)).wait_s == 0
    assert refused(desk.sign_in("NV001", WRONG)) == SignInRefused(Refusal.WRONG_PIN, 30.0)
    for wanted in (60.0, 120.0, 240.0):
        clock.advance(29)
        # while locked even the right PIN is refused, and the attempt is not counted
        locked = refused(desk.sign_in("NV001", PIN))
        assert locked.reason is Refusal.LOCKED and locked.wait_whole_s == (wanted / 2) - 29
        clock.advance(wanted / 2 - 29)
        assert desk.wait_s() == 0
        assert refused(desk.sign_in("NV001", WRONG)) == SignInRefused(Refusal.WRONG_PIN, wanted)
    clock.advance(240)
    assert isinstance(desk.sign_in("NV001", PIN), StaffSession)
    # a success starts the count again
    assert refused(desk.sign_in("NV001", WRONG)).wait_s == 0
    assert desk.lockout.state().failures == 1


def test_the_lock_stops_at_an_hour(tmp_path: Path, clock: FakeClock) -> None:
    gate = PinLockout.in_data_dir(tmp_path, clock=clock)
    locks = []
    for _ in range(14):
        locks.append(gate.record_failure().lock_s)
        clock.advance(gate.wait_s())
    assert locks[2:] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600, 3600]


def test_the_lock_is_on_the_pad_not_on_an_account(desk: StaffDesk) -> None:
    """Three wrong PINs spread over two accounts and a made-up id lock everyone out."""
    refused(desk.sign_in("NV001", WRONG))
    refused(desk.sign_in("NV002", WRONG))
    assert refused(desk.sign_in("NV777", WRONG)).wait_s == 30
    assert refused(desk.sign_in("NV002", OTHER_PIN)).reason is Refusal.LOCKED


def test_the_lock_holds_across_a_restart(tmp_path: Path, desk: StaffDesk, clock: FakeClock) -> None:
    assert fail_until_locked(desk) == 30
    clock.advance(10)
    restarted = make_desk(tmp_path, clock)
    assert restarted.wait_s() == 20
    assert refused(restarted.sign_in("NV001", PIN)).reason is Refusal.LOCKED
    clock.advance(20)
    # the count survived too: the next wrong PIN locks for 60 s, not 0
    assert refused(make_desk(tmp_path, clock).sign_in("NV001", WRONG)).wait_s == 60
    state = json.loads((tmp_path / "staff" / "lockout.json").read_text())
    assert state["failures"] == 4 and state["locked_until"] == clock.now + 60
    assert stat.S_IMODE((tmp_path / "staff" / "lockout.json").stat().st_mode) == 0o600


def test_a_clock_set_back_does_not_shorten_the_lock(
    tmp_path: Path, desk: StaffDesk, clock: FakeClock
) -> None:
    assert fail_until_locked(desk) == 30
    clock.advance(10)
    assert desk.wait_s() == 20
    clock.advance(-86_400)  # someone sets the clock back a day
    assert desk.wait_s() == 20
    restarted = make_desk(tmp_path, clock)  # and restarts the kiosk
    assert restarted.wait_s() == 20
    assert refused(restarted.sign_in("NV001", PIN)).reason is Refusal.LOCKED
    clock.advance(19)
    assert restarted.wait_s() == 1
    clock.advance(-3600)
    assert restarted.wait_s() == 1
    clock.advance(1)  # nor lengthen it to a day: real time counts from where it went back
    assert restarted.wait_s() == 0
    assert isinstance(restarted.sign_in("NV001", PIN), StaffSession)


def test_a_broken_lockout_file_locks_rather_than_crashes(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "staff" / "lockout.json"
    path.parent.mkdir(parents=True)
    path.write_text("{torn", encoding="utf-8")
    gate = PinLockout.in_data_dir(tmp_path, clock=clock)
    assert gate.wait_s() == 30
    clock.advance(30)
    assert gate.wait_s() == 0
    assert json.loads(path.read_text())["failures"] == 3


def test_each_attempt_is_audited_without_the_pin(desk: StaffDesk, clock: FakeClock) -> None:
    fail_until_locked(desk)
    refused(desk.sign_in("NV002", OTHER_PIN))  # while locked
    refused(desk.sign_in(PIN, WRONG))  # a PIN typed where the id goes: not logged either
    clock.advance(30)
    session = desk.sign_in("NV001", PIN)
    assert isinstance(session, StaffSession)
    entries = desk.audit_log.entries_since(0)
    assert [(e.actor, e.action) for e in entries] == [
        ("system", "staff.pin_failed"),
        ("system", "staff.pin_failed"),
        ("system", "staff.pin_failed"),
        ("system", "staff.locked_out"),
        ("system", "staff.locked_out"),
        ("system", "staff.locked_out"),
        ("NV001", "staff.sign_in"),
    ]
    assert entries[0].detail == {"account": "NV001", "failures": 1}
    assert entries[3].detail == {"lock_s": 30, "failures": 3}
    assert entries[4].detail == {"wait_s": 30, "refused": True}
    assert entries[6].detail == {"method": "pin"}
    text = desk.audit_log.path.read_text(encoding="utf-8")
    assert PIN not in text and WRONG not in text and OTHER_PIN not in text
    assert desk.audit_log.verify() is None


def test_an_unknown_id_is_logged_as_none(desk: StaffDesk) -> None:
    refused(desk.sign_in("480215999", WRONG))
    (entry,) = desk.audit_log.entries_since(0)
    assert entry.detail == {"account": None, "failures": 1}


def test_a_staff_card_signs_in_even_while_the_pad_is_locked(
    desk: StaffDesk, clock: FakeClock
) -> None:
    fail_until_locked(desk)
    session = desk.sign_in_with_card("079 203 001 234")
    assert isinstance(session, StaffSession)
    assert (session.account_id, session.method) == ("NV001", "card")
    assert desk.wait_s() == 0  # and resets the count
    assert refused(desk.sign_in_with_card("001203009999")).reason is Refusal.UNKNOWN_CARD
    last = desk.audit_log.entries_since(0)[-2:]
    assert [(e.actor, e.action, e.detail) for e in last] == [
        ("NV001", "staff.sign_in", {"method": "card"}),
        ("system", "staff.card_refused", {}),
    ]
    assert "001203009999" not in desk.audit_log.path.read_text()


def test_a_session_ends_after_inactivity(tmp_path: Path, clock: FakeClock) -> None:
    idle = FakeClock(0.0)
    desk = StaffDesk(tmp_path, kiosk_id="KIOSK-01", clock=clock, idle_clock=idle, params=FAST)
    desk.accounts.add("Trần Thị Bình", "supervisor", OTHER_PIN)
    session = desk.sign_in("NV001", OTHER_PIN)
    assert isinstance(session, StaffSession)
    assert session.is_supervisor and session.full_name == "Trần Thị Bình"
    assert session.started_at.utcoffset() is not None
    idle.advance(119)
    entry = session.audit("maintenance.enter", screen="devices")
    assert (entry.actor, entry.action, entry.detail) == (
        "NV001",
        "maintenance.enter",
        {"screen": "devices"},
    )
    idle.advance(119)  # the audit counted as activity
    assert session.is_active() and session.seconds_left() == 1
    idle.advance(1)
    assert not session.is_active()
    with pytest.raises(SessionExpired):
        session.audit("printer.test_page")
    actions = [e.action for e in desk.audit_log.entries_since(0)]
    assert actions == ["staff.sign_in", "maintenance.enter", "staff.session_expired"]


def test_the_session_timeout_is_a_setting(tmp_path: Path, clock: FakeClock) -> None:
    idle = FakeClock(0.0)
    desk = StaffDesk(
        tmp_path,
        kiosk_id="KIOSK-01",
        clock=clock,
        idle_clock=idle,
        params=FAST,
        session_timeout_s=300,
    )
    desk.accounts.add("Trần Thị Bình", "supervisor", OTHER_PIN)
    session = desk.sign_in("NV001", OTHER_PIN)
    assert isinstance(session, StaffSession)
    idle.advance(299)
    assert session.is_active()
    session.end()
    assert not session.is_active()
    assert desk.audit_log.entries_since(0)[-1].action == "staff.sign_out"
    with pytest.raises(ValueError):
        StaffDesk(tmp_path, kiosk_id="KIOSK-01", session_timeout_s=0)
