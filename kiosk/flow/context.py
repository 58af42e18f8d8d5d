"""What every journey of the flow shares: the session, the services, the runner and the events.

``FlowContext.run`` hands slow work to the runner for the citizen at the kiosk now: when that
citizen leaves (finished, cancelled, timed out) their ``CitizenToken`` is set, waits watching it
give up, and answers that come back later are dropped (``left`` wipes what they carried) instead
of landing in the next citizen's session. Failures become a ``Notice`` for the step whose action
failed; the log gets the technical detail. When a session ends, ``SessionEnded`` says how: what
the citizen got (a step of ``RESULT_STEPS`` was reached), else how they left (``EndReason``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from kiosk.errors import KioskError
from kiosk.flow.events import Events, Notice, SessionEnded, SessionOutcome
from kiosk.flow.runner import CitizenGone, CitizenToken, Runner
from kiosk.flow.services import Services
from kiosk.session.state import EndReason, Journey, Session, Step

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The steps that mean the citizen got what they came for, whatever ends the session after.
RESULT_STEPS = {
    Step.RECEIPT: SessionOutcome.SUBMITTED,
    Step.TICKET: SessionOutcome.TICKET,
    Step.LOOKUP_RESULT: SessionOutcome.LOOKUP,
}
LEFT = {
    EndReason.CANCELLED: SessionOutcome.CANCELLED,
    EndReason.TIMEOUT: SessionOutcome.TIMED_OUT,
    EndReason.DECLINED: SessionOutcome.DECLINED,
    EndReason.COMPLETED: SessionOutcome.CANCELLED,  # completed without a result: never seen
}


class FlowContext:
    """The session, services, runner and events one kiosk's journeys work with."""

    def __init__(
        self, session: Session, services: Services, runner: Runner, events: Events
    ) -> None:
        self.session = session
        self.services = services
        self.runner = runner
        self.events = events
        self.token = CitizenToken()  # the citizen at the kiosk now
        self._journey: Journey | None = None  # the session's, until it ends
        self._got: SessionOutcome | None = None  # what the citizen got, once they got it
        session.subscribe(self._on_step)

    def _on_step(self, session: Session, old: Step, new: Step) -> None:
        if old is Step.WELCOME:
            self._journey, self._got = session.journey, None
        self._got = RESULT_STEPS.get(new, self._got)
        if new is Step.WELCOME:  # the citizen left: their work stops, their answers are dropped
            self.token.leave()
            self.token = CitizenToken()
            if self._journey is not None:
                reason = session.last_end or EndReason.CANCELLED
                self.events.emit(SessionEnded(self._journey, self._got or LEFT[reason]))
            self._journey = self._got = None

    @property
    def kiosk_id(self) -> str:
        return self.services.config.kiosk.id

    def procedure(self) -> Any:
        """The procedure the citizen chose (None before they chose one)."""
        code = self.session.data.procedure_code
        return self.services.catalog.get(code) if code else None

    def run(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[BaseException], None] | None = None,
        *,
        left: Callable[[T], None] | None = None,
    ) -> None:
        """``work()`` in the runner, then ``done(result)`` or ``failed(exc)`` (default: a notice
        for the step the work started at) if the citizen is still here; else ``left(result)``."""
        token, step = self.token, self.session.step

        def finished(result: T) -> None:
            if token.gone:
                if left is not None:
                    left(result)
                return
            done(result)

        def fail(exc: BaseException) -> None:
            if token.gone:
                log.info("work for a citizen who left ended: %s", exc)
                return
            if failed is not None:
                failed(exc)
            else:
                self.fail(exc, step)

        self.runner.run(work, finished, fail)

    def notify(self, msgid: str, *, error: bool = True, step: Step | None = None) -> None:
        """Tell the citizen ``msgid``, answering the action taken at ``step`` (default: now)."""
        self.events.emit(Notice(msgid, error, self.session.step if step is None else step))

    def fail(self, exc: BaseException, step: Step | None = None) -> None:
        """The citizen's message for ``exc``; the technical detail goes to the log."""
        if isinstance(exc, CitizenGone):
            log.info("%s", exc)
        elif isinstance(exc, KioskError):
            log.warning("%s: %s", type(exc).__name__, exc)
            self.notify(exc.msgid, step=step)
        else:
            log.exception("unexpected failure", exc_info=exc)
            self.notify(KioskError.msgid, step=step)

    def emit_from_worker(self, event: object) -> None:
        """Deliver ``event`` on the screens' thread (the runner posts it there)."""
        self.runner.post(lambda: self.events.emit(event))
