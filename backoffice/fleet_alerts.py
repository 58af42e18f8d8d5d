"""The fleet page's view of one kiosk: its last heartbeat read defensively, and its alerts.

``kiosk_alerts(status, last_heartbeat_at, now)`` is a pure function of the kiosk's last heartbeat
(the JSON the kiosk sent, stored by backoffice/fleet.py as ``last_status``), the server's time
of that heartbeat, and the time now. The rules are those of config/monitoring/rules/
kiosk-alerts.yml, for the kiosks a province's Prometheus cannot reach:

    code            severity  when
    no_heartbeat    critical  nothing heard for 3 heartbeat intervals (the kiosk's own
                              ``interval_s``; 60 s when it does not say)
    never_seen      warning   registered, but no heartbeat ever arrived
    device_down     critical  a device reports ``up: false`` (the printer while its paper is
                              out is said once, by paper_out, with the printer's own words)
    paper_out       critical  ``paper == "out"``
    paper_near_end  warning   ``paper == "near_end"``
    outbox_stale    warning   the oldest dossier waiting to reach the back office is older
                              than 15 minutes
    pin_failures    warning   5 or more wrong staff PINs in the last hour
    audit_broken    critical  the server refused the kiosk's staff audit entries: they do not
                              continue the hash chain it holds (a line removed, edited or
                              reordered at the kiosk)

While a kiosk is silent its last status is stale: only no_heartbeat is raised from it then
(as config/monitoring/alertmanager.yml inhibits device alerts while a kiosk is down); the page
still shows the last known figures. A disabled kiosk (its credential revoked) raises nothing.
"No heartbeat" counts from the last heartbeat the server received (``last_heartbeat_at``), not
from the kiosk's last request of any kind.

``kiosk_summary(kiosk, now)`` turns one row of ``fleet.list_kiosks`` into what the page shows:
plain JSON values and Vietnamese texts, every key present whatever the heartbeat lacked (older
kiosks, partial payloads and wrong types give "unknown", never an error).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final

from kiosk.infra.clock import VIETNAM_TZ

MISSED_INTERVALS: Final = 3
DEFAULT_INTERVAL_S: Final = 60.0
MAX_INTERVAL_S: Final = 3600.0  # a kiosk cannot silence its own alert by claiming a day
OUTBOX_STALE_S: Final = 15 * 60.0
PIN_FAILURES_ALERT: Final = 5

SEVERITY_ORDER: Final = {"critical": 0, "warning": 1}
LEVEL_TEXT: Final = {
    "critical": "Cần xử lý ngay",
    "warning": "Cần chú ý",
    "ok": "Bình thường",
    "disabled": "Đã khoá",
}
LEVEL_ICON: Final = {"critical": "✖", "warning": "⚠", "ok": "✓", "disabled": "○"}
DEVICE_VI: Final = {
    "card_reader": "Đầu đọc thẻ",
    "camera": "Camera",
    "printer": "Máy in",
    "backoffice": "Kết nối máy chủ",
}
PAPER_VI: Final = {
    "ok": "Còn giấy",
    "near_end": "Sắp hết giấy",
    "out": "Hết giấy",
    "unknown": "Không rõ",
}
MODE_VI: Final = {
    "service": "Đang phục vụ",
    "maintenance": "Đang bảo trì",
    "out_of_service": "Tạm ngừng phục vụ",
    "unknown": "Không rõ",
}


@dataclass(frozen=True)
class Alert:
    """One thing at a kiosk that needs a person: ``text`` is the operator's Vietnamese."""

    code: str
    severity: str  # "critical" | "warning"
    text: str


# ---------------------------------------------------------------------- reading the status
def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> float | None:
    """A finite, non-negative number, or None (bools, text and NaN are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _count(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _text(value: Any, limit: int = 300) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def interval_s(status: Mapping[str, Any] | None) -> float:
    """The kiosk's heartbeat interval: its own ``interval_s`` (at most an hour), else 60 s."""
    value = _number(_mapping(status).get("interval_s"))
    if not value:
        return DEFAULT_INTERVAL_S
    return min(value, MAX_INTERVAL_S)


def paper_state(status: Mapping[str, Any] | None) -> str:
    value = _mapping(status).get("paper")
    return value if isinstance(value, str) and value in PAPER_VI else "unknown"


def mode(status: Mapping[str, Any] | None) -> str:
    value = _mapping(status).get("mode")
    return value if isinstance(value, str) and value in MODE_VI else "unknown"


def devices(status: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The devices the kiosk reported: name, Vietnamese label, up (True/False/None), detail."""
    found = _mapping(status).get("devices")
    result = []
    for item in found if isinstance(found, list) else []:
        if not isinstance(item, Mapping):
            continue
        name = _text(item.get("name"), 64) or "unknown"
        up = item.get("up")
        result.append(
            {
                "name": name,
                "label": DEVICE_VI.get(name, name),
                "up": up if isinstance(up, bool) else None,
                "simulated": item.get("mode") == "simulated",
                "detail": _text(item.get("detail")),
            }
        )
    return result


# ---------------------------------------------------------------------- texts
def duration_vi(seconds: float) -> str:
    """A duration the way an operator says it: "45 giây", "12 phút", "2 giờ 5 phút", "3 ngày"."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} giây"
    if s < 3600:
        return f"{s // 60} phút"
    if s < 86400:
        hours, minutes = divmod(s // 60, 60)
        return f"{hours} giờ {minutes} phút" if minutes else f"{hours} giờ"
    return f"{s // 86400} ngày"


def time_vi(moment: datetime) -> str:
    """HH:MM:SS dd/mm/yyyy in Vietnam time."""
    return moment.astimezone(VIETNAM_TZ).strftime("%H:%M:%S %d/%m/%Y")


# ---------------------------------------------------------------------- the rules
def kiosk_alerts(
    status: Mapping[str, Any] | None,
    last_heartbeat_at: datetime | None,
    now: datetime,
    *,
    disabled: bool = False,
    audit_problem: str | None = None,
) -> list[Alert]:
    """The alerts of one kiosk, the most urgent first (see the module's table)."""
    if disabled:
        return []
    alerts: list[Alert] = []
    if audit_problem:
        alerts.append(
            Alert(
                "audit_broken",
                "critical",
                f"Nhật ký thao tác của cán bộ bị sửa hoặc thiếu dòng: {_text(audit_problem)}",
            )
        )
    if last_heartbeat_at is None:
        return [*alerts, Alert("never_seen", "warning", "Chưa từng nhận được nhịp trạng thái")]
    silent_s = (now - last_heartbeat_at).total_seconds()
    interval = interval_s(status)
    if silent_s > MISSED_INTERVALS * interval:
        alerts.insert(
            0,
            Alert(
                "no_heartbeat",
                "critical",
                f"Mất liên lạc: không có nhịp trạng thái trong {duration_vi(silent_s)} "
                f"(quá {MISSED_INTERVALS} chu kỳ {duration_vi(interval)})",
            ),
        )
        return alerts
    status = _mapping(status)
    paper = paper_state(status)
    for device in devices(status):
        if device["up"] is not False:
            continue
        if device["name"] == "printer" and paper == "out":
            continue  # said by paper_out
        detail = f": {device['detail']}" if device["detail"] else ""
        alerts.append(Alert("device_down", "critical", f"{device['label']} hỏng{detail}"))
    if paper == "out":
        alerts.append(Alert("paper_out", "critical", "Máy in hết giấy: không in được biên nhận"))
    elif paper == "near_end":
        alerts.append(Alert("paper_near_end", "warning", "Máy in sắp hết giấy: cần thay cuộn"))
    outbox = _mapping(status.get("outbox"))
    oldest = _number(outbox.get("oldest_pending_age_s"))
    if oldest is not None and oldest > OUTBOX_STALE_S:
        pending = _count(outbox.get("pending"))
        waiting = f"{pending} hồ sơ chờ gửi, " if pending else ""
        alerts.append(
            Alert(
                "outbox_stale",
                "warning",
                f"Hồ sơ chưa gửi được về máy chủ: {waiting}hồ sơ cũ nhất đã chờ "
                f"{duration_vi(oldest)}",
            )
        )
    pins = _count(status.get("pin_failures_last_hour"))
    if pins is not None and pins >= PIN_FAILURES_ALERT:
        alerts.append(
            Alert(
                "pin_failures",
                "warning",
                f"Nhập sai mã PIN cán bộ {pins} lần trong một giờ qua",
            )
        )
    alerts.sort(key=lambda a: SEVERITY_ORDER[a.severity])
    return alerts


def level(alerts: list[Alert], *, disabled: bool = False) -> str:
    """The row's level: the most urgent alert's severity, "ok", or "disabled"."""
    if disabled:
        return "disabled"
    return alerts[0].severity if alerts else "ok"


# ---------------------------------------------------------------------- the page's row
def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM_TZ)


def kiosk_summary(kiosk: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """What the fleet page shows of one kiosk (a row of ``fleet.list_kiosks``), JSON-ready."""
    status = _mapping(kiosk.get("last_status"))
    disabled = bool(kiosk.get("disabled"))
    # the last heartbeat (an older fleet.py gave only the last request of any kind)
    seen = _parse_time(kiosk.get("last_heartbeat_at", kiosk.get("last_seen_at")))
    audit_problem = _text(kiosk.get("audit_problem"))
    alerts = kiosk_alerts(status, seen, now, disabled=disabled, audit_problem=audit_problem)
    row_level = level(alerts, disabled=disabled)
    interval = interval_s(status)
    age = None if seen is None else max(0.0, (now - seen).total_seconds())

    outbox = _mapping(status.get("outbox"))
    oldest = _number(outbox.get("oldest_pending_age_s"))
    today = _mapping(status.get("today"))
    ratings = _count(today.get("ratings"))
    satisfied = _count(today.get("satisfied"))
    message = status.get("out_of_service_message")
    if isinstance(message, Mapping):
        message = _text(message.get("vi")) or _text(message.get("en"))
    kiosk_mode = mode(status)
    paper = paper_state(status)
    shot = _parse_time(kiosk.get("screenshot_at"))
    return {
        "id": str(kiosk.get("id", "")),
        "disabled": disabled,
        "level": row_level,
        "level_text": LEVEL_TEXT[row_level],
        "level_icon": LEVEL_ICON[row_level],
        "alerts": [asdict(a) for a in alerts],
        "last_heartbeat_at": None if seen is None else seen.isoformat(timespec="seconds"),
        "last_heartbeat_text": "Chưa có" if seen is None else time_vi(seen),
        "age_s": age,
        "age_text": "" if age is None else f"{duration_vi(age)} trước",
        "interval_s": interval,
        "interval_text": duration_vi(interval),
        "version": _text(status.get("version"), 40),
        "mode": kiosk_mode,
        "mode_text": MODE_VI[kiosk_mode],
        "mode_message": _text(message),
        "devices": devices(status),
        "paper": paper,
        "paper_text": PAPER_VI[paper],
        "outbox": {
            "pending": _count(outbox.get("pending")),
            "parked": _count(outbox.get("parked")),
            "oldest_pending_age_s": oldest,
            "oldest_text": duration_vi(oldest) if oldest else "",
        },
        "today": {
            "sessions": _count(today.get("sessions")),
            "submitted": _count(today.get("submitted")),
            "ratings": ratings,
            "satisfied": satisfied,
            "satisfied_pct": (
                round(100 * satisfied / ratings) if ratings and satisfied is not None else None
            ),
        },
        "pin_failures_last_hour": _count(status.get("pin_failures_last_hour")),
        "pending_commands": _count(kiosk.get("pending_commands")) or 0,
        "screenshot_at": _text(kiosk.get("screenshot_at"), 40) or None,
        "screenshot_text": "" if shot is None else time_vi(shot),
    }


def fleet_counts(summaries: list[dict[str, Any]]) -> dict[str, int]:
    """How many kiosks are at each level (the page's headline)."""
    counts = dict.fromkeys(LEVEL_TEXT, 0)
    for row in summaries:
        counts[row["level"]] = counts.get(row["level"], 0) + 1
    return counts
