"""The fleet page's alert rules (backoffice/fleet_alerts.py), a pure function of a kiosk's last
heartbeat, the time it arrived and the time now; and the row summary over partial payloads."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest

from backoffice.fleet_alerts import (
    duration_vi,
    fleet_counts,
    kiosk_alerts,
    kiosk_summary,
    level,
)
from kiosk.infra.clock import VIETNAM_TZ

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=VIETNAM_TZ)

HEALTHY: dict[str, Any] = {
    "schema": 1,
    "sent_at": "2026-12-07T09:29:30+07:00",
    "interval_s": 60,
    "version": "0.1.0",
    "mode": "service",
    "out_of_service_message": None,
    "devices": [
        {"name": "card_reader", "up": True, "mode": "simulated", "detail": "a card is on it"},
        {"name": "camera", "up": True, "mode": "simulated", "detail": "plays 1 image"},
        {"name": "printer", "up": True, "mode": "simulated", "detail": "ready"},
        {"name": "backoffice", "up": True, "mode": "http", "detail": "reachable"},
    ],
    "paper": "ok",
    "outbox": {"pending": 0, "parked": 0, "oldest_pending_age_s": 0.0},
    "today": {"sessions": 14, "submitted": 9, "ratings": 8, "satisfied": 6},
    "pin_failures_last_hour": 0,
    "audit": [],
}


def status(**changes: Any) -> dict[str, Any]:
    value = copy.deepcopy(HEALTHY)
    value.update(changes)
    return value


def codes(value: Any, seen_s_ago: float | None = 30.0, **kw: Any) -> list[str]:
    seen = None if seen_s_ago is None else NOW - timedelta(seconds=seen_s_ago)
    return [a.code for a in kiosk_alerts(value, seen, NOW, **kw)]


def test_a_healthy_kiosk_raises_nothing() -> None:
    assert codes(HEALTHY) == []
    assert level(kiosk_alerts(HEALTHY, NOW, NOW)) == "ok"


def test_no_heartbeat_after_three_of_the_kiosks_own_intervals() -> None:
    assert codes(HEALTHY, seen_s_ago=180) == []  # exactly 3 intervals: not yet
    assert codes(HEALTHY, seen_s_ago=181) == ["no_heartbeat"]
    assert codes(status(interval_s=10), seen_s_ago=31) == ["no_heartbeat"]
    assert codes(status(interval_s=300), seen_s_ago=600) == []
    # no interval said (an older kiosk) or a wrong one: 60 s
    for interval in (None, "60", 0, -5, True, float("nan")):
        assert codes(status(interval_s=interval), seen_s_ago=181) == ["no_heartbeat"], interval
    # a kiosk cannot silence its own alert by claiming a day between beats
    assert codes(status(interval_s=86400), seen_s_ago=3 * 3600 + 1) == ["no_heartbeat"]
    (alert,) = kiosk_alerts(HEALTHY, NOW - timedelta(minutes=14), NOW)
    assert alert.severity == "critical"
    assert alert.text == (
        "Mất liên lạc: không có nhịp trạng thái trong 14 phút (quá 3 chu kỳ 1 phút)"
    )


def test_a_silent_kiosk_says_only_that_it_is_silent() -> None:
    # its last status is stale: paper and devices wait (as Alertmanager inhibits them)
    broken = status(paper="out", pin_failures_last_hour=9)
    assert codes(broken, seen_s_ago=3600) == ["no_heartbeat"]


def test_never_seen_and_disabled() -> None:
    assert codes(None, seen_s_ago=None) == ["never_seen"]
    assert kiosk_alerts(None, None, NOW)[0].severity == "warning"
    assert codes(status(paper="out"), seen_s_ago=9999, disabled=True) == []
    assert level([], disabled=True) == "disabled"


def test_a_device_down_names_the_device_and_its_words() -> None:
    value = status()
    value["devices"][1].update(up=False, detail="no frames from /dev/video0")
    (alert,) = kiosk_alerts(value, NOW, NOW)
    assert alert.code == "device_down" and alert.severity == "critical"
    assert alert.text == "Camera hỏng: no frames from /dev/video0"
    value["devices"][0]["up"] = False
    assert codes(value) == ["device_down", "device_down"]


def test_paper_out_and_near_end() -> None:
    out = status(paper="out")
    out["devices"][2].update(up=False, detail="offline: paper out")
    # the printer is down because its paper is out: said once, as paper out
    assert codes(out) == ["paper_out"]
    assert kiosk_alerts(out, NOW, NOW)[0].severity == "critical"
    assert codes(status(paper="near_end")) == ["paper_near_end"]
    assert kiosk_alerts(status(paper="near_end"), NOW, NOW)[0].severity == "warning"
    # a printer down for another reason while its paper is fine is a device alert
    jammed = status()
    jammed["devices"][2].update(up=False, detail="cover open")
    assert codes(jammed) == ["device_down"]
    assert codes(status(paper="unknown")) == [] and codes(status(paper=7)) == []


def test_outbox_older_than_15_minutes() -> None:
    def outbox(age: Any, pending: Any = 2) -> dict[str, Any]:
        return status(outbox={"pending": pending, "parked": 0, "oldest_pending_age_s": age})

    assert codes(outbox(900.0)) == []
    assert codes(outbox(901.0)) == ["outbox_stale"]
    (alert,) = kiosk_alerts(outbox(1560.0, 3), NOW, NOW)
    assert alert.severity == "warning"
    assert alert.text == (
        "Hồ sơ chưa gửi được về máy chủ: 3 hồ sơ chờ gửi, hồ sơ cũ nhất đã chờ 26 phút"
    )
    assert codes(outbox("1200")) == [] and codes(status(outbox=None)) == []


def test_repeated_pin_failures() -> None:
    assert codes(status(pin_failures_last_hour=4)) == []
    assert codes(status(pin_failures_last_hour=5)) == ["pin_failures"]
    (alert,) = kiosk_alerts(status(pin_failures_last_hour=6), NOW, NOW)
    assert alert.text == "Nhập sai mã PIN cán bộ 6 lần trong một giờ qua"
    assert codes(status(pin_failures_last_hour=None)) == []


def test_most_urgent_first() -> None:
    value = status(paper="near_end", pin_failures_last_hour=5)
    value["devices"][0]["up"] = False
    assert codes(value) == ["device_down", "paper_near_end", "pin_failures"]
    assert level(kiosk_alerts(value, NOW, NOW)) == "critical"
    assert level(kiosk_alerts(status(paper="near_end"), NOW, NOW)) == "warning"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"schema": 1},
        {"devices": "printer"},
        {"devices": [None, 3, {"up": "no"}, {"name": "printer"}]},
        {"outbox": [], "today": "many", "mode": 3, "paper": None, "interval_s": "x"},
        {"out_of_service_message": "Tạm ngừng", "mode": "out_of_service"},
        {"today": {"sessions": -1, "ratings": 0, "satisfied": 0}},
    ],
)
def test_older_and_partial_payloads_never_break_the_row(payload: dict[str, Any]) -> None:
    row = {
        "id": "KIOSK-09",
        "last_heartbeat_at": "2026-12-07T09:29:00+07:00",
        "last_status": payload,
    }
    summary = kiosk_summary(row, NOW)
    assert summary["id"] == "KIOSK-09"
    assert summary["level"] in ("ok", "warning", "critical")
    assert summary["paper"] in ("ok", "near_end", "out", "unknown")
    assert summary["mode"] in ("service", "maintenance", "out_of_service", "unknown")
    for device in summary["devices"]:
        assert device["up"] in (True, False, None)


def test_the_row_summary() -> None:
    value = status(
        mode="out_of_service",
        out_of_service_message={"vi": "Mời đến quầy số 3.", "en": "Please go to counter 3."},
        paper="near_end",
    )
    row = {
        "id": "KIOSK-01",
        "disabled": False,
        "last_seen_at": "2026-12-07T09:29:58+07:00",
        "last_heartbeat_at": "2026-12-07T09:29:48+07:00",
        "last_status": value,
        "pending_commands": 2,
        "screenshot_at": "2026-12-07T09:20:00+07:00",
    }
    s = kiosk_summary(row, NOW)
    assert s["level"] == "warning" and s["level_text"] == "Cần chú ý" and s["level_icon"] == "⚠"
    assert [a["code"] for a in s["alerts"]] == ["paper_near_end"]
    assert s["last_heartbeat_text"] == "09:29:48 07/12/2026" and s["age_text"] == "12 giây trước"
    assert s["interval_text"] == "1 phút"
    assert s["mode_text"] == "Tạm ngừng phục vụ" and s["mode_message"] == "Mời đến quầy số 3."
    assert s["paper_text"] == "Sắp hết giấy"
    assert [d["label"] for d in s["devices"]] == [
        "Đầu đọc thẻ",
        "Camera",
        "Máy in",
        "Kết nối máy chủ",
    ]
    assert s["today"] == {
        "sessions": 14,
        "submitted": 9,
        "ratings": 8,
        "satisfied": 6,
        "satisfied_pct": 75,
    }
    assert s["pending_commands"] == 2
    assert s["screenshot_text"] == "09:20:00 07/12/2026"
    never = kiosk_summary(
        {"id": "KIOSK-02", "last_seen_at": None, "last_heartbeat_at": None, "last_status": None},
        NOW,
    )
    assert never["level"] == "warning" and never["last_heartbeat_text"] == "Chưa có"
    assert never["screenshot_at"] is None
    assert fleet_counts([s, never]) == {"critical": 0, "warning": 2, "ok": 0, "disabled": 0}


def test_durations_in_vietnamese() -> None:
    assert [duration_vi(s) for s in (0, 59, 60, 3599, 3600, 3660, 86400 * 3)] == [
        "0 giây",
        "59 giây",
        "1 phút",
        "59 phút",
        "1 giờ",
        "1 giờ 1 phút",
        "3 ngày",
    ]


def test_no_heartbeat_counts_from_the_last_heartbeat_not_the_last_request() -> None:
    row = {
        "id": "KIOSK-03",
        "last_seen_at": "2026-12-07T09:29:55+07:00",  # it fetched its commands just now
        "last_heartbeat_at": "2026-12-07T09:20:00+07:00",  # but sent no status for 10 minutes
        "last_status": HEALTHY,
    }
    assert [a["code"] for a in kiosk_summary(row, NOW)["alerts"]] == ["no_heartbeat"]
    # an older back office gave only last_seen_at: it stands for the last heartbeat then
    older = {"id": "KIOSK-03", "last_seen_at": "2026-12-07T09:29:55+07:00", "last_status": HEALTHY}
    assert kiosk_summary(older, NOW)["alerts"] == []


def test_a_broken_audit_chain_is_critical_even_from_a_silent_kiosk() -> None:
    problem = "entry seq 7 does not continue the chain held (expected seq 7 after hash 3f…)"
    (alert,) = kiosk_alerts(HEALTHY, NOW, NOW, audit_problem=problem)
    assert alert.code == "audit_broken" and alert.severity == "critical"
    assert alert.text.startswith("Nhật ký thao tác của cán bộ bị sửa hoặc thiếu dòng: entry seq 7")
    silent = kiosk_alerts(HEALTHY, NOW - timedelta(hours=1), NOW, audit_problem=problem)
    assert [a.code for a in silent] == ["no_heartbeat", "audit_broken"]
    never = kiosk_alerts(None, None, NOW, audit_problem=problem)
    assert [a.code for a in never] == ["audit_broken", "never_seen"]
