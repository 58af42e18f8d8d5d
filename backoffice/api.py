"""The routes of ``/api/v1``: dossiers, citizens' papers on file, kiosks' heartbeats and commands.

Kiosk routes need a signed request (backoffice/auth.py); staff routes a Bearer token; the
dossier look-up takes either. Handlers are plain functions (run in the worker threads, as the
database calls block), except the dossier upload, which streams the request body.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from backoffice import dossiers, fleet, presence
from backoffice.auth import (
    KioskCaller,
    check_body,
    check_own,
    require_staff_bearer,
    verify_kiosk_request,
)
from backoffice.context import Context, iso_time
from backoffice.errors import ApiError
from backoffice.schemas import (
    AckIn,
    ChallengeOut,
    CommandIn,
    CommandOut,
    CommandsOut,
    DossierPage,
    DossierStatusOut,
    ErrorBody,
    HealthOut,
    HeartbeatIn,
    HeartbeatOut,
    KioskOut,
    PapersOut,
    PresenceIn,
    PresenceOut,
    ScreenshotOut,
    StatusChange,
    SubmissionAnswer,
)
from backoffice.upload import receive_upload
from kiosk.dossier.model import DossierState

API_VERSION = "1.0.0"
MAX_JSON_BODY = 1024 * 1024
KIOSK = [{"KioskSignature": []}]
STAFF = [{"StaffBearer": []}]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing or wrong credentials, stale or replayed"},
    403: {"model": ErrorBody, "description": "not this caller's to see or do"},
    422: {"model": ErrorBody, "description": "the request does not validate"},
    503: {"model": ErrorBody, "description": "storage unavailable; retry later"},
}

router = APIRouter(prefix="/api/v1")


def ctx_of(request: Request) -> Context:
    return request.app.state.ctx


def _path_query(request: Request) -> str:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    text = raw.decode("latin-1")
    query = request.scope.get("query_string", b"")
    return f"{text}?{query.decode('latin-1')}" if query else text


async def _verify_headers(request: Request) -> KioskCaller:
    return await run_in_threadpool(
        verify_kiosk_request,
        ctx_of(request),
        request.method,
        _path_query(request),
        dict(request.headers),
    )


async def signed_kiosk(request: Request) -> KioskCaller:
    """A kiosk's signed request, its body checked against the signed hash."""
    length = request.headers.get("content-length", "0")
    if length.isdigit() and int(length) > MAX_JSON_BODY:
        raise ApiError(413, "too_large", "the body is too large", "dữ liệu quá lớn")
    body = await request.body()
    caller = await _verify_headers(request)
    check_body(caller, body)
    return caller


async def staff_only(request: Request) -> str:
    require_staff_bearer(ctx_of(request).settings, request.headers.get("authorization"))
    return "staff"


async def kiosk_or_staff(request: Request) -> str:
    """``staff`` for a Bearer token, else the signed kiosk's id."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return await staff_only(request)
    return (await signed_kiosk(request)).kiosk_id


Kiosk = Annotated[KioskCaller, Depends(signed_kiosk)]
Staff = Annotated[str, Depends(staff_only)]
Ctx = Annotated[Context, Depends(ctx_of)]
KioskId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
CitizenId = Annotated[str, Path(description="12-digit personal identification number")]


# --- dossiers --------------------------------------------------------------------------------

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["dossier"],
                "properties": {
                    "dossier": {
                        "type": "string",
                        "description": (
                            "JSON: DossierSubmission.to_dict() (format motcua-kiosk/dossier, "
                            "version 1) with each attachment's pages given as part names, and "
                            '"parts": {name: {"sha256": hex, "size": bytes}}'
                        ),
                    },
                },
                "additionalProperties": {
                    "type": "string",
                    "format": "binary",
                    "description": "one PDF per page part, named as in the dossier's pages",
                },
            },
            "encoding": {"dossier": {"contentType": "application/json"}},
        }
    },
}


@router.post(
    "/dossiers",
    response_model=SubmissionAnswer,
    summary="Submit a dossier (idempotent on Idempotency-Key)",
    responses={**ERRORS, 413: {"model": ErrorBody, "description": "an attachment too large"}},
    openapi_extra={"requestBody": _UPLOAD_BODY, "security": KIOSK},
)
async def post_dossier(
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Any:
    """The same key with the same body answers the first answer again (200, same code); the
    same key with another body is refused (422 ``idempotency_conflict``). Attachments are
    checked against the SHA-256 the kiosk declares and stored by content."""
    ctx = ctx_of(request)
    caller = await _verify_headers(request)
    upload = await receive_upload(
        request, ctx.blobs, ctx.settings.max_attachment_bytes, ctx.settings.max_request_bytes
    )
    try:
        if upload.body_sha256 != caller.content_sha256:
            raise ApiError(
                401,
                "unauthenticated",
                "the body does not match X-Content-SHA256",
                "nội dung không khớp X-Content-SHA256",
            )
        received = dossiers.parse_upload(
            upload.dossier_json, upload.parts, idempotency_key, caller.kiosk_id
        )
        await run_in_threadpool(upload.commit)
    except BaseException:
        upload.discard()
        raise
    result, _replay = await run_in_threadpool(dossiers.submit, ctx, received)
    return result.to_dict()


@router.get(
    "/dossiers/{code}",
    response_model=DossierStatusOut,
    summary="A dossier's status, history and next step (no personal data)",
    responses={**ERRORS, 404: {"model": ErrorBody, "description": "no dossier has this code"}},
    openapi_extra={"security": KIOSK + STAFF},
)
def get_dossier(code: str, ctx: Ctx, _caller: Annotated[str, Depends(kiosk_or_staff)]) -> Any:
    """Any kiosk may look a code up (the receipt's QR carries it); the answer holds the state,
    its history with the notes meant for the citizen, the procedure and the dates only."""
    return dossiers.lookup(ctx, code).to_dict()


@router.get(
    "/dossiers",
    response_model=DossierPage,
    summary="List dossiers (staff), newest first",
    responses=ERRORS,
    openapi_extra={"security": STAFF},
)
def list_dossiers(
    ctx: Ctx,
    _staff: Staff,
    kiosk: str | None = None,
    procedure: str | None = None,
    state: DossierState | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    return dossiers.list_dossiers(
        ctx,
        kiosk=kiosk,
        procedure=procedure,
        state=state.value if state else None,
        received_from=received_from,
        received_to=received_to,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/dossiers/{code}/status",
    response_model=DossierStatusOut,
    summary="Move a dossier to its next state (staff)",
    responses={**ERRORS, 409: {"model": ErrorBody, "description": "not an allowed next state"}},
    openapi_extra={"security": STAFF},
)
def post_status(code: str, change: StatusChange, ctx: Ctx, _staff: Staff) -> Any:
    return dossiers.advance(ctx, code, change.state, change.note, "staff api").to_dict()


# --- citizens' papers on file ----------------------------------------------------------------


@router.post(
    "/citizens/presence-challenges",
    response_model=ChallengeOut,
    summary="A challenge for the citizen's chip to sign (single use, 2 minutes)",
    responses=ERRORS,
    openapi_extra={"security": KIOSK},
)
def post_challenge(ctx: Ctx, caller: Kiosk) -> Any:
    return presence.new_challenge(ctx, caller.kiosk_id)


@router.post(
    "/citizens/{citizen_id}/presence",
    response_model=PresenceOut,
    summary="Prove the citizen's card is on this kiosk's reader",
    responses=ERRORS,
    openapi_extra={"security": KIOSK},
)
def post_presence(citizen_id: CitizenId, proof: PresenceIn, ctx: Ctx, caller: Kiosk) -> Any:
    """Passive authentication of EF.SOD with DG13 (and DG15, DG14), DG13's ID number equal to
    ``citizen_id``, and the chip's Active Authentication signature over the challenge.
    Refused: 422 ``presence_refused``; the challenge is spent either way."""
    checked = presence.verify_proof(ctx, caller.kiosk_id, citizen_id, proof.model_dump())
    return presence.issue_token(ctx, caller.kiosk_id, checked)


@router.get(
    "/citizens/{citizen_id}/documents",
    response_model=PapersOut,
    summary="The citizen's papers on file (needs X-Presence-Token)",
    responses=ERRORS,
    openapi_extra={"security": KIOSK},
)
def get_papers(
    citizen_id: CitizenId,
    ctx: Ctx,
    caller: Kiosk,
    presence_token: Annotated[str | None, Header(alias="X-Presence-Token")] = None,
) -> Any:
    assurance = presence.check_token(ctx, caller.kiosk_id, citizen_id, presence_token)
    return {
        "citizen_id": citizen_id,
        "assurance": assurance,
        "documents": presence.list_papers(ctx, citizen_id),
    }


@router.get(
    "/citizens/{citizen_id}/documents/{doc_id}",
    summary="One paper on file as PDF (needs X-Presence-Token)",
    responses={
        **ERRORS,
        200: {"content": {"application/pdf": {}}, "description": "the PDF"},
        404: {"model": ErrorBody, "description": "no such paper of this citizen"},
    },
    response_class=FileResponse,
    openapi_extra={"security": KIOSK},
)
def get_paper(
    citizen_id: CitizenId,
    doc_id: str,
    ctx: Ctx,
    caller: Kiosk,
    presence_token: Annotated[str | None, Header(alias="X-Presence-Token")] = None,
) -> Any:
    presence.check_token(ctx, caller.kiosk_id, citizen_id, presence_token)
    path, paper = presence.paper_file(ctx, citizen_id, doc_id)
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=f"{paper['kind']}-{paper['id'][:8]}.pdf",
        headers={"X-Content-SHA256": paper["sha256"]},
    )


# --- kiosks ----------------------------------------------------------------------------------


@router.post(
    "/kiosks/{kiosk_id}/heartbeat",
    response_model=HeartbeatOut,
    summary="A kiosk's status report",
    responses=ERRORS,
    openapi_extra={"security": KIOSK},
)
def post_heartbeat(kiosk_id: KioskId, status: HeartbeatIn, ctx: Ctx, caller: Kiosk) -> Any:
    """Stores the status (the last one also on the kiosk's row) and the audit entries that
    continue the chain held for this kiosk; answers how many commands wait and up to which
    audit entry the server holds the kiosk's log."""
    check_own(caller, kiosk_id)
    return fleet.heartbeat(ctx, kiosk_id, status.model_dump(by_alias=True, exclude_unset=True))


@router.get(
    "/kiosks/{kiosk_id}/commands",
    response_model=CommandsOut,
    summary="Commands queued for this kiosk, oldest first",
    responses=ERRORS,
    openapi_extra={"security": KIOSK},
)
def get_commands(kiosk_id: KioskId, ctx: Ctx, caller: Kiosk) -> Any:
    """Each with its ``mac``: the kiosk runs only commands whose MAC verifies, each once."""
    check_own(caller, kiosk_id)
    return {"commands": fleet.pending_commands(ctx, kiosk_id)}


@router.post(
    "/kiosks/{kiosk_id}/commands/{command_id}/ack",
    response_model=CommandOut,
    summary="Acknowledge a command with its result",
    responses={**ERRORS, 404: {"model": ErrorBody, "description": "no such command"}},
    openapi_extra={"security": KIOSK},
)
def post_ack(kiosk_id: KioskId, command_id: int, ack: AckIn, ctx: Ctx, caller: Kiosk) -> Any:
    check_own(caller, kiosk_id)
    return fleet.ack_command(ctx, kiosk_id, command_id, ack.ok, ack.detail)


@router.post(
    "/kiosks/{kiosk_id}/commands",
    response_model=CommandOut,
    summary="Queue a command for a kiosk (staff)",
    responses={**ERRORS, 404: {"model": ErrorBody, "description": "no such kiosk"}},
    openapi_extra={"security": STAFF},
)
def post_command(kiosk_id: KioskId, command: CommandIn, ctx: Ctx, _staff: Staff) -> Any:
    return fleet.queue_command(ctx, kiosk_id, command.command, command.args, "staff api")


_SCREENSHOT_BODY = {
    "required": True,
    "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
}


@router.post(
    "/kiosks/{kiosk_id}/screenshot",
    response_model=ScreenshotOut,
    summary="Upload what the kiosk shows now (PNG, at most 2 MiB; the last one is kept)",
    responses={**ERRORS, 413: {"model": ErrorBody, "description": "more than 2 MiB"}},
    openapi_extra={"requestBody": _SCREENSHOT_BODY, "security": KIOSK},
)
async def post_screenshot(request: Request, kiosk_id: KioskId) -> Any:
    """The answer to a ``screenshot`` command. The body is read as it streams and refused
    (413) past 2 MiB, before it is all received."""
    ctx = ctx_of(request)
    limit = fleet.MAX_SCREENSHOT_BYTES
    too_large = ApiError(
        413,
        "too_large",
        f"a screenshot is at most {limit} bytes",
        f"ảnh chụp màn hình tối đa {limit} byte",
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large
    caller = await _verify_headers(request)
    check_own(caller, kiosk_id)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    check_body(caller, bytes(body))
    return await run_in_threadpool(fleet.store_screenshot, ctx, kiosk_id, bytes(body))


@router.get(
    "/kiosks/{kiosk_id}/screenshot",
    summary="The kiosk's last screenshot (staff)",
    responses={
        **ERRORS,
        200: {"content": {"image/png": {}}, "description": "the PNG"},
        404: {"model": ErrorBody, "description": "no screenshot from this kiosk yet"},
    },
    response_class=Response,
    openapi_extra={"security": STAFF},
)
def get_screenshot(kiosk_id: KioskId, ctx: Ctx, _staff: Staff) -> Any:
    found = fleet.screenshot(ctx, kiosk_id)
    if found is None:
        raise ApiError(
            404,
            "not_found",
            f"no screenshot from kiosk {kiosk_id} yet",
            f"chưa có ảnh chụp màn hình của ki-ốt {kiosk_id}",
        )
    png, received_at, digest = found
    return Response(
        png,
        media_type="image/png",
        headers={
            "X-Received-At": received_at,
            "X-Content-SHA256": digest,
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/kiosks/{kiosk_id}/audit",
    response_model=list[dict[str, Any]],
    summary="The kiosk's staff audit entries held here, after a sequence number (staff)",
    responses=ERRORS,
    openapi_extra={"security": STAFF},
)
def get_audit(
    kiosk_id: KioskId,
    ctx: Ctx,
    _staff: Staff,
    since: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    return fleet.audit_entries(ctx, kiosk_id, since, limit)


@router.get(
    "/kiosks",
    response_model=list[KioskOut],
    summary="The kiosks, their last status and pending commands (staff)",
    responses=ERRORS,
    openapi_extra={"security": STAFF},
)
def get_kiosks(ctx: Ctx, _staff: Staff) -> Any:
    return fleet.list_kiosks(ctx)


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Whether the server answers; signed, also whether the kiosk's credential holds",
    responses=ERRORS,
)
async def get_health(request: Request) -> Any:
    ctx = ctx_of(request)
    kiosk = None
    if request.headers.get("authorization"):
        kiosk = await kiosk_or_staff(request)
    return {
        "status": "ok",
        "kiosk": kiosk,
        "server_time": iso_time(ctx.clock()),
        "version": API_VERSION,
    }
