"""kiosk/infra/text.py: money, dates and NFC the way Vietnamese papers write them."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

import pytest

from kiosk.infra.text import (
    format_date,
    format_datetime,
    format_fee,
    format_vnd,
    group_thousands,
    nfc,
    nfc_deep,
)


@pytest.mark.parametrize(
    ("amount", "lang", "expected"),
    [
        (50000, "vi", "50.000 đ"),
        (1234567, "vi", "1.234.567 đ"),
        (500, "vi", "500 đ"),
        (0, "vi", "0 đ"),
        (50000, "en", "50,000 VND"),
    ],
)
def test_money_is_grouped_the_way_each_language_reads_it(
    amount: int, lang: str, expected: str
) -> None:
    assert format_vnd(amount, lang) == expected


def test_money_written_out_and_grouped_alone() -> None:
    assert format_vnd(1500000, in_words=True) == "1.500.000 đồng"
    assert format_vnd(1500000, "en", in_words=True) == "1,500,000 VND"
    assert group_thousands(1500000) == "1.500.000"
    assert group_thousands(999) == "999"


def test_a_fee_of_nothing_is_free_of_charge() -> None:
    assert format_fee(0, "vi") == "Miễn phí"
    assert format_fee(0, "en") == "Free of charge"
    assert format_fee(50000, "vi") == "50.000 đ"


def test_negative_money_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_vnd(-5)


def test_dates_are_day_month_year_after_the_time() -> None:
    assert format_date(date(2024, 12, 3)) == "03/12/2024"
    assert format_datetime(datetime(2024, 11, 26, 8, 5)) == "08:05 26/11/2024"


def test_nfc_reaches_every_string_of_a_declaration() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn Án")
    assert nfc(decomposed) == "Nguyễn Văn Án" and nfc(decomposed) != decomposed
    value = {decomposed: [decomposed, {"k": decomposed}, 3, None], "n": (decomposed,)}
    assert nfc_deep(value) == {
        "Nguyễn Văn Án": ["Nguyễn Văn Án", {"k": "Nguyễn Văn Án"}, 3, None],
        "n": ["Nguyễn Văn Án"],
    }
