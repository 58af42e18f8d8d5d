"""The dossier journey after identify: the procedure, its form, the review, the submission,
the receipt and the rating (the documents step is kiosk/flow/documents.py).

``confirm_review`` hands the dossier to the runner: digitised, stored in the outbox, sent, its
receipt printed; the session moves to RECEIPT, or back to REVIEW with nothing lost.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from kiosk.flow import submission
from kiosk.flow.context import FlowContext
from kiosk.flow.submission import Dossier
from kiosk.forms.field_checks import Problem
from kiosk.forms.spec import FormSpec, Prefill

log = logging.getLogger(__name__)

MSG_RECEIPT_NOT_PRINTED = (
    "The receipt could not be printed. Please photograph the QR code on the screen; "
    "staff have been alerted."
)


class DossierJourney:
    """The citizen's dossier: what they ask for, what they declare, and its sending."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self._forms: dict[str, FormSpec] = {}  # per procedure code; the forms are not personal

    # ------------------------------------------------------------------ procedure
    def procedures(self) -> list[Any]:
        return self.ctx.services.catalog.procedures()

    def current_procedure(self) -> Any:
        return self.ctx.procedure()

    def choose_procedure(self, code: str) -> None:
        self.ctx.services.catalog.get(code)  # raises CatalogError for an unknown code
        self.ctx.session.choose_procedure(code)

    def agency_name(self) -> str:
        return self.dossier().agency_name()

    # ------------------------------------------------------------------ form
    def form(self) -> FormSpec:
        procedure = self.ctx.procedure()
        if procedure.code not in self._forms:
            self._forms[procedure.code] = FormSpec.from_definition(procedure.form)
        return self._forms[procedure.code]

    def form_prefill(self) -> Prefill:
        """The form's first values: earlier answers, else the identity's and the session's."""
        data = self.ctx.session.data
        return self.form().prefill(data.identity, data.answers, data.remembered)

    def form_values(self) -> dict[str, Any]:
        """The draft each field shows on entry (see ``form_prefill`` for sources and locks)."""
        return self.form_prefill().values

    def submit_form(self, draft: dict[str, Any]) -> dict[str, Problem]:
        """Check the form; on success move on. Returns the problem of each field path.

        Values the law ties to an authenticated chip are taken from the chip, not the draft.
        """
        session = self.ctx.session
        locked = self.form_prefill().locked
        answers, problems = self.form().convert_and_validate(draft, locked=locked)
        if problems:
            session.touch()
            return problems
        session.data.remembered.update(self.form().remembered(answers))
        session.form_done(answers)
        return {}

    # ------------------------------------------------------------------ review and submit
    def dossier(self) -> Dossier:
        return Dossier(self.ctx.session, self.ctx.services, self.ctx.procedure(), self.form())

    def build_submission(self) -> Any:
        return submission.build(self.dossier())

    def confirm_review(self) -> None:
        """Submit the dossier, then print its receipt; the session moves to RECEIPT."""
        ctx = self.ctx
        dossier = self.dossier()
        built = submission.build(dossier)
        ctx.session.confirm_review()

        def work() -> tuple[Any, bool]:
            digitised = submission.digitise(dossier, built)
            result, entry = submission.send(dossier, digitised)
            printed = submission.print_receipt(dossier, digitised, result)
            if printed and entry is not None and not result.provisional:
                ctx.services.outbox.purge_delivered(entry.id)
            return result, printed

        def done(outcome: tuple[Any, bool]) -> None:
            result, printed = outcome
            ctx.session.submitted(result, printed)
            if not printed:
                ctx.notify(MSG_RECEIPT_NOT_PRINTED)

        def failed(exc: BaseException) -> None:
            ctx.session.submission_failed()
            ctx.fail(exc)

        ctx.run(work, done, failed)

    # ------------------------------------------------------------------ receipt and rating
    def receipt_data(self, lang: str = "vi") -> Any:
        """What the receipt of the submitted dossier says, in ``lang`` (see submission.py)."""
        return submission.receipt_data(self.dossier(), lang=lang)

    def receipt_done(self) -> None:
        self.ctx.session.receipt_done()

    def rate(self, level: int | None) -> None:
        """1 (very dissatisfied) to 5, or None to skip; ends the session."""
        session = self.ctx.session
        if level is not None:
            session_journey = session.journey.value if session.journey else ""
            self.ctx.services.ratings.record(
                self.ctx.kiosk_id,
                session_journey,
                session.data.procedure_code,
                level,
                datetime.now(),
            )
        session.rated(level)
