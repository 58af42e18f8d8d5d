"""Working days: the shipped holiday calendar, the receipt-day rule and bad holiday files."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from kiosk.dossier.workdays import (
    HolidayCalendar,
    HolidayFileError,
    add_working_days,
    is_working_day,
    load_holidays,
    receipt_day,
)
from kiosk.infra.clock import VIETNAM_TZ
from kiosk.paths import CONFIG_DIR

HOLIDAYS = CONFIG_DIR / "holidays.toml"


@pytest.fixture(scope="module")
def cal() -> HolidayCalendar:
    return load_holidays(HOLIDAYS)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped calendar ---


def test_shipped_calendar_covers_three_years_with_nfc_names(cal: HolidayCalendar) -> None:
    assert cal.years == frozenset({2025, 2026, 2027})
    assert cal.cutoff == time(16, 30)
    for h in cal.holidays.values():
        assert unicodedata.is_normalized("NFC", h.name), h
        assert h.day.weekday() < 5, f"{h.day} is a weekend day: list only weekdays off"
    assert "UPDATE THIS FILE EVERY YEAR" in HOLIDAYS.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 1),
        date(2025, 1, 27),
        date(2025, 1, 31),
        date(2025, 4, 7),
        date(2025, 4, 30),
        date(2025, 5, 1),
        date(2025, 5, 2),
        date(2025, 9, 1),
        date(2025, 9, 2),
        date(2026, 1, 2),
        date(2026, 2, 16),
        date(2026, 2, 20),
        date(2026, 4, 27),
        date(2026, 9, 2),
        date(2027, 4, 16),
        date(2027, 5, 3),
    ],
)
def test_days_off(cal: HolidayCalendar, day: date) -> None:
    assert not is_working_day(day, cal)


def test_weekends_off_and_compensatory_saturdays_worked(cal: HolidayCalendar) -> None:
    assert not is_working_day(date(2026, 2, 14), cal)  # Saturday of the Tết break
    assert is_working_day(date(2025, 4, 26), cal)  # Saturday worked for Friday 2/5/2025
    assert is_working_day(date(2026, 1, 10), cal)  # Saturday worked for Friday 2/1/2026
    assert is_working_day(date(2026, 2, 23), cal)
    assert is_working_day(datetime(2026, 2, 23, 9), cal)


def test_unconfirmed_days_are_listed(cal: HolidayCalendar) -> None:
    days = [h.day for h in cal.unconfirmed()]
    assert date(2026, 9, 1) in days
    assert date(2027, 2, 5) in days
    assert date(2026, 2, 16) not in days
    assert days == sorted(days)


# --- the receipt-day rule ---


def test_morning_receipt_counts_from_the_next_day(cal: HolidayCalendar) -> None:
    # Friday 13/2/2026, just before Tết: days 1..3 are 23, 24, 25 February.
    assert add_working_days(datetime(2026, 2, 13, 10, 0), 3, cal) == date(2026, 2, 25)


def test_receipt_after_cutoff_counts_as_next_working_day(cal: HolidayCalendar) -> None:
    assert receipt_day(datetime(2026, 2, 13, 17, 0), cal) == date(2026, 2, 23)
    assert add_working_days(datetime(2026, 2, 13, 17, 0), 3, cal) == date(2026, 2, 26)


def test_cutoff_is_inclusive(cal: HolidayCalendar) -> None:
    assert receipt_day(datetime(2026, 3, 3, 16, 29, 59), cal) == date(2026, 3, 3)
    assert receipt_day(datetime(2026, 3, 3, 16, 30), cal) == date(2026, 3, 4)


def test_receipt_on_a_weekend_or_holiday(cal: HolidayCalendar) -> None:
    assert receipt_day(datetime(2026, 3, 7, 9), cal) == date(2026, 3, 9)  # Saturday
    assert receipt_day(datetime(2026, 4, 30, 9), cal) == date(2026, 5, 4)  # 30/4, 1/5, weekend
    assert add_working_days(datetime(2026, 4, 30, 9), 1, cal) == date(2026, 5, 5)


def test_zero_days_is_the_effective_receipt_day(cal: HolidayCalendar) -> None:
    assert add_working_days(datetime(2026, 3, 3, 9), 0, cal) == date(2026, 3, 3)
    assert add_working_days(datetime(2026, 3, 3, 18), 0, cal) == date(2026, 3, 4)


def test_compensatory_saturday_is_counted(cal: HolidayCalendar) -> None:
    start = datetime(2025, 4, 25, 10)  # Friday
    assert add_working_days(start, 1, cal) == date(2025, 4, 26)  # Saturday worked
    assert add_working_days(start, 2, cal) == date(2025, 4, 28)
    assert add_working_days(start, 3, cal) == date(2025, 4, 29)
    assert add_working_days(start, 4, cal) == date(2025, 5, 5)  # 30/4 .. 4/5 off


def test_aware_times_are_read_in_vietnam_time(cal: HolidayCalendar) -> None:
    utc = datetime(2026, 3, 3, 9, 45, tzinfo=UTC)  # 16:45 in Hà Nội
    assert receipt_day(utc, cal) == date(2026, 3, 4)
    local = datetime(2026, 3, 3, 9, 45, tzinfo=VIETNAM_TZ)
    assert receipt_day(local, cal) == date(2026, 3, 3)


def test_crossing_into_a_year_not_listed_skips_only_weekends(cal: HolidayCalendar) -> None:
    assert not cal.covers(2028)
    # Friday 31/12/2027 morning, 2 days: Monday 3/1 and Tuesday 4/1/2028.
    assert add_working_days(datetime(2027, 12, 31, 9), 2, cal) == date(2028, 1, 4)


def test_bad_arguments(cal: HolidayCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(datetime(2026, 3, 3, 9), -1, cal)
    with pytest.raises(TypeError, match="datetime"):
        add_working_days(date(2026, 3, 3), 1, cal)  # type: ignore[arg-type]


def test_custom_cutoff(tmp_path: Path) -> None:
    cal = load_holidays(write(tmp_path, 'years = [2026]\ncutoff = "15:00"\n'))
    assert cal.cutoff == time(15, 0)
    assert receipt_day(datetime(2026, 3, 3, 15, 5), cal) == date(2026, 3, 4)
    assert not cal.holidays


# --- bad files: every mistake named, nothing half-loaded ---


def test_impossible_date_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'years = [2026]\n\n[[day]]\ndate = 2026-02-30\nname = "Tết"\n')
    with pytest.raises(HolidayFileError) as e:
        load_holidays(path)
    assert str(path) in str(e.value)
    assert "not valid TOML" in str(e.value)
    assert "line 4" in str(e.value)
    assert path.read_text(encoding="utf-8").count("2026-02-30") == 1  # file untouched


def test_quoted_date_and_other_mistakes_are_all_listed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\n".join(
            [
                "years = [2026]",
                'cutoff = "half past four"',
                "[[day]]",
                'date = "2026-02-16"',
                'name = "Tết"',
                "[[day]]",
                "date = 2026-02-17",
                'name = ""',
                "[[day]]",
                "date = 2027-01-01",
                'name = "Tết Dương lịch"',
                "[[day]]",
                "date = 2026-02-17",
                'name = "Tết"',
                "colour = 1",
                "[[working_day]]",
                "date = 2026-02-18",
                'name = "Làm bù"',
            ]
        ),
    )
    with pytest.raises(HolidayFileError) as e:
        load_holidays(path)
    problems = e.value.problems
    text = str(e.value)
    assert str(path) in text
    assert any(p.startswith("cutoff:") for p in problems)
    assert any(p.startswith("day[0].date:") and "TOML date" in p for p in problems)
    assert any(p.startswith("day[1].name:") for p in problems)
    assert any(p.startswith("day[2].date:") and "outside the years" in p for p in problems)
    assert any(p.startswith("day[3].date:") and "twice" in p for p in problems)
    assert any(p.startswith("day[3].colour:") and "unknown key" in p for p in problems)
    assert any(p.startswith("working_day[0].date:") and "weekday" in p for p in problems)
    assert len(problems) == 7


def test_datetime_instead_of_date(tmp_path: Path) -> None:
    path = write(tmp_path, 'years = [2026]\n[[day]]\ndate = 2026-02-16T00:00:00\nname = "Tết"\n')
    with pytest.raises(HolidayFileError, match=r"day\[0\]\.date: .* no time"):
        load_holidays(path)


def test_missing_years(tmp_path: Path) -> None:
    with pytest.raises(HolidayFileError, match="years: missing"):
        load_holidays(write(tmp_path, '[[day]]\ndate = 2026-02-16\nname = "Tết"\n'))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(HolidayFileError, match="file not found") as e:
        load_holidays(path)
    assert str(path) in str(e.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "holidays.toml"
    path.write_bytes(b"years = [2026]\n# T\xea\xd2t\n")  # a legacy 8-bit encoding
    with pytest.raises(HolidayFileError, match="not UTF-8") as e:
        load_holidays(path)
    assert str(path) in str(e.value)


def test_holiday_names_are_normalised_to_nfc(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Tết Nguyên đán")
    cal = load_holidays(
        write(tmp_path, f'years = [2026]\n[[day]]\ndate = 2026-02-16\nname = "{nfd}"\n')
    )
    assert cal.holiday(date(2026, 2, 16)).name == "Tết Nguyên đán"  # type: ignore[union-attr]
