"""The back office as the kiosk sees it: the ``BackOffice`` interface and its errors.

The HTTP client (kiosk/delivery/http_client.py) implements it against the API of backoffice/;
the outbox (kiosk/delivery/outbox/) delivers through it. Submitting is idempotent on
``dossier.idempotency_key``: the same key with the same body returns the first answer; the same
key with another body raises ``IdempotencyConflict``.

Exceptions::

    KioskError
     └── BackOfficeError
          ├── BackOfficeUnavailable   (citizen) the service or its storage cannot be reached;
          │                           the outbox keeps the dossier and retries
          ├── DossierNotFound         (citizen) no dossier has this code
          ├── IdempotencyConflict     (kiosk bug) a key reused for a different dossier
          ├── SubmissionRejected      (citizen) the dossier is refused; ``problems`` says why
          └── InvalidTransition       (staff) that state cannot follow the current one

``DossierCodeError`` (kiosk/dossier/model.py) is raised as is for a malformed code.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from devices.base import Health
from kiosk.dossier.model import (
    DossierStatus,
    DossierSubmission,
    SubmissionResult,
)
from kiosk.errors import KioskError


class BackOfficeError(KioskError):
    """The back office could not do what was asked."""


class BackOfficeUnavailable(BackOfficeError):
    """The back office or its storage cannot be reached right now."""

    msgid = (
        "The dossier service cannot be reached right now. Your dossier is kept safely and will "
        "be sent automatically."
    )


class DossierNotFound(BackOfficeError):
    """No dossier has this code."""

    msgid = "No dossier has this code. Please check the code on your receipt."


class IdempotencyConflict(BackOfficeError):
    """The idempotency key was already used for a different dossier (a bug of the sender)."""


class SubmissionRejected(BackOfficeError):
    """The back office refuses the dossier; ``problems`` lists the reasons (for the log)."""

    msgid = "The dossier could not be accepted. Please ask the staff at the counter for help."

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("dossier rejected: " + "; ".join(problems))


class InvalidTransition(BackOfficeError):
    """Staff asked for a state that cannot follow the dossier's current one."""


@runtime_checkable
class BackOffice(Protocol):
    """What the kiosk needs from a back office."""

    def submit(self, dossier: DossierSubmission) -> SubmissionResult:
        """Register the dossier; idempotent on ``dossier.idempotency_key``."""
        ...

    def lookup(self, code: str) -> DossierStatus:
        """The dossier's status and history."""
        ...

    def health(self) -> Health:
        """Whether the back office answers, for ``kiosk doctor``."""
        ...
