"""The kiosks: registration and secrets, heartbeats, and the commands staff queue for them.

A heartbeat is the kiosk's status as JSON (versions, devices' health, outbox depth, paper
status; at most 64 KiB), stored with the server's time; the last one is also kept on the
kiosk's row for the staff page. Commands are queued by staff (``KNOWN_COMMANDS``), fetched by
the kiosk (oldest first, until acknowledged) and acknowledged with a result; the fleet issue
builds the kiosk side.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from backoffice.auth import KIOSK_ID_RE, new_kiosk_secret
from backoffice.context import iso_time
from backoffice.db import Heartbeat, Kiosk, KioskCommand
from backoffice.errors import ApiError

if TYPE_CHECKING:
    from backoffice.context import Context

MAX_HEARTBEAT_BYTES = 64 * 1024
KNOWN_COMMANDS = {
    "reload-catalog": "Tải lại danh mục thủ tục",
    "enter-maintenance": "Chuyển sang chế độ bảo trì",
    "leave-maintenance": "Thoát chế độ bảo trì",
    "print-test-page": "In trang thử",
    "restart": "Khởi động lại phần mềm",
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
    with ctx.session() as session:
        rows = session.scalars(select(Kiosk).order_by(Kiosk.id)).all()
        pending = dict(
            session.execute(
                select(KioskCommand.kiosk_id, func.count())
                .where(KioskCommand.acked_at.is_(None))
                .group_by(KioskCommand.kiosk_id)
            ).all()
        )
    return [
        {
            "id": k.id,
            "disabled": k.disabled,
            "last_seen_at": _iso(k.last_seen_at),
            "last_status": json.loads(k.last_status) if k.last_status else None,
            "pending_commands": int(pending.get(k.id, 0)),
        }
        for k in rows
    ]


def heartbeat(ctx: Context, kiosk_id: str, payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ApiError(
            422, "invalid_request", "a heartbeat is a JSON object", "nhịp trạng thái phải là JSON"
        )
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    if len(text.encode()) > MAX_HEARTBEAT_BYTES:
        raise ApiError(
            413,
            "too_large",
            f"a heartbeat is at most {MAX_HEARTBEAT_BYTES} bytes",
            "nhịp trạng thái quá lớn",
        )
    now = ctx.clock()
    with ctx.session() as session, session.begin():
        session.add(Heartbeat(kiosk_id=kiosk_id, received_at=now, payload=text))
        kiosk = session.get(Kiosk, kiosk_id)
        if kiosk is not None:
            kiosk.last_status = text
            kiosk.last_seen_at = now
        pending = session.scalar(
            select(func.count())
            .select_from(KioskCommand)
            .where(KioskCommand.kiosk_id == kiosk_id, KioskCommand.acked_at.is_(None))
        )
    return {"ok": True, "server_time": _iso(now), "pending_commands": int(pending or 0)}


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
    with ctx.session() as session:
        rows = session.scalars(
            select(KioskCommand)
            .where(KioskCommand.kiosk_id == kiosk_id, KioskCommand.acked_at.is_(None))
            .order_by(KioskCommand.id)
        ).all()
    return [_command_dict(c) for c in rows]


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
