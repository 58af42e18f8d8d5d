"""Review and submit screens: every answer and document shown back, then the submission."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.forms import answer_text
from screens.base import KioskScreen


class ReviewScreen(KioskScreen):
    procedure = StringProperty("")
    applicant = StringProperty("")
    answers = StringProperty("")
    documents = StringProperty("")

    def refresh(self) -> None:
        lang = self.app.lang
        data = self.session.data
        proc = self.flow.current_procedure()
        if proc is None:
            return
        self.procedure = proc.title(lang)
        identity = data.identity
        lines_applicant = []
        if identity is not None:
            if identity.full_name:
                lines_applicant.append(identity.full_name)
            lines_applicant.append(f"{self.t('ID number')}: {identity.id_number}")
        self.applicant = "\n".join(lines_applicant)
        form = self.flow.form()
        lines = []
        for field in form.fields:
            if field.name in data.answers:
                value = answer_text(field, data.answers[field.name], lang)
                lines.append(f"{field.title(lang)}: {value}")
        self.answers = "\n".join(lines)
        doc_lines = []
        for req in self.flow.requirements():
            n = len(data.pages.get(req.id, []))
            if n:
                doc_lines.append(f"{req.title(lang)}: " + self.t("{n} page(s)").format(n=n))
        self.documents = "\n".join(doc_lines) or self.t("No documents")

    def confirm(self) -> None:
        self.flow.confirm_review()

    def reset(self) -> None:
        self.procedure = self.applicant = self.answers = self.documents = ""


class SubmitScreen(KioskScreen):
    """Shown while the dossier is being sent and the receipt printed."""

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.show_back = False
        self.show_cancel = False
