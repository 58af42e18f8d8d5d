"""The rules of a dossier that the kiosk and the back office share: what makes a submission
acceptable for its procedure (``dossier_problems``) and which status may follow which
(``TRANSITIONS``). The reference back office (backoffice/dossiers.py) applies exactly these.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.catalog.procedures import DocumentRequirement, Procedure
from kiosk.dossier.model import (
    Attachment,
    DossierState,
    DossierSubmission,
    is_id_number,
)
from kiosk.forms.spec import FormSpec
from kiosk.i18n import translator

PaperCheck = Callable[[Attachment, DocumentRequirement | None], str | None]


def dossier_problems(
    dossier: DossierSubmission, procedure: Procedure, paper_check: PaperCheck | None = None
) -> list[str]:
    """Every reason a back office refuses ``dossier`` for its ``procedure``, one line each
    with its path: the applicant, the declaration by the kiosk's own form rules (formats, date
    bounds, place names, with the same messages), unknown, repeated and missing documents.
    ``paper_check`` judges an attachment's ``on_file_ref`` against the papers the back office
    holds. The kiosk's client and the reference server both apply it."""
    problems: list[str] = []
    if not is_id_number(dossier.applicant.id_number):
        problems.append("applicant.id_number: not a 12-digit personal identification number")
    if not dossier.applicant.full_name.strip():
        problems.append("applicant.full_name: missing")
    english = translator("en")
    form = FormSpec.from_definition(procedure.form)
    for path, problem in sorted(form.validate_answers(dossier.declaration).items()):
        where = f"declaration.{path}" if path else "declaration"
        problems.append(f"{where}: {problem.text(english)}")
    given: set[str] = set()
    for i, attachment in enumerate(dossier.attachments):
        requirement = procedure.requirement(attachment.requirement_id)
        if requirement is None:
            problems.append(
                f"attachments[{i}].requirement_id: {attachment.requirement_id!r} is not a "
                f"document of procedure {procedure.code}"
            )
        if attachment.requirement_id in given:
            problems.append(f"attachments[{i}]: {attachment.requirement_id!r} given twice")
        if attachment.pages or attachment.on_file_ref:
            given.add(attachment.requirement_id)
        if attachment.on_file_ref and paper_check is not None:
            wrong = paper_check(attachment, requirement)
            if wrong:
                problems.append(f"attachments[{i}].on_file_ref: {wrong}")
    for doc in procedure.documents:
        if doc.required and doc.id not in given:
            problems.append(f"attachments: required document {doc.id!r} is missing")
    return problems


# Which state may follow which (staff moves a dossier along with ``advance``).
TRANSITIONS: dict[DossierState, frozenset[DossierState]] = {
    DossierState.RECEIVED: frozenset(
        {DossierState.IN_PROGRESS, DossierState.NEEDS_MORE, DossierState.RESULT_READY}
    ),
    DossierState.IN_PROGRESS: frozenset({DossierState.NEEDS_MORE, DossierState.RESULT_READY}),
    DossierState.NEEDS_MORE: frozenset({DossierState.IN_PROGRESS}),
    DossierState.RESULT_READY: frozenset({DossierState.RETURNED}),
    DossierState.RETURNED: frozenset(),
}
