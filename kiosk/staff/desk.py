"""The staff desk: signing in to maintenance mode and the session that follows.

``StaffDesk`` ties the accounts, the PIN pad's lock-out and the audit log of one kiosk:

    desk = StaffDesk(data_dir, kiosk_id="KIOSK-01")
    result = desk.sign_in("NV001", "480215")       # StaffSession | SignInRefused
    result = desk.sign_in_with_card(id_number)       # from a chip that passed passive auth

A PIN is typed for a chosen account (the maintenance screen lists the staff, or the staff
member types their id): the audit log can then say which account was tried without the PIN,
and two people may happen to choose the same PIN. Every attempt is audited:

    staff.sign_in      actor: the account; detail {"method": "pin" | "card"}
    staff.pin_failed   actor: system; {"account": id tried or None if no such account,
                       "failures": wrong PINs in a row}
    staff.locked_out   actor: system; {"lock_s", "failures"} when a wrong PIN locks the pad,
                       {"wait_s", "refused": true} for an attempt refused while it is locked
    staff.card_refused actor: system; a card that is on no account (its number is not logged)
    staff.sign_in_unavailable   actor: system; the accounts file is broken (the log says how)
    staff.sign_out, staff.session_expired   actor: the account

A refusal says why and how many seconds to wait (``SignInRefused``); it never tells a wrong
PIN from an unknown account. The lock-out applies to PINs only: a staff card (read from an
authenticated chip, never typed) opens a locked pad and resets the count, so that someone
hammering the pad cannot keep the technician out.

A ``StaffSession`` knows who signed in, how and when; it ends after ``session_timeout_s``
(120 s by default; the composition root passes the config's value once kiosk/config/settings.py
has a ``[staff] session_timeout_s`` key) without a ``touch()`` or ``audit()``, measured on a
monotonic clock. ``session.audit(action, **detail)`` writes an entry with the staff member as
actor. The desk's own entries never stop a sign-in: an audit log that cannot be written is
logged as an error and the kiosk goes on.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from kiosk.infra.clock import now_vietnam
from kiosk.staff.accounts import CURRENT_PARAMS, AccountBook, Role, ScryptParams, StaffAccount
from kiosk.staff.audit import AuditEntry, AuditLog
from kiosk.staff.errors import AuditLogError, SessionExpired, StaffFileError
from kiosk.staff.lockout import DEFAULT_POLICY, LockoutPolicy, PinLockout

log = logging.getLogger(__name__)

DEFAULT_SESSION_TIMEOUT_S: Final = 120.0
SYSTEM: Final = "system"


class Refusal(StrEnum):
    """Why a sign-in was refused."""

    WRONG_PIN = "wrong_pin"  # or no such account: the pad does not tell which
    LOCKED = "locked"  # too many wrong PINs: wait
    UNKNOWN_CARD = "unknown_card"  # a card on no account
    UNAVAILABLE = "unavailable"  # the accounts file is broken (the log says how)


@dataclass(frozen=True)
class SignInRefused:
    """A refused sign-in: why, and the seconds before the pad takes a PIN again (0: now)."""

    reason: Refusal
    wait_s: float = 0.0

    @property
    def wait_whole_s(self) -> int:
        """``wait_s`` rounded up, for a screen ("try again in 30 s")."""
        return math.ceil(self.wait_s)


class StaffSession:
    """A signed-in staff member. Ends after ``timeout_s`` without activity or on ``end()``."""

    def __init__(
        self,
        desk: StaffDesk,
        account: StaffAccount,
        *,
        method: str,
        started_at: datetime,
        timeout_s: float,
        idle_clock: Callable[[], float],
    ) -> None:
        self.account_id = account.id
        self.full_name = account.full_name
        self.role = account.role
        self.method = method
        self.started_at = started_at
        self.timeout_s = timeout_s
        self._desk = desk
        self._idle_clock = idle_clock
        self._last_activity = idle_clock()
        self._ended: str | None = None

    def __repr__(self) -> str:
        return f"StaffSession({self.account_id}, {self.role.value}, {self.method})"

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    def seconds_left(self) -> float:
        """Seconds before the session ends for inactivity (0.0 once it has ended)."""
        if self._ended is not None:
            return 0.0
        return max(0.0, self.timeout_s - (self._idle_clock() - self._last_activity))

    def is_active(self) -> bool:
        """Whether the session still runs; the first call that finds it timed out audits
        ``staff.session_expired``."""
        if self._ended is not None:
            return False
        if self.seconds_left() > 0.0:
            return True
        self._ended = "expired"
        self._desk._audit(self.account_id, "staff.session_expired", {"idle_s": self.timeout_s})
        return False

    def touch(self) -> None:
        """The staff member did something: the inactivity timer starts again.
        ``SessionExpired`` if the session has already ended."""
        if not self.is_active():
            raise SessionExpired(f"the staff session of {self.account_id} has ended")
        self._last_activity = self._idle_clock()

    def audit(self, action: str, **detail: Any) -> AuditEntry:
        """Record ``action`` by this staff member (and count it as activity). Raises
        ``SessionExpired`` after the session ended, ``AuditLogError`` if it cannot be written."""
        self.touch()
        return self._desk.audit_log.append(self.account_id, action, detail)

    def end(self, reason: str = "signed_out") -> None:
        """Sign out (audited once as ``staff.sign_out``)."""
        if self._ended is not None:
            return
        self._ended = reason
        self._desk._audit(self.account_id, "staff.sign_out", {"reason": reason})


class StaffDesk:
    """Sign-in to maintenance mode for the kiosk whose data folder is ``data_dir``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        kiosk_id: str,
        session_timeout_s: float = DEFAULT_SESSION_TIMEOUT_S,
        clock: Callable[[], float] = time.time,
        idle_clock: Callable[[], float] = time.monotonic,
        audit_clock: Callable[[], datetime] = now_vietnam,
        policy: LockoutPolicy = DEFAULT_POLICY,
        params: ScryptParams = CURRENT_PARAMS,
    ) -> None:
        if not session_timeout_s > 0:
            raise ValueError(f"session_timeout_s must be more than 0, not {session_timeout_s}")
        self.data_dir = Path(data_dir)
        self.session_timeout_s = float(session_timeout_s)
        self.accounts = AccountBook.in_data_dir(self.data_dir, params=params, clock=audit_clock)
        self.lockout = PinLockout.in_data_dir(self.data_dir, clock=clock, policy=policy)
        self.audit_log = AuditLog.in_data_dir(self.data_dir, kiosk_id=kiosk_id, clock=audit_clock)
        self._idle_clock = idle_clock
        self._audit_clock = audit_clock

    def wait_s(self) -> float:
        """Seconds before the PIN pad takes a PIN (0.0: now), for the screen to show."""
        return self.lockout.wait_s()

    def sign_in(self, account_id: str, pin: str) -> StaffSession | SignInRefused:
        """Check ``pin`` for the account ``account_id`` (unless the pad is locked)."""
        wait = self.lockout.wait_s()
        if wait > 0:
            self._audit(SYSTEM, "staff.locked_out", {"wait_s": math.ceil(wait), "refused": True})
            return SignInRefused(Refusal.LOCKED, wait)
        try:
            tried = self.accounts.get(account_id)  # to name it in the log: never what was typed
            account = self.accounts.verify_pin(account_id, pin)
        except StaffFileError as e:
            return self._unavailable(e)
        if account is None:
            failure = self.lockout.record_failure()
            self._audit(
                SYSTEM,
                "staff.pin_failed",
                {"account": tried.id if tried else None, "failures": failure.failures},
            )
            if failure.lock_s:
                self._audit(
                    SYSTEM,
                    "staff.locked_out",
                    {"lock_s": math.ceil(failure.lock_s), "failures": failure.failures},
                )
            return SignInRefused(Refusal.WRONG_PIN, failure.lock_s)
        return self._start(account, "pin")

    def sign_in_with_card(self, id_number: str) -> StaffSession | SignInRefused:
        """Sign in the staff member whose card has this ID number. ``id_number`` must come from
        a chip that passed passive authentication, never from a keypad."""
        try:
            account = self.accounts.find_by_card(id_number)
        except StaffFileError as e:
            return self._unavailable(e)
        if account is None:
            self._audit(SYSTEM, "staff.card_refused", {})
            return SignInRefused(Refusal.UNKNOWN_CARD)
        return self._start(account, "card")

    # -- inside --------------------------------------------------------------------------------

    def _start(self, account: StaffAccount, method: str) -> StaffSession:
        self.lockout.record_success()
        self._audit(account.id, "staff.sign_in", {"method": method})
        return StaffSession(
            self,
            account,
            method=method,
            started_at=self._audit_clock(),
            timeout_s=self.session_timeout_s,
            idle_clock=self._idle_clock,
        )

    def _unavailable(self, error: StaffFileError) -> SignInRefused:
        log.error("staff sign-in refused: %s", error)
        self._audit(SYSTEM, "staff.sign_in_unavailable", {"problem": "accounts file broken"})
        return SignInRefused(Refusal.UNAVAILABLE)

    def _audit(self, actor: str, action: str, detail: dict[str, Any]) -> None:
        try:
            self.audit_log.append(actor, action, detail)
        except AuditLogError as e:
            log.error("audit entry %s by %s not written: %s", action, actor, e)
