"""The look-up journey: a dossier's status from the code on its receipt, typed or scanned.

A provisional reference (a receipt printed while the back office was away) is first turned into
the dossier's final code from the outbox; one the back office has not answered for yet says so.
Every failure is a notice for the look-up screen, shown beside the code.
"""

from __future__ import annotations

from typing import Any

from kiosk.errors import KioskError
from kiosk.flow.context import FlowContext
from kiosk.session.state import Step

MSG_NO_CODE = "Please enter the dossier code printed on your receipt."


class DossierStillQueued(KioskError):
    """A provisional reference whose dossier the back office has not answered for yet."""

    msgid = (
        "Your dossier is kept safely at this kiosk and will be sent automatically. Its final "
        "code is not known yet: please look it up again later."
    )


class LookupJourney:
    """Where a dossier is: the status, its history and the next step."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx

    def scan_receipt(self, *, seconds: float = 12.0) -> None:
        """Read the receipt's QR with the camera, then look the dossier up."""
        from kiosk.camera.receipt_scan import scan_receipt_with_camera

        ctx = self.ctx

        def work() -> str:
            return scan_receipt_with_camera(ctx.services.camera, seconds=seconds)

        def found(code: str) -> None:
            if ctx.session.step is Step.LOOKUP:
                self.lookup(code)

        ctx.run(work, found)

    def lookup(self, code: str) -> None:
        """Ask the back office for the dossier ``code`` (in the runner); LOOKUP_RESULT."""
        ctx = self.ctx
        code = code.strip().upper()
        if not code:
            ctx.notify(MSG_NO_CODE)
            return

        def work() -> Any:
            from kiosk.delivery.outbox.store import is_provisional_reference
            from kiosk.dossier.model import parse_dossier_code

            final = code
            if is_provisional_reference(code):
                entry = ctx.services.outbox.find(code)
                if entry is None or entry.result is None:
                    raise DossierStillQueued(code)
                final = entry.result.dossier_code
            parse_dossier_code(final)
            return ctx.services.backoffice.lookup(final)

        def found(status: Any) -> None:
            if ctx.session.step is Step.LOOKUP:
                ctx.session.lookup_found(code, status)

        ctx.run(work, found)
