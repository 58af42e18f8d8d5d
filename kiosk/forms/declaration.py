"""The declaration as people read it: the answers of a form as lines and tables (for the review
screen and the PDF), and the filled form (tờ khai) of a dossier built from them.

``answer_items(form, answers, lang)`` gives one ``Line`` per answered field (an address and a
choice in words, money grouped in đồng, dates dd/mm/yyyy) and one ``Table`` per group.
``declaration_for(...)`` builds the ``Declaration`` that ``kiosk.forms.declaration_pdf`` renders:
the
procedure's official form title and number, the agency it is addressed to, the answers, the
documents attached (each said to be captured at the kiosk or taken from the papers on file),
the place and time, the signer and how the kiosk knew who they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from kiosk.forms.declaration_pdf import Declaration, Line, Section, Table
from kiosk.forms.spec import FormSpec, Kind, answer_text
from kiosk.identity.model import Authenticity, Identity, IdentitySource

SECTION_ANSWERS = "NỘI DUNG ĐỀ NGHỊ"
SIGNER_TITLE = "NGƯỜI ĐỀ NGHỊ"
ADDRESSEE = "Kính gửi: {agency}"
NOTE_CHIP = (
    "Người đề nghị đã xác thực danh tính bằng chip căn cước (số định danh {id_number}) "
    "tại ki-ốt {kiosk} lúc {time}."
)
NOTE_CARD = (
    "Người đề nghị khai số định danh {id_number} tại ki-ốt {kiosk} lúc {time}; danh tính chưa "
    "được xác thực bằng chip căn cước."
)
FOOTER = "Lập tại ki-ốt {kiosk} · hồ sơ {reference}"
DOC_CAPTURED = "{title} (bản chụp tại ki-ốt, {pages} trang)"
DOC_ON_FILE = "{title} (bản điện tử đã có trong hệ thống: {ref})"
DOC_THIS_FORM = "{title} (tờ khai này)"


def answer_items(form: FormSpec, answers: Mapping[str, Any], lang: str) -> list[Line | Table]:
    """Every answered field of the form, in its order, as a line or (a group) a table."""
    items: list[Line | Table] = []
    for f in form.fields:
        if f.name not in answers:
            continue
        value = answers[f.name]
        if f.kind is Kind.GROUP:
            columns = tuple(p.title(lang) for p in f.parts)
            rows = tuple(
                tuple(answer_text(p, row.get(p.name), lang) for p in f.parts) for row in value or []
            )
            items.append(Table(f.title(lang), columns, rows))
        else:
            items.append(Line(f.title(lang), answer_text(f, value, lang)))
    return items


def identity_note(identity: Identity | None, kiosk_id: str, at: datetime) -> str:
    """How the kiosk knew the signer: an authenticated chip, or only a typed number."""
    if identity is None:
        return ""
    chip = (
        identity.source is IdentitySource.CHIP and identity.authenticity is Authenticity.AUTHENTIC
    )
    template = NOTE_CHIP if chip else NOTE_CARD
    return template.format(
        id_number=identity.id_number, kiosk=kiosk_id, time=at.strftime("%H:%M ngày %d/%m/%Y")
    )


def declaration_for(
    *,
    procedure: Any,
    form: FormSpec,
    answers: Mapping[str, Any],
    identity: Identity | None,
    signer_name: str,
    agency_name: str,
    documents: Iterable[str],
    place: str,
    signed_at: datetime,
    kiosk_id: str,
    reference: str,
) -> Declaration:
    """The filled form of a dossier, ready for ``render_declaration_pdf``."""
    title = (form.title("vi") or procedure.title("vi")).upper()
    return Declaration(
        form_title=title,
        form_number=form.form_number or None,
        addressee=ADDRESSEE.format(agency=agency_name),
        procedure_name=procedure.title("vi"),
        procedure_code=procedure.code,
        sections=(Section(SECTION_ANSWERS, tuple(answer_items(form, answers, "vi"))),),
        documents=tuple(documents),
        place=place,
        signed_at=signed_at,
        signer_title=SIGNER_TITLE,
        signer_name=signer_name,
        identity_note=identity_note(identity, kiosk_id, signed_at),
        footer=FOOTER.format(kiosk=kiosk_id, reference=reference),
        lang="vi",
    )
