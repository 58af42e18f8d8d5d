"""The kiosk flow: the journeys a citizen can take, over one session, one runner, one event bus.

Screens never touch devices or the back office: they call a journey and watch the session and
the events::

    flow.identify    IdentifyJourney   typed number, card QR/MRZ by camera, the chip
    flow.dossier     DossierJourney    procedure, form, review, submission, receipt, rating
    flow.documents   DocumentsJourney  the papers: live camera pages or papers on file
    flow.queue       QueueJourney      a number for a counter, its ticket printed
    flow.lookup      LookupJourney     a dossier's status from its code

``KioskFlow`` itself starts a journey and moves between steps (back, the review's "Edit",
cancel, finish). Slow work runs through the ``Runner`` (a worker thread in the shell, inline in
tests and the CLI); what the screens must hear arrives as typed events (kiosk/flow/events.py).
"""

from __future__ import annotations

from kiosk.flow.context import FlowContext
from kiosk.flow.documents import DocumentsJourney
from kiosk.flow.dossier import DossierJourney
from kiosk.flow.events import Events
from kiosk.flow.identify import IdentifyJourney
from kiosk.flow.lookup import LookupJourney
from kiosk.flow.runner import InlineRunner, Runner
from kiosk.flow.services import Services
from kiosk.flow.ticket import QueueJourney
from kiosk.session.state import Journey, Session, Step


class KioskFlow:
    """One kiosk's journeys over its session; navigation between steps."""

    def __init__(self, session: Session, services: Services, runner: Runner | None = None) -> None:
        self.events = Events()
        self.ctx = FlowContext(session, services, runner or InlineRunner(), self.events)
        self.identify = IdentifyJourney(self.ctx)
        self.dossier = DossierJourney(self.ctx)
        self.documents = DocumentsJourney(self.ctx)
        self.queue = QueueJourney(self.ctx)
        self.lookup = LookupJourney(self.ctx)

    @property
    def session(self) -> Session:
        return self.ctx.session

    @property
    def services(self) -> Services:
        return self.ctx.services

    @property
    def runner(self) -> Runner:
        return self.ctx.runner

    @runner.setter
    def runner(self, runner: Runner) -> None:
        self.ctx.runner = runner

    @property
    def kiosk_id(self) -> str:
        return self.ctx.kiosk_id

    def start(self, journey: Journey) -> None:
        self.session.start(journey)

    def finish(self) -> None:
        self.session.finish()

    def back(self) -> None:
        self.session.back()

    def go_back_to(self, step: Step) -> None:
        """The review's "Edit": back to an earlier step (the form, the documents) with
        everything entered kept; the citizen then comes forward through the steps after it."""
        self.session.back_to(step)

    def cancel(self) -> None:
        """The citizen ends the session: everything personal is wiped, their work stops."""
        self.session.cancel()
