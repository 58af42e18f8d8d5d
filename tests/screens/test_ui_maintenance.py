"""Maintenance mode at the kiosk, by real touches: the hidden corner, the staff chooser and PIN
pad, the device tests, closing the kiosk to citizens with a message, and the staff session that
ends by itself. The citizen's data is gone before any staff screen shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.ui_harness import running_kiosk, screen_text

import screens.shell as shell  # noqa: E402  (after the harness prepared Kivy)
from kiosk.app.screenshots import read_rgb
from kiosk.config.settings import load_config
from kiosk.demo.staff import DEMO_STAFF, seed_demo_staff
from kiosk.session.state import Step
from kiosk.staff.audit import AuditLog
from kiosk.staff.service_state import PRESET_MESSAGES, ServiceState
from screens.layout_check import check_layout
from screens.maintenance import CameraPreview

TECHNICIAN_PIN = DEMO_STAFF[0][2]


@pytest.fixture
def staff_config(kiosk_env: dict[str, str]) -> Any:
    cfg = load_config(None, env={**kiosk_env, "KIOSK_STAFF_SESSION_TIMEOUT_S": "30"})
    seed_demo_staff(Path(cfg.kiosk.data_dir))
    return cfg


@pytest.fixture(autouse=True)
def quick_gesture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shell, "STAFF_PRESS_S", 0.4)


def hold_corner(pilot: Any, seconds: float) -> None:
    root = pilot.root
    pilot.hold(root.x + 40, root.top - 40, seconds)


def type_pin(pilot: Any, pin: str) -> None:
    keypad = pilot.widget("keypad")
    for digit in pin:
        pilot.tap(next(b for b in keypad.children if getattr(b, "text", "") == digit))


def sign_in(pilot: Any, name: str, pin: str) -> None:
    pilot.tap(pilot.find_text(name, startswith=True))
    type_pin(pilot, pin)
    pilot.tap("sign_in")


def audit_actions(cfg: Any) -> list[str]:
    log = AuditLog.in_data_dir(Path(cfg.kiosk.data_dir), kiosk_id=cfg.kiosk.id)
    return [e.action for e in log.entries_since(0)]


def test_the_corner_wipes_the_citizen_then_a_staff_member_signs_in(
    staff_config: Any, tmp_path: Path
) -> None:
    with running_kiosk(staff_config) as (pilot, app, flow):
        pilot.tap("start_dossier")
        pilot.tap("accept")
        digits = "0010900"
        keypad = pilot.widget("keypad")
        for digit in digits:
            pilot.tap(next(b for b in keypad.children if getattr(b, "text", "") == digit))
        identify = app.screens[Step.IDENTIFY]
        assert identify.digits == digits
        hold_corner(pilot, 0.1)  # a short touch on the agency's name does nothing
        assert app.staff_view == "" and flow.session.step is Step.IDENTIFY
        hold_corner(pilot, 0.8)
        assert app.staff_view == "staff_sign_in"
        assert flow.session.step is Step.WELCOME and flow.session.data.identity is None
        assert identify.digits == ""
        assert pilot.screen().name == "staff_sign_in"
        assert digits not in screen_text(pilot)
        assert not app.can_back and not app.can_cancel
        sign_in(pilot, "Nguyễn Thị Lan", "111111")
        assert pilot.screen().name == "staff_sign_in"
        assert pilot.widget("message").text == "Mã PIN không đúng."
        assert "111111" not in screen_text(pilot)
        type_pin(pilot, TECHNICIAN_PIN)
        assert pilot.widget("pin_dots").text == "•" * len(TECHNICIAN_PIN)
        pilot.tap("sign_in")
        assert pilot.screen().name == "maintenance" and app.staff_view == "maintenance"
        assert "Nguyễn Thị Lan" in pilot.widget("staff_line").text
        assert flow.services.service_state.maintenance_by == "NV001"
        pilot.wait_for(lambda: "Đầu đọc thẻ: Hoạt động tốt" in screen_text(pilot))  # asked
        pilot.tap(pilot.find_text("In trang thử"))
        pilot.wait_for(lambda: not pilot.screen().busy)
        pilot.wait_for(lambda: "Đầu đọc thẻ: Hoạt động tốt" in screen_text(pilot))  # again
        assert "Thử thành công" in screen_text(pilot)
        shot = pilot.screenshot(tmp_path / "devices.png")  # the page as drawn, checked
        assert check_layout(app.root, read_rgb(shot), high_contrast=False) == []
        pilot.tap(pilot.find_text("Thử camera"))
        pilot.wait_for(lambda: not pilot.screen().busy)
        assert "Độ nét" in screen_text(pilot) and "đủ nét" in screen_text(pilot)
        preview = next(w for w in pilot.screen().walk() if isinstance(w, CameraPreview))
        pilot.pump(3)
        outline = preview._outline.points  # the page finder's four corners over the frame
        assert len(outline) == 8
        assert all(preview.x <= x <= preview.right for x in outline[0::2])
        pilot.tap("leave")
        assert pilot.screen().name == "welcome"
        assert flow.services.service_state.maintenance_by is None
    assert audit_actions(staff_config) == [
        "staff.pin_failed",
        "staff.sign_in",
        "maintenance.test_page",
        "maintenance.test_page_done",
        "maintenance.camera_test",
        "staff.sign_out",
    ]


def test_closing_the_kiosk_shows_the_message_until_staff_reopen_it(staff_config: Any) -> None:
    message = PRESET_MESSAGES["printer"]
    with running_kiosk(staff_config) as (pilot, app, flow):
        hold_corner(pilot, 0.8)
        sign_in(pilot, "Nguyễn Thị Lan", TECHNICIAN_PIN)
        pilot.tap("page_kiosk")
        pilot.tap(pilot.find_text(message.vi))
        assert flow.services.service_state.out_of_service
        pilot.tap("leave")
        assert pilot.screen().name == "out_of_service"
        text = screen_text(pilot)
        assert message.vi in text and message.en in text
        assert "start_dossier" not in {w for w in pilot.screen().ids}
        hold_corner(pilot, 0.8)  # the corner still opens maintenance on a closed kiosk
        sign_in(pilot, "Nguyễn Thị Lan", TECHNICIAN_PIN)
        pilot.tap("page_kiosk")
        pilot.tap(pilot.find_text("Phục vụ trở lại"))
        app.maintenance.session._last_activity -= 10_000  # left alone: the session ends itself
        pilot.wait_for(lambda: app.staff_view == "", timeout=5)
        assert pilot.screen().name == "welcome"
        assert flow.services.service_state.maintenance_by is None
    assert not ServiceState(Path(staff_config.kiosk.data_dir)).out_of_service
    assert audit_actions(staff_config)[-1] == "staff.session_expired"


def test_a_closed_kiosk_stays_closed_after_a_restart(staff_config: Any) -> None:
    ServiceState(Path(staff_config.kiosk.data_dir)).close(PRESET_MESSAGES["network"])
    with running_kiosk(staff_config) as (pilot, app, _flow):
        assert pilot.screen().name == "out_of_service"
        assert PRESET_MESSAGES["network"].vi in screen_text(pilot)
        assert not app.in_use()  # the back office may ask for a screenshot of it
        png = app.screenshot_png()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
        hold_corner(pilot, 0.8)
        assert app.in_use()  # staff at the sign-in: no screenshot, no remote restart


def test_a_staff_card_signs_in_and_a_stranger_card_does_not(staff_config: Any) -> None:
    """The simulated reader holds the demo card (001090012345): on no account first, then on
    a third staff member's account. Its chip is read and authenticated each time."""
    from kiosk.staff.accounts import AccountBook

    card = "001090012345"
    with running_kiosk(staff_config) as (pilot, app, flow):
        hold_corner(pilot, 0.8)
        pilot.tap("by_card")
        type_pin(pilot, card)
        assert pilot.widget("pin_dots").text == card  # an ID number, shown as typed
        pilot.tap("sign_in")
        pilot.wait_for(lambda: not pilot.screen().reading, timeout=20)
        assert pilot.widget("message").text == "Thẻ này không thuộc tài khoản nhân viên nào."
        assert app.staff_view == "staff_sign_in"
        book = AccountBook.in_data_dir(Path(staff_config.kiosk.data_dir))
        owner = book.add("Lê Thị Hoa", "technician", "562901", card_number=card)
        type_pin(pilot, card)
        pilot.tap("sign_in")
        pilot.wait_for(lambda: app.staff_view == "maintenance", timeout=20)
        assert flow.services.service_state.maintenance_by == owner.id
        assert "Lê Thị Hoa" in pilot.widget("staff_line").text
    log = AuditLog.in_data_dir(Path(staff_config.kiosk.data_dir), kiosk_id=staff_config.kiosk.id)
    entries = [(e.actor, e.action, e.detail) for e in log.entries_since(0)]
    assert ("system", "staff.card_refused", {}) in entries
    assert (owner.id, "staff.sign_in", {"method": "card"}) in entries
    assert card not in (Path(staff_config.kiosk.data_dir) / "audit.jsonl").read_text()


def test_pages_drawn_again_leave_no_dead_bindings(staff_config: Any) -> None:
    """Each refresh draws a page's widgets anew; the old ones' .kv handlers must go with them,
    or the next change of colours meets a dead widget (this crashed a render in CI)."""
    import gc

    with running_kiosk(staff_config) as (pilot, app, _flow):
        hold_corner(pilot, 0.8)
        sign_in(pilot, "Nguyễn Thị Lan", TECHNICIAN_PIN)
        screen = pilot.screen()
        for page in ("kiosk", "queue", "outbox", "kiosk") * 3:
            screen.show_page(page)
        gc.collect()
        app.set_contrast(True)  # every KButton's colour rule runs again
        app.set_contrast(False)
        pilot.pump(2)


def test_a_message_typed_on_the_kiosks_keyboard_closes_it(staff_config: Any) -> None:
    """Staff type their own closing message with the keys (a tone key after each word)."""
    with running_kiosk(staff_config) as (pilot, app, flow):
        hold_corner(pilot, 0.8)
        sign_in(pilot, "Nguyễn Thị Lan", TECHNICIAN_PIN)
        pilot.tap("page_kiosk")
        pilot.tap(pilot.find_text("Nhập thông báo khác"))
        screen = pilot.screen()
        keyboard = screen._keyboard
        for word, tone in (("Tam", "NANG"), ("nghi", "HOI"), ("trua", "")):
            if screen._message_input.text:
                keyboard.key_for("space").trigger_action(duration=0)
            for letter in word:
                keys = keyboard.keys_showing(letter) or keyboard.keys_showing(letter.lower())
                if letter.isupper():
                    keyboard.key_for("shift").trigger_action(duration=0)
                    keys = keyboard.keys_showing(letter)
                keys[0].trigger_action(duration=0)
            if tone:
                keyboard.key_for("tone", tone).trigger_action(duration=0)
        assert screen._message_input.text == "Tạm nghỉ trua"
        pilot.tap(pilot.find_text("Tạm ngừng phục vụ với thông báo này"))
        message = flow.services.service_state.message
        assert message is not None and message.vi == "Tạm nghỉ trua" and message.preset == ""
        pilot.tap("leave")
        assert pilot.screen().name == "out_of_service"
        assert "Tạm nghỉ trua" in screen_text(pilot)
