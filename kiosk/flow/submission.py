"""From the session to a dossier on its way: the submission built, digitised and sent, and
the receipt it earns.

``build``            the ``DossierSubmission`` of the session's identity, answers and papers
``digitise``         captured pages → one searchable PDF per document, and the filled form as
                     the tờ khai PDF attached as the procedure's application document
``send``             into the encrypted outbox before anything says "submitted"; the final code
                     when the back office answers in time, else a provisional reference
``receipt_data``     what the receipt says, printed and on screen
``print_receipt``    the receipt on the printer; False (staff alerted) when it did not print
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from kiosk.dossier.model import Applicant, Attachment, DossierSubmission
from kiosk.errors import KioskError
from kiosk.flow import papers_on_file
from kiosk.flow.services import Services
from kiosk.forms.spec import FormSpec
from kiosk.infra.clock import now_vietnam
from kiosk.session.state import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dossier:
    """The session's dossier as the flow sees it: the procedure, its form and documents."""

    session: Session
    services: Services
    procedure: Any  # kiosk.catalog.procedures.Procedure
    form: FormSpec

    @property
    def requirements(self) -> list[Any]:
        return list(self.procedure.documents)

    def declaration_requirement(self) -> Any:
        return next((d for d in self.requirements if d.is_declaration), None)

    def agency_name(self) -> str:
        """The agency that handles the procedure (config/agencies.toml)."""
        agencies = self.services.agencies
        agency = agencies.for_procedure(self.procedure) if agencies else None
        return agency.name_vi if agency else self.services.config.kiosk.agency_name


def answer_for(form: FormSpec, answers: dict[str, Any], prefill: str) -> str | None:
    """The answer of the form's field prefilled from ``prefill`` (a name typed with no chip)."""
    for f in form.fields:
        if f.prefill == prefill and answers.get(f.name):
            return str(answers[f.name])
    return None


def build(dossier: Dossier) -> DossierSubmission:
    data = dossier.session.data
    identity = data.identity
    assert identity is not None and data.procedure_code is not None
    answers = data.answers
    form = dossier.form
    applicant = Applicant(
        id_number=identity.id_number,
        full_name=identity.full_name or answer_for(form, answers, "identity.full_name") or "",
        date_of_birth=identity.date_of_birth,
        sex=identity.sex or "",
        residence=identity.residence or answer_for(form, answers, "identity.residence") or "",
    )
    attachments = [
        Attachment(
            requirement_id=req.id,
            title=req.title("vi"),
            pages=[p.path for p in data.pages.get(req.id, [])],
            on_file_ref=data.on_file.get(req.id),
        )
        for req in dossier.requirements
        if data.pages.get(req.id) or data.on_file.get(req.id)
    ]
    return DossierSubmission(
        procedure_code=data.procedure_code,
        kiosk_id=dossier.services.config.kiosk.id,
        applicant=applicant,
        declaration=dict(answers),
        attachments=attachments,
        created_at=now_vietnam(),
    )


def digitise(dossier: Dossier, submission: DossierSubmission) -> DossierSubmission:
    """The dossier carries the digitised paper, not loose photos, and the form as a paper too."""
    return with_declaration_pdf(dossier, as_searchable_pdfs(dossier, submission))


def as_searchable_pdfs(dossier: Dossier, submission: DossierSubmission) -> DossierSubmission:
    """Each document's captured pages become one searchable PDF (image + Vietnamese text)."""
    from kiosk.vision.pdf import write_searchable_pdf

    scratch = dossier.session.scratch_dir()
    attachments = []
    for attachment in submission.attachments:
        images = [p for p in attachment.pages if p.suffix.lower() != ".pdf"]
        if not images:
            attachments.append(attachment)
            continue
        pdf = scratch / f"{attachment.requirement_id}.pdf"
        write_searchable_pdf(images, pdf, title=attachment.title)
        attachments.append(replace(attachment, pages=[pdf]))
    return replace(submission, attachments=attachments)


def with_declaration_pdf(dossier: Dossier, submission: DossierSubmission) -> DossierSubmission:
    """The filled form as a PDF (tờ khai), attached as the procedure's application document:
    the dossier carries the declaration as data and as the paper an officer reads."""
    from kiosk.forms.declaration import DOC_CAPTURED, DOC_ON_FILE, DOC_THIS_FORM, declaration_for
    from kiosk.forms.declaration_pdf import render_declaration_pdf

    req = dossier.declaration_requirement()
    if req is None:
        return submission
    session = dossier.session
    data = session.data
    documents = []
    for d in dossier.requirements:
        if d.id == req.id:
            documents.append(DOC_THIS_FORM.format(title=d.title("vi")))
        elif data.on_file.get(d.id):
            paper = papers_on_file.chosen_paper(session, d.id)
            ref = papers_on_file.reference(paper) if paper else data.on_file[d.id]
            documents.append(DOC_ON_FILE.format(title=d.title("vi"), ref=ref))
        elif data.pages.get(d.id):
            pages = len(data.pages[d.id])
            documents.append(DOC_CAPTURED.format(title=d.title("vi"), pages=pages))
    cfg = dossier.services.config.kiosk
    decl = declaration_for(
        procedure=dossier.procedure,
        form=dossier.form,
        answers=submission.declaration,
        identity=data.identity,
        signer_name=submission.applicant.full_name,
        agency_name=dossier.agency_name(),
        documents=documents,
        place=cfg.place,
        signed_at=submission.created_at,
        kiosk_id=cfg.id,
        reference=submission.idempotency_key[:12],
    )
    pdf = session.scratch_dir() / f"{req.id}.pdf"
    pdf.write_bytes(render_declaration_pdf(decl))
    others = [a for a in submission.attachments if a.requirement_id != req.id]
    form_doc = Attachment(requirement_id=req.id, title=req.title("vi"), pages=[pdf])
    return replace(submission, attachments=[form_doc, *others])


def send(dossier: Dossier, submission: DossierSubmission) -> tuple[Any, Any]:
    """Store the whole dossier in the outbox (on disk, encrypted) before anything says
    "submitted"; the sender delivers it. Wait a little for the final code; if the back office
    is slow or down, the receipt carries the provisional reference instead.
    Returns (``SubmissionResult``, the outbox entry)."""
    from kiosk.delivery.backoffice import SubmissionRejected
    from kiosk.delivery.outbox.store import EntryState, provisional_result

    services = dossier.services
    outbox = services.outbox
    entry = outbox.put(submission)  # OutboxNotSaved: nothing stored, the citizen is told
    wait_s = services.config.outbox.wait_for_code_s
    done = outbox.wait_delivered(entry.reference, wait_s) or entry
    if done.state is EntryState.DELIVERED and done.result is not None:
        return done.result, done
    if done.state is EntryState.PARKED:
        raise SubmissionRejected([done.last_error or "refused by the back office"])
    proc = dossier.procedure
    log.warning("dossier %s kept in the outbox; provisional receipt", entry.reference)
    result = provisional_result(entry, proc.processing_days, proc.fee_vnd, services.holidays)
    return result, entry


def receipt_data(
    dossier: Dossier, submission: Any = None, result: Any = None, lang: str = "vi"
) -> Any:
    """What the receipt says, printed (in Vietnamese) and on the receipt screen (``lang``
    names the procedure and the documents; everything else is the same)."""
    from kiosk.printing.receipt import ReceiptData

    data = dossier.session.data
    result = result or data.result
    proc = dossier.procedure
    identity = data.identity
    cfg = dossier.services.config.kiosk
    docs = [
        req.title(lang)
        for req in dossier.requirements
        if data.pages.get(req.id) or data.on_file.get(req.id) or req.is_declaration
    ]
    # the name as submitted: the chip's, else the one typed in the form (no chip read)
    name = (
        (submission.applicant.full_name if submission else None)
        or (identity.full_name if identity else None)
        or answer_for(dossier.form, data.answers, "identity.full_name")
    )
    return ReceiptData(
        agency_name=cfg.agency_name,
        agency_code=cfg.agency_code,
        procedure_name=proc.title(lang),
        procedure_code=proc.code,
        dossier_code=result.dossier_code,
        applicant_name=name or "",
        applicant_id=identity.id_number if identity else "",
        documents=docs,
        fee_vnd=result.fee_vnd,
        received_at=result.received_at,
        appointment_date=result.appointment_date,
        kiosk_id=cfg.id,
        tracking_hint=(
            "Quét mã QR hoặc nhập mã hồ sơ tại ki-ốt, Cổng dịch vụ công để tra cứu"
            if cfg.tracking_url and not result.provisional
            else "Tra cứu tại ki-ốt hoặc Cổng dịch vụ công bằng mã hồ sơ"
        ),
        provisional=result.provisional,
        tracking_url=cfg.tracking_url,
    )


def print_receipt(dossier: Dossier, submission: Any, result: Any) -> bool:
    from kiosk.printing.receipt import receipt_layout

    services = dossier.services
    try:
        blocks = receipt_layout(receipt_data(dossier, submission, result), lang="vi")
        services.printer.print_layout(blocks)
    except KioskError as exc:
        log.error("receipt for %s not printed: %s", result.dossier_code, exc)
        services.alert_staff(f"receipt not printed: {exc}")
        return False
    return True
