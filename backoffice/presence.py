"""The citizen's presence at a kiosk, proved by the chip of their card, before their papers on
file are shown.

The protocol (challenge–response with the chip's Active Authentication, ICAO 9303-11 §6.1):

1. ``POST /citizens/presence-challenges``: the server draws 8 random bytes, bound to the
   calling kiosk, single use, valid ``challenge_ttl_s`` (2 minutes).
2. The kiosk sends them to the card in INTERNAL AUTHENTICATE (under the secure messaging of
   the session opened with the CAN); the chip signs them with its private key, which never
   leaves it.
3. ``POST /citizens/{id}/presence`` with the challenge, the signature, DG15 (the chip's public
   key), DG14 (its signature algorithm, for ECDSA), DG13 and EF.SOD. The server spends the
   challenge (even if the proof then fails), runs passive authentication of EF.SOD against
   its trusted CSCAs with the hashes of the data groups sent (so DG15's key and DG13's data are
   the ones the state signed), checks that DG13's ID number is ``{id}`` and that the card has
   not expired, and verifies the signature over *its* challenge with DG15's key. A copied
   EF.SOD and data groups do not pass step 3 without the chip: only the chip holds the key.
4. The answer is a presence token (random, stored as its SHA-256), valid ``presence_ttl_s``
   (10 minutes) for this kiosk and this citizen only, sent as ``X-Presence-Token`` to
   ``GET /citizens/{id}/documents`` and ``…/documents/{doc_id}``.

With ``require_active_auth = false`` a proof without the signature (passive authentication of
EF.SOD + DG13 alone) is accepted and the token is marked ``assurance = "passive"``: it shows the
card's data are genuine, not that the card itself is on the reader (the data can be copied from
any earlier read). Use it only for cards without Active Authentication, and say so to staff.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from backoffice.context import iso_time
from backoffice.db import Paper, PresenceChallenge, PresenceToken
from backoffice.errors import ApiError
from kiosk.dossier.model import is_id_number
from kiosk.infra.clock import VIETNAM_TZ

if TYPE_CHECKING:
    from backoffice.context import Context

log = logging.getLogger(__name__)

CHALLENGE_BYTES = 8
PAPER_KINDS = {
    "can_cuoc": "Căn cước / Căn cước công dân",
    "dang_ky_doanh_nghiep": "Giấy chứng nhận đăng ký doanh nghiệp",
    "quyet_dinh_thanh_lap": "Quyết định thành lập",
    "van_bang": "Văn bằng, chứng chỉ",
    "ly_lich_tu_phap": "Phiếu lý lịch tư pháp",
    "giay_phep": "Giấy phép đã cấp",
}


def refused(message: str, message_vi: str) -> ApiError:
    return ApiError(422, "presence_refused", message, message_vi)


def check_citizen_id(citizen_id: str) -> None:
    if not is_id_number(citizen_id):
        raise ApiError(
            422,
            "invalid_request",
            f"{citizen_id!r} is not a 12-digit personal identification number",
            "số định danh cá nhân phải gồm 12 chữ số",
        )


# --- challenges and proofs -------------------------------------------------------------------


def new_challenge(ctx: Context, kiosk_id: str) -> dict[str, Any]:
    """A fresh single-use challenge for ``kiosk_id``."""
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    now = ctx.clock()
    expires = now + ctx.settings.challenge_ttl_s
    with ctx.session() as session, session.begin():
        session.execute(delete(PresenceChallenge).where(PresenceChallenge.expires_at < now - 3600))
        session.execute(delete(PresenceToken).where(PresenceToken.expires_at < now - 3600))
        session.add(
            PresenceChallenge(challenge=challenge.hex(), kiosk_id=kiosk_id, expires_at=expires)
        )
    return {
        "challenge": base64.b64encode(challenge).decode(),
        "expires_at": iso_time(expires),
        "expires_in_s": ctx.settings.challenge_ttl_s,
    }


def _decode(name: str, value: Any, required: bool) -> bytes | None:
    if value is None or value == "":
        if required:
            raise refused(f"{name} is missing", f"thiếu {name}")
        return None
    if not isinstance(value, str):
        raise refused(f"{name} must be base64 text", f"{name} phải là chuỗi base64")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise refused(f"{name} is not valid base64", f"{name} không phải base64 hợp lệ") from None


def _spend_challenge(ctx: Context, kiosk_id: str, challenge: bytes) -> None:
    now = ctx.clock()
    with ctx.session() as session, session.begin():
        row = session.get(PresenceChallenge, challenge.hex())
        if row is None or row.kiosk_id != kiosk_id:
            raise refused(
                "unknown challenge: ask for one with POST /citizens/presence-challenges",
                "mã thách thức không do máy chủ cấp cho ki-ốt này",
            )
        if row.used_at is not None:
            raise refused(
                "this challenge was already used: each proof needs a fresh challenge",
                "mã thách thức đã được dùng",
            )
        # spent now, whatever the outcome of the proof
        session.execute(
            update(PresenceChallenge)
            .where(PresenceChallenge.challenge == row.challenge)
            .values(used_at=now)
        )
        if row.expires_at < now:
            raise refused("the challenge has expired", "mã thách thức đã hết hạn")


@dataclass(frozen=True)
class Proof:
    citizen_id: str
    assurance: str


def verify_proof(ctx: Context, kiosk_id: str, citizen_id: str, body: dict[str, Any]) -> Proof:
    """Steps 3 of the module docstring; 422 ``presence_refused`` with the reason."""
    from kiosk.emrtd.active_auth import verify_response
    from kiosk.emrtd.errors import EmrtdError
    from kiosk.emrtd.lds import parse_dg13, parse_dg14, parse_dg15
    from kiosk.emrtd.passive_auth import PassiveAuthStatus, verify

    check_citizen_id(citizen_id)
    challenge = _decode("challenge", body.get("challenge"), True)
    assert challenge is not None
    if len(challenge) != CHALLENGE_BYTES:
        raise refused("the challenge is 8 bytes", "mã thách thức phải dài 8 byte")
    require_aa = ctx.settings.require_active_auth
    signature = _decode("aa_signature", body.get("aa_signature"), require_aa)
    dg15 = _decode("dg15", body.get("dg15"), require_aa or signature is not None)
    dg14 = _decode("dg14", body.get("dg14"), False)
    sod = _decode("sod", body.get("sod"), True)
    dg13 = _decode("dg13", body.get("dg13"), True)
    assert sod is not None and dg13 is not None
    _spend_challenge(ctx, kiosk_id, challenge)

    groups = {13: dg13}
    if dg15 is not None:
        groups[15] = dg15
    if dg14 is not None:
        groups[14] = dg14
    today = datetime.fromtimestamp(ctx.clock(), VIETNAM_TZ).date()
    passive = verify(sod, groups, ctx.trust, at=today)
    if passive.status is not PassiveAuthStatus.AUTHENTIC:
        log.warning(
            "presence refused for kiosk %s: passive authentication %s: %s",
            kiosk_id,
            passive.status.value,
            passive.reason,
        )
        raise refused(
            f"passive authentication failed ({passive.status.value}): {passive.reason}",
            "dữ liệu trên chip không xác thực được với chứng thư của cơ quan cấp thẻ",
        )
    try:
        identity = parse_dg13(dg13)
    except EmrtdError as e:
        raise refused(f"DG13 does not parse: {e}", "không đọc được DG13") from None
    if identity.id_number != citizen_id:
        raise refused(
            "the card belongs to another citizen than the one asked for",
            "thẻ không phải của công dân có số định danh này",
        )
    expiry = getattr(identity, "date_of_expiry", None)
    if isinstance(expiry, date) and expiry < today:
        raise refused(f"the card expired on {expiry.isoformat()}", "thẻ đã hết hạn")

    if signature is None:
        return Proof(citizen_id, "passive")
    try:
        algorithm = parse_dg14(dg14).active_authentication_algorithm if dg14 else None
        result = verify_response(
            parse_dg15(dg15 or b""), challenge, signature, signature_algorithm=algorithm
        )
    except EmrtdError as e:
        raise refused(
            f"active authentication cannot be checked: {e}", "không kiểm tra được chip"
        ) from None
    if not result.verified:
        log.warning(
            "presence refused for kiosk %s: active authentication: %s", kiosk_id, result.reason
        )
        raise refused(
            f"active authentication failed: {result.reason}",
            "chip không ký đúng mã thách thức (thẻ có thể là bản sao)",
        )
    return Proof(citizen_id, "active")


def issue_token(ctx: Context, kiosk_id: str, proof: Proof) -> dict[str, Any]:
    token = secrets.token_urlsafe(32)
    expires = ctx.clock() + ctx.settings.presence_ttl_s
    with ctx.session() as session, session.begin():
        session.add(
            PresenceToken(
                token_sha256=hashlib.sha256(token.encode()).hexdigest(),
                kiosk_id=kiosk_id,
                citizen_id=proof.citizen_id,
                assurance=proof.assurance,
                expires_at=expires,
            )
        )
    return {"presence_token": token, "expires_at": iso_time(expires), "assurance": proof.assurance}


def check_token(ctx: Context, kiosk_id: str, citizen_id: str, token: str | None) -> str:
    """The token's assurance; 401 without a token, 403 for a token not good here."""
    check_citizen_id(citizen_id)
    if not token:
        raise ApiError(
            401,
            "presence_required",
            "the citizen's presence must be proved first (X-Presence-Token)",
            "cần xác thực sự có mặt của công dân bằng thẻ (X-Presence-Token)",
        )
    with ctx.session() as session:
        row = session.get(PresenceToken, hashlib.sha256(token.encode()).hexdigest())
    if (
        row is None
        or row.kiosk_id != kiosk_id
        or row.citizen_id != citizen_id
        or row.expires_at < ctx.clock()
    ):
        raise ApiError(
            403,
            "forbidden",
            "the presence token is unknown, expired, or for another kiosk or citizen",
            "mã xác thực sự có mặt không hợp lệ hoặc đã hết hạn",
        )
    return row.assurance


# --- papers on file --------------------------------------------------------------------------


def paper_dict(p: Paper) -> dict[str, Any]:
    return {
        "id": p.id,
        "kind": p.kind,
        "title": p.title,
        "dossier_code": p.dossier_code,
        "date": p.issued_on.isoformat(),
        "sha256": p.sha256,
        "size": p.size,
        "source": p.source,
    }


def list_papers(ctx: Context, citizen_id: str) -> list[dict[str, Any]]:
    with ctx.session() as session:
        rows = session.scalars(
            select(Paper)
            .where(Paper.citizen_id == citizen_id)
            .order_by(Paper.issued_on.desc(), Paper.kind)
        ).all()
    return [paper_dict(p) for p in rows]


def paper_file(ctx: Context, citizen_id: str, paper_id: str) -> tuple[Path, dict[str, Any]]:
    """The verified PDF of one paper of this citizen."""
    with ctx.session() as session:
        row = session.get(Paper, paper_id)
    if row is None or row.citizen_id != citizen_id:
        raise ApiError(404, "not_found", "no such paper on file", "không có giấy tờ này")
    return ctx.blobs.verify(row.sha256), paper_dict(row)


def add_paper(
    ctx: Context,
    citizen_id: str,
    kind: str,
    title: str,
    pdf: bytes,
    *,
    source: str = "staff",
    issued_on: date | None = None,
) -> dict[str, Any]:
    """Keep a PDF as a paper on file of the citizen (the demo seed)."""
    check_paper(citizen_id, kind, title, pdf[:8])
    digest = ctx.blobs.put_bytes(pdf)
    return record_paper(ctx, citizen_id, kind, title, digest, len(pdf), source, issued_on)


def check_paper(citizen_id: str, kind: str, title: str, head: bytes) -> None:
    check_citizen_id(citizen_id)
    if kind not in PAPER_KINDS:
        raise ApiError(
            422,
            "invalid_request",
            f"unknown paper kind {kind!r} ({', '.join(PAPER_KINDS)})",
            "loại giấy tờ không hợp lệ",
        )
    if not head.startswith(b"%PDF-"):
        raise ApiError(422, "invalid_request", "the paper must be a PDF", "giấy tờ phải là PDF")
    if not title.strip():
        raise ApiError(422, "invalid_request", "the paper needs a title", "giấy tờ cần tên")


def record_paper(
    ctx: Context,
    citizen_id: str,
    kind: str,
    title: str,
    digest: str,
    size: int,
    source: str,
    issued_on: date | None = None,
) -> dict[str, Any]:
    """A paper on file for a blob already stored; an identical paper is not added twice."""
    with ctx.session() as session, session.begin():
        same = session.scalars(
            select(Paper).where(
                Paper.citizen_id == citizen_id, Paper.kind == kind, Paper.sha256 == digest
            )
        ).first()
        if same is not None:
            return paper_dict(same)
        paper = Paper(
            id=uuid.uuid4().hex,
            citizen_id=citizen_id,
            kind=kind,
            title=title.strip(),
            dossier_code=None,
            issued_on=issued_on or ctx.now().date(),
            sha256=digest,
            size=size,
            source=source,
            added_at=ctx.clock(),
        )
        session.add(paper)
    return paper_dict(paper)
