"""The API's bodies as pydantic models: they validate what comes in and describe what goes out
in the OpenAPI document (backoffice/openapi.json)."""

from __future__ import annotations

from typing import Any, Literal

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


class DeviceStatusIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = Field(None, description="card_reader, camera, printer or backoffice")
    up: bool | None = None
    mode: str | None = Field(None, description="simulated, pcsc, opencv, network, …")
    detail: str | None = Field(None, description="English, for staff")


class OutboxStatusIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    pending: int | None = None
    parked: int | None = None
    oldest_pending_age_s: float | None = None


class TodayIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    sessions: int | None = None
    submitted: int | None = None
    ratings: int | None = None
    satisfied: int | None = Field(None, description="ratings of level 4 or 5")


class HeartbeatIn(BaseModel):
    """A kiosk's status, schema 1 (kiosk/fleet/status.py); every field optional, others kept.
    At most 64 KiB as compact JSON. ``audit`` is stored apart (the answer says how far)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    schema_version: int | None = Field(None, alias="schema", description="1")
    sent_at: str | None = Field(None, description="the kiosk's time, ISO 8601 with +07:00")
    interval_s: int | float | None = Field(None, description="seconds until the next heartbeat")
    version: str | None = Field(None, description="the kiosk software's version")
    mode: Literal["service", "maintenance", "out_of_service"] | None = None
    out_of_service_message: dict[str, str] | None = Field(
        None, description='what citizens read while out of service: {"vi": …, "en": …}'
    )
    devices: list[DeviceStatusIn] | None = None
    paper: Literal["ok", "near_end", "out", "unknown"] | None = None
    outbox: OutboxStatusIn | None = None
    today: TodayIn | None = None
    pin_failures_last_hour: int | None = None
    audit: list[dict[str, Any]] | None = Field(
        None,
        description=(
            "the kiosk's staff audit entries after the last one the server confirmed, oldest "
            "first: {seq, at, kiosk, actor, action, detail, prev, hash} (kiosk/staff/audit.py)"
        ),
    )


class HeartbeatOut(BaseModel):
    ok: bool
    server_time: str
    pending_commands: int
    audit_received_through: int = Field(
        0, description="the last audit entry of this kiosk the server holds (0: none)"
    )
    audit_problem: str | None = Field(
        None, description="why entries after audit_received_through were not stored"
    )


class CommandOut(BaseModel):
    id: int
    command: str
    args: dict[str, Any]
    created_at: str
    created_by: str
    acked_at: str | None
    ok: bool | None
    detail: str
    mac: str | None = Field(
        None,
        description=(
            "to the kiosk only: hex HMAC-SHA256 under the kiosk's secret of "
            '"motcua-kiosk/command/1\\n" + canonical JSON of {args, command, created_at, id, '
            "kiosk_id} (sorted keys, no spaces, UTF-8); the kiosk runs no command whose MAC "
            "does not verify"
        ),
    )


class CommandsOut(BaseModel):
    commands: list[CommandOut]


class CommandIn(BaseModel):
    command: str = Field(
        description=(
            "reload-catalog, enter-maintenance, leave-maintenance, print-test-page, restart, "
            "out-of-service (args message_vi, message_en), back-in-service, screenshot"
        )
    )
    args: dict[str, Any] = Field(default_factory=dict)


class AckIn(BaseModel):
    ok: bool = True
    detail: str = Field("", max_length=2000)


class KioskOut(BaseModel):
    id: str
    disabled: bool
    last_seen_at: str | None
    last_heartbeat_at: str | None = None
    last_status: dict[str, Any] | None
    pending_commands: int
    audit_received_through: int = 0
    audit_problem: str | None = Field(
        None, description="why the kiosk's last audit entries were refused (chain broken)"
    )
    screenshot_at: str | None = None


class ScreenshotOut(BaseModel):
    ok: bool
    received_at: str
    size: int
    sha256: str


class HealthOut(BaseModel):
    status: str
    kiosk: str | None = Field(description="the kiosk whose signature was checked, if signed")
    server_time: str
    version: str
