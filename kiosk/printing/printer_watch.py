"""Whether queue tickets will print, what the queue screen tells the citizen, and staff alerts.

``PrinterWatch.seen(status)`` turns the printer's status
(``devices.printer.interface.PrinterStatus``)
into the notice shown before a citizen takes a number (None when tickets will print), and
alerts staff once per outage rather than once per citizen; paper near its end alerts staff once
per run of the kiosk and tells the citizen nothing. The messages are English msgids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MSG_TICKET_NOT_PRINTED = (
    "The ticket could not be printed. Please remember your number on the screen; "
    "staff have been alerted."
)
MSG_QUEUE_PRINTER_OUT = (
    "The printer is out of paper. "
    "Your number will be shown on screen: please remember it or take a photo."
)
MSG_QUEUE_PRINTER_COVER = (
    "The printer cover is open. "
    "Your number will be shown on screen: please remember it or take a photo."
)
MSG_QUEUE_PRINTER_DOWN = (
    "The printer is not working right now. "
    "Your number will be shown on screen: please remember it or take a photo."
)
MSG_QUEUE_NO_PRINTER = (
    "This kiosk has no printer. "
    "Your number will be shown on screen: please remember it or take a photo."
)
MSG_TICKET_NO_PRINTER = (
    "This kiosk has no printer. Please remember your number or take a photo of the screen."
)


class PrinterWatch:
    """What the printer's state means for a citizen taking a number, and staff alerts that do
    not repeat for every citizen.

    A printer that cannot print (out of paper, cover open, offline, silent, faulty) gives the
    queue screen a notice and alerts staff once; staff are alerted again only after the printer
    was seen ready in between. Paper near its end tells the citizen nothing and alerts staff
    once per run of the kiosk. A kiosk configured without a printer tells the citizen and never
    alerts. Not thread-safe: the flow uses it from its runner's single thread only.
    """

    def __init__(self, alert: Callable[[str], None], *, configured: bool = True) -> None:
        self._alert = alert
        self.configured = configured
        self._down = False
        self._near_end_alerted = False

    @property
    def not_printed_msgid(self) -> str:
        """What the ticket screen says of a ticket that was not printed."""
        return MSG_TICKET_NOT_PRINTED if self.configured else MSG_TICKET_NO_PRINTER

    def seen(self, status: Any) -> str | None:
        """The notice for this status (None: tickets will print); alerts staff when due."""
        if not self.configured:
            return MSG_QUEUE_NO_PRINTER
        if status.paper == "near_end" and not self._near_end_alerted:
            self._near_end_alerted = True
            self._tell_staff(f"printer paper near its end: {status.detail}")
        if status.ready:
            self.printed()
            return None
        if status.cover_open:
            msgid = MSG_QUEUE_PRINTER_COVER
        elif status.paper == "out":
            msgid = MSG_QUEUE_PRINTER_OUT
        else:
            msgid = MSG_QUEUE_PRINTER_DOWN
        self._went_down(f"printer not ready, queue numbers shown on screen only: {status.detail}")
        return msgid

    def print_failed(self, exc: BaseException, what: str) -> None:
        """A job failed although the printer seemed ready (or during the job)."""
        if self.configured:
            self._went_down(f"{what} not printed: {exc}")

    def printed(self) -> None:
        """The printer printed, or says it is ready: the next problem is alerted again."""
        if self._down:
            log.info("printer ready again")
        self._down = False

    def _went_down(self, message: str) -> None:
        if not self._down:
            self._down = True
            self._tell_staff(message)
        else:
            log.warning("%s (staff already alerted)", message)

    def _tell_staff(self, message: str) -> None:
        try:
            self._alert(message)
        except Exception:  # noqa: BLE001 - an alert that fails must not stop the ticket
            log.exception("staff alert not raised: %s", message)
