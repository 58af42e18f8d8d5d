"""The documents step: each paper the procedure asks for, captured or taken from the papers on
file.

Phases (``DocumentsPhase``, owned by the session)::

    LIST ──start_live(paper)──▶ LIVE ──page steady (or "capture now")──▶ REVIEW
      ▲  ◀──────── stop_live ─────┘  ◀──────────── retake ──────────────────┤
      └──────────────────────────── accept_live (the page is kept) ◀───────┘

The live camera belongs to the step: it stops when the citizen leaves the session. Captured
pages are files in the session's scratch folder, removed with it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import cv2

from kiosk.errors import KioskError
from kiosk.flow import papers_on_file
from kiosk.flow.context import FlowContext
from kiosk.flow.events import PageKept
from kiosk.session.state import DocumentsPhase, Session, Step

MSG_MISSING_DOCUMENTS = "Please capture every required document before you continue."
JPEG_QUALITY = 90


class DocumentsJourney:
    """The papers of the dossier: camera pages, or copies the administration already holds."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self._live: Any = None  # kiosk.camera.live_capture.LiveCapture while the camera is open
        self._live_requirement: str | None = None
        ctx.session.subscribe(self._on_step)

    def _on_step(self, session: Session, old: Step, new: Step) -> None:
        if new is not Step.DOCUMENTS:
            self._close_live()

    def _phase(self, phase: DocumentsPhase) -> None:
        if self.ctx.session.step is Step.DOCUMENTS:
            self.ctx.session.enter_phase(phase)

    # ------------------------------------------------------------------ the list
    def requirements(self) -> list[Any]:
        procedure = self.ctx.procedure()
        return list(procedure.documents) if procedure else []

    def declaration_requirement(self) -> Any:
        """The document of the procedure that the filled form itself is (đơn đề nghị, tờ khai)."""
        return next((d for d in self.requirements() if d.is_declaration), None)

    def missing(self) -> list[Any]:
        """Required documents with neither pages nor a paper on file (the declaration, filled
        in at the kiosk, is never missing)."""
        data = self.ctx.session.data
        return [
            d
            for d in self.requirements()
            if d.required
            and not d.is_declaration
            and not data.pages.get(d.id)
            and not data.on_file.get(d.id)
        ]

    def done(self) -> bool:
        """On to the review when nothing required is missing; else a notice."""
        if self.missing():
            self.ctx.notify(MSG_MISSING_DOCUMENTS)
            return False
        self.ctx.session.documents_done()
        return True

    def retake_page(self, requirement_id: str) -> None:
        self.ctx.session.remove_last_page(requirement_id)

    # ------------------------------------------------------------------ papers on file
    def papers_for(self, requirement: Any) -> list[Any]:
        """The citizen's papers on file that can stand for this document."""
        found = self.ctx.session.data.papers
        return papers_on_file.papers_for(requirement, found.papers) if found else []

    def use_on_file(self, requirement_id: str, paper_id: str) -> None:
        """Link the copy on file instead of capturing the paper (the dossier's on_file_ref)."""
        try:
            requirement = self.ctx.procedure().requirement(requirement_id)
            papers_on_file.use(self.ctx.session, requirement, paper_id)
        except KioskError as exc:
            self.ctx.fail(exc)

    def capture_instead(self, requirement_id: str) -> None:
        papers_on_file.capture_instead(self.ctx.session, requirement_id)

    # ------------------------------------------------------------------ one frame
    def capture_page(self, requirement_id: str) -> None:
        """Take one frame from the camera and keep it as this document's next page (the demo's
        and the screenshots' capture; citizens use the live camera)."""
        ctx = self.ctx
        scratch = ctx.session.scratch_dir()

        def work() -> Path:
            from kiosk.camera.document_pages import page_from_photo

            camera = ctx.services.camera
            if not camera.is_open:
                camera.open()
            page, _note = page_from_photo(camera.read())
            return _keep(page, scratch, requirement_id)

        def finished(path: Path) -> None:
            if ctx.session.step is not Step.DOCUMENTS:  # the citizen went back meanwhile
                path.unlink(missing_ok=True)
                return
            self._keep_page(requirement_id, path)

        ctx.run(work, finished, left=lambda path: path.unlink(missing_ok=True))

    # ------------------------------------------------------------------ the live camera
    def start_live(self, requirement_id: str) -> None:
        """Open the camera for one document: frames analysed until the page is captured."""
        from kiosk.camera.live_capture import DocumentAnalyser, LiveCapture

        self._close_live()
        self._live_requirement = requirement_id
        self._live = LiveCapture(self.ctx.services.camera, DocumentAnalyser)
        self._live.start()
        self._phase(DocumentsPhase.LIVE)

    def live_view(self) -> Any:
        """The newest analysed frame (``LiveView``), None while the camera is closed."""
        return self._live.latest() if self._live is not None else None

    def hold_live_still(self, frames: int) -> None:
        """Freeze the live camera on its ``frames``-th frame from opening (the screenshots' still:
        the same preview and progress on every machine)."""
        if self._live is not None:
            self._live.hold_still(frames)

    def page_captured(self) -> None:
        """The screen saw the captured page: the citizen now keeps it or takes it again."""
        self._phase(DocumentsPhase.REVIEW)

    def capture_now(self) -> None:
        """Capture without waiting for a steady page: the analyser takes the next frame."""
        if self._live is not None:
            self._live.capture_next()

    def retake_live(self) -> None:
        """The captured page is not good: the live camera again."""
        if self._live is not None:
            self._live.start()
        self._phase(DocumentsPhase.LIVE)

    def stop_live(self) -> None:
        """Back to the list without a new page."""
        self._close_live()
        self._phase(DocumentsPhase.LIST)

    def accept_live(self) -> Path | None:
        """Keep the captured page as the document's next page; returns its file."""
        view = self.live_view()
        requirement_id = self._live_requirement
        self.stop_live()
        session = self.ctx.session
        if view is None or view.captured is None or requirement_id is None:
            return None
        if session.step is not Step.DOCUMENTS:
            return None
        try:
            path = _keep(view.captured, session.scratch_dir(), requirement_id)
        except KioskError as exc:
            self.ctx.fail(exc)
            return None
        self._keep_page(requirement_id, path)
        return path

    def _keep_page(self, requirement_id: str, path: Path) -> None:
        self.ctx.session.add_page(requirement_id, path)
        self.ctx.events.emit(PageKept(requirement_id, path))

    def _close_live(self) -> None:
        if self._live is not None:
            self._live.stop()
        self._live = None
        self._live_requirement = None


def _keep(image: Any, folder: Path, requirement_id: str) -> Path:
    """Write a page as JPEG in the session's folder under a name no other page has."""
    path = folder / f"{requirement_id}-{uuid.uuid4().hex[:8]}.jpg"
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise KioskError(f"could not write {path.name}")
    return path
