"""The dossier (hồ sơ) model: what the kiosk submits, what the back office answers, dossier codes.

A ``DossierSubmission`` is the applicant (only what the dossier needs), the declaration (the
form's answers) and the attachments (scanned pages, or a reference to a document the
administration already holds). Its JSON form is also the input of ``kiosk submit DOSSIER.json``;
attachment paths there may be relative to the JSON file's folder.

Dossier codes follow Thông tư 01/2018/TT-VPCP: ``<agency code>-<YYMMDD>-<4-digit daily
sequence>``, e.g. ``000.00.08.H21-261124-0001``; the agency code is the receiving agency's
code under QCVN 102:2016 (digits.digits.digits.letter+2 digits, e.g. 000.00.08.H21).

Exceptions::

    KioskError
     └── DossierError
          ├── DossierCodeError     (citizen) a dossier code that is not well formed
          └── DossierFormatError   (operator) a dossier JSON that is not well formed;
                                   ``problems`` lists each mistake with its JSON path
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.infra.clock import now_vietnam, to_vietnam_time
from kiosk.infra.text import nfc, nfc_deep

DOSSIER_FORMAT = "motcua-kiosk/dossier"
DOSSIER_FORMAT_VERSION = 1

AGENCY_CODE_PATTERN = r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}"
_AGENCY_RE = re.compile(rf"^{AGENCY_CODE_PATTERN}$")
_CODE_RE = re.compile(
    rf"^(?P<agency>{AGENCY_CODE_PATTERN})-(?P<day>[0-9]{{6}})-(?P<seq>[0-9]{{4}})$"
)
_ID_NUMBER_RE = re.compile(r"^[0-9]{12}$")
_IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
_DOSSIER_KEYS = {
    "format",
    "version",
    "idempotency_key",
    "procedure_code",
    "kiosk_id",
    "created_at",
    "applicant",
    "declaration",
    "attachments",
}
_APPLICANT_KEYS = {"id_number", "full_name", "date_of_birth", "sex", "residence"}


class DossierError(KioskError):
    """A dossier or dossier code is not well formed."""


class DossierCodeError(DossierError):
    """A dossier code is not well formed (typed or scanned by a citizen, or built wrongly)."""

    msgid = "This dossier code is not valid. Please check it and try again."


class DossierFormatError(DossierError):
    """A dossier JSON is not well formed; ``problems`` lists each mistake with its JSON path."""

    def __init__(self, problems: list[str], source: str = "dossier") -> None:
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def is_agency_code(text: object) -> bool:
    """True for a QCVN 102:2016 agency code such as ``000.00.08.H21``."""
    return isinstance(text, str) and bool(_AGENCY_RE.match(text))


def is_id_number(text: object) -> bool:
    """True for a 12-digit personal identification number (số định danh cá nhân)."""
    return isinstance(text, str) and bool(_ID_NUMBER_RE.match(text))


# --- dossier codes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DossierCode:
    """A parsed dossier code: ``str()`` gives it back in its canonical form."""

    agency_code: str
    day: date
    seq: int

    def __str__(self) -> str:
        return format_dossier_code(self.agency_code, self.day, self.seq)


def format_dossier_code(agency_code: str, day: date, seq: int) -> str:
    """``<agency>-<YYMMDD>-<NNNN>`` per Thông tư 01/2018/TT-VPCP; DossierCodeError if impossible."""
    if not is_agency_code(agency_code):
        raise DossierCodeError(
            f"agency code {agency_code!r} is not a QCVN 102:2016 code like 000.00.08.H21",
            msgid=KioskError.msgid,
        )
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= 9999:
        raise DossierCodeError(f"daily sequence {seq!r} is outside 1..9999", msgid=KioskError.msgid)
    if not 2000 <= day.year <= 2099:
        raise DossierCodeError(f"year {day.year} cannot be written as YY", msgid=KioskError.msgid)
    return f"{agency_code}-{day:%y%m%d}-{seq:04d}"


def parse_dossier_code(code: str) -> DossierCode:
    """Parse a code as typed or scanned (spaces around it and lower case are forgiven)."""
    if not isinstance(code, str):
        raise DossierCodeError(f"dossier code must be text, got {type(code).__name__}")
    text = code.strip().upper()
    m = _CODE_RE.match(text)
    if not m:
        raise DossierCodeError(f"{code!r} is not of the form 000.00.08.H21-YYMMDD-NNNN")
    digits = m["day"]
    try:
        day = date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))
    except ValueError:
        raise DossierCodeError(f"{code!r}: {digits} is not a date (YYMMDD)") from None
    seq = int(m["seq"])
    if seq == 0:
        raise DossierCodeError(f"{code!r}: the daily sequence starts at 0001")
    return DossierCode(m["agency"], day, seq)


# --- what the kiosk submits ------------------------------------------------------------------


@dataclass
class Applicant:
    """The person filing the dossier: only what the dossier needs from the identity card."""

    id_number: str
    full_name: str
    date_of_birth: date | None = None
    sex: str = ""
    residence: str = ""

    def __post_init__(self) -> None:
        self.full_name = nfc(self.full_name)
        self.sex = nfc(self.sex)
        self.residence = nfc(self.residence)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id_number": self.id_number,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "sex": self.sex,
            "residence": self.residence,
        }


@dataclass
class Attachment:
    """A document of the dossier: scanned ``pages`` and/or ``on_file_ref`` (already held)."""

    requirement_id: str
    title: str
    pages: list[Path] = field(default_factory=list)
    on_file_ref: str | None = None

    def __post_init__(self) -> None:
        self.title = nfc(self.title)
        self.pages = [Path(p) for p in self.pages]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (paths as text)."""
        return {
            "requirement_id": self.requirement_id,
            "title": self.title,
            "pages": [str(p) for p in self.pages],
            "on_file_ref": self.on_file_ref,
        }


def _new_key() -> str:
    return uuid.uuid4().hex


@dataclass
class DossierSubmission:
    """A dossier as the kiosk sends it; the back office dedupes on ``idempotency_key``."""

    procedure_code: str
    kiosk_id: str
    applicant: Applicant
    declaration: dict[str, Any]
    attachments: list[Attachment]
    created_at: datetime
    idempotency_key: str = field(default_factory=_new_key)

    def __post_init__(self) -> None:
        self.declaration = nfc_deep(self.declaration)
        self.created_at = to_vietnam_time(self.created_at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with ``format`` and ``version`` so readers can check it."""
        return {
            "format": DOSSIER_FORMAT,
            "version": DOSSIER_FORMAT_VERSION,
            "idempotency_key": self.idempotency_key,
            "procedure_code": self.procedure_code,
            "kiosk_id": self.kiosk_id,
            "created_at": self.created_at.isoformat(),
            "applicant": self.applicant.to_dict(),
            "declaration": self.declaration,
            "attachments": [a.to_dict() for a in self.attachments],
        }

    def to_json(self) -> str:
        """The dossier as UTF-8-ready JSON text (Vietnamese kept readable)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(
        cls, data: Any, base_dir: Path | None = None, source: str = "dossier"
    ) -> DossierSubmission:
        """Check and build; relative page paths are resolved against ``base_dir``.

        ``created_at`` and ``idempotency_key`` may be missing (a hand-written ``kiosk submit``
        file): they default to now and a fresh key.
        """
        return _DossierReader(source, base_dir).read(data)

    @classmethod
    def from_json(
        cls, text: str, base_dir: Path | None = None, source: str = "dossier"
    ) -> DossierSubmission:
        """Parse JSON text; DossierFormatError names the line or the JSON path of each mistake."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise DossierFormatError(
                [f"line {e.lineno} column {e.colno}: not valid JSON: {e.msg}"], source
            ) from e
        return cls.from_dict(data, base_dir, source)

    @classmethod
    def from_file(cls, path: Path) -> DossierSubmission:
        """Read a dossier file; relative attachment paths are taken from the file's folder."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise DossierFormatError(["is not UTF-8 text"], str(path)) from e
        except OSError as e:
            raise DossierFormatError([f"cannot be read: {e.strerror or e}"], str(path)) from e
        return cls.from_json(text, path.resolve().parent, str(path))


class _DossierReader:
    """Collects every mistake of a dossier dict before raising."""

    def __init__(self, source: str, base_dir: Path | None) -> None:
        self.source = source
        self.base_dir = base_dir
        self.problems: list[str] = []

    def bad(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, obj: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = obj.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.bad(f"{where}.{key}", "must be non-empty text" if required else "must be text")
            return ""
        return value

    def read(self, data: Any) -> DossierSubmission:
        if not isinstance(data, dict):
            raise DossierFormatError(["$: must be a JSON object"], self.source)
        fmt = data.get("format", DOSSIER_FORMAT)
        if fmt != DOSSIER_FORMAT:
            self.bad("$.format", f"must be {DOSSIER_FORMAT!r}, got {fmt!r}")
        version = data.get("version", DOSSIER_FORMAT_VERSION)
        if version != DOSSIER_FORMAT_VERSION:
            self.bad("$.version", f"version {version!r} is not supported (expected 1)")
        for key in sorted(set(data) - _DOSSIER_KEYS):
            self.bad(f"$.{key}", "unknown key")

        procedure_code = self.text(data, "procedure_code", "$")
        kiosk_id = self.text(data, "kiosk_id", "$")
        key = data.get("idempotency_key") or _new_key()
        if not isinstance(key, str) or not _IDEMPOTENCY_KEY_RE.match(key):
            self.bad("$.idempotency_key", "must be 8 to 128 letters, digits, '.', '_' or '-'")
        created_at = self.moment(data.get("created_at"))
        applicant = self.applicant(data.get("applicant"))
        declaration = data.get("declaration")
        if not isinstance(declaration, dict):
            self.bad("$.declaration", "must be a JSON object of the form's answers")
            declaration = {}
        attachments = self.attachments(data.get("attachments", []))

        if self.problems:
            raise DossierFormatError(self.problems, self.source)
        return DossierSubmission(
            procedure_code=procedure_code,
            kiosk_id=kiosk_id,
            applicant=applicant,
            declaration=declaration,
            attachments=attachments,
            created_at=created_at,
            idempotency_key=key,
        )

    def moment(self, value: Any) -> datetime:
        if value is None:
            return now_vietnam()
        if isinstance(value, str):
            try:
                return to_vietnam_time(datetime.fromisoformat(value))
            except ValueError:
                pass
        self.bad("$.created_at", f"{value!r} is not an ISO 8601 date and time")
        return now_vietnam()

    def applicant(self, value: Any) -> Applicant:
        if not isinstance(value, dict):
            self.bad("$.applicant", "must be a JSON object")
            return Applicant("", "")
        id_number = value.get("id_number")
        if not is_id_number(id_number):
            self.bad("$.applicant.id_number", "must be the 12-digit personal identification number")
            id_number = ""
        full_name = self.text(value, "full_name", "$.applicant")
        dob: date | None = None
        raw_dob = value.get("date_of_birth")
        if raw_dob is not None:
            try:
                dob = date.fromisoformat(raw_dob) if isinstance(raw_dob, str) else None
            except ValueError:
                dob = None
            if dob is None:
                self.bad("$.applicant.date_of_birth", f"{raw_dob!r} is not a date (YYYY-MM-DD)")
        sex = self.text(value, "sex", "$.applicant", required=False)
        residence = self.text(value, "residence", "$.applicant", required=False)
        for key in sorted(set(value) - _APPLICANT_KEYS):
            self.bad(f"$.applicant.{key}", "unknown key (the dossier keeps only what it needs)")
        return Applicant(id_number, full_name, dob, sex, residence)

    def attachments(self, value: Any) -> list[Attachment]:
        if not isinstance(value, list):
            self.bad("$.attachments", "must be a list")
            return []
        out: list[Attachment] = []
        for i, item in enumerate(value):
            where = f"$.attachments[{i}]"
            if not isinstance(item, dict):
                self.bad(where, "must be a JSON object")
                continue
            requirement_id = self.text(item, "requirement_id", where)
            title = self.text(item, "title", where, required=False)
            pages_raw = item.get("pages", [])
            pages: list[Path] = []
            if not isinstance(pages_raw, list) or not all(
                isinstance(p, str) and p for p in pages_raw
            ):
                self.bad(f"{where}.pages", "must be a list of file paths")
            else:
                for p in pages_raw:
                    path = Path(p)
                    if not path.is_absolute() and self.base_dir is not None:
                        path = self.base_dir / path
                    pages.append(path)
            ref = item.get("on_file_ref")
            if ref is not None and (not isinstance(ref, str) or not ref.strip()):
                self.bad(f"{where}.on_file_ref", "must be non-empty text or null")
                ref = None
            if not pages and ref is None and isinstance(pages_raw, list):
                self.bad(where, "needs scanned pages or an on_file_ref")
            out.append(Attachment(requirement_id, title, pages, ref))
        return out


# --- what the back office answers ------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionResult:
    """The back office's answer to a submission: the code and appointment for the receipt.

    ``provisional`` is True when the kiosk has not had the back office's answer yet (the
    dossier waits in the outbox) and the figures are the kiosk's own estimate.
    """

    dossier_code: str
    received_at: datetime
    appointment_date: date
    fee_vnd: int
    provisional: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "dossier_code": self.dossier_code,
            "received_at": self.received_at.isoformat(),
            "appointment_date": self.appointment_date.isoformat(),
            "fee_vnd": self.fee_vnd,
            "provisional": self.provisional,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        """Inverse of ``to_dict``."""
        return cls(
            dossier_code=data["dossier_code"],
            received_at=datetime.fromisoformat(data["received_at"]),
            appointment_date=date.fromisoformat(data["appointment_date"]),
            fee_vnd=int(data["fee_vnd"]),
            provisional=bool(data.get("provisional", False)),
        )


class DossierState(StrEnum):
    """Where a dossier is in its life at the agency."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    NEEDS_MORE = "needs_more"
    RESULT_READY = "result_ready"
    RETURNED = "returned"


# What the citizen should do next, per state (Vietnamese, English).
NEXT_STEPS: dict[DossierState, tuple[str, str]] = {
    DossierState.RECEIVED: (
        "Hồ sơ đã được tiếp nhận và đang chờ giải quyết. Vui lòng giữ phiếu hẹn.",
        "Your dossier has been received and is waiting to be processed. Please keep your receipt.",
    ),
    DossierState.IN_PROGRESS: (
        "Hồ sơ đang được giải quyết. Vui lòng đến nhận kết quả theo ngày hẹn trên phiếu.",
        "Your dossier is being processed. Please collect the result on the date on your receipt.",
    ),
    DossierState.NEEDS_MORE: (
        "Hồ sơ cần bổ sung giấy tờ. Vui lòng đến Bộ phận Một cửa để được hướng dẫn.",
        "Your dossier needs more documents. Please come to the one-stop-shop counter for help.",
    ),
    DossierState.RESULT_READY: (
        "Đã có kết quả. Vui lòng mang phiếu hẹn và thẻ căn cước đến Bộ phận Một cửa để nhận.",
        "The result is ready. Please bring your receipt and identity card to the one-stop-shop "
        "counter to collect it.",
    ),
    DossierState.RETURNED: (
        "Kết quả đã được trả. Hồ sơ đã hoàn tất.",
        "The result has been handed over. Your dossier is complete.",
    ),
}


@dataclass(frozen=True)
class StatusEvent:
    """One step of a dossier's history; ``note`` is the staff's remark, may be empty."""

    at: datetime
    state: DossierState
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"at": self.at.isoformat(), "state": self.state.value, "note": self.note}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StatusEvent:
        """Inverse of ``to_dict``."""
        return cls(datetime.fromisoformat(data["at"]), DossierState(data["state"]), data["note"])


@dataclass(frozen=True)
class DossierStatus:
    """What a dossier lookup shows: state, history and the citizen's next step."""

    code: str
    status: DossierState
    history: list[StatusEvent]
    next_step_vi: str
    next_step_en: str
    procedure_code: str = ""
    appointment_date: date | None = None

    @classmethod
    def of(
        cls,
        code: str,
        history: list[StatusEvent],
        procedure_code: str = "",
        appointment_date: date | None = None,
    ) -> DossierStatus:
        """The status whose state is the last event's, with that state's next step."""
        if not history:
            raise ValueError("a dossier status needs at least one event")
        state = history[-1].state
        vi, en = NEXT_STEPS[state]
        return cls(code, state, list(history), vi, en, procedure_code, appointment_date)

    def next_step(self, lang: str) -> str:
        """The next step in ``lang`` ("en" for English, Vietnamese otherwise)."""
        return self.next_step_en if lang == "en" else self.next_step_vi

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "code": self.code,
            "status": self.status.value,
            "history": [e.to_dict() for e in self.history],
            "next_step_vi": self.next_step_vi,
            "next_step_en": self.next_step_en,
            "procedure_code": self.procedure_code,
            "appointment_date": self.appointment_date.isoformat()
            if self.appointment_date
            else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DossierStatus:
        """Inverse of ``to_dict``."""
        appointment = data.get("appointment_date")
        return cls(
            code=data["code"],
            status=DossierState(data["status"]),
            history=[StatusEvent.from_dict(e) for e in data["history"]],
            next_step_vi=data["next_step_vi"],
            next_step_en=data["next_step_en"],
            procedure_code=data.get("procedure_code", ""),
            appointment_date=date.fromisoformat(appointment) if appointment else None,
        )
