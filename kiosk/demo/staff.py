"""Sample staff for renders and demonstrations: two people, one technician, one supervisor.

Their PINs are public (this file), so ``seed_demo_staff`` only ever writes into a folder that
has no staff yet, and only the screenshots call it; a real kiosk's staff are added one by one
with ``kiosk staff add``.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.staff.accounts import AccountBook, Role, StaffAccount

DEMO_STAFF: tuple[tuple[str, Role, str], ...] = (
    ("Nguyễn Thị Lan", Role.TECHNICIAN, "480215"),
    ("Trần Văn Minh", Role.SUPERVISOR, "739104"),
)


def seed_demo_staff(data_dir: Path) -> list[StaffAccount]:
    """The demo staff in ``data_dir`` (NV001, NV002), unless it already has staff."""
    book = AccountBook.in_data_dir(Path(data_dir))
    if book.accounts():
        return []
    return [book.add(name, role, pin) for name, role, pin in DEMO_STAFF]
