"""Text as Vietnamese papers write it: NFC, money in đồng, dates day first.

``nfc``              every string that is shown, printed, stored or compared goes through it
                     (a Vietnamese letter typed as a base and combining marks is not equal to
                     the same letter precomposed)
``nfc_deep``         the same through a JSON-like value (a declaration's answers)
``group_thousands``  1500000 → ``1.500.000`` (Vietnamese) or ``1,500,000`` (English)
``format_vnd``       1500000 → ``1.500.000 đ`` (``1.500.000 đồng`` written out), ``1,500,000 VND``
``format_fee``       a fee: ``format_vnd``, or "Miễn phí" / "Free of charge" when there is none
``format_date``      dd/mm/yyyy, as on every Vietnamese form
``format_datetime``  HH:MM dd/mm/yyyy: the time, then the day, as a receipt gives it

``kiosk.emrtd`` and ``kiosk.vision`` (which follow their specs alone) and ``devices`` (below
``kiosk``) normalise with ``unicodedata`` directly; everything else uses this module.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any


def nfc(text: str) -> str:
    """The NFC form of ``text``."""
    return unicodedata.normalize("NFC", text)


def nfc_deep(value: Any) -> Any:
    """``value`` with every string (dictionary keys too) in NFC, through lists and dicts."""
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, dict):
        return {nfc_deep(k): nfc_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nfc_deep(v) for v in value]
    return value


def group_thousands(amount: int, lang: str = "vi") -> str:
    """Digits grouped by thousands: ``.`` in Vietnamese, ``,`` in English."""
    grouped = f"{amount:,}"
    return grouped.replace(",", ".") if lang == "vi" else grouped


def format_vnd(amount: int, lang: str = "vi", *, in_words: bool = False) -> str:
    """An amount of money: ``50.000 đ``, or ``50.000 đồng`` written out (declarations), and
    ``50,000 VND`` in English."""
    if amount < 0:
        raise ValueError(f"amount {amount} is negative")
    if lang != "vi":
        return f"{group_thousands(amount, lang)} VND"
    return f"{group_thousands(amount)} {'đồng' if in_words else 'đ'}"


def format_fee(amount: int, lang: str = "vi") -> str:
    """A procedure's fee as the procedure list, the review and the receipt show it."""
    from kiosk.i18n import translate

    return translate("Free of charge", lang) if amount == 0 else format_vnd(amount, lang)


def format_date(value: date) -> str:
    """dd/mm/yyyy."""
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime) -> str:
    """HH:MM dd/mm/yyyy."""
    return value.strftime("%H:%M %d/%m/%Y")
