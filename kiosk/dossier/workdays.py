"""Working days: the holiday calendar from config/holidays.toml and the appointment-date count.

The receipt-day rule (how ``add_working_days`` counts)
------------------------------------------------------
Times are taken in Vietnam's time (Asia/Ho_Chi_Minh); a naive datetime is read as Vietnam time.

1. The *effective receipt day* is the day the dossier was received if that day is a working day
   and the time is before the cut-off (``cutoff`` in the TOML, default 16:30). A dossier received
   at or after the cut-off, or on a non-working day (Saturday, Sunday, public holiday, day off
   given in exchange for a working Saturday), counts as received on the next working day.
2. The processing time runs from the day after the effective receipt day: the appointment is the
   n-th working day after it. With n = 0 (same-day procedures) it is the effective receipt day.
3. Working days are Monday to Friday minus the listed holidays, plus the listed compensatory
   working Saturdays ("ngày làm bù").

Example (Tết Bính Ngọ: days off from Saturday 14/2/2026 to Sunday 22/2/2026): a 3-working-day
procedure received on Friday 13/2 at 10:00 counts 23/2, 24/2, 25/2 and is due on Wednesday
25/2; received the same Friday at 17:00 it counts as received on Monday 23/2 and is due on
Thursday 26/2.

The calendar covers the years listed in ``years``; for a year outside it only weekends are
skipped, and ``HolidayCalendar.covers(year)`` lets ``kiosk doctor`` warn the operator. The file
must be updated each year from the Prime Minister's / Ministry of Home Affairs' notice.

Exceptions::

    KioskError
     └── WorkdaysError            (operator) the holiday calendar cannot be used
          └── HolidayFileError    the TOML file is missing, malformed or inconsistent;
                                  ``problems`` lists every mistake with file and entry
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.infra.clock import to_vietnam_time
from kiosk.infra.text import nfc

DEFAULT_CUTOFF = time(16, 30)


_SATURDAY, _SUNDAY = 5, 6


class WorkdaysError(KioskError):
    """The holiday calendar cannot be used (an operator's problem, not the citizen's)."""


class HolidayFileError(WorkdaysError):
    """The holiday file is missing, malformed or inconsistent; ``problems`` lists each mistake."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class Holiday:
    """A public holiday or day off; ``confirmed`` is False until the government's notice is out."""

    day: date
    name: str
    confirmed: bool = True


@dataclass(frozen=True)
class HolidayCalendar:
    """Days off and compensatory working Saturdays for the ``years`` the file covers."""

    years: frozenset[int]
    holidays: Mapping[date, Holiday] = field(default_factory=dict)
    working_weekend_days: Mapping[date, str] = field(default_factory=dict)
    cutoff: time = DEFAULT_CUTOFF
    source: Path | None = None

    def covers(self, year: int) -> bool:
        """True when the file lists that year's holidays."""
        return year in self.years

    def holiday(self, day: date) -> Holiday | None:
        """The holiday on ``day``, if any."""
        return self.holidays.get(day)

    def unconfirmed(self) -> list[Holiday]:
        """Listed days still waiting for the government's notice, in date order."""
        return sorted((h for h in self.holidays.values() if not h.confirmed), key=lambda h: h.day)


def is_working_day(d: date, cal: HolidayCalendar) -> bool:
    """Monday to Friday unless a holiday, or a weekend day listed as a compensatory working day."""
    if isinstance(d, datetime):
        d = d.date()
    if d in cal.working_weekend_days:
        return True
    if d.weekday() in (_SATURDAY, _SUNDAY):
        return False
    return d not in cal.holidays


def next_working_day(d: date, cal: HolidayCalendar) -> date:
    """The first working day strictly after ``d``."""
    d += timedelta(days=1)
    while not is_working_day(d, cal):
        d += timedelta(days=1)
    return d


def receipt_day(received_at: datetime, cal: HolidayCalendar) -> date:
    """The effective receipt day under the receipt-day rule (see the module docstring)."""
    local = to_vietnam_time(received_at)
    day = local.date()
    if is_working_day(day, cal) and local.time() < cal.cutoff:
        return day
    return next_working_day(day, cal)


def add_working_days(start: datetime, n: int, cal: HolidayCalendar) -> date:
    """The appointment date: ``n`` working days after the effective receipt day of ``start``."""
    if not isinstance(start, datetime):
        raise TypeError("start must be a datetime (the moment of receipt), not a date")
    if n < 0:
        raise ValueError(f"the number of working days must not be negative, got {n}")
    day = receipt_day(start, cal)
    for _ in range(n):
        day = next_working_day(day, cal)
    return day


_TOP_KEYS = {"years", "cutoff", "day", "working_day"}


_DAY_KEYS = {"date", "name", "confirmed", "note"}


_WORKING_KEYS = {"date", "name", "note"}


def _parse_cutoff(value: Any, problems: list[str]) -> time:
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        try:
            hours, minutes = value.split(":")
            return time(int(hours), int(minutes))
        except ValueError:
            pass
    problems.append(f'cutoff: {value!r} is not a time of day like "16:30"')
    return DEFAULT_CUTOFF


def _entry_date(entry: Mapping[str, Any], where: str, problems: list[str]) -> date | None:
    value = entry.get("date")
    if value is None:
        problems.append(f"{where}.date: missing")
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        problems.append(
            f"{where}.date: {value!r} is not a date; write it as a TOML date like 2026-02-16 "
            "(no quotes, no time)"
        )
        return None
    return value


def _entry_name(entry: Mapping[str, Any], where: str, problems: list[str]) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}.name: missing or empty")
        return ""
    return nfc(name)


def _check_keys(entry: Mapping[str, Any], allowed: set[str], where: str, problems: list[str]):
    for key in sorted(set(entry) - allowed):
        problems.append(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")


def parse_holidays(data: Mapping[str, Any], source: Path | None = None) -> HolidayCalendar:
    """Build a calendar from already-parsed TOML data; raises HolidayFileError on any mistake."""
    problems: list[str] = []
    path = source or Path("<holidays>")
    _check_keys(data, _TOP_KEYS, "(top level)", problems)

    raw_years = data.get("years")
    years: set[int] = set()
    if not isinstance(raw_years, list) or not raw_years:
        problems.append("years: missing; list the years this file covers, e.g. years = [2026]")
    else:
        for i, y in enumerate(raw_years):
            if isinstance(y, bool) or not isinstance(y, int) or not 2000 <= y <= 2100:
                problems.append(f"years[{i}]: {y!r} is not a year")
            else:
                years.add(y)

    cutoff = _parse_cutoff(data.get("cutoff", "16:30"), problems)

    holidays: dict[date, Holiday] = {}
    raw_days = data.get("day", [])
    if not isinstance(raw_days, list):
        problems.append("day: must be a list of [[day]] tables")
        raw_days = []
    for i, entry in enumerate(raw_days):
        where = f"day[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table with date and name")
            continue
        _check_keys(entry, _DAY_KEYS, where, problems)
        d = _entry_date(entry, where, problems)
        name = _entry_name(entry, where, problems)
        confirmed = entry.get("confirmed", True)
        if not isinstance(confirmed, bool):
            problems.append(f"{where}.confirmed: must be true or false")
            confirmed = False
        if d is None:
            continue
        if years and d.year not in years:
            problems.append(f"{where}.date: {d} is outside the years listed in 'years'")
        if d in holidays:
            problems.append(f"{where}.date: {d} is listed twice")
        holidays[d] = Holiday(d, name, confirmed)

    working: dict[date, str] = {}
    raw_working = data.get("working_day", [])
    if not isinstance(raw_working, list):
        problems.append("working_day: must be a list of [[working_day]] tables")
        raw_working = []
    for i, entry in enumerate(raw_working):
        where = f"working_day[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table with date and name")
            continue
        _check_keys(entry, _WORKING_KEYS, where, problems)
        d = _entry_date(entry, where, problems)
        name = _entry_name(entry, where, problems)
        if d is None:
            continue
        if d.weekday() not in (_SATURDAY, _SUNDAY):
            problems.append(
                f"{where}.date: {d} is a weekday; a compensatory working day is a weekend day"
            )
        if d in holidays:
            problems.append(f"{where}.date: {d} is also listed as a day off")
        if years and d.year not in years:
            problems.append(f"{where}.date: {d} is outside the years listed in 'years'")
        working[d] = name

    if problems:
        raise HolidayFileError(path, problems)
    return HolidayCalendar(frozenset(years), holidays, working, cutoff, source)


def load_holidays(path: Path) -> HolidayCalendar:
    """Read and check a holidays TOML file (see config/holidays.toml for the format)."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as e:
        raise HolidayFileError(path, ["file not found"]) from e
    except OSError as e:
        raise HolidayFileError(path, [f"cannot be read: {e.strerror or e}"]) from e
    except UnicodeDecodeError as e:
        raise HolidayFileError(path, ["is not UTF-8 text"]) from e
    except tomllib.TOMLDecodeError as e:
        raise HolidayFileError(path, [f"not valid TOML: {e}"]) from e
    return parse_holidays(data, path)
