"""Dossiers at the back office: receiving them (codes, appointment, fee, idempotency), looking
them up, listing them for staff, moving them along, and the periodic report.

Receiving (``submit``), in one database transaction after the attachments are on disk:

1. the ``Idempotency-Key`` already stored? Same fingerprint (the dossier minus its key, pages
   replaced by their SHA-256) → the first answer again; another fingerprint → 422
   ``idempotency_conflict``. Checked before anything else, so a retry always gets its answer.
2. the dossier is checked against the catalog: the procedure exists, the declaration validates
   against its form schema, the documents belong to the procedure and the required ones are
   there, each ``on_file_ref`` names a paper on file of this applicant;
3. the next number of the agency's daily sequence (``INSERT … ON CONFLICT DO UPDATE …
   RETURNING``), the code ``AGENCY-YYMMDD-NNNN`` (Thông tư 01/2018/TT-VPCP), the appointment in
   working days (catalog processing days, holiday calendar), the catalog fee;
4. the dossier, its attachments, the first history event and, for each document whose
   requirement has an ``on_file_kind``, a paper on file for the applicant's later dossiers.

The look-up answer is ``DossierStatus.to_dict()``: code, state, history (states, times, notes
for the citizen), next step, procedure and appointment date: no personal data. Any kiosk may
look up any code (the receipt's QR carries only the code); the codes being sequential, anyone
with a kiosk credential can learn that a dossier exists and where it stands, never whose it is
or what it says. Staff see everything through ``list_dossiers``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from backoffice.db import AttachmentFile, DailySequence, Dossier, Paper, StatusEvent
from backoffice.errors import ApiError, rejected, unavailable
from backoffice.upload import ReceivedPart
from kiosk.catalog.procedures import CatalogError, DocumentRequirement, Procedure
from kiosk.dossier.model import (
    Attachment,
    DossierCodeError,
    DossierFormatError,
    DossierState,
    DossierStatus,
    DossierSubmission,
    SubmissionResult,
    format_dossier_code,
    parse_dossier_code,
)
from kiosk.dossier.model import StatusEvent as Event
from kiosk.dossier.rules import TRANSITIONS, dossier_problems

if TYPE_CHECKING:
    from backoffice.context import Context

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"


def invalid_code(exc: DossierCodeError) -> ApiError:
    return ApiError(
        422,
        "invalid_dossier_code",
        str(exc),
        "Mã hồ sơ không đúng dạng 000.00.08.H21-YYMMDD-NNNN.",
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Received:
    """A parsed upload: the submission, the page digests per attachment, the stored parts."""

    dossier: DossierSubmission
    pages: list[list[ReceivedPart]]  # per attachment, in page order
    fingerprint: str
    body: dict[str, Any]  # to_dict() with pages as digests (what is stored)


# --- parsing the upload ----------------------------------------------------------------------


def parse_upload(
    dossier_json: bytes | None,
    parts: dict[str, ReceivedPart],
    idempotency_key: str | None,
    caller_kiosk: str,
) -> Received:
    """Check the ``dossier`` part against the file parts; 422 (or 403) with every problem."""
    if dossier_json is None:
        raise rejected(["the 'dossier' part is missing"])
    try:
        data = json.loads(dossier_json)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise rejected([f"dossier: not valid JSON: {e}"]) from None
    if not isinstance(data, dict):
        raise rejected(["dossier: must be a JSON object"])
    manifest = data.pop("parts", {})
    problems: list[str] = []
    for key in ("idempotency_key", "created_at"):
        if not data.get(key):
            problems.append(f"$.{key}: missing (a retry must send the same value)")
    if not isinstance(manifest, dict):
        problems.append("$.parts: must map each part name to its sha256 and size")
        manifest = {}
    if problems:
        raise rejected(problems)
    try:
        dossier = DossierSubmission.from_dict(data, source="dossier")
    except DossierFormatError as e:
        raise rejected(e.problems) from None
    if not idempotency_key:
        raise ApiError(
            422,
            "invalid_request",
            "the Idempotency-Key header is missing",
            "thiếu tiêu đề Idempotency-Key",
        )
    if idempotency_key != dossier.idempotency_key:
        raise ApiError(
            422,
            "invalid_request",
            "the Idempotency-Key header differs from the dossier's idempotency_key",
            "tiêu đề Idempotency-Key khác idempotency_key của hồ sơ",
        )
    if dossier.kiosk_id != caller_kiosk:
        raise ApiError(
            403,
            "forbidden",
            f"kiosk {caller_kiosk} may not submit for kiosk {dossier.kiosk_id}",
            f"ki-ốt {caller_kiosk} không được nộp hồ sơ thay ki-ốt {dossier.kiosk_id}",
        )

    used: set[str] = set()
    pages: list[list[ReceivedPart]] = []
    for i, attachment in enumerate(dossier.attachments):
        mine: list[ReceivedPart] = []
        for n, ref in enumerate(attachment.pages):
            where = f"attachments[{i}].pages[{n}]"
            name = str(ref)
            part = parts.get(name)
            declared = manifest.get(name)
            if part is None:
                problems.append(f"{where}: part {name!r} is not in the request")
                continue
            if name in used:
                problems.append(f"{where}: part {name!r} is used twice")
            used.add(name)
            if not isinstance(declared, dict) or "sha256" not in declared:
                problems.append(f"{where}: $.parts has no sha256 for part {name!r}")
            elif str(declared["sha256"]).lower() != part.sha256:
                problems.append(
                    f"{where}: part {name!r} does not match its SHA-256 (sent "
                    f"{declared['sha256']}, received {part.sha256}): it changed on the way"
                )
            elif "size" in declared and declared["size"] != part.size:
                problems.append(
                    f"{where}: part {name!r} is {part.size} bytes, not {declared['size']}"
                )
            if not part.head.startswith(PDF_MAGIC):
                problems.append(f"{where}: part {name!r} is not a PDF file")
            mine.append(part)
        pages.append(mine)
    for name in sorted(set(parts) - used):
        problems.append(f"part {name!r} belongs to no attachment")
    if problems:
        raise rejected(problems)

    body = dossier.to_dict()
    body.pop("idempotency_key")
    for entry, mine in zip(body["attachments"], pages, strict=True):
        entry["pages"] = [p.sha256 for p in mine]
    fingerprint = _sha256_text(_canonical(body))
    return Received(dossier, pages, fingerprint, body)


# --- checking it against the catalog ---------------------------------------------------------


def check_against_catalog(ctx: Context, session: Session, dossier: DossierSubmission) -> Procedure:
    """The dossier's procedure; 422 with every problem found."""
    try:
        procedure = ctx.catalog.get(dossier.procedure_code)
    except CatalogError:
        raise rejected(
            [f"procedure_code: {dossier.procedure_code!r} is not in the catalog"]
        ) from None

    def paper_check(attachment: Attachment, requirement: DocumentRequirement | None) -> str | None:
        ref = attachment.on_file_ref
        paper = session.get(Paper, ref)
        if paper is None or paper.citizen_id != dossier.applicant.id_number:
            return f"{ref!r} is not a paper on file of this applicant"
        if requirement is not None and requirement.on_file_kind not in (None, paper.kind):
            needed = requirement.on_file_kind
            return f"{ref!r} is a {paper.kind} paper, not the {needed} this document needs"
        return None

    problems = dossier_problems(dossier, procedure, paper_check)
    if problems:
        raise rejected(problems)
    return procedure


# --- storing it ------------------------------------------------------------------------------


def _next_sequence(session: Session, agency: str, day: date) -> int:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    stmt = (
        upsert(DailySequence)
        .values(agency_code=agency, day=day, last_seq=1)
        .on_conflict_do_update(
            index_elements=["agency_code", "day"],
            set_={"last_seq": DailySequence.last_seq + 1},
        )
        .returning(DailySequence.last_seq)
    )
    return int(session.execute(stmt).scalar_one())


def _result_of(row: Dossier) -> SubmissionResult:
    return SubmissionResult(
        row.code, datetime.fromisoformat(row.received_at), row.appointment_date, row.fee_vnd
    )


def _answer_for_key(session: Session, received: Received) -> SubmissionResult | None:
    row = session.scalars(
        select(Dossier).where(Dossier.idempotency_key == received.dossier.idempotency_key)
    ).one_or_none()
    if row is None:
        return None
    if row.fingerprint != received.fingerprint:
        raise ApiError(
            422,
            "idempotency_conflict",
            f"Idempotency-Key {received.dossier.idempotency_key} was used for dossier "
            f"{row.code} with a different body",
            f"khoá Idempotency-Key đã được dùng cho hồ sơ {row.code} với nội dung khác",
        )
    return _result_of(row)


def submit(ctx: Context, received: Received) -> tuple[SubmissionResult, bool]:
    """Store the dossier (see the module docstring); the answer and whether it is a replay."""
    for attempt in range(2):
        session = ctx.session()
        try:
            with session.begin():
                first = _answer_for_key(session, received)
                if first is not None:
                    return first, True
                procedure = check_against_catalog(ctx, session, received.dossier)
                return _store(ctx, session, received, procedure), False
        except IntegrityError:
            # another request stored the same key meanwhile (PostgreSQL): answer as a retry
            if attempt:
                raise
        except OperationalError as e:
            log.error("database error while storing a dossier: %s", e)
            raise unavailable(f"the database cannot store the dossier now: {e.orig}") from e
        finally:
            session.close()
    raise AssertionError("unreachable")


def _store(
    ctx: Context, session: Session, received: Received, procedure: Procedure
) -> SubmissionResult:
    dossier = received.dossier
    received_at = ctx.now()
    day = received_at.date()
    agency = ctx.settings.agency_for(procedure.service_code)
    seq = _next_sequence(session, agency, day)
    if seq > 9999:
        raise rejected([f"the daily sequence of {agency} for {day} is exhausted"])
    code = format_dossier_code(agency, day, seq)
    from kiosk.dossier.workdays import add_working_days

    appointment = add_working_days(received_at, procedure.processing_days, ctx.holidays)
    session.add(
        Dossier(
            code=code,
            idempotency_key=dossier.idempotency_key,
            fingerprint=received.fingerprint,
            agency_code=agency,
            procedure_code=procedure.code,
            kiosk_id=dossier.kiosk_id,
            applicant_id=dossier.applicant.id_number,
            applicant_name=dossier.applicant.full_name,
            declaration_sha256=_sha256_text(_canonical(dossier.declaration)),
            body=json.dumps(received.body, ensure_ascii=False),
            created_at=dossier.created_at.isoformat(),
            received_at=received_at.isoformat(),
            received_day=day,
            appointment_date=appointment,
            fee_vnd=procedure.fee_vnd,
            state=DossierState.RECEIVED.value,
        )
    )
    session.flush()
    for attachment, pages in zip(dossier.attachments, received.pages, strict=True):
        requirement = procedure.requirement(attachment.requirement_id)
        title = attachment.title or (requirement.title_vi if requirement else "")
        for n, part in enumerate(pages, start=1):
            session.add(
                AttachmentFile(
                    dossier_code=code,
                    requirement_id=attachment.requirement_id,
                    title=title,
                    page=n,
                    sha256=part.sha256,
                    size=part.size,
                    on_file_ref=attachment.on_file_ref if n == 1 else None,
                )
            )
        if not pages and attachment.on_file_ref:
            session.add(
                AttachmentFile(
                    dossier_code=code,
                    requirement_id=attachment.requirement_id,
                    title=title,
                    page=0,
                    sha256="",
                    size=0,
                    on_file_ref=attachment.on_file_ref,
                )
            )
        kind = getattr(requirement, "on_file_kind", None) if requirement else None
        if kind:
            applicant = dossier.applicant.id_number
            for n, part in enumerate(pages, start=1):
                paper_title = title if len(pages) == 1 else f"{title} (trang {n}/{len(pages)})"
                _keep_on_file(ctx, session, applicant, kind, paper_title, code, day, part)
    session.add(
        StatusEvent(
            dossier_code=code,
            at=received_at.isoformat(),
            state=DossierState.RECEIVED.value,
            note="",
            actor=f"kiosk {dossier.kiosk_id}",
        )
    )
    log.info("dossier %s received from kiosk %s", code, dossier.kiosk_id)
    return SubmissionResult(code, received_at, appointment, procedure.fee_vnd)


def _keep_on_file(
    ctx: Context,
    session: Session,
    citizen_id: str,
    kind: str,
    title: str,
    code: str,
    day: date,
    part: ReceivedPart,
) -> None:
    exists = session.scalars(
        select(Paper.id).where(
            Paper.citizen_id == citizen_id, Paper.kind == kind, Paper.sha256 == part.sha256
        )
    ).first()
    if exists:
        return
    session.add(
        Paper(
            id=uuid.uuid4().hex,
            citizen_id=citizen_id,
            kind=kind,
            title=title,
            dossier_code=code,
            issued_on=day,
            sha256=part.sha256,
            size=part.size,
            source="dossier",
            added_at=ctx.clock(),
        )
    )


# --- look-up, list, staff moves --------------------------------------------------------------


def _canonical_code(code: str) -> str:
    try:
        return str(parse_dossier_code(code))
    except DossierCodeError as e:
        raise invalid_code(e) from None


def _no_dossier(code: str) -> ApiError:
    return ApiError(
        404, "not_found", f"no dossier has the code {code}", f"không có hồ sơ mã {code}"
    )


def _status(session: Session, code: str) -> DossierStatus:
    row = session.get(Dossier, code)
    if row is None:
        raise _no_dossier(code)
    events = [
        Event(datetime.fromisoformat(e.at), DossierState(e.state), e.note)
        for e in session.scalars(
            select(StatusEvent).where(StatusEvent.dossier_code == code).order_by(StatusEvent.id)
        )
    ]
    return DossierStatus.of(code, events, row.procedure_code, row.appointment_date)


def lookup(ctx: Context, code: str) -> DossierStatus:
    canonical = _canonical_code(code)
    with ctx.session() as session:
        return _status(session, canonical)


def advance(ctx: Context, code: str, state: str, note: str, actor: str) -> DossierStatus:
    """Staff move a dossier to ``state`` (TRANSITIONS); 409 when it cannot follow."""
    canonical = _canonical_code(code)
    try:
        new_state = DossierState(state)
    except ValueError:
        allowed = ", ".join(s.value for s in DossierState)
        raise ApiError(
            422,
            "invalid_request",
            f"{state!r} is not a dossier state ({allowed})",
            f"{state!r} không phải trạng thái hồ sơ",
        ) from None
    with ctx.session() as session, session.begin():
        row = session.get(Dossier, canonical)
        if row is None:
            raise _no_dossier(canonical)
        current = DossierState(row.state)
        if new_state not in TRANSITIONS[current]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
            raise ApiError(
                409,
                "invalid_transition",
                f"{canonical}: cannot go from {current.value} to {new_state.value} "
                f"(allowed: {allowed})",
                f"{canonical}: không thể chuyển từ {current.value} sang {new_state.value}",
            )
        row.state = new_state.value
        session.add(
            StatusEvent(
                dossier_code=canonical,
                at=ctx.now().isoformat(),
                state=new_state.value,
                note=note.strip(),
                actor=actor,
            )
        )
    with ctx.session() as session:
        return _status(session, canonical)


def summary(row: Dossier) -> dict[str, Any]:
    return {
        "code": row.code,
        "procedure_code": row.procedure_code,
        "kiosk_id": row.kiosk_id,
        "applicant_id": row.applicant_id,
        "applicant_name": row.applicant_name,
        "received_at": row.received_at,
        "appointment_date": row.appointment_date.isoformat(),
        "fee_vnd": row.fee_vnd,
        "status": row.state,
    }


def list_dossiers(
    ctx: Context,
    *,
    kiosk: str | None = None,
    procedure: str | None = None,
    state: str | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of dossiers, newest first, with the total matching the filters."""
    conditions = []
    if kiosk:
        conditions.append(Dossier.kiosk_id == kiosk)
    if procedure:
        conditions.append(Dossier.procedure_code == procedure)
    if state:
        conditions.append(Dossier.state == state)
    if received_from:
        conditions.append(Dossier.received_day >= received_from)
    if received_to:
        conditions.append(Dossier.received_day <= received_to)
    with ctx.session() as session:
        total = session.scalar(select(func.count()).select_from(Dossier).where(*conditions))
        rows = session.scalars(
            select(Dossier)
            .where(*conditions)
            .order_by(Dossier.received_at.desc(), Dossier.code.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    return {
        "items": [summary(r) for r in rows],
        "total": int(total or 0),
        "limit": limit,
        "offset": offset,
    }


def dossier_detail(ctx: Context, code: str) -> dict[str, Any]:
    """Everything staff see about one dossier."""
    canonical = _canonical_code(code)
    with ctx.session() as session:
        row = session.get(Dossier, canonical)
        if row is None:
            raise _no_dossier(canonical)
        files = session.scalars(
            select(AttachmentFile)
            .where(AttachmentFile.dossier_code == canonical)
            .order_by(AttachmentFile.requirement_id, AttachmentFile.page)
        ).all()
        history = session.scalars(
            select(StatusEvent)
            .where(StatusEvent.dossier_code == canonical)
            .order_by(StatusEvent.id)
        ).all()
        return {
            **summary(row),
            "body": json.loads(row.body),
            "allowed": sorted(s.value for s in TRANSITIONS[DossierState(row.state)]),
            "attachments": [
                {
                    "requirement_id": f.requirement_id,
                    "title": f.title,
                    "page": f.page,
                    "sha256": f.sha256,
                    "size": f.size,
                    "on_file_ref": f.on_file_ref,
                }
                for f in files
            ],
            "history": [
                {"at": e.at, "state": e.state, "note": e.note, "actor": e.actor} for e in history
            ],
        }


def attachment_path(ctx: Context, code: str, sha256: str) -> Any:
    """The verified file of one attachment of a dossier (for staff)."""
    canonical = _canonical_code(code)
    with ctx.session() as session:
        found = session.scalars(
            select(AttachmentFile.id).where(
                AttachmentFile.dossier_code == canonical, AttachmentFile.sha256 == sha256
            )
        ).first()
    if not found:
        raise ApiError(404, "not_found", "no such attachment", "không có tệp đính kèm này")
    return ctx.blobs.verify(sha256)


# --- the report ------------------------------------------------------------------------------


def report(ctx: Context) -> dict[str, Any]:
    """Dossiers per kiosk, per procedure, per state, and the dossiers stored twice."""
    with ctx.session() as session:

        def counts(column: Any) -> dict[str, int]:
            rows = session.execute(
                select(column, func.count()).group_by(column).order_by(column)
            ).all()
            return {str(k): int(n) for k, n in rows}

        total = session.scalar(select(func.count()).select_from(Dossier)) or 0
        by_key = session.execute(
            select(Dossier.idempotency_key, func.count())
            .group_by(Dossier.idempotency_key)
            .having(func.count() > 1)
        ).all()
        same = session.execute(
            select(
                Dossier.kiosk_id,
                Dossier.applicant_id,
                Dossier.procedure_code,
                Dossier.declaration_sha256,
                func.count(),
            )
            .group_by(
                Dossier.kiosk_id,
                Dossier.applicant_id,
                Dossier.procedure_code,
                Dossier.declaration_sha256,
            )
            .having(func.count() > 1)
        ).all()
        duplicates: list[dict[str, Any]] = []
        for key, n in by_key:
            codes = session.scalars(
                select(Dossier.code).where(Dossier.idempotency_key == key).order_by(Dossier.code)
            ).all()
            duplicates.append({"reason": "same idempotency key", "count": n, "codes": list(codes)})
        for kiosk_id, applicant, procedure, declaration, n in same:
            codes = session.scalars(
                select(Dossier.code)
                .where(
                    Dossier.kiosk_id == kiosk_id,
                    Dossier.applicant_id == applicant,
                    Dossier.procedure_code == procedure,
                    Dossier.declaration_sha256 == declaration,
                )
                .order_by(Dossier.code)
            ).all()
            duplicates.append(
                {
                    "reason": "same kiosk, applicant, procedure and declaration",
                    "count": n,
                    "kiosk_id": kiosk_id,
                    "procedure_code": procedure,
                    "codes": list(codes),
                }
            )
        return {
            "generated_at": ctx.now().isoformat(),
            "total": int(total),
            "per_kiosk": counts(Dossier.kiosk_id),
            "per_procedure": counts(Dossier.procedure_code),
            "per_state": counts(Dossier.state),
            "duplicates": duplicates,
        }
