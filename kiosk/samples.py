"""Sample citizens and a scripted walk through the flow, for screenshots and the demo.

``walk_to(flow, step)`` starts a fresh session and drives the real flow (real catalog, simulated
camera, local back office, virtual printer) to ``step`` with a plausible sample citizen, so every
screen can be rendered with realistic content. Nothing here bypasses the flow's code path.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kiosk.identity import Authenticity, Identity, IdentitySource
from kiosk.session import EndReason, Journey, Step

SAMPLE_ID = "001185012345"


class ManualClock:
    """A monotonic clock moved by hand: shows the idle warning without waiting 70 seconds."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def sample_identity() -> Identity:
    """A plausible citizen, as the chip would give it (issue 3 reads it from a real chip)."""
    return Identity(
        id_number=SAMPLE_ID,
        source=IdentitySource.CHIP,
        authenticity=Authenticity.NOT_CHECKED,
        full_name="Nguyễn Thị Thu Hằng",
        date_of_birth=date(1985, 3, 14),
        birth_year=1985,
        sex="F",
        nationality="Việt Nam",
        residence="Số 12 phố Lý Thường Kiệt, phường Cửa Nam, thành phố Hà Nội",
    )


def sample_answers(flow: Any) -> dict[str, Any]:
    """Typed values for every field of the current form, as a citizen would type them."""
    values: dict[str, Any] = dict(flow.form_values())
    for f in flow.form().fields:
        if values.get(f.name):
            continue
        if f.kind == "choice" and f.choices:
            values[f.name] = f.choices[0].value
        elif f.kind == "yesno":
            values[f.name] = True
        elif f.kind == "number":
            values[f.name] = "2"
        elif f.kind == "date":
            values[f.name] = "01/12/2026"
        elif f.kind == "multiline":
            values[f.name] = "In sách, tạp chí và tờ rơi cho các cơ quan, doanh nghiệp trong tỉnh."
        else:
            values[f.name] = _sample_text(f)
    return values


def _sample_text(f: Any) -> str:
    name = f.name.lower()
    if "phone" in name or "dien_thoai" in name:
        return "0912345678"
    if "email" in name:
        return "hang.nguyen@example.vn"
    if "tax" in name or "ma_so_thue" in name:
        return "0101234567"
    text = "Công ty TNHH In Ánh Dương"
    return text[: f.max_length] if f.max_length else text


def identify_with_card(flow: Any, *, confirm: bool = True) -> None:
    """Read the simulated card on the reader (the real chip path); confirm it is the citizen.

    With a real reader (no simulated card to ask for its number) the sample identity is used.
    """
    card = getattr(flow.services.card_reader, "card", None)
    if card is None or not hasattr(card, "profile"):
        flow.session.identified(sample_identity())
        return
    flow.read_card(card.profile.id_number)
    if flow.session.data.chip_candidate is None:
        raise RuntimeError("the simulated card could not be read")
    if confirm:
        flow.confirm_chip_identity()


DOSSIER_ORDER = (
    Step.CONSENT,
    Step.IDENTIFY,
    Step.PROCEDURE,
    Step.FORM,
    Step.DOCUMENTS,
    Step.REVIEW,
    Step.RECEIPT,
    Step.RATING,
)


def walk_to(flow: Any, step: Step) -> None:
    """Restart the session and drive it to ``step`` with the sample citizen."""
    session = flow.session
    if session.step is not Step.WELCOME:
        session.end(EndReason.CANCELLED)
    if step is Step.WELCOME:
        return
    if step in (Step.QUEUE, Step.TICKET):
        flow.start(Journey.QUEUE)
        if step is Step.TICKET:
            service = flow.services_for_queue()[0]
            flow.issue_ticket(service.code, "elderly")
        return
    if step in (Step.LOOKUP, Step.LOOKUP_RESULT):
        code = None
        if step is Step.LOOKUP_RESULT:
            walk_to(flow, Step.RECEIPT)
            code = session.data.result.dossier_code
            flow.finish()
        flow.start(Journey.LOOKUP)
        if code:
            flow.lookup(code)
        return
    flow.start(Journey.DOSSIER)
    if step is Step.CONSENT:
        return
    session.accept_consent()
    if step is Step.IDENTIFY:
        return
    identify_with_card(flow)
    if step is Step.PROCEDURE:
        return
    flow.choose_procedure(flow.procedures()[0].code)
    if step is Step.FORM:
        return
    errors = flow.submit_form(sample_answers(flow))
    if errors:
        raise RuntimeError(f"sample answers rejected: {errors}")
    if step is Step.DOCUMENTS:
        return
    for req in flow.requirements():
        if req.required:
            flow.capture_page(req.id, lambda path: None)
    if not flow.documents_done():
        raise RuntimeError("sample documents incomplete")
    if step is Step.REVIEW:
        return
    if step is Step.SUBMIT:
        session.confirm_review()  # the waiting screen, without sending
        return
    flow.confirm_review()
    if step is Step.RECEIPT:
        return
    flow.receipt_done()
