"""The PIN pad's lock-out after wrong PINs, for the whole kiosk and across restarts.

The lock is on the pad, not on an account: whoever guesses may try any account, so the failures
of all accounts count together. Three wrong PINs in a row are free; the third locks the pad for
30 s, and every further wrong PIN (once the lock is over) doubles it, up to an hour: 30 s, 60 s,
120 s, 240 s, … 3600 s. A right PIN (or a staff card) resets it. While locked, the pad takes no
PIN at all: an attempt is refused with the seconds left and is not counted.

The state lives in ``<data_dir>/staff/lockout.json`` (``{"failures", "locked_until",
"last_seen"}``, wall-clock seconds, mode 0600, written atomically), read afresh at every check,
so a restart or a second process sees the same lock.

The clock is a wall clock (``time.time`` unless a test gives its own) and may be set back; the
lock must not get shorter for it. ``last_seen`` is the latest time the gate has seen: when the
clock reads earlier than that, the time in between is taken as not having passed and the lock's
end moves back with it, so the seconds still to wait stay what they were (and a clock set back by
a year does not lock the pad for a year either). A clock set forward does shorten a lock: the
gate cannot tell that from real time passing.

A lock-out file that cannot be read fails closed: the pad is locked for the first period
(30 s) and the problem is logged; the kiosk keeps running.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, NamedTuple

from kiosk.staff.errors import StaffFileError
from kiosk.staff.files import folder_lock, read_json_object, staff_dir, write_private_json

log = logging.getLogger(__name__)

LOCKOUT_FILE: Final = "lockout.json"


@dataclass(frozen=True)
class LockoutPolicy:
    """How many wrong PINs in a row are free, the first lock and the longest."""

    free_failures: int = 3
    first_lock_s: float = 30.0
    max_lock_s: float = 3600.0

    def lock_after(self, failures: int) -> float:
        """Seconds the pad is locked after ``failures`` wrong PINs in a row (0: not locked)."""
        if failures < self.free_failures:
            return 0.0
        doublings = failures - self.free_failures
        if doublings >= 64:  # far past the ceiling; 2**doublings would only overflow
            return self.max_lock_s
        return min(math.ldexp(self.first_lock_s, doublings), self.max_lock_s)


#: 3 free, then 30 s doubling to an hour.
DEFAULT_POLICY: Final = LockoutPolicy()


@dataclass(frozen=True)
class LockoutState:
    """Wrong PINs in a row, when the current lock ends, the latest time seen (wall seconds)."""

    failures: int = 0
    locked_until: float = 0.0
    last_seen: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "failures": self.failures,
            "locked_until": self.locked_until,
            "last_seen": self.last_seen,
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> LockoutState:
        failures = value.get("failures", 0)
        if not isinstance(failures, int) or isinstance(failures, bool) or failures < 0:
            raise ValueError("'failures' is not a whole number of 0 or more")
        numbers: list[float] = []
        for key in ("locked_until", "last_seen"):
            number = value.get(key, 0.0)
            if not isinstance(number, int | float) or isinstance(number, bool):
                raise ValueError(f"{key!r} is not a number")
            if not math.isfinite(number):
                raise ValueError(f"{key!r} is not finite")
            numbers.append(float(number))
        return cls(failures, numbers[0], numbers[1])


class Failure(NamedTuple):
    """What one wrong PIN led to."""

    failures: int  # wrong PINs in a row, this one included
    lock_s: float  # seconds the pad is locked for now (0.0: not locked)


class PinLockout:
    """The PIN pad's gate: ask ``wait_s()`` before checking a PIN, then record the outcome."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        policy: LockoutPolicy = DEFAULT_POLICY,
    ) -> None:
        self.path = Path(path)
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._memory: LockoutState | None = None  # the last state known, if the file fails

    @classmethod
    def in_data_dir(cls, data_dir: Path, **kwargs: Any) -> PinLockout:
        """The kiosk's gate: ``<data_dir>/staff/lockout.json``."""
        return cls(staff_dir(data_dir) / LOCKOUT_FILE, **kwargs)

    def state(self) -> LockoutState:
        """The state as it stands now (the clock's steps back already taken out)."""
        with self._changing() as (state, now):
            return state

    def wait_s(self) -> float:
        """Seconds until the pad takes a PIN again; 0.0 when it takes one now."""
        with self._changing() as (state, now):
            return max(0.0, state.locked_until - now)

    def record_failure(self) -> Failure:
        """Count a wrong PIN: the wrong PINs in a row now and the seconds the pad is locked for
        (0.0: not locked). While locked nothing is counted (the pad should not have asked)."""
        with self._changing() as (state, now):
            if state.locked_until > now:
                return Failure(state.failures, state.locked_until - now)
            failures = state.failures + 1
            lock_s = self.policy.lock_after(failures)
            until = now + lock_s if lock_s else 0.0
            self._save(LockoutState(failures, until, now))
            return Failure(failures, lock_s)

    def record_success(self) -> None:
        """A right PIN or a staff card: the count starts again."""
        with self._changing() as (state, now):
            if state.failures or state.locked_until:
                self._save(LockoutState(0, 0.0, now))

    # -- the file ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _changing(self) -> Iterator[tuple[LockoutState, float]]:
        """Hold this gate's thread lock and the staff folder's file lock; yield the settled
        state and now."""
        with self._lock, contextlib.ExitStack() as stack:
            try:
                stack.enter_context(folder_lock(self.path.parent))
            except OSError as e:  # a folder the kiosk cannot write: keep going in memory
                log.error("cannot lock %s: %s; the lock-out is kept in memory", self.path, e)
            yield self._settled()

    def _settled(self) -> tuple[LockoutState, float]:
        """The state with the clock's steps back taken out, and now; saved if that changed it."""
        state = self._load()
        now = float(self._clock())
        if now < state.last_seen:
            setback = state.last_seen - now
            until = state.locked_until - setback if state.locked_until else 0.0
            state = replace(state, locked_until=until, last_seen=now)
            log.warning("the clock went back %.0f s: the PIN lock-out keeps its wait", setback)
            self._save(state)
        elif (state.failures or state.locked_until) and now > state.last_seen:
            state = replace(state, last_seen=now)
            self._save(state)
        return state, now

    def _load(self) -> LockoutState:
        try:
            data = read_json_object(self.path)
            state = LockoutState() if data is None else LockoutState.from_dict(data)
        except (StaffFileError, ValueError) as e:
            problem = str(e) if isinstance(e, StaffFileError) else f"{self.path}: {e}"
            if self._memory is not None:
                log.error("%s; keeping the lock-out known before", problem)
                return self._memory
            now = float(self._clock())
            log.error("%s; the PIN pad is locked for %.0f s", problem, self.policy.first_lock_s)
            state = LockoutState(self.policy.free_failures, now + self.policy.first_lock_s, now)
            self._save(state)
            return state
        self._memory = state
        return state

    def _save(self, state: LockoutState) -> None:
        self._memory = state
        try:
            write_private_json(self.path, state.to_dict())
        except OSError as e:
            log.error("cannot write %s: %s; the lock-out is kept in memory", self.path, e)
