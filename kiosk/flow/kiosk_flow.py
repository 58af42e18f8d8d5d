"""The kiosk flow: takes the citizen's actions from the screens, does the I/O, drives the Session.

Screens never touch devices or the back office: they call a ``KioskFlow`` method and watch the
session. Slow work (camera, submission, printing, look-up) runs through a ``Runner``: the Kivy
shell's runner does it on a worker thread and brings the result back on the UI thread; tests and
the CLI use ``InlineRunner``. Failures reach the screen as a ``Notice`` (a translatable message
id, English) through ``on_notice``; the log gets the technical detail.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import cv2

from kiosk.dossier.model import Attachment
from kiosk.errors import KioskError
from kiosk.flow import papers_on_file
from kiosk.flow.services import Services, now_local
from kiosk.forms.field_checks import Problem
from kiosk.forms.spec import FormSpec, Prefill
from kiosk.identity.model import Identity
from kiosk.printing.printer_watch import (
    MSG_TICKET_NOT_PRINTED,
    PrinterWatch,
)
from kiosk.session.state import Journey, Session, Step

log = logging.getLogger(__name__)

T = TypeVar("T")

MSG_MISSING_DOCUMENTS = "Please capture every required document before you continue."
MSG_RECEIPT_NOT_PRINTED = (
    "The receipt could not be printed. Please photograph the QR code on the screen; "
    "staff have been alerted."
)
MSG_NO_CODE = "Please enter the dossier code printed on your receipt."


class Runner(Protocol):
    def run(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[BaseException], None],
    ) -> None: ...


class InlineRunner:
    """Runs work at once on the calling thread (tests, CLI)."""

    def run(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        try:
            result = work()
        except Exception as exc:  # noqa: BLE001 - handed to the caller's failure path
            failed(exc)
            return
        done(result)


class ThreadRunner:
    """Runs work on one worker thread; ``post`` brings callbacks back to the UI thread."""

    def __init__(self, post: Callable[[Callable[[], None]], None]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-io")
        self._post = post

    def run(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        def job() -> None:
            try:
                result = work()
            except Exception as exc:  # noqa: BLE001
                self._post(partial(failed, exc))
                return
            self._post(partial(done, result))

        self._pool.submit(job)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


class DossierStillQueued(KioskError):
    """A provisional reference whose dossier the back office has not answered for yet."""

    msgid = (
        "Your dossier is kept safely at this kiosk and will be sent automatically. Its final "
        "code is not known yet: please look it up again later."
    )


@dataclass(frozen=True)
class Notice:
    """A message for the citizen: an English msgid, and whether it is an error or a note."""

    msgid: str
    error: bool = True


class KioskFlow:
    """The citizen's actions, as methods; results go to the session, problems to ``on_notice``."""

    def __init__(self, session: Session, services: Services, runner: Runner | None = None) -> None:
        self.session = session
        self.services = services
        self.runner: Runner = runner or InlineRunner()
        self.on_notice: Callable[[Notice], None] = lambda notice: None
        # (step name, index, total) while a card is read; called from the worker thread
        self.on_progress: Callable[[str, int, int], None] = lambda step, index, total: None
        self._form: FormSpec | None = None
        self._presence: Any = None  # the chip's proof of presence, until "this is me"
        session.subscribe(self._on_step)
        self._scanned_mrz_key: str | None = None  # from the card's MRZ, for BAC-only chips
        self._live: Any = None  # kiosk.camera.live_capture.LiveCapture while the camera is open
        self._live_requirement: str | None = None
        # one per kiosk run: "paper near end" is alerted once a run
        self._printer_watch = PrinterWatch(
            services.alert_staff, configured=services.config.printer.mode != "none"
        )

    # ------------------------------------------------------------------ helpers
    def _notify(self, msgid: str, *, error: bool = True) -> None:
        self.on_notice(Notice(msgid, error))

    def _fail(self, exc: BaseException) -> None:
        if isinstance(exc, KioskError):
            log.warning("%s: %s", type(exc).__name__, exc)
            self._notify(exc.msgid)
        else:
            log.exception("unexpected failure", exc_info=exc)
            self._notify(KioskError.msgid)

    @property
    def kiosk_id(self) -> str:
        return self.services.config.kiosk.id

    # ------------------------------------------------------------------ start
    def _on_step(self, session: Session, old: Step, new: Step) -> None:
        if new is Step.WELCOME:  # the session ended (finished, cancelled or idle): forget it
            self._drop_presence()

    def start(self, journey: Journey) -> None:
        self._drop_presence()
        self._form = None
        self._scanned_mrz_key = None
        self.session.start(journey)

    # ------------------------------------------------------------------ identify
    def enter_id_number(self, raw: str) -> bool:
        """The citizen typed the 12-digit number; True when accepted."""
        try:
            identity = Identity.from_typed_number(raw)
        except KioskError as exc:
            self._fail(exc)
            return False
        self.session.identified(identity)
        return True

    def scan_card(
        self, kind: str, done: Callable[[str | None], None], *, seconds: float = 12.0
    ) -> None:
        """Read the card's QR ("qr") or MRZ ("mrz") with the camera, then its chip.

        Frames are tried for up to ``seconds``; the ID number found (and, from the MRZ, the BAC
        key) is handed to ``read_card``; ``done(id_number)`` or ``done(None)`` with a notice.
        """
        from kiosk.camera.card_scan import scan_card_with_camera

        def work() -> Any:
            return scan_card_with_camera(self.services.camera, kind, seconds=seconds)

        def found(scan: Any) -> None:
            if self.session.step is not Step.IDENTIFY:
                return
            self._scanned_mrz_key = scan.mrz_key
            done(scan.id_number)

        def failed(exc: BaseException) -> None:
            self._fail(exc)
            done(None)

        self.runner.run(work, found, failed)

    def read_card(self, raw: str, done: Callable[[bool], None] = lambda ok: None) -> bool:
        """Read the card on the reader with the CAN from the typed number (in the background).

        On success the chip's identity waits in ``session.data.chip_candidate`` for the citizen
        to confirm; ``done(True)``. On failure a notice says what to do; ``done(False)``.
        """
        from kiosk.identity.id_number import normalise_id_number

        try:
            number = normalise_id_number(raw)
        except KioskError as exc:
            self._fail(exc)
            return False

        mrz_key = self._scanned_mrz_key

        def work() -> Any:
            # The back office's challenge, signed by the chip in the same session: proof that
            # the card is here, for the citizen's papers on file (none if it does not answer).
            challenge = papers_on_file.request_challenge(self.services.backoffice)
            return self.services.chip.read(
                number, self.on_progress, mrz_key=mrz_key, aa_challenge=challenge
            )

        def finished(outcome: Any) -> None:
            if self.session.step is not Step.IDENTIFY:  # the citizen left meanwhile
                outcome.identity.wipe()
                if outcome.presence is not None:
                    outcome.presence.wipe()
                return
            self._presence = outcome.presence
            self.session.chip_read(outcome.identity)
            log.info(
                "card read: %s, passive authentication %s, %d APDUs",
                outcome.protocol,
                outcome.passive,
                outcome.apdus,
            )
            if outcome.warning_msgid:
                self._notify(outcome.warning_msgid, error=False)
            done(True)

        def failed(exc: BaseException) -> None:
            self._fail(exc)
            done(False)

        self.runner.run(work, finished, failed)
        return True

    def confirm_chip_identity(self) -> None:
        """The citizen confirms the photo and name read from the chip are theirs."""
        candidate = self.session.data.chip_candidate
        if candidate is None:
            return
        self.session.identified(candidate)
        presence, self._presence = self._presence, None
        if presence is None:
            return
        session = self.session

        def work() -> Any:
            return papers_on_file.fetch(self.services.backoffice, presence, candidate.id_number)

        def found(papers: Any) -> None:
            if session.data.identity is candidate:  # still the same citizen
                session.data.papers = papers

        self.runner.run(work, found, lambda exc: log.warning("papers on file: %s", exc))

    def reject_chip_identity(self) -> None:
        self._drop_presence()
        self.session.drop_chip_candidate()

    def _drop_presence(self) -> None:
        if self._presence is not None:
            self._presence.wipe()
        self._presence = None

    # ------------------------------------------------------------------ papers on file
    def papers_for(self, requirement: Any) -> list[Any]:
        """The citizen's papers on file that can stand for this document."""
        found = self.session.data.papers
        return papers_on_file.papers_for(requirement, found.papers) if found else []

    def use_on_file(self, requirement_id: str, paper_id: str) -> None:
        """Link the copy on file instead of capturing the paper (the dossier's on_file_ref)."""
        try:
            requirement = self.current_procedure().requirement(requirement_id)
            papers_on_file.use(self.session, requirement, paper_id)
        except KioskError as exc:
            self._fail(exc)

    def capture_instead(self, requirement_id: str) -> None:
        papers_on_file.capture_instead(self.session, requirement_id)

    # ------------------------------------------------------------------ procedure and form
    def procedures(self) -> list[Any]:
        return self.services.catalog.procedures()

    def current_procedure(self) -> Any:
        code = self.session.data.procedure_code
        return self.services.catalog.get(code) if code else None

    def choose_procedure(self, code: str) -> None:
        self.services.catalog.get(code)  # raises CatalogError for an unknown code
        self._form = None
        self.session.choose_procedure(code)

    def form(self) -> FormSpec:
        if self._form is None:
            self._form = FormSpec.from_definition(self.current_procedure().form)
        return self._form

    def form_prefill(self) -> Prefill:
        """The form's first values: earlier answers, else the identity's and the session's."""
        data = self.session.data
        return self.form().prefill(data.identity, data.answers, data.remembered)

    def form_values(self) -> dict[str, Any]:
        """The draft each field shows on entry (see ``form_prefill`` for sources and locks)."""
        return self.form_prefill().values

    def submit_form(self, draft: dict[str, Any]) -> dict[str, Problem]:
        """Check the form; on success move on. Returns the problem of each field path.

        Values the law ties to an authenticated chip are taken from the chip, not the draft.
        """
        locked = self.form_prefill().locked
        answers, problems = self.form().convert_and_validate(draft, locked=locked)
        if problems:
            self.session.touch()
            return problems
        self.session.data.remembered.update(self.form().remembered(answers))
        self.session.form_done(answers)
        return {}

    # ------------------------------------------------------------------ documents
    def requirements(self) -> list[Any]:
        return list(self.current_procedure().documents)

    def missing_documents(self) -> list[Any]:
        """Required documents with neither pages nor a paper on file (the declaration, filled
        in at the kiosk, is never missing)."""
        data = self.session.data
        return [
            d
            for d in self.requirements()
            if d.required
            and not d.is_declaration
            and not data.pages.get(d.id)
            and not data.on_file.get(d.id)
        ]

    def capture_page(self, requirement_id: str, done: Callable[[Path], None]) -> None:
        """Take a frame from the camera, keep it as this document's next page."""
        scratch = self.session.scratch_dir()

        def work() -> Path:
            from kiosk.camera.document_pages import page_from_photo

            camera = self.services.camera
            if not camera.is_open:
                camera.open()
            page, _note = page_from_photo(camera.read())
            path = scratch / f"{requirement_id}-{uuid.uuid4().hex[:8]}.jpg"
            if not cv2.imwrite(str(path), page, [cv2.IMWRITE_JPEG_QUALITY, 90]):
                raise KioskError(f"could not write {path}")
            return path

        def finished(path: Path) -> None:
            if self.session.step is not Step.DOCUMENTS:  # the citizen left meanwhile
                path.unlink(missing_ok=True)
                return
            self.session.add_page(requirement_id, path)
            done(path)

        self.runner.run(work, finished, self._fail)

    # the live camera (documents screen)
    def start_live(self, requirement_id: str) -> None:
        """Open the camera for one document: frames analysed until the page is captured."""
        from kiosk.camera.live_capture import DocumentAnalyser, LiveCapture

        self.stop_live()
        self._live_requirement = requirement_id
        self._live = LiveCapture(self.services.camera, DocumentAnalyser)
        self._live.start()

    def live_view(self) -> Any:
        return self._live.latest() if self._live is not None else None

    def restart_live(self) -> None:
        if self._live is not None:
            self._live.start()

    def stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
        self._live = None

    def capture_live_now(self) -> None:
        """Capture without waiting for a steady page: the analyser takes the next frame."""
        if self._live is not None:
            self._live.capture_next()

    def accept_live(self) -> Path | None:
        """Keep the captured page as the document's next page; returns its file."""
        view = self.live_view()
        requirement_id = self._live_requirement
        self.stop_live()
        if view is None or view.captured is None or requirement_id is None:
            return None
        if self.session.step is not Step.DOCUMENTS:
            return None
        path = self.session.scratch_dir() / f"{requirement_id}-{uuid.uuid4().hex[:8]}.jpg"
        if not cv2.imwrite(str(path), view.captured, [cv2.IMWRITE_JPEG_QUALITY, 90]):
            self._notify(KioskError.msgid)
            return None
        self.session.add_page(requirement_id, path)
        return path

    def retake_page(self, requirement_id: str) -> None:
        self.session.remove_last_page(requirement_id)

    def documents_done(self) -> bool:
        if self.missing_documents():
            self._notify(MSG_MISSING_DOCUMENTS)
            return False
        self.session.documents_done()
        return True

    # ------------------------------------------------------------------ submit and receipt
    def build_submission(self) -> Any:
        from kiosk.dossier.model import Applicant, Attachment, DossierSubmission

        data = self.session.data
        identity = data.identity
        assert identity is not None and data.procedure_code is not None
        answers = data.answers
        form = self.form()
        applicant = Applicant(
            id_number=identity.id_number,
            full_name=identity.full_name or _answer_for(form, answers, "identity.full_name") or "",
            date_of_birth=identity.date_of_birth,
            sex=identity.sex or "",
            residence=identity.residence or _answer_for(form, answers, "identity.residence") or "",
        )
        attachments = [
            Attachment(
                requirement_id=req.id,
                title=req.title("vi"),
                pages=[p.path for p in data.pages.get(req.id, [])],
                on_file_ref=data.on_file.get(req.id),
            )
            for req in self.requirements()
            if data.pages.get(req.id) or data.on_file.get(req.id)
        ]
        return DossierSubmission(
            procedure_code=data.procedure_code,
            kiosk_id=self.kiosk_id,
            applicant=applicant,
            declaration=dict(answers),
            attachments=attachments,
            created_at=now_local(),
        )

    def confirm_review(self) -> None:
        """Submit the dossier, then print its receipt; the session moves to RECEIPT."""
        submission = self.build_submission()
        self.session.confirm_review()

        def work() -> tuple[Any, bool]:
            digitised = self._with_declaration_pdf(self._as_searchable_pdfs(submission))
            result, entry = self._send_through_outbox(digitised)
            printed = self._print_receipt(digitised, result)
            if printed and entry is not None and not result.provisional:
                self.services.outbox.purge_delivered(entry.id)
            return result, printed

        def done(outcome: tuple[Any, bool]) -> None:
            result, printed = outcome
            self.session.submitted(result, printed)
            if not printed:
                self._notify(MSG_RECEIPT_NOT_PRINTED)

        def failed(exc: BaseException) -> None:
            self.session.submission_failed()
            self._fail(exc)

        self.runner.run(work, done, failed)

    def _send_through_outbox(self, submission: Any) -> tuple[Any, Any]:
        """Store the whole dossier in the outbox (on disk, encrypted) before anything says
        "submitted"; the sender delivers it. Wait a little for the final code; if the back
        office is slow or down, the receipt carries the provisional reference instead."""
        from kiosk.delivery.backoffice import SubmissionRejected
        from kiosk.delivery.outbox.store import EntryState, provisional_result

        outbox = self.services.outbox
        entry = outbox.put(submission)  # OutboxNotSaved: nothing stored, the citizen is told
        wait_s = self.services.config.outbox.wait_for_code_s
        done = outbox.wait_delivered(entry.reference, wait_s) or entry
        if done.state is EntryState.DELIVERED and done.result is not None:
            return done.result, done
        if done.state is EntryState.PARKED:
            raise SubmissionRejected([done.last_error or "refused by the back office"])
        proc = self.current_procedure()
        log.warning("dossier %s kept in the outbox; provisional receipt", entry.reference)
        result = provisional_result(
            entry, proc.processing_days, proc.fee_vnd, self.services.holidays
        )
        return result, entry

    def _as_searchable_pdfs(self, submission: Any) -> Any:
        """Each document's captured pages become one searchable PDF (image + Vietnamese text):
        the dossier carries the digitised paper, not loose photos."""
        from dataclasses import replace

        from kiosk.vision.pdf import write_searchable_pdf

        scratch = self.session.scratch_dir()
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

    def declaration_requirement(self) -> Any:
        """The document of the procedure that the filled form itself is (đơn đề nghị, tờ khai)."""
        return next((d for d in self.requirements() if d.is_declaration), None)

    def agency_name(self) -> str:
        """The agency that handles the current procedure (config/agencies.toml)."""
        agencies = self.services.agencies
        agency = agencies.for_procedure(self.current_procedure()) if agencies else None
        return agency.name_vi if agency else self.services.config.kiosk.agency_name

    def _with_declaration_pdf(self, submission: Any) -> Any:
        """The filled form as a PDF (tờ khai), attached as the procedure's application document:
        the dossier carries the declaration as data and as the paper an officer reads."""
        from dataclasses import replace

        from kiosk.forms.declaration import (
            DOC_CAPTURED,
            DOC_ON_FILE,
            DOC_THIS_FORM,
            declaration_for,
        )
        from kiosk.forms.declaration_pdf import render_declaration_pdf

        req = self.declaration_requirement()
        if req is None:
            return submission
        data = self.session.data
        documents = []
        for d in self.requirements():
            if d.id == req.id:
                documents.append(DOC_THIS_FORM.format(title=d.title("vi")))
            elif data.on_file.get(d.id):
                paper = papers_on_file.chosen_paper(self.session, d.id)
                ref = papers_on_file.reference(paper) if paper else data.on_file[d.id]
                documents.append(DOC_ON_FILE.format(title=d.title("vi"), ref=ref))
            elif data.pages.get(d.id):
                pages = len(data.pages[d.id])
                documents.append(DOC_CAPTURED.format(title=d.title("vi"), pages=pages))
        cfg = self.services.config.kiosk
        decl = declaration_for(
            procedure=self.current_procedure(),
            form=self.form(),
            answers=submission.declaration,
            identity=data.identity,
            signer_name=submission.applicant.full_name,
            agency_name=self.agency_name(),
            documents=documents,
            place=cfg.place,
            signed_at=submission.created_at,
            kiosk_id=cfg.id,
            reference=submission.idempotency_key[:12],
        )
        pdf = self.session.scratch_dir() / f"{req.id}.pdf"
        pdf.write_bytes(render_declaration_pdf(decl))
        others = [a for a in submission.attachments if a.requirement_id != req.id]
        form_doc = Attachment(requirement_id=req.id, title=req.title("vi"), pages=[pdf])
        return replace(submission, attachments=[form_doc, *others])

    def receipt_data(self, submission: Any = None, result: Any = None, lang: str = "vi") -> Any:
        """What the receipt says, printed (in Vietnamese) and on the receipt screen (``lang``
        names the procedure and the documents; everything else is the same)."""
        from kiosk.printing.receipt import ReceiptData

        data = self.session.data
        result = result or data.result
        proc = self.current_procedure()
        identity = data.identity
        cfg = self.services.config.kiosk
        docs = [
            req.title(lang)
            for req in self.requirements()
            if data.pages.get(req.id) or data.on_file.get(req.id) or req.is_declaration
        ]
        # the name as submitted: the chip's, else the one typed in the form (no chip read)
        name = (
            (submission.applicant.full_name if submission else None)
            or (identity.full_name if identity else None)
            or _answer_for(self.form(), data.answers, "identity.full_name")
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

    def _print_receipt(self, submission: Any, result: Any) -> bool:
        from kiosk.printing.receipt import receipt_layout

        try:
            blocks = receipt_layout(self.receipt_data(submission, result), lang="vi")
            self.services.printer.print_layout(blocks)
        except KioskError as exc:
            log.error("receipt for %s not printed: %s", result.dossier_code, exc)
            self.services.alert_staff(f"receipt not printed: {exc}")
            return False
        return True

    def receipt_done(self) -> None:
        self.session.receipt_done()

    def rate(self, level: int | None) -> None:
        data = self.session.data
        if level is not None:
            self.services.ratings.record(
                self.kiosk_id,
                self.session.journey.value if self.session.journey else "",
                data.procedure_code,
                level,
                datetime.now(),
            )
        self.session.rated(level)

    # ------------------------------------------------------------------ queue ticket
    def services_for_queue(self) -> list[Any]:
        return self.services.catalog.services()

    def queue_load(self) -> dict[str, QueueLoad]:
        """Per service: the tickets waiting now and the estimated wait of a ticket taken now
        (ordinary and priority). A few SQLite reads (about 1 ms with 50 tickets waiting, 6 ms
        with 300), but the store may wait for another process's write lock (up to its busy
        timeout times its retries): screens call ``refresh_queue_load``."""
        tickets = self.services.tickets
        waiting = tickets.waiting_by_service()
        load: dict[str, QueueLoad] = {}
        for service in self.services_for_queue():
            code = service.code
            _, normal = tickets.estimate(code)
            _, priority = tickets.estimate(code, priority=True)
            load[code] = QueueLoad(code, waiting.get(code, 0), normal, priority)
        return load

    def refresh_queue_load(self, done: Callable[[dict[str, QueueLoad]], None]) -> None:
        """``queue_load()`` in the runner, off the UI thread; ``done(load)``. A store that
        cannot be read gives ``done({})`` (logged): the screen then shows no figures."""

        def failed(exc: BaseException) -> None:
            log.warning("queue figures not shown: %s", exc)
            done({})

        self.runner.run(self.queue_load, done, failed)

    def check_printer(self, done: Callable[[str | None], None] = lambda msgid: None) -> None:
        """Ask the printer for its state in the runner (a silent network printer takes its
        status timeout, an unreachable one its connect timeout); ``done(msgid)`` with the notice
        the queue screen shows before the citizen takes a number, None when tickets will print.
        Staff are alerted once per outage (see ``PrinterWatch``)."""
        self.runner.run(self._printer_notice, done, self._fail)

    def _printer_notice(self) -> str | None:
        """The printer's status now, through the watch (which alerts staff); runs in the
        runner: the watch is only touched from there."""
        return self._printer_watch.seen(self.services.printer.status())

    def ticket_not_printed(self) -> str | None:
        """The msgid the ticket screen shows when the session's ticket was not printed."""
        return self.session.data.ticket_not_printed

    def issue_ticket(self, service_code: str, priority_class: str | None) -> None:
        """Issue a ticket and print it (in the runner). The printer's state is asked again
        just before: a printer that is not ready is not sent the job (no second timeout), the
        ticket is issued all the same and the ticket screen says it was not printed."""

        def work() -> tuple[Any, str | None]:
            notice = self._printer_notice()
            identity = self.session.data.identity
            from_chip = bool(
                priority_class == "elderly"
                and identity is not None
                and identity.source.value == "chip"
            )
            ticket = self.services.tickets.issue(service_code, priority_class, from_chip=from_chip)
            if notice is not None:
                log.warning("ticket %s shown on screen only: printer not ready", ticket.number)
                return ticket, self._printer_watch.not_printed_msgid
            return ticket, None if self._print_ticket(ticket) else MSG_TICKET_NOT_PRINTED

        def done(outcome: tuple[Any, str | None]) -> None:
            ticket, not_printed = outcome
            self.session.ticket_issued(service_code, priority_class, ticket, not_printed)

        self.runner.run(work, done, self._fail)

    def _print_ticket(self, ticket: Any) -> bool:
        from kiosk.printing.receipt import QueueTicketData, ticket_layout
        from kiosk.tickets.store import find_priority_class

        cfg = self.services.config.kiosk
        service = next(
            (s for s in self.services.catalog.services() if s.code == ticket.service_code), None
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
            self.services.printer.print_layout(ticket_layout(data, lang="vi"))
        except KioskError as exc:
            log.error("ticket %s not printed: %s", ticket.number, exc)
            self._printer_watch.print_failed(exc, f"ticket {ticket.number}")
            return False
        self._printer_watch.printed()
        return True

    # ------------------------------------------------------------------ look-up
    def scan_receipt(self, *, seconds: float = 12.0) -> None:
        """Read the receipt's QR with the camera, then look the dossier up."""
        from kiosk.camera.receipt_scan import scan_receipt_with_camera

        def work() -> str:
            return scan_receipt_with_camera(self.services.camera, seconds=seconds)

        def found(code: str) -> None:
            if self.session.step is Step.LOOKUP:
                self.lookup(code)

        self.runner.run(work, found, self._fail)

    def lookup(self, code: str) -> None:
        code = code.strip().upper()
        if not code:
            self._notify(MSG_NO_CODE)
            return

        def work() -> Any:
            from kiosk.delivery.outbox.store import is_provisional_reference
            from kiosk.dossier.model import parse_dossier_code

            final = code
            if is_provisional_reference(code):
                entry = self.services.outbox.find(code)
                if entry is None or entry.result is None:
                    raise DossierStillQueued(code)
                final = entry.result.dossier_code
            parse_dossier_code(final)
            return self.services.backoffice.lookup(final)

        self.runner.run(work, lambda status: self.session.lookup_found(code, status), self._fail)

    # ------------------------------------------------------------------ navigation
    def finish(self) -> None:
        self.session.finish()

    def back(self) -> None:
        self.session.back()

    def go_back_to(self, step: Step) -> None:
        """The review's "Edit": back to an earlier step (the form, the documents) with
        everything entered kept; the citizen then comes forward through the steps after it."""
        self.session.back_to(step)

    def cancel(self) -> None:
        self.stop_live()
        self._form = None
        self._scanned_mrz_key = None
        self._drop_presence()
        self.session.cancel()


def _answer_for(form: FormSpec, answers: dict[str, Any], prefill: str) -> str | None:
    for f in form.fields:
        if f.prefill == prefill and answers.get(f.name):
            return str(answers[f.name])
    return None


@dataclass(frozen=True)
class QueueLoad:
    """One service's queue now: the tickets waiting, and the wait in whole minutes of a ticket
    taken now, ordinary or priority (None: no open counter serves the service)."""

    service_code: str
    waiting: int
    wait_min: int | None
    priority_wait_min: int | None
