"""The calling policy: which waiting ticket a counter calls next, and how long a new one waits.

Pure functions over plain values (times are seconds on any clock), so the kiosk's ticket store
(kiosk/tickets/store.py) and the working-day simulation (bench/queue_policy.py) run the very same
code.

Modes
-----
``bounded`` (the project's policy), for the tickets one counter may call:

1. **Overdue first.** A ticket that has waited ``max_wait_s`` or longer is called before any
   other, whatever its class, the oldest first. So once a ticket is overdue, no ticket issued
   after it is called before it.
2. **Priority first, in proportion.** When priority and ordinary tickets both wait, the counter
   calls up to ``priority_calls`` priority tickets, then ``normal_calls`` ordinary ones, and
   starts over (3:1 by default). Calls made while only one class waits do not count toward the
   cycle: an ordinary citizen arriving after a run of priority calls owes nothing to it.
3. **Look ahead.** Letting a younger ticket go first delays every older one by one call
   (``call_interval_s``: mean service time / open counters). If that would push an older
   ticket past ``max_wait_s``, the oldest is called instead. Without this, priority arrivals
   can bring many ordinary tickets to the bound at once and they then wait several service
   times past it; with it and equal service times, no ticket waits longer than ``max_wait_s``
   (or first come, first served's own longest wait, when even that cannot keep the bound)
   plus one service time (tests/tickets/test_queue_policy.py checks this with hypothesis).
4. **FIFO within a class**, by issue time (then by key, the store's row id).

``strict``: priority tickets always first, FIFO within each class, no bound (the seed's policy).
``fcfs``: the oldest ticket first, classes ignored.

The cycle position is per counter (``CycleState``); with several counters on one queue the
proportion holds for the queue as a whole.

Estimates: ``ewma`` keeps a service's recent mean service time; ``order_of_calls`` replays the
policy over the tickets waiting now (no new arrivals, calls spaced by mean service time / open
counters) and gives each ticket's place; ``estimate_wait_s`` turns a place into seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class Mode(StrEnum):
    """How the next ticket is chosen."""

    FCFS = "fcfs"
    STRICT = "strict"
    BOUNDED = "bounded"


class Reason(StrEnum):
    """Why a ticket was chosen (logged and shown in ``kiosk queue status``)."""

    OVERDUE = "overdue"  # waited max_wait_s or longer
    DEADLINE = "deadline"  # another choice would push an older ticket past max_wait_s
    PRIORITY = "priority"  # priority's turn in the cycle (or strict priority)
    NORMAL = "normal"  # ordinary tickets' turn in the cycle
    ONLY_CLASS = "only_class"  # only one class waits
    FIFO = "fifo"  # first come, first served


@dataclass(frozen=True)
class PolicyParams:
    """The policy's settings; ``max_wait_s`` only applies to ``Mode.BOUNDED``."""

    mode: Mode = Mode.BOUNDED
    priority_calls: int = 3
    normal_calls: int = 1
    max_wait_s: float = 30 * 60.0

    def __post_init__(self) -> None:
        if not isinstance(self.mode, Mode):
            object.__setattr__(self, "mode", Mode(self.mode))
        if self.priority_calls < 1 or self.normal_calls < 1:
            raise ValueError("priority_calls and normal_calls must be at least 1")
        if not (self.max_wait_s > 0 and math.isfinite(self.max_wait_s)):
            raise ValueError(f"max_wait_s must be a positive number, got {self.max_wait_s!r}")


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket as the policy sees it: ``key`` identifies it to the caller."""

    key: int
    issued_at: float
    priority: bool


@dataclass(frozen=True)
class CycleState:
    """Where a counter is in its priority/ordinary cycle."""

    priority_run: int = 0
    normal_run: int = 0


@dataclass(frozen=True)
class Choice:
    """The ticket to call, why, and the counter's cycle state after the call."""

    candidate: Candidate
    reason: Reason
    state: CycleState


def _order(c: Candidate) -> tuple[float, int]:
    return (c.issued_at, c.key)


def _advance(state: CycleState, priority: bool, params: PolicyParams) -> CycleState:
    """The cycle after a call made while both classes waited."""
    if priority:
        return replace(state, priority_run=min(state.priority_run + 1, params.priority_calls))
    normal_run = state.normal_run + 1
    if normal_run >= params.normal_calls:
        return CycleState()  # the cycle is complete: priority's turn again
    return CycleState(state.priority_run, normal_run)


def choose_next(
    candidates: Iterable[Candidate],
    now: float,
    state: CycleState,
    params: PolicyParams,
    *,
    call_interval_s: float = 0.0,
) -> Choice | None:
    """The ticket a counter calls next among ``candidates`` (the tickets it may call).

    ``call_interval_s`` (mean service time / open counters) lets the bounded policy look ahead:
    it does not let a younger ticket go first when that would push an older one past
    ``max_wait_s``; with 0 it only reacts once a ticket is overdue.
    """
    ordered = sorted(candidates, key=_order)
    if not ordered:
        return None
    oldest = ordered[0]
    if params.mode is Mode.FCFS:
        return Choice(oldest, Reason.FIFO, state)
    oldest_priority = next((c for c in ordered if c.priority), None)
    if params.mode is Mode.STRICT:
        return Choice(
            oldest_priority or oldest, Reason.PRIORITY if oldest_priority else Reason.FIFO, state
        )

    oldest_normal = next((c for c in ordered if not c.priority), None)
    contested = oldest_priority is not None and oldest_normal is not None

    def call(c: Candidate, reason: Reason) -> Choice:
        return Choice(c, reason, _advance(state, c.priority, params) if contested else state)

    if now - oldest.issued_at >= params.max_wait_s:
        return call(oldest, Reason.OVERDUE)
    if not contested:
        return Choice(oldest, Reason.ONLY_CLASS, state)
    assert oldest_priority is not None and oldest_normal is not None
    if state.priority_run < params.priority_calls:
        preferred, reason = oldest_priority, Reason.PRIORITY
    else:
        preferred, reason = oldest_normal, Reason.NORMAL
    # Calling ``preferred`` first delays every older ticket by one call: not past the bound.
    for j, older in enumerate(ordered):
        if older is preferred:
            break
        if now + (j + 1) * call_interval_s - older.issued_at >= params.max_wait_s:
            return call(oldest, Reason.DEADLINE)
    return call(preferred, reason)


def order_of_calls(
    candidates: Sequence[Candidate],
    now: float,
    state: CycleState,
    params: PolicyParams,
    *,
    call_interval_s: float,
    until: int | None = None,
) -> list[Candidate]:
    """The order ``candidates`` would be called in if nobody else came: the policy replayed
    with one call every ``call_interval_s`` (mean service time / open counters). With
    ``until`` (a key), the replay stops once that ticket is called."""
    left = sorted(candidates, key=_order)  # kept in order: each sort in choose_next is linear
    order: list[Candidate] = []
    t = now
    while left:
        choice = choose_next(left, t, state, params, call_interval_s=call_interval_s)
        assert choice is not None
        order.append(choice.candidate)
        if choice.candidate.key == until:
            break
        left.remove(choice.candidate)
        state = choice.state
        t += call_interval_s
    return order


def ewma(mean: float | None, sample: float, alpha: float) -> float:
    """The exponentially weighted mean after ``sample``; the first sample is the mean."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    return sample if mean is None else mean + alpha * (sample - mean)


def estimate_wait_s(
    people_ahead: int, mean_service_s: float, open_counters: int, free_counters: int = 0
) -> float:
    """Seconds until a ticket with ``people_ahead`` before it is called.

    Free counters take the first callers at once; after that a counter frees up every
    ``mean_service_s / open_counters`` seconds, the first after about half of that.
    """
    if open_counters <= 0:
        raise ValueError("no open counter: the wait is unbounded")
    must_wait = people_ahead - max(0, free_counters)
    if must_wait < 0:
        return 0.0
    return (must_wait + 0.5) * mean_service_s / open_counters


def wait_minutes(seconds: float) -> int:
    """Whole minutes for a ticket: rounded up, 0 only for no wait."""
    return math.ceil(seconds / 60 - 1e-9) if seconds > 0 else 0
