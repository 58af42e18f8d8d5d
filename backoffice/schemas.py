"""The API's bodies as pydantic models: they validate what comes in and describe what goes out
in the OpenAPI document (backoffice/openapi.json)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    error: str = Field(description="stable machine code, e.g. idempotency_conflict")
    message: str = Field(description="English, for logs and staff")
    message_vi: str = Field(description="Vietnamese, for staff")
    problems: list[str] | None = Field(None, description="each reason a dossier is refused")


class SubmissionAnswer(BaseModel):
    dossier_code: str = Field(examples=["000.00.08.H21-261124-0001"])
    received_at: str = Field(description="ISO 8601, Vietnam time")
    appointment_date: str = Field(description="YYYY-MM-DD, in working days from receipt")
    fee_vnd: int
    provisional: bool = False


class StatusEventOut(BaseModel):
    at: str
    state: str
    note: str = ""


class DossierStatusOut(BaseModel):
    code: str
    status: str = Field(description="received, in_progress, needs_more, result_ready or returned")
    history: list[StatusEventOut]
    next_step_vi: str
    next_step_en: str
    procedure_code: str
    appointment_date: str | None


class DossierSummary(BaseModel):
    code: str
    procedure_code: str
    kiosk_id: str
    applicant_id: str
    applicant_name: str
    received_at: str
    appointment_date: str
    fee_vnd: int
    status: str


class DossierPage(BaseModel):
    items: list[DossierSummary]
    total: int
    limit: int
    offset: int


class StatusChange(BaseModel):
    state: str = Field(description="the next state (see TRANSITIONS)")
    note: str = Field("", max_length=2000, description="shown to the citizen at look-up")


class ChallengeOut(BaseModel):
    challenge: str = Field(description="8 random bytes, base64")
    expires_at: str
    expires_in_s: int


class PresenceIn(BaseModel):
    challenge: str = Field(description="the challenge, base64, as received")
    aa_signature: str | None = Field(
        None, description="the chip's INTERNAL AUTHENTICATE answer to the challenge, base64"
    )
    dg15: str | None = Field(None, description="EF.DG15 (Active Authentication key), base64")
    dg14: str | None = Field(None, description="EF.DG14 (for an ECDSA chip), base64")
    sod: str = Field(description="EF.SOD, base64")
    dg13: str = Field(description="EF.DG13, base64")


class PresenceOut(BaseModel):
    presence_token: str = Field(description="send it as X-Presence-Token")
    expires_at: str
    assurance: str = Field(description="active (the chip signed) or passive (data only)")


class PaperOut(BaseModel):
    id: str = Field(description="use it as on_file_ref in a dossier")
    kind: str = Field(
        description="can_cuoc, dang_ky_doanh_nghiep, quyet_dinh_thanh_lap, van_bang, "
        "ly_lich_tu_phap or giay_phep"
    )
    title: str
    dossier_code: str | None
    date: str
    sha256: str
    size: int
    source: str = Field(description="dossier, staff or demo")


class PapersOut(BaseModel):
    citizen_id: str
    assurance: str
    documents: list[PaperOut]


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    versions: dict[str, Any] | None = None
    devices: list[dict[str, Any]] | None = None
    outbox_depth: int | None = None
    paper: str | None = None


class HeartbeatOut(BaseModel):
    ok: bool
    server_time: str
    pending_commands: int


class CommandOut(BaseModel):
    id: int
    command: str
    args: dict[str, Any]
    created_at: str
    created_by: str
    acked_at: str | None
    ok: bool | None
    detail: str


class CommandsOut(BaseModel):
    commands: list[CommandOut]


class CommandIn(BaseModel):
    command: str = Field(
        description="reload-catalog, enter-maintenance, leave-maintenance, print-test-page, restart"
    )
    args: dict[str, Any] = Field(default_factory=dict)


class AckIn(BaseModel):
    ok: bool = True
    detail: str = Field("", max_length=2000)


class KioskOut(BaseModel):
    id: str
    disabled: bool
    last_seen_at: str | None
    last_status: dict[str, Any] | None
    pending_commands: int


class HealthOut(BaseModel):
    status: str
    kiosk: str | None = Field(description="the kiosk whose signature was checked, if signed")
    server_time: str
    version: str
