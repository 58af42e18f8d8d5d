"""The kiosks: registration and secrets, heartbeats, audit entries, commands and screenshots.

A heartbeat is the kiosk's status as JSON (kiosk/fleet/status.py, schema 1: mode, devices'
health, paper, outbox, today's figures; at most 64 KiB as compact JSON), stored with the
server's time; the last one is also kept on the kiosk's row for the staff page. Its ``audit``
list (the kiosk's staff audit log, kiosk/staff/audit.py, entries the server does not hold yet)
is taken out and stored apart, one row per entry, only while the entries continue the chain
stored for that kiosk: each entry's hash is its content's, its ``seq`` the next one and its
``prev`` the hash of the entry before (64 zeros for the first). The answer says up to which
entry the server holds the log (``audit_received_through``) and, when it refused some, why
(``audit_problem``); the kiosk sends again from there.

Commands are queued by staff (``KNOWN_COMMANDS``, their arguments checked), fetched by the
kiosk (oldest first, until acknowledged) each with a MAC under the kiosk's secret
(kiosk/fleet/command_mac.py: the kiosk runs none that does not verify) and acknowledged with a
result. ``screenshot`` makes the kiosk upload a PNG (at most 2 MiB); the last one per kiosk is
kept for staff.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import unicodedata
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backoffice.auth import KIOSK_ID_RE, new_kiosk_secret
from backoffice.context import iso_time
from backoffice.db import (
    AuditChainProblem,
    AuditRecord,
    Heartbeat,
    Kiosk,
    KioskCommand,
    KioskScreenshot,
)
from backoffice.errors import ApiError
from kiosk.fleet.command_mac import command_mac, command_message
from kiosk.staff.audit import GENESIS, AuditEntry, entry_hash

if TYPE_CHECKING:
    from backoffice.context import Context

log = logging.getLogger(__name__)

MAX_HEARTBEAT_BYTES = 64 * 1024
MAX_SCREENSHOT_BYTES = 2 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_MESSAGE_CHARS = 200
#: Heartbeats older than this are deleted (now and then, as new ones arrive): a kiosk beating
#: every minute leaves about 10,000 rows.
KEEP_HEARTBEATS_S = 7 * 24 * 3600.0
KNOWN_COMMANDS = {
    "reload-catalog": "Tải lại danh mục thủ tục",
    "enter-maintenance": "Chuyển sang chế độ bảo trì",
    "leave-maintenance": "Thoát chế độ bảo trì",
    "print-test-page": "In trang thử",
    "restart": "Khởi động lại phần mềm",
    "out-of-service": "Tạm ngừng phục vụ (kèm thông báo)",
    "back-in-service": "Phục vụ trở lại",
    "screenshot": "Chụp màn hình ki-ốt",
}
#: The arguments each command takes (all optional text); a command not listed takes none.
COMMAND_ARGS: dict[str, tuple[str, ...]] = {
    "out-of-service": ("message_vi", "message_en"),
}


def _iso(moment: float | None) -> str | None:
    return None if moment is None else iso_time(moment)


def add_kiosk(ctx: Context, kiosk_id: str, *, rotate: bool = False) -> str:
    """Register a kiosk (or give it a new secret with ``rotate``); the secret, shown once."""
    if not KIOSK_ID_RE.match(kiosk_id):
        raise ApiError(
            422,
            "invalid_request",
            f"{kiosk_id!r} is not a kiosk id (1 to 64 of A-Z a-z 0-9 . _ -)",
            "mã ki-ốt không hợp lệ",
        )
    secret = new_kiosk_secret()
    sealed = ctx.secret_box.seal(secret, kiosk_id)
    with ctx.session() as session, session.begin():
        row = session.get(Kiosk, kiosk_id)
        if row is not None and not rotate:
            raise ApiError(
                409,
                "conflict",
                f"kiosk {kiosk_id} is already registered (use --rotate for a new secret)",
                f"ki-ốt {kiosk_id} đã được đăng ký",
            )
        if row is None:
            session.add(Kiosk(id=kiosk_id, secret_enc=sealed, created_at=ctx.clock()))
        else:
            row.secret_enc = sealed
            row.disabled = False
    return secret


def set_kiosk_secret(ctx: Context, kiosk_id: str, secret: str) -> None:
    """Register a kiosk with a secret chosen elsewhere (demo mode: the kiosk's config token)."""
    sealed = ctx.secret_box.seal(secret, kiosk_id)
    with ctx.session() as session, session.begin():
        row = session.get(Kiosk, kiosk_id)
        if row is None:
            session.add(Kiosk(id=kiosk_id, secret_enc=sealed, created_at=ctx.clock()))
        else:
            row.secret_enc = sealed


def list_kiosks(ctx: Context) -> list[dict[str, Any]]:
    """Every kiosk with its last status (the last heartbeat's payload, audit left out), when it
    last called and last sent a heartbeat, its pending commands, how far its audit log is held
    here (and why no further, when its entries were refused) and when its last screenshot
    came."""
    with ctx.session() as session:
        rows = session.scalars(select(Kiosk).order_by(Kiosk.id)).all()
        pending = dict(
            session.execute(
                select(KioskCommand.kiosk_id, func.count())
                .where(KioskCommand.acked_at.is_(None))
                .group_by(KioskCommand.kiosk_id)
            ).all()
        )
        beats = dict(
            session.execute(
                select(Heartbeat.kiosk_id, func.max(Heartbeat.received_at)).group_by(
                    Heartbeat.kiosk_id
                )
            ).all()
        )
        audit = dict(
            session.execute(
                select(AuditRecord.kiosk_id, func.max(AuditRecord.seq)).group_by(
                    AuditRecord.kiosk_id
                )
            ).all()
        )
        shots = dict(
            session.execute(select(KioskScreenshot.kiosk_id, KioskScreenshot.received_at)).all()
        )
        problems = {p.kiosk_id: p for p in session.scalars(select(AuditChainProblem)).all()}
    return [
        {
            "id": k.id,
            "disabled": k.disabled,
            "last_seen_at": _iso(k.last_seen_at),
            "last_heartbeat_at": _iso(beats.get(k.id)),
            "last_status": json.loads(k.last_status) if k.last_status else None,
            "pending_commands": int(pending.get(k.id, 0)),
            "audit_received_through": int(audit.get(k.id) or 0),
            "audit_problem": problems[k.id].problem if k.id in problems else None,
            "screenshot_at": _iso(shots.get(k.id)),
        }
        for k in rows
    ]


def heartbeat(ctx: Context, kiosk_id: str, payload: Any) -> dict[str, Any]:
    """Store a heartbeat and its audit entries; the answer (pending commands, audit mark)."""
    if not isinstance(payload, dict):
        raise ApiError(
            422, "invalid_request", "a heartbeat is a JSON object", "nhịp trạng thái phải là JSON"
        )
    size = len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_HEARTBEAT_BYTES:
        raise ApiError(
            413,
            "too_large",
            f"a heartbeat is at most {MAX_HEARTBEAT_BYTES} bytes",
            "nhịp trạng thái quá lớn",
        )
    status = dict(payload)
    entries = status.pop("audit", None) or []
    if not isinstance(entries, list):
        raise ApiError(
            422, "invalid_request", "audit must be a list", "audit phải là một danh sách"
        )
    text = json.dumps(status, ensure_ascii=False, sort_keys=True)
    now = ctx.clock()
    with ctx.session() as session, session.begin():
        session.add(Heartbeat(kiosk_id=kiosk_id, received_at=now, payload=text))
        if secrets.randbelow(64) == 0:  # now and then, forget old heartbeats of this kiosk
            session.execute(
                delete(Heartbeat).where(
                    Heartbeat.kiosk_id == kiosk_id, Heartbeat.received_at < now - KEEP_HEARTBEATS_S
                )
            )
        kiosk = session.get(Kiosk, kiosk_id)
        if kiosk is not None:
            kiosk.last_status = text
            kiosk.last_seen_at = now
        through, stored, problem = _store_audit(session, kiosk_id, entries, now)
        if problem is not None or stored:
            _note_audit_problem(session, kiosk_id, problem, now)
        pending = session.scalar(
            select(func.count())
            .select_from(KioskCommand)
            .where(KioskCommand.kiosk_id == kiosk_id, KioskCommand.acked_at.is_(None))
        )
    if problem:
        log.warning("kiosk %s: audit entries refused: %s", kiosk_id, problem)
    answer: dict[str, Any] = {
        "ok": True,
        "server_time": _iso(now),
        "pending_commands": int(pending or 0),
        "audit_received_through": through,
    }
    if problem:
        answer["audit_problem"] = problem
    return answer


def _last_audit(session: Session, kiosk_id: str) -> AuditRecord | None:
    return session.scalars(
        select(AuditRecord)
        .where(AuditRecord.kiosk_id == kiosk_id)
        .order_by(AuditRecord.seq.desc())
        .limit(1)
    ).first()


def _store_audit(
    session: Session, kiosk_id: str, entries: list[Any], now: float
) -> tuple[int, int, str | None]:
    """Store the entries that continue the kiosk's chain; (the last seq held, how many were
    stored now, the problem that stopped the rest or None)."""
    last = _last_audit(session, kiosk_id)
    last_seq, last_hash = (last.seq, last.hash) if last is not None else (0, GENESIS)
    stored = 0
    for raw in entries:
        entry = AuditEntry.from_dict(raw)
        where = f"entry seq {raw.get('seq') if isinstance(raw, dict) else '?'}"
        if entry is None:
            return last_seq, stored, f"{where} is not an audit entry"
        try:
            intact = entry_hash(raw) == entry.hash
        except ValueError:
            intact = False
        if not intact:
            return last_seq, stored, f"{where}: its hash does not match its content (edited)"
        if entry.kiosk != kiosk_id:
            return last_seq, stored, f"{where} belongs to kiosk {entry.kiosk!r}"
        if entry.seq <= last_seq:  # sent again: it must be the one held
            held = session.scalars(
                select(AuditRecord).where(
                    AuditRecord.kiosk_id == kiosk_id, AuditRecord.seq == entry.seq
                )
            ).first()
            if held is None or held.hash != entry.hash:
                return last_seq, stored, f"{where} differs from the entry already held"
            continue
        if entry.seq != last_seq + 1 or entry.prev != last_hash:
            return (
                last_seq,
                stored,
                f"{where} does not continue the chain held (expected seq {last_seq + 1} after "
                f"hash {last_hash[:12]}…): entries removed, reordered or the log rewritten",
            )
        session.add(
            AuditRecord(
                kiosk_id=kiosk_id,
                seq=entry.seq,
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                detail=json.dumps(entry.detail, ensure_ascii=False, sort_keys=True),
                prev=entry.prev,
                hash=entry.hash,
                received_at=now,
            )
        )
        last_seq, last_hash = entry.seq, entry.hash
        stored += 1
    return last_seq, stored, None


def _note_audit_problem(session: Session, kiosk_id: str, problem: str | None, now: float) -> None:
    """Keep the kiosk's audit problem for the staff pages (since when), or clear it (once
    entries are stored again: a heartbeat without entries leaves it as it is)."""
    row = session.get(AuditChainProblem, kiosk_id)
    if problem is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(AuditChainProblem(kiosk_id=kiosk_id, problem=problem, since=now))
    elif row.problem != problem:
        row.problem, row.since = problem, now


def audit_entries(
    ctx: Context, kiosk_id: str, since: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """A kiosk's audit entries held here after ``since``, in order (for the staff pages)."""
    with ctx.session() as session:
        rows = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.kiosk_id == kiosk_id, AuditRecord.seq > since)
            .order_by(AuditRecord.seq)
            .limit(limit)
        ).all()
    return [
        {
            "seq": r.seq,
            "at": r.at,
            "kiosk": r.kiosk_id,
            "actor": r.actor,
            "action": r.action,
            "detail": json.loads(r.detail or "{}"),
            "prev": r.prev,
            "hash": r.hash,
            "received_at": _iso(r.received_at),
        }
        for r in rows
    ]


def _command_dict(c: KioskCommand) -> dict[str, Any]:
    return {
        "id": c.id,
        "command": c.command,
        "args": json.loads(c.args or "{}"),
        "created_at": _iso(c.created_at),
        "created_by": c.created_by,
        "acked_at": _iso(c.acked_at),
        "ok": c.ack_ok,
        "detail": c.ack_detail,
    }


def _check_args(command: str, args: dict[str, Any] | None) -> dict[str, str]:
    """The command's arguments as stored: known names only, one-line NFC text, not too long."""
    allowed = COMMAND_ARGS.get(command, ())
    checked: dict[str, str] = {}
    for name, value in (args or {}).items():
        if name not in allowed:
            takes = ", ".join(allowed) if allowed else "none"
            raise ApiError(
                422,
                "invalid_request",
                f"command {command} takes no argument {name!r} (it takes: {takes})",
                f"lệnh {command} không nhận tham số {name!r}",
            )
        if not isinstance(value, str):
            raise ApiError(
                422, "invalid_request", f"{name} must be text", f"{name} phải là văn bản"
            )
        text = " ".join(unicodedata.normalize("NFC", value).split())
        if len(text) > MAX_MESSAGE_CHARS:
            raise ApiError(
                422,
                "invalid_request",
                f"{name} is at most {MAX_MESSAGE_CHARS} characters",
                f"{name} dài tối đa {MAX_MESSAGE_CHARS} ký tự",
            )
        if text:
            checked[name] = text
    return checked


def queue_command(
    ctx: Context, kiosk_id: str, command: str, args: dict[str, Any] | None, actor: str
) -> dict[str, Any]:
    if command not in KNOWN_COMMANDS:
        raise ApiError(
            422,
            "invalid_request",
            f"unknown command {command!r} (known: {', '.join(sorted(KNOWN_COMMANDS))})",
            "lệnh không được hỗ trợ",
        )
    args = _check_args(command, args)
    with ctx.session() as session, session.begin():
        if session.get(Kiosk, kiosk_id) is None:
            raise ApiError(404, "not_found", f"no kiosk {kiosk_id}", f"không có ki-ốt {kiosk_id}")
        row = KioskCommand(
            kiosk_id=kiosk_id,
            command=command,
            args=json.dumps(args or {}, ensure_ascii=False),
            created_at=ctx.clock(),
            created_by=actor,
        )
        session.add(row)
        session.flush()
        return _command_dict(row)


def pending_commands(ctx: Context, kiosk_id: str) -> list[dict[str, Any]]:
    """The kiosk's unacknowledged commands, oldest first, each with its ``mac``."""
    with ctx.session() as session:
        kiosk = session.get(Kiosk, kiosk_id)
        rows = session.scalars(
            select(KioskCommand)
            .where(KioskCommand.kiosk_id == kiosk_id, KioskCommand.acked_at.is_(None))
            .order_by(KioskCommand.id)
        ).all()
    if kiosk is None:
        return []
    secret = ctx.secret_box.open(kiosk.secret_enc, kiosk_id)
    return [{**_command_dict(c), "mac": _mac(secret, c)} for c in rows]


def _mac(secret: str, c: KioskCommand) -> str:
    """The command's MAC under the kiosk's secret (kiosk/fleet/command_mac.py)."""
    created_at = _iso(c.created_at) or ""
    message = command_message(c.id, c.kiosk_id, c.command, json.loads(c.args or "{}"), created_at)
    return command_mac(secret, message)


def recent_commands(ctx: Context, limit: int = 30) -> list[dict[str, Any]]:
    with ctx.session() as session:
        rows = session.scalars(
            select(KioskCommand).order_by(KioskCommand.id.desc()).limit(limit)
        ).all()
    return [{**_command_dict(c), "kiosk_id": c.kiosk_id} for c in rows]


def ack_command(
    ctx: Context, kiosk_id: str, command_id: int, ok: bool, detail: str
) -> dict[str, Any]:
    """Record the kiosk's result; acknowledging twice keeps the first result."""
    with ctx.session() as session, session.begin():
        row = session.get(KioskCommand, command_id)
        if row is None or row.kiosk_id != kiosk_id:
            raise ApiError(
                404,
                "not_found",
                f"kiosk {kiosk_id} has no command {command_id}",
                f"ki-ốt {kiosk_id} không có lệnh {command_id}",
            )
        if row.acked_at is None:
            row.acked_at = ctx.clock()
            row.ack_ok = bool(ok)
            row.ack_detail = str(detail)[:2000]
        return _command_dict(row)


def store_screenshot(ctx: Context, kiosk_id: str, png: bytes) -> dict[str, Any]:
    """Keep ``png`` as the kiosk's last screenshot (replacing the one before)."""
    if not png.startswith(PNG_SIGNATURE):
        raise ApiError(422, "invalid_request", "the body is not a PNG image", "không phải ảnh PNG")
    now = ctx.clock()
    digest = hashlib.sha256(png).hexdigest()
    with ctx.session() as session, session.begin():
        row = session.get(KioskScreenshot, kiosk_id)
        if row is None:
            session.add(KioskScreenshot(kiosk_id=kiosk_id, png=png, sha256=digest, received_at=now))
        else:
            row.png, row.sha256, row.received_at = png, digest, now
    return {"ok": True, "received_at": _iso(now), "size": len(png), "sha256": digest}


def screenshot(ctx: Context, kiosk_id: str) -> tuple[bytes, str, str] | None:
    """The kiosk's last screenshot: (PNG, received at, SHA-256), or None."""
    with ctx.session() as session:
        row = session.get(KioskScreenshot, kiosk_id)
        if row is None:
            return None
        return row.png, _iso(row.received_at) or "", row.sha256
