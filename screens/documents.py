"""Documents screen: the procedure's required papers, each captured page by page with the camera,
or taken from the citizen's papers on file.

Phases (the session's ``DocumentsPhase``, moved by kiosk/flow/documents.py): ``list`` (every
required document, its pages, capture or retake; "Use the copy on file" with the paper's title
and date when the back office holds a matching paper, then "Capture instead" to go back to the
camera), ``live`` (the camera's preview with the page outline drawn, the guidance in words, the
progress to the automatic capture, and a "capture now" button), ``review`` (the straightened
page: use it or retake).
Frames come from ``kiosk.camera.live_capture`` on a worker thread; this screen only draws them.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.graphics.texture import Texture
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout

from kiosk.flow.events import PageKept
from kiosk.flow.papers_on_file import label
from kiosk.session.state import DocumentsPhase
from screens.base import KioskScreen
from screens.widgets import KButton

POLL_S = 1 / 15
MAX_OFFERS = 3  # papers on file offered for one document (the newest)


def outline_points(image: Any, corners: Any, frame_size: tuple[int, int]) -> list[float]:
    """A page's corners (frame pixels, y down) as points over ``image`` as it shows the frame
    (fit inside, centred; y up); [] without corners."""
    if not corners:
        return []
    shown_w, shown_h = image.norm_image_size
    width, height = frame_size
    x0 = image.center_x - shown_w / 2
    y0 = image.center_y - shown_h / 2
    sx, sy = shown_w / width, shown_h / height
    points: list[float] = []
    for x, y in corners:
        points += [x0 + x * sx, y0 + (height - y) * sy]
    return points


def texture_of(frame: Any, texture: Any = None) -> Any:
    """A Kivy texture showing a BGR NumPy frame (reused when the size is unchanged)."""
    height, width = frame.shape[:2]
    if texture is None or texture.size != (width, height):
        texture = Texture.create(size=(width, height), colorfmt="bgr")
        texture.flip_vertical()
    texture.blit_buffer(frame.tobytes(), colorfmt="bgr", bufferfmt="ubyte")
    return texture


class DocumentRow(BoxLayout):
    """One required document: its title, how many pages are captured, capture and retake; the
    matching papers on file ("Use the copy on file"), or the one in use and "Capture instead"."""

    requirement = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    status = StringProperty("")
    pages = ObjectProperty(0)
    uses_paper = BooleanProperty(False)  # the document is a paper on file
    filled_here = BooleanProperty(False)  # the declaration itself: the kiosk makes it
    offers = ListProperty([])  # the papers on file offered for it (PaperOnFile)

    def on_kv_post(self, base_widget: Any) -> None:
        # ``ids`` are weak: the set of buttons out of the tree is kept alive here
        self._camera_actions = self.ids.camera_actions.__self__
        self._capture_instead = self.ids.capture_instead.__self__
        self.show_actions()

    def on_uses_paper(self, *args: Any) -> None:
        self.show_actions()

    def on_filled_here(self, *args: Any) -> None:
        self.show_actions()

    def show_actions(self) -> None:
        """The camera's buttons, or "Capture instead" while the paper on file is used, or
        nothing for the declaration the kiosk fills in."""
        box = self.ids.actions
        box.clear_widgets()
        if not self.filled_here:
            box.add_widget(self._capture_instead if self.uses_paper else self._camera_actions)


class DocumentsScreen(KioskScreen):
    phase = StringProperty("list")  # the session's DocumentsPhase: list | live | review
    preview = StringProperty("")  # the last accepted page (a file in the session's folder)
    busy_id = StringProperty("")
    current_title = StringProperty("")
    guidance = StringProperty("")
    progress = NumericProperty(0)
    live_texture = ObjectProperty(None, allownone=True)
    page_texture = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: list[DocumentRow] = []
        self._poll_event: Any = None
        self._last_sequence = -1
        self._frame_size = (1, 1)
        self._corners: Any = None
        self._outline: Line | None = None
        self.flow.events.subscribe(PageKept, self._page_kept)

    # ------------------------------------------------------------------ the list
    def on_kv_post(self, base_widget: Any) -> None:
        self.on_preview(self, self.preview)

    def on_preview(self, _screen: Any, preview: str) -> None:
        """The last page shown above the list; with no page yet, no empty frame there."""
        image = self.ids.preview
        image.size_hint_y = 0.3 if preview else None
        if not preview:
            image.height = 0

    def refresh(self) -> None:
        lang = self.app.lang
        self.phase = self.session.data.documents_phase.value
        reqs = self.flow.documents.requirements()
        box = self.ids.rows
        while len(self._rows) < len(reqs):
            row = DocumentRow()
            row.ids.capture.bind(on_release=lambda b, r=row: self.capture(r.requirement.id))
            row.ids.retake.bind(on_release=lambda b, r=row: self.retake(r.requirement.id))
            row.ids.capture_instead.bind(
                on_release=lambda b, r=row: self.capture_instead(r.requirement.id)
            )
            self._rows.append(row)
        box.clear_widgets()
        pages = self.session.data.pages
        on_file = self.session.data.on_file
        for row, req in zip(self._rows, reqs, strict=False):
            row.requirement = req
            count = len(pages.get(req.id, []))
            row.pages = count
            title = req.title(lang)
            if_any = self.t("(if any)")
            row.title = title if req.required or title.endswith(if_any) else f"{title} {if_any}"
            row.filled_here = req.is_declaration
            if req.is_declaration:
                row.offers = []
                self._show_offers(row)
                row.status = self.t("Filled in at this kiosk from your declaration.")
                box.add_widget(row)
                continue
            papers = self.flow.documents.papers_for(req)
            chosen = next((p for p in papers if p.id == on_file.get(req.id)), None)
            row.uses_paper = chosen is not None
            row.offers = [] if chosen is not None else papers[:MAX_OFFERS]
            self._show_offers(row)
            if chosen is not None:
                row.status = self.t("Using the copy on file: {paper}").format(paper=label(chosen))
            elif count:
                row.status = self.t("{n} page(s) captured").format(n=count)
            elif papers:
                row.status = self.t("Already on file: you do not need to capture it again.")
            else:
                row.status = self.t("Not captured yet") if req.required else ""
            box.add_widget(row)
        if not any(pages.values()):
            self.preview = ""

    def _show_offers(self, row: DocumentRow) -> None:
        """One "Use the copy on file" button per paper offered, with its title and date."""
        box = row.ids.offers
        box.clear_widgets()
        for paper in row.offers:
            button = KButton(
                kind="primary", text=self.t("Use the copy on file") + "\n" + label(paper)
            )
            button.bind(
                on_release=lambda b, r=row, pid=paper.id: self.use_on_file(r.requirement.id, pid)
            )
            box.add_widget(button)

    def use_on_file(self, requirement_id: str, paper_id: str) -> None:
        """The citizen takes the paper on file for this document (captured pages dropped)."""
        self.flow.documents.use_on_file(requirement_id, paper_id)
        self._show_last_page()
        self.refresh()

    def capture_instead(self, requirement_id: str) -> None:
        """Back to capturing this document with the camera."""
        self.flow.documents.capture_instead(requirement_id)
        self.refresh()

    def _show_last_page(self) -> None:
        pages = [p for ps in self.session.data.pages.values() for p in ps]
        self.preview = str(pages[-1].path) if pages else ""

    def capture(self, requirement_id: str) -> None:
        """Open the live camera for this document."""
        req = next(r for r in self.flow.documents.requirements() if r.id == requirement_id)
        self.busy_id = requirement_id
        self.current_title = req.title(self.app.lang)
        self.guidance = ""
        self.progress = 0
        self._last_sequence = -1
        self.flow.documents.start_live(requirement_id)
        self._start_polling()

    def retake(self, requirement_id: str) -> None:
        """Drop the last page of a document (from the list)."""
        self.flow.documents.retake_page(requirement_id)
        self._show_last_page()
        self.refresh()

    def done(self) -> None:
        self.flow.documents.done()

    # ------------------------------------------------------------------ live
    def _start_polling(self) -> None:
        if self._poll_event is None:
            self._poll_event = Clock.schedule_interval(lambda dt: self.poll(), POLL_S)

    def _stop_polling(self) -> None:
        if self._poll_event is not None:
            self._poll_event.cancel()
            self._poll_event = None

    def poll(self) -> None:
        """Show the newest analysed frame; switch to review when the page was captured."""
        view = self.flow.documents.live_view()
        if view is None or view.sequence == self._last_sequence:
            return
        self._last_sequence = view.sequence
        self.session.touch()  # a citizen busy with the camera is not idle
        self.guidance = self.t(view.guidance_msgid) if view.guidance_msgid else ""
        self.progress = view.progress
        self.live_texture = texture_of(view.frame, self.live_texture)
        height, width = view.frame.shape[:2]
        self._frame_size = (width, height)
        self._corners = view.corners
        self.draw_outline()
        if view.captured is not None:
            self._stop_polling()
            self.page_texture = texture_of(view.captured)
            self.flow.documents.page_captured()

    def draw_outline(self, *args: Any) -> None:
        """The page outline over the preview, in the image's displayed coordinates."""
        image = self.ids.live
        if self._outline is None:
            with image.canvas.after:
                Color(0.1, 0.85, 0.3, 1)
                self._outline = Line(width=3, close=True)
        self._outline.points = outline_points(image, self._corners, self._frame_size)

    def capture_now(self) -> None:
        """The citizen does not wait for the automatic capture."""
        self.flow.documents.capture_now()

    def stop_live(self) -> None:
        """Back to the list without a new page."""
        self._stop_polling()
        self.flow.documents.stop_live()
        self.busy_id = ""
        self.refresh()

    # ------------------------------------------------------------------ review
    def accept(self) -> None:
        self._stop_polling()
        self.flow.documents.accept_live()  # the kept page arrives as ``PageKept``
        self.busy_id = ""
        self.refresh()

    def retake_live(self) -> None:
        self.page_texture = None
        self._last_sequence = -1
        self.progress = 0
        self.flow.documents.retake_live()
        self._start_polling()

    def _page_kept(self, event: PageKept) -> None:
        """A page was kept (the live camera's, or a hand capture): shown above the list."""
        self.busy_id = ""
        self.preview = str(event.path)
        self.ids.preview.reload()
        self.refresh()

    def phase_moved(self, phase: Any) -> None:
        if isinstance(phase, DocumentsPhase):
            self.phase = phase.value

    def on_leave(self, *args: Any) -> None:
        self._stop_polling()

    def shutdown(self) -> None:
        self._stop_polling()

    def reset(self) -> None:
        self._stop_polling()
        self.phase = "list"
        self.preview = ""
        self.busy_id = ""
        self.guidance = ""
        self.progress = 0
        self.live_texture = None
        self.page_texture = None
        self._corners = None
        if self._outline is not None:
            self._outline.points = []
        for row in self._rows:
            row.requirement = None
            row.pages = 0
            row.uses_paper = False
            row.offers = []
            row.ids.offers.clear_widgets()
        self.ids.rows.clear_widgets()
