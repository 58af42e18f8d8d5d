"""Documents screen: the procedure's required papers, each captured page by page with the camera.

Issue 4 adds the live preview with the page outline, guidance and automatic capture; here a tap
takes a frame from the configured camera (real or simulated) and shows it to accept or retake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from screens.base import KioskScreen


class DocumentRow(BoxLayout):
    """One required document: its title, how many pages are captured, capture and retake."""

    requirement = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    status = StringProperty("")
    pages = ObjectProperty(0)


class DocumentsScreen(KioskScreen):
    preview = StringProperty("")
    busy_id = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: list[DocumentRow] = []

    def refresh(self) -> None:
        lang = self.app.lang
        reqs = self.flow.requirements() if self.flow.current_procedure() else []
        box = self.ids.rows
        while len(self._rows) < len(reqs):
            row = DocumentRow()
            row.ids.capture.bind(on_release=lambda b, r=row: self.capture(r.requirement.id))
            row.ids.retake.bind(on_release=lambda b, r=row: self.retake(r.requirement.id))
            self._rows.append(row)
        box.clear_widgets()
        pages = self.session.data.pages
        for row, req in zip(self._rows, reqs, strict=False):
            row.requirement = req
            count = len(pages.get(req.id, []))
            row.pages = count
            mark = "" if req.required else " " + self.t("(if any)")
            row.title = req.title(lang) + mark
            if count:
                row.status = self.t("{n} page(s) captured").format(n=count)
            else:
                row.status = self.t("Not captured yet") if req.required else ""
            box.add_widget(row)
        if not any(pages.values()):
            self.preview = ""

    def capture(self, requirement_id: str) -> None:
        self.busy_id = requirement_id
        self.flow.capture_page(requirement_id, self._captured)

    def _captured(self, path: Path) -> None:
        self.busy_id = ""
        self.preview = str(path)
        self.ids.preview.reload()
        self.refresh()

    def retake(self, requirement_id: str) -> None:
        self.flow.retake_page(requirement_id)
        pages = [p for ps in self.session.data.pages.values() for p in ps]
        self.preview = str(pages[-1].path) if pages else ""
        self.refresh()

    def done(self) -> None:
        self.flow.documents_done()

    def reset(self) -> None:
        self.preview = ""
        self.busy_id = ""
        for row in self._rows:
            row.requirement = None
            row.pages = 0
        self.ids.rows.clear_widgets()
