"""The staff exception tree. Every module of ``kiosk/staff`` raises only these (and ValueError
for a programming mistake, such as personal data handed to the audit log).

    KioskError                      (kiosk/errors.py)
     └── StaffError                 a staff account, a PIN or the audit log cannot be used
          ├── StaffFileError        accounts.json or lockout.json is broken or unreadable
          │                         (``str()`` names the file and the problem, one line)
          ├── WeakPin               a new PIN breaks the PIN rules (the reason in ``str()``)
          ├── UnknownAccount        no account with this id
          ├── CardRefused           a staff-card number that is not a valid 12-digit ID, or
          │                         one already on another account
          ├── SessionExpired        a staff session ended (inactivity or sign-out) was used
          └── AuditLogError         the audit log cannot be read or written

These are for staff and operators: they keep KioskError's general citizen message.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.errors import KioskError


class StaffError(KioskError):
    """Base of the staff errors."""


class StaffFileError(StaffError):
    """One of the staff files is broken: ``str()`` is ``<file>: <problem>`` on one line."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = " ".join(problem.split())
        super().__init__(f"{path}: {self.problem}")


class WeakPin(StaffError):
    """A PIN that breaks the rules; ``str()`` says which rule."""


class UnknownAccount(StaffError):
    """No staff account has this id."""


class CardRefused(StaffError):
    """A staff-card number that is not a valid ID number or is already on another account."""


class SessionExpired(StaffError):
    """A staff session was used after it ended: the staff member signs in again."""


class AuditLogError(StaffError):
    """The audit log could not be read or written (``str()`` names the file)."""
