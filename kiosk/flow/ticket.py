"""The queue journey: the services and their waits, a number taken, the ticket printed.

The printer's state is asked before the citizen chooses (the queue screen warns when tickets
will not print) and again just before printing; staff are alerted once per outage
(``PrinterWatch``, one per kiosk run). A ticket is issued even when it cannot be printed: the
ticket screen then says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.errors import KioskError
from kiosk.flow.context import FlowContext
from kiosk.printing.printer_watch import MSG_TICKET_NOT_PRINTED, PrinterWatch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueLoad:
    """One service's queue now: the tickets waiting, and the wait in whole minutes of a ticket
    taken now, ordinary or priority (None: no open counter serves the service)."""

    service_code: str
    waiting: int
    wait_min: int | None
    priority_wait_min: int | None


class QueueJourney:
    """Taking a number for a counter."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        # one per kiosk run: "paper near end" is alerted once a run
        services = ctx.services
        self._printer_watch = PrinterWatch(
            services.alert_staff, configured=services.config.printer.mode != "none"
        )

    def services_for_queue(self) -> list[Any]:
        return self.ctx.services.catalog.services()

    def load(self) -> dict[str, QueueLoad]:
        """Per service: the tickets waiting now and the estimated wait of a ticket taken now
        (ordinary and priority). A few SQLite reads (about 1 ms with 50 tickets waiting, 6 ms
        with 300), but the store may wait for another process's write lock (up to its busy
        timeout times its retries): screens call ``refresh_load``."""
        tickets = self.ctx.services.tickets
        waiting = tickets.waiting_by_service()
        load: dict[str, QueueLoad] = {}
        for service in self.services_for_queue():
            code = service.code
            _, normal = tickets.estimate(code)
            _, priority = tickets.estimate(code, priority=True)
            load[code] = QueueLoad(code, waiting.get(code, 0), normal, priority)
        return load

    def refresh_load(self, done: Callable[[dict[str, QueueLoad]], None]) -> None:
        """``load()`` in the runner, off the UI thread; ``done(load)``. A store that cannot be
        read gives ``done({})`` (logged): the screen then shows no figures."""

        def failed(exc: BaseException) -> None:
            log.warning("queue figures not shown: %s", exc)
            done({})

        self.ctx.run(self.load, done, failed)

    def check_printer(self, done: Callable[[str | None], None] = lambda msgid: None) -> None:
        """Ask the printer for its state in the runner (a silent network printer takes its
        status timeout, an unreachable one its connect timeout); ``done(msgid)`` with the notice
        the queue screen shows before the citizen takes a number, None when tickets will print.
        Staff are alerted once per outage (see ``PrinterWatch``)."""
        self.ctx.run(self._printer_notice, done)

    def _printer_notice(self) -> str | None:
        """The printer's status now, through the watch (which alerts staff); runs in the
        runner: the watch is only touched from there."""
        return self._printer_watch.seen(self.ctx.services.printer.status())

    def ticket_not_printed(self) -> str | None:
        """The msgid the ticket screen shows when the session's ticket was not printed."""
        return self.ctx.session.data.ticket_not_printed

    def issue_ticket(self, service_code: str, priority_class: str | None) -> None:
        """Issue a ticket and print it (in the runner). The printer's state is asked again
        just before: a printer that is not ready is not sent the job (no second timeout), the
        ticket is issued all the same and the ticket screen says it was not printed."""
        ctx = self.ctx
        identity = ctx.session.data.identity
        from_chip = bool(
            priority_class == "elderly" and identity is not None and identity.source.value == "chip"
        )

        def work() -> tuple[Any, str | None]:
            notice = self._printer_notice()
            ticket = ctx.services.tickets.issue(service_code, priority_class, from_chip=from_chip)
            if notice is not None:
                log.warning("ticket %s shown on screen only: printer not ready", ticket.number)
                return ticket, self._printer_watch.not_printed_msgid
            return ticket, None if self._print_ticket(ticket) else MSG_TICKET_NOT_PRINTED

        def done(outcome: tuple[Any, str | None]) -> None:
            ticket, not_printed = outcome
            ctx.session.ticket_issued(service_code, priority_class, ticket, not_printed)

        ctx.run(work, done)

    def _print_ticket(self, ticket: Any) -> bool:
        from kiosk.printing.receipt import QueueTicketData, ticket_layout
        from kiosk.tickets.store import find_priority_class

        services = self.ctx.services
        cfg = services.config.kiosk
        service = next(
            (s for s in services.catalog.services() if s.code == ticket.service_code), None
        )
        label = None
        if ticket.priority_class:
            label = "Ưu tiên: " + find_priority_class(ticket.priority_class).label_vi.lower()
        data = QueueTicketData(
            number=ticket.number,
            service_name=service.name_vi if service else ticket.service_code,
            counter=None,
            people_ahead=ticket.people_ahead,
            estimated_wait_min=getattr(ticket, "estimated_wait", None),
            priority_label=label,
            issued_at=ticket.issued_at,
            agency_name=cfg.agency_name,
            kiosk_id=cfg.id,
        )
        try:
            services.printer.print_layout(ticket_layout(data, lang="vi"))
        except KioskError as exc:
            log.error("ticket %s not printed: %s", ticket.number, exc)
            self._printer_watch.print_failed(exc, f"ticket {ticket.number}")
            return False
        self._printer_watch.printed()
        return True
