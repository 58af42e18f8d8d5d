"""Review and submit screens: every answer and document shown back, then the submission."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.forms.declaration import answer_items
from kiosk.forms.declaration_pdf import Table
from kiosk.infra.text import format_fee
from kiosk.session.state import Step
from screens.base import KioskScreen

#: The steps the review's "Edit" buttons go back to, by section.
EDIT_STEPS = {"form": Step.FORM, "documents": Step.DOCUMENTS}


class ReviewScreen(KioskScreen):
    procedure = StringProperty("")
    fee = StringProperty("")
    processing = StringProperty("")
    applicant = StringProperty("")
    answers = StringProperty("")
    documents = StringProperty("")

    def refresh(self) -> None:
        lang = self.app.lang
        data = self.session.data
        proc = self.flow.dossier.current_procedure()
        if proc is None:
            return
        self.procedure = proc.title(lang)
        self.fee = format_fee(proc.fee_vnd, lang)
        self.processing = self.t("{n} working days").format(n=proc.processing_days)
        identity = data.identity
        lines_applicant = []
        if identity is not None:
            if identity.full_name:
                lines_applicant.append(identity.full_name)
            lines_applicant.append(f"{self.t('ID number')}: {identity.id_number}")
        self.applicant = "\n".join(lines_applicant)
        lines = []
        for item in answer_items(self.flow.dossier.form(), data.answers, lang):
            if isinstance(item, Table):
                lines.append(f"{item.label}:")
                for i, row in enumerate(item.rows, start=1):
                    cells = " · ".join(
                        f"{c}: {v}" for c, v in zip(item.columns, row, strict=True) if v
                    )
                    lines.append(f"   {i}. {cells}")
            else:
                lines.append(f"{item.label}: {item.value}")
        self.answers = "\n".join(lines)
        declaration = self.flow.documents.declaration_requirement()
        doc_lines = []
        for req in self.flow.documents.requirements():
            n = len(data.pages.get(req.id, []))
            if declaration is not None and req.id == declaration.id:
                doc_lines.append(
                    f"{req.title(lang)}: " + self.t("this declaration, filled in here")
                )
            elif data.on_file.get(req.id):
                doc_lines.append(f"{req.title(lang)}: " + self.t("the copy on file"))
            elif n:
                doc_lines.append(f"{req.title(lang)}: " + self.t("{n} page(s)").format(n=n))
        self.documents = "\n".join(doc_lines) or self.t("No documents")
        self.ids.scroll.scroll_y = 1

    def confirm(self) -> None:
        self.flow.dossier.confirm_review()

    def edit(self, section: str) -> None:
        """ "Edit" beside a section: back to its step, everything entered kept."""
        self.flow.go_back_to(EDIT_STEPS[section])

    def reset(self) -> None:
        self.procedure = self.applicant = self.answers = self.documents = ""
        self.fee = self.processing = ""


class SubmitScreen(KioskScreen):
    """Shown while the dossier is being sent and the receipt printed."""

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.show_back = False
        self.show_cancel = False
