"""The citizen session: a state machine in plain Python, its idle timeout and its wipe.

One ``Session`` lives as long as one citizen stands at the kiosk. Screens show its state and send
it events; the flow (kiosk/flow/kiosk_flow.py) does the I/O and reports results back as events.
Three
journeys start at the welcome step::

    dossier: WELCOME → CONSENT → IDENTIFY → PROCEDURE → FORM → DOCUMENTS → REVIEW → SUBMIT
                     → RECEIPT → RATING → (end)
    queue:   WELCOME → QUEUE → TICKET → (end)
    look-up: WELCOME → LOOKUP → LOOKUP_RESULT → (end)

``back()`` returns to the previous step of the journey (not once the dossier is submitted),
``back_to(step)`` to an earlier one (the review's "Edit");
``cancel()`` and the idle timeout end the session: everything personal is wiped and the kiosk is
back at WELCOME. The idle rule: after ``timeout_s`` seconds without a touch the session ends; the
last ``warning_s`` of them show a warning with a "continue" button (``touch()``). Nothing times
out at WELCOME, where nothing personal is held, or while the kiosk itself is busy submitting.

Errors::

    KioskError
     └── SessionError        an event the current step does not accept (a programming error,
                             logged; the citizen is told to start again)
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.identity.model import Identity, IdentitySource

ELDERLY_AGE = 60


class SessionError(KioskError):
    """An event arrived at a step that does not take it."""

    msgid = "Something went wrong. Please start again."


class Step(Enum):
    WELCOME = "welcome"
    CONSENT = "consent"
    IDENTIFY = "identify"
    PROCEDURE = "procedure"
    FORM = "form"
    DOCUMENTS = "documents"
    REVIEW = "review"
    SUBMIT = "submit"
    RECEIPT = "receipt"
    RATING = "rating"
    QUEUE = "queue"
    TICKET = "ticket"
    LOOKUP = "lookup"
    LOOKUP_RESULT = "lookup_result"


class Journey(Enum):
    DOSSIER = "dossier"
    QUEUE = "queue"
    LOOKUP = "lookup"


JOURNEY_STEPS: dict[Journey, tuple[Step, ...]] = {
    Journey.DOSSIER: (
        Step.CONSENT,
        Step.IDENTIFY,
        Step.PROCEDURE,
        Step.FORM,
        Step.DOCUMENTS,
        Step.REVIEW,
        Step.SUBMIT,
        Step.RECEIPT,
        Step.RATING,
    ),
    Journey.QUEUE: (Step.QUEUE, Step.TICKET),
    Journey.LOOKUP: (Step.LOOKUP, Step.LOOKUP_RESULT),
}

# Steps from which "back" is refused: the dossier has left the citizen's hands.
NO_BACK_FROM = frozenset({Step.SUBMIT, Step.RECEIPT, Step.RATING, Step.TICKET})


class EndReason(Enum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    DECLINED = "declined"


class IdentifyPhase(Enum):
    """Where the identify step is: the keypad, the camera on the card, the chip being read, or
    the chip's photo and name waiting for "this is me"."""

    NUMBER = "number"
    SCANNING = "scanning"
    READING = "reading"
    CONFIRM = "confirm"


class DocumentsPhase(Enum):
    """Where the documents step is: the list, the live camera on one paper, or the captured
    page waiting to be kept or taken again."""

    LIST = "list"
    LIVE = "live"
    REVIEW = "review"


Phase = IdentifyPhase | DocumentsPhase


class IdleState(Enum):
    ACTIVE = "active"
    WARNING = "warning"
    EXPIRED = "expired"


@dataclass
class CapturedPage:
    """One captured page of a document: an image file in the session's scratch folder."""

    path: Path


@dataclass
class SessionData:
    """Everything personal the session holds. ``Session.wipe()`` replaces it with a fresh one."""

    identity: Identity | None = None
    chip_candidate: Identity | None = None  # read from the chip, waiting for "this is me"
    presence: Any = None  # the chip's proof of presence (ChipPresence), until "this is me"
    mrz_key: str | None = None  # the BAC key the camera read from the card's MRZ
    identify_phase: IdentifyPhase = IdentifyPhase.NUMBER
    documents_phase: DocumentsPhase = DocumentsPhase.LIST
    procedure_code: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    remembered: dict[str, Any] = field(default_factory=dict)  # session.* prefill keys
    pages: dict[str, list[CapturedPage]] = field(default_factory=dict)
    on_file: dict[str, str] = field(default_factory=dict)
    papers: Any = None  # kiosk.flow.papers_on_file.PapersOnFile, once the chip proved presence
    result: Any = None  # kiosk.dossier.model.SubmissionResult once submitted
    receipt_printed: bool | None = None
    rating: int | None = None
    service_code: str | None = None
    priority_class: str | None = None
    ticket: Any = None  # kiosk.tickets.store.Ticket once issued
    ticket_not_printed: str | None = None  # the msgid to show when the ticket was not printed
    lookup_code: str | None = None
    lookup_status: Any = None  # kiosk.dossier.model.DossierStatus

    def is_empty(self) -> bool:
        return self == SessionData()


Listener = Callable[["Session", Step, Step], None]
PhaseListener = Callable[[Phase], None]


class Session:
    """The state of the one citizen at the kiosk, driven by events."""

    def __init__(
        self,
        *,
        timeout_s: float = 90.0,
        warning_s: float = 20.0,
        clock: Callable[[], float] | None = None,
        scratch_root: Path | None = None,
    ) -> None:
        import time

        if not 0 < warning_s < timeout_s:
            raise ValueError("need 0 < warning_s < timeout_s")
        self.timeout_s = timeout_s
        self.warning_s = warning_s
        self._clock = clock or time.monotonic
        self._scratch_root = scratch_root
        self._scratch: Path | None = None
        self._listeners: list[Listener] = []
        self._phase_listeners: list[PhaseListener] = []
        self.step = Step.WELCOME
        self.journey: Journey | None = None
        self.data = SessionData()
        self.busy = False
        self.last_end: EndReason | None = None
        self._last_touch = self._clock()

    # ----------------------------------------------------------------- observation
    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(session, old_step, new_step)`` after every step change."""
        self._listeners.append(listener)

    def subscribe_phase(self, listener: PhaseListener) -> None:
        """Call ``listener(phase)`` when the identify or documents step changes phase."""
        self._phase_listeners.append(listener)

    def enter_phase(self, phase: Phase) -> None:
        """Move the identify or documents step to ``phase`` (only at that step)."""
        if isinstance(phase, IdentifyPhase):
            self._expect(Step.IDENTIFY)
            self.data.identify_phase = phase
        else:
            self._expect(Step.DOCUMENTS)
            self.data.documents_phase = phase
        self.touch()
        for listener in list(self._phase_listeners):
            listener(phase)

    def _go(self, step: Step) -> None:
        old, self.step = self.step, step
        if old is not step:  # a sub-phase lives only while its step is shown
            self.data.identify_phase = IdentifyPhase.NUMBER
            self.data.documents_phase = DocumentsPhase.LIST
        self._last_touch = self._clock()
        for listener in list(self._listeners):
            listener(self, old, step)

    def _expect(self, *steps: Step) -> None:
        if self.step not in steps:
            allowed = ", ".join(s.value for s in steps)
            raise SessionError(f"event not accepted at step {self.step.value} (only at {allowed})")

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps of the current journey (empty at WELCOME)."""
        return JOURNEY_STEPS[self.journey] if self.journey else ()

    def position(self) -> tuple[int, int]:
        """(1-based index of the current step, number of steps) for the progress indicator."""
        steps = self.steps
        if self.step not in steps:
            return (0, len(steps))
        return (steps.index(self.step) + 1, len(steps))

    def scratch_dir(self) -> Path:
        """A private folder for this citizen's captured pages; removed by ``wipe()``."""
        if self._scratch is None:
            root = self._scratch_root
            if root is not None:
                root.mkdir(parents=True, exist_ok=True)
            self._scratch = Path(tempfile.mkdtemp(prefix="session-", dir=root))
            self._scratch.chmod(0o700)
        return self._scratch

    # ----------------------------------------------------------------- journeys
    def start(self, journey: Journey) -> None:
        self._expect(Step.WELCOME)
        self.wipe()
        self.journey = journey
        self.last_end = None
        self._go(JOURNEY_STEPS[journey][0])

    def accept_consent(self) -> None:
        self._expect(Step.CONSENT)
        self._go(Step.IDENTIFY)

    def decline_consent(self) -> None:
        self._expect(Step.CONSENT)
        self.end(EndReason.DECLINED)

    def chip_read(self, identity: Identity, presence: Any = None) -> None:
        """The chip was read; its identity (and its proof of presence, when the back office
        gave a challenge) waits for the citizen to confirm it is theirs."""
        self._expect(Step.IDENTIFY)
        self.drop_chip_candidate()
        self.data.chip_candidate = identity
        self.data.presence = presence
        self.touch()

    def drop_chip_candidate(self) -> None:
        """ "Not me", or reading again: forget what the chip gave, its proof of presence too."""
        candidate = self.data.chip_candidate
        if candidate is not None:
            candidate.wipe()
        self.data.chip_candidate = None
        self.drop_presence()

    def take_presence(self) -> Any:
        """Hand over the chip's proof of presence once (to prove it to the back office)."""
        presence, self.data.presence = self.data.presence, None
        return presence

    def drop_presence(self) -> None:
        """Forget the chip's proof of presence (overwritten)."""
        presence = self.data.presence
        if presence is not None:
            presence.wipe()
        self.data.presence = None

    def identified(self, identity: Identity) -> None:
        self._expect(Step.IDENTIFY)
        if identity is self.data.chip_candidate:
            self.data.chip_candidate = None
        else:
            self.drop_chip_candidate()
        if self.data.identity is not None and self.data.identity is not identity:
            self.data.identity.wipe()
        if self.data.identity is not identity:  # another citizen's papers are not offered
            self.data.papers = None
            self.data.on_file = {}
        self.data.identity = identity
        if identity.source is IdentitySource.CHIP and identity.date_of_birth is not None:
            age = identity.age_on(date.today())
            if age is not None and age >= ELDERLY_AGE:
                self.data.priority_class = "elderly"  # served first (Luật Người cao tuổi)
        self._go(Step.PROCEDURE)

    def choose_procedure(self, code: str) -> None:
        self._expect(Step.PROCEDURE)
        if code != self.data.procedure_code:
            self._drop_pages()
            self.data.answers = {}
            self.data.on_file = {}
        self.data.procedure_code = code
        self._go(Step.FORM)

    def form_done(self, answers: dict[str, Any]) -> None:
        self._expect(Step.FORM)
        self.data.answers = dict(answers)
        self._go(Step.DOCUMENTS)

    def add_page(self, requirement_id: str, path: Path) -> None:
        """Record a captured page (the file must already be in ``scratch_dir()``)."""
        self._expect(Step.DOCUMENTS)
        self.data.pages.setdefault(requirement_id, []).append(CapturedPage(path))
        self.touch()

    def remove_last_page(self, requirement_id: str) -> None:
        """Retake: drop the last captured page of a document and delete its file."""
        self._expect(Step.DOCUMENTS)
        pages = self.data.pages.get(requirement_id) or []
        if pages:
            pages.pop().path.unlink(missing_ok=True)
        if not pages:
            self.data.pages.pop(requirement_id, None)
        self.touch()

    def documents_done(self) -> None:
        self._expect(Step.DOCUMENTS)
        self._go(Step.REVIEW)

    def confirm_review(self) -> None:
        self._expect(Step.REVIEW)
        self.busy = True
        self._go(Step.SUBMIT)

    def submission_failed(self) -> None:
        """The dossier could not be accepted; back to review so nothing typed is lost."""
        self._expect(Step.SUBMIT)
        self.busy = False
        self._go(Step.REVIEW)

    def submitted(self, result: Any, printed: bool | None) -> None:
        self._expect(Step.SUBMIT)
        self.busy = False
        self.data.result = result
        self.data.receipt_printed = printed
        self._go(Step.RECEIPT)

    def receipt_done(self) -> None:
        self._expect(Step.RECEIPT)
        self._go(Step.RATING)

    def rated(self, score: int | None) -> None:
        """1 (very dissatisfied) to 5 (very satisfied), or None to skip; ends the session."""
        self._expect(Step.RATING)
        if score is not None and not 1 <= score <= 5:
            raise SessionError(f"rating must be 1..5, got {score}")
        self.data.rating = score
        self.end(EndReason.COMPLETED)

    def ticket_issued(
        self,
        service_code: str,
        priority_class: str | None,
        ticket: Any,
        not_printed: str | None = None,
    ) -> None:
        """The ticket is issued; ``not_printed`` is what to tell when it was not printed."""
        self._expect(Step.QUEUE)
        self.data.service_code = service_code
        self.data.priority_class = priority_class
        self.data.ticket = ticket
        self.data.ticket_not_printed = not_printed
        self._go(Step.TICKET)

    def lookup_found(self, code: str, status: Any) -> None:
        self._expect(Step.LOOKUP)
        self.data.lookup_code = code
        self.data.lookup_status = status
        self._go(Step.LOOKUP_RESULT)

    def finish(self) -> None:
        """The citizen is done at the last screen of a journey."""
        self._expect(Step.TICKET, Step.LOOKUP_RESULT, Step.RECEIPT, Step.RATING)
        self.end(EndReason.COMPLETED)

    # ----------------------------------------------------------------- navigation
    def can_go_back(self) -> bool:
        return self.step != Step.WELCOME and self.step not in NO_BACK_FROM

    def back(self) -> None:
        if not self.can_go_back():
            raise SessionError(f"cannot go back from {self.step.value}")
        steps = self.steps
        index = steps.index(self.step)
        if index == 0:
            self.end(EndReason.CANCELLED)
        else:
            self._go(steps[index - 1])

    def back_to(self, step: Step) -> None:
        """Return to an earlier step of the journey (the review's "Edit"); nothing entered is
        lost: the answers, pages and papers stay until the citizen changes them."""
        if not self.can_go_back():
            raise SessionError(f"cannot go back from {self.step.value}")
        steps = self.steps
        if step not in steps or steps.index(step) >= steps.index(self.step):
            raise SessionError(f"{step.value} is not a step before {self.step.value}")
        self._go(step)

    def can_cancel(self) -> bool:
        return self.step != Step.WELCOME and not self.busy

    def cancel(self) -> None:
        if not self.can_cancel():
            raise SessionError(f"cannot cancel at {self.step.value}")
        self.end(EndReason.CANCELLED)

    def end(self, reason: EndReason) -> None:
        """Wipe everything personal and go back to WELCOME."""
        self.busy = False
        self.wipe()
        self.journey = None
        self.last_end = reason
        self._go(Step.WELCOME)

    # ----------------------------------------------------------------- idle timeout
    def touch(self) -> None:
        """The citizen did something: restart the idle countdown."""
        self._last_touch = self._clock()

    def idle_state(self) -> IdleState:
        if self.step == Step.WELCOME or self.busy:
            return IdleState.ACTIVE
        idle = self._clock() - self._last_touch
        if idle >= self.timeout_s:
            return IdleState.EXPIRED
        if idle >= self.timeout_s - self.warning_s:
            return IdleState.WARNING
        return IdleState.ACTIVE

    def seconds_left(self) -> float:
        """Seconds before the session ends if nobody touches the screen."""
        return max(0.0, self.timeout_s - (self._clock() - self._last_touch))

    def tick(self) -> IdleState:
        """Check the idle timer; ends the session when it has run out. Call about once a second."""
        state = self.idle_state()
        if state is IdleState.EXPIRED:
            self.end(EndReason.TIMEOUT)
        return state

    # ----------------------------------------------------------------- privacy
    def _drop_pages(self) -> None:
        for pages in self.data.pages.values():
            for page in pages:
                page.path.unlink(missing_ok=True)
        self.data.pages = {}

    def wipe(self) -> None:
        """Drop every personal datum: identity (photo overwritten), answers, pages and files."""
        if self.data.identity is not None:
            self.data.identity.wipe()
        self.drop_chip_candidate()
        self._drop_pages()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        self.data = SessionData()

    def age_today(self) -> int | None:
        identity = self.data.identity
        return identity.age_on(date.today()) if identity else None
