"""Vietnam's time (Asia/Ho_Chi_Minh, UTC+7 all year) and a clock that can be frozen.

``now_vietnam()`` is the one clock of the kiosk and of the reference back office;
``frozen_clock(at)`` holds it still while screenshots and reference images are rendered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone, tzinfo


def _vietnam_tz() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Ho_Chi_Minh")
    except Exception:  # no tz database on the machine: Vietnam has kept UTC+7 since 1975
        return timezone(timedelta(hours=7), "ICT")


VIETNAM_TZ: tzinfo = _vietnam_tz()


_frozen_at: datetime | None = None


def now_vietnam() -> datetime:
    """The current time in Vietnam, timezone-aware: the default clock of the kiosk's services
    (unless ``frozen_clock`` holds it still)."""
    if _frozen_at is not None:
        return _frozen_at
    return datetime.now(VIETNAM_TZ)


def frozen_now() -> datetime | None:
    """The time ``frozen_clock`` holds the wall clock at, or None while it runs."""
    return _frozen_at


@contextmanager
def frozen_clock(at: datetime | None) -> Iterator[None]:
    """Hold the kiosk's wall clock at ``at`` (naive: Vietnam time) while inside; ``None``: leave
    it running. ``kiosk screenshot --at`` renders dated screens that compare from day to day."""
    global _frozen_at
    if at is None:
        yield
        return
    previous = _frozen_at
    _frozen_at = at if at.tzinfo else at.replace(tzinfo=VIETNAM_TZ)
    try:
        yield
    finally:
        _frozen_at = previous


def to_vietnam_time(moment: datetime) -> datetime:
    """``moment`` in Vietnam time; a naive datetime is taken to be Vietnam time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=VIETNAM_TZ)
    return moment.astimezone(VIETNAM_TZ)
