"""Sample citizens and a scripted walk through the flow, for screenshots and the demo.

``walk_to(flow, step)`` starts a fresh session and drives the real flow (real catalog, simulated
camera, local back office, virtual printer) to ``step`` with a plausible sample citizen, so every
screen can be rendered with realistic content. Nothing here bypasses the flow's code path.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kiosk.identity.model import Authenticity, Identity, IdentitySource
from kiosk.session.state import EndReason, Journey, Step

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
    """A draft of every field of the current form, as a citizen would type it (prefill kept)."""
    return sample_draft(flow.dossier.form(), flow.dossier.form_values())


def sample_draft(form: Any, prefilled: dict[str, Any] | None = None) -> dict[str, Any]:
    """Valid typed values for every field of ``form`` that ``prefilled`` leaves empty."""
    values: dict[str, Any] = dict(prefilled or {})
    for f in form.fields:
        if values.get(f.name) not in (None, "", [], {}) and not _incomplete_address(f, values):
            continue
        values[f.name] = sample_value(f)
    return values


def _incomplete_address(f: Any, values: dict[str, Any]) -> bool:
    return f.kind == "address" and not values[f.name].get("province")


def sample_value(f: Any) -> Any:
    """A plausible typed value for one field of any kind."""
    from datetime import timedelta

    from kiosk.forms import addresses

    kind = str(f.kind)
    if kind == "choice":
        return f.choices[0].value
    if kind == "yesno":
        return True
    if kind == "number":
        low = f.minimum if f.minimum is not None else 1
        return str(max(low, min(2, f.maximum if f.maximum is not None else 2)))
    if kind == "money":
        return "1500000"
    if kind == "date":
        if f.not_before_today:
            return (date.today() + timedelta(days=30)).strftime("%d/%m/%Y")
        return "15/03/2020"
    if kind == "phone":
        return "0912345678"
    if kind == "email":
        return "hang.nguyen@example.vn"
    if kind == "id_number":
        return SAMPLE_ID
    if kind == "tax_code":
        return "0100109106"
    if kind == "address":
        province = next(p for p in addresses.provinces() if p.name.endswith("Huế"))
        commune = addresses.communes(province.code)[0]
        return {"province": province.name, "commune": commune.name, "street": "Số 12 đường Lê Lợi"}
    if kind == "group":
        return [{p.name: sample_value(p) for p in f.parts} for _ in range(max(1, f.min_items))]
    if kind == "multiline":
        text = "In sách, tạp chí và tờ rơi cho các cơ quan, doanh nghiệp trong tỉnh."
    else:
        text = "Công ty TNHH In Ánh Dương"
        pattern = getattr(f, "pattern", None)
        if pattern:
            import re

            examples = ("tinbienxanh.vn", "https://tinbienxanh.vn", "TBX-01", "12", text)
            text = next((e for e in examples if re.search(pattern, e)), text)
    if f.min_length and len(text) < f.min_length:
        text = (text + " ") * (f.min_length // len(text) + 1)
    return text[: f.max_length].strip() if f.max_length else text


def identify_with_card(flow: Any, *, confirm: bool = True) -> None:
    """Read the simulated card on the reader (the real chip path); confirm it is the citizen.

    With a real reader (no simulated card to ask for its number) the sample identity is used.
    """
    card = getattr(flow.services.card_reader, "card", None)
    if card is None or not hasattr(card, "profile"):
        flow.session.identified(sample_identity())
        return
    flow.identify.read_card(card.profile.id_number)
    if flow.session.data.chip_candidate is None:
        raise RuntimeError("the simulated card could not be read")
    if confirm:
        flow.identify.confirm_chip_identity()


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


SAMPLE_PROCEDURE = "2.001740"  # xác nhận đăng ký hoạt động cơ sở in: a citizen may file it


def walk_to(flow: Any, step: Step, procedure: str | None = None) -> None:
    """Restart the session and drive it to ``step`` with the sample citizen (and the sample
    procedure when the catalog has it, else the first)."""
    session = flow.session
    if session.step is not Step.WELCOME:
        session.end(EndReason.CANCELLED)
    if step is Step.WELCOME:
        return
    if step in (Step.QUEUE, Step.TICKET):
        flow.start(Journey.QUEUE)
        if step is Step.TICKET:
            service = flow.queue.services_for_queue()[0]
            flow.queue.issue_ticket(service.code, "elderly")
        return
    if step in (Step.LOOKUP, Step.LOOKUP_RESULT):
        code = None
        if step is Step.LOOKUP_RESULT:
            walk_to(flow, Step.RECEIPT)
            code = session.data.result.dossier_code
            flow.finish()
        flow.start(Journey.LOOKUP)
        if code:
            flow.lookup.lookup(code)
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
    codes = [p.code for p in flow.dossier.procedures()]
    wanted = procedure or SAMPLE_PROCEDURE
    flow.dossier.choose_procedure(wanted if wanted in codes else codes[0])
    if step is Step.FORM:
        return
    errors = flow.dossier.submit_form(sample_answers(flow))
    if errors:
        raise RuntimeError(f"sample answers rejected: {errors}")
    if step is Step.DOCUMENTS:
        return
    for req in flow.documents.missing():
        flow.documents.capture_page(req.id)
    if not flow.documents.done():
        raise RuntimeError("sample documents incomplete")
    if step is Step.REVIEW:
        return
    if step is Step.SUBMIT:
        session.confirm_review()  # the waiting screen, without sending
        return
    flow.dossier.confirm_review()
    if step is Step.RECEIPT:
        return
    flow.dossier.receipt_done()
