"""Offscreen UI tests: a citizen walks the whole path by taps; each screen shows what it should."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.ui_harness import running_kiosk, screen_text

from kiosk.session.state import Step  # noqa: E402  (after the harness prepared Kivy)

ID_NUMBER = "001090012345"  # the demo card on the simulated reader
PROCEDURE = "1.003725"  # a short form: nhập khẩu xuất bản phẩm không kinh doanh


def type_digits(pilot: Any, digits: str) -> None:
    keypad = pilot.widget("keypad")
    for digit in digits:
        key = next(b for b in keypad.children if getattr(b, "text", "") == digit)
        pilot.tap(key)


def walk_to_form(pilot: Any, flow: Any) -> None:
    pilot.tap("start_dossier")
    assert flow.session.step is Step.CONSENT
    pilot.tap("accept")
    assert flow.session.step is Step.IDENTIFY
    type_digits(pilot, ID_NUMBER)
    pilot.tap("next")  # read my card
    screen = pilot.screen()
    pilot.wait_for(lambda: screen.phase == "confirm")
    assert screen.holder_name == "Nguyễn Văn An" and screen.photo is not None
    pilot.tap("confirm")
    assert flow.session.step is Step.PROCEDURE
    assert flow.session.data.identity.authenticity.value == "authentic"
    chosen = flow.services.catalog.get(PROCEDURE)
    pilot.tap(pilot.find_text(chosen.title(pilot.app.lang), startswith=True))
    assert flow.session.step is Step.FORM


def capture_with_camera(pilot: Any, row: Any) -> None:
    """Open the live camera for a document, capture, and keep the page."""
    screen = pilot.screen()
    before = row.pages
    pilot.tap(row.ids.capture)
    assert screen.phase == "live"
    pilot.wait_for(lambda: screen.live_texture is not None)
    pilot.tap("capture_now")
    pilot.wait_for(lambda: screen.phase == "review", timeout=60)
    assert screen.page_texture is not None
    pilot.tap("accept")
    assert screen.phase == "list"
    pilot.wait_for(lambda: row.pages == before + 1)


def capture_required(pilot: Any, flow: Any) -> None:
    """The first required document through the live camera; the rest captured by hand (the
    same flow call the live capture ends in), to keep the test fast."""
    screen = pilot.screen()
    rows = [
        r
        for r in screen._rows
        if r.requirement is not None
        and r.requirement.required
        and not r.requirement.is_declaration  # the kiosk fills that one in
    ]
    capture_with_camera(pilot, rows[0])
    for row in rows[1:]:
        flow.documents.capture_page(row.requirement.id)
        pilot.wait_for(lambda r=row: bool(flow.session.data.pages.get(r.requirement.id)))


def fill_form(pilot: Any, flow: Any) -> dict[str, Any]:
    """Every page filled (choices tapped, text put in as the keyboard would type it), then
    "Next page" up to the last page; the draft the screen holds."""
    from support.form_filler import FormFiller

    filler = FormFiller(pilot, keys=False)
    screen = pilot.screen()
    while True:
        filler.fill_page({})
        if screen.last_page:
            break
        filler.next_page()
    pilot.pump(2)
    screen._save_page()
    return dict(screen._draft)


def test_whole_dossier_path_by_taps(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        assert "Nộp hồ sơ thủ tục hành chính" in screen_text(pilot)
        walk_to_form(pilot, flow)
        assert app.step_label.startswith("Bước 4/9")
        fill_form(pilot, flow)
        pilot.tap("next")
        assert flow.session.step is Step.DOCUMENTS, screen_text(pilot)

        pilot.tap("next")  # nothing captured yet: refused with a message
        assert flow.session.step is Step.DOCUMENTS
        assert "Vui lòng chụp đủ các giấy tờ bắt buộc" in app.notice

        screen = pilot.screen()
        capture_required(pilot, flow)
        assert screen.preview and Path(screen.preview).exists()
        pilot.tap("next")
        assert flow.session.step is Step.REVIEW

        text = screen_text(pilot)
        assert flow.services.catalog.get(PROCEDURE).title("vi") in text
        assert f"Số định danh: {ID_NUMBER}" in text
        pilot.tap("submit")
        pilot.wait_for(lambda: flow.session.step is Step.RECEIPT, timeout=120)  # OCR of pages

        result = flow.session.data.result
        text = screen_text(pilot)
        assert result.dossier_code in text
        assert result.dossier_code.startswith(kiosk_config.kiosk.agency_code + "-")
        assert result.appointment_date.strftime("%d/%m/%Y") in text
        assert "Vui lòng nhận giấy biên nhận" in text
        assert pilot.widget("qr").texture is not None
        printed = flow.services.virtual_printer.wait_for_receipts(1)[0]
        assert Path(printed.png_path).exists()
        qr_text = app.screens[Step.RECEIPT].qr_payload
        assert json.loads(qr_text)["dossier_code"] == result.dossier_code

        scratch = flow.session.scratch_dir()
        pilot.tap("next")
        assert flow.session.step is Step.RATING
        pilot.tap("level5")
        assert flow.session.step is Step.WELCOME
        assert flow.session.data.is_empty()
        assert not scratch.exists()
        assert flow.services.ratings.summary()[5] == 1
        # every screen forgot the citizen
        assert pilot.app.screens[Step.IDENTIFY].digits == ""
        assert pilot.app.screens[Step.RECEIPT].code == ""


def test_wrong_number_is_refused_by_the_chip(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        pilot.tap("start_dossier")
        pilot.tap("accept")
        type_digits(pilot, "001090099999")  # a valid number, but not this card's CAN
        pilot.tap("next")
        screen = pilot.screen()
        pilot.wait_for(lambda: screen.phase == "number")
        assert "Thẻ không chấp nhận số này" in pilot.widget("error").text
        assert flow.session.step is Step.IDENTIFY and flow.session.data.identity is None


def test_not_me_then_without_card(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        pilot.tap("start_dossier")
        pilot.tap("accept")
        type_digits(pilot, ID_NUMBER)
        pilot.tap("next")
        screen = pilot.screen()
        pilot.wait_for(lambda: screen.phase == "confirm")
        pilot.tap("not_me")
        assert screen.phase == "number" and flow.session.data.chip_candidate is None
        pilot.tap("without_card")
        assert flow.session.step is Step.PROCEDURE
        assert flow.session.data.identity.authenticity.value == "not_checked"


def test_bad_id_number_shows_vietnamese_message(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        pilot.tap("start_dossier")
        pilot.tap("accept")
        type_digits(pilot, "999999999999")
        pilot.tap("next")
        assert flow.session.step is Step.IDENTIFY
        assert "Số định danh 12 số không hợp lệ" in pilot.widget("error").text
        pilot.tap(pilot.find_text("Xóa hết"))
        assert pilot.screen().digits == ""


def test_required_field_error_points_at_the_field(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        walk_to_form(pilot, flow)
        rows = pilot.screen().page_rows()
        required_text = next(
            r for r in rows if r.field.required and r.kind == "text" and not r.locked
        )
        required_text.ids.input.text = ""
        pilot.tap("next")
        assert flow.session.step is Step.FORM and pilot.screen().page == 0
        assert required_text.error == "Vui lòng điền thông tin này."


def test_language_switch_large_text_and_contrast(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        pilot.tap("lang")
        assert app.lang == "en"
        assert "Submit a dossier" in screen_text(pilot)
        walk_to_form(pilot, flow)
        assert flow.services.catalog.get(PROCEDURE).title("en") in screen_text(pilot)
        assert "Step 4 of 9" in app.step_label
        pilot.tap("lang")
        assert "Tờ khai" in screen_text(pilot)
        size_before = pilot.widget("next").font_size
        pilot.tap("large")
        assert pilot.widget("next").font_size > size_before
        pilot.tap("contrast")
        assert app.colors["bg"] == (0, 0, 0, 1)
        pilot.tap("cancel")
        assert flow.session.step is Step.WELCOME
        # the next citizen starts with the kiosk's defaults
        assert app.lang == "vi" and app.font_scale == 1.0 and not app.contrast


def test_back_returns_and_keeps_what_was_typed(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        walk_to_form(pilot, flow)
        answers = fill_form(pilot, flow)
        pilot.tap("next")
        assert flow.session.step is Step.DOCUMENTS
        pilot.tap("back")
        assert flow.session.step is Step.FORM
        screen = pilot.screen()
        assert screen.page == screen.page_count - 1  # back where the citizen left the form
        for row in screen.page_rows():
            if row.kind in ("text", "multiline", "number", "money", "date", "phone", "email"):
                assert row.ids.input.text == str(answers[row.field.name]), row.field.name


def test_idle_warning_continue_then_timeout_wipes(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        clock = {"now": 0.0}
        flow.session._clock = lambda: clock["now"]
        flow.session.touch()
        walk_to_form(pilot, flow)
        flow.session.touch()
        clock["now"] += 75
        app.check_idle()
        pilot.pump(2)
        assert app.idle_warning
        assert "15" in pilot.widget("idle_text").text
        pilot.tap("idle_continue")
        assert not app.idle_warning and flow.session.step is Step.FORM
        clock["now"] += 91
        app.check_idle()
        pilot.pump(2)
        assert flow.session.step is Step.WELCOME
        assert flow.session.data.is_empty()
        assert pilot.app.screens[Step.IDENTIFY].digits == ""


def test_kiosk_cannot_be_closed_by_a_citizen(kiosk_config: Any) -> None:
    from kivy.core.window import Window

    with running_kiosk(kiosk_config) as (pilot, app, flow):
        assert Window.dispatch("on_request_close") is True
        assert Window.dispatch("on_keyboard", 27, 0, None, []) is True
        assert Window.show_cursor is False


def test_printer_out_of_paper_receipt_on_screen_and_staff_alerted(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        flow.services.virtual_printer.set_paper("out")
        walk_to_form(pilot, flow)
        fill_form(pilot, flow)
        pilot.tap("next")
        capture_required(pilot, flow)
        pilot.tap("next")
        pilot.tap("submit")
        pilot.wait_for(lambda: flow.session.step is Step.RECEIPT, timeout=120)  # OCR of pages
        assert flow.session.data.result.dossier_code in screen_text(pilot)
        assert "Vui lòng chụp lại mã QR" in pilot.widget("printed").text
        assert flow.services.virtual_printer.receipts == []
        alerts = flow.services.alerts.recent()
        assert alerts and "not printed" in alerts[-1]["message"]


def test_queue_ticket_path(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        pilot.tap("start_queue")
        assert flow.session.step is Step.QUEUE
        assert pilot.widget("issue").disabled
        service = flow.queue.services_for_queue()[0]
        pilot.tap(pilot.find_text(service.name_vi))
        pilot.tap(pilot.find_text("Người cao tuổi", startswith=True))
        pilot.tap("issue")
        pilot.wait_for(lambda: flow.session.step is Step.TICKET)
        ticket = flow.session.data.ticket
        assert ticket.number in screen_text(pilot)
        assert "Ưu tiên" in screen_text(pilot)
        assert len(flow.services.virtual_printer.wait_for_receipts(1)) == 1
        pilot.tap("done")
        assert flow.session.step is Step.WELCOME


def test_lookup_path_and_bad_code(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        from kiosk.demo.citizens import walk_to
        from kiosk.flow.runner import InlineRunner

        runner = flow.runner
        flow.runner = InlineRunner()
        walk_to(flow, Step.RECEIPT)
        code = flow.session.data.result.dossier_code
        flow.finish()
        flow.runner = runner  # the look-up answers from the worker thread, as at a real kiosk
        pilot.pump(2)
        pilot.tap("start_lookup")
        pilot.widget("code").text = "not-a-code"
        pilot.tap("search")
        pilot.wait_for(lambda: "Mã hồ sơ không hợp lệ" in pilot.widget("error").text)
        assert app.notice == "", "the answer is beside the code, not in the notice bar"
        pilot.widget("code").text = "000.00.08.H21-261124-9999"
        pilot.tap("search")
        pilot.wait_for(lambda: "Không có hồ sơ" in pilot.widget("error").text)
        assert app.notice == ""
        pilot.widget("code").text = code.lower()
        pilot.tap("search")
        pilot.wait_for(lambda: flow.session.step is Step.LOOKUP_RESULT)
        text = screen_text(pilot)
        assert code in text and "Đã tiếp nhận" in text


def test_lookup_by_scanning_the_receipt_qr(kiosk_config: Any, tmp_path: Path) -> None:
    from support.vision_helpers import photo_of_qr

    from devices.simulated.camera import SimulatedCamera
    from kiosk.demo.citizens import walk_to
    from kiosk.flow.runner import InlineRunner

    with running_kiosk(kiosk_config) as (pilot, app, flow):
        runner = flow.runner
        flow.runner = InlineRunner()
        walk_to(flow, Step.RECEIPT)
        result = flow.session.data.result
        qr_text = flow.dossier.receipt_data().qr_payload()
        flow.finish()
        flow.runner = runner
        flow.services.camera = SimulatedCamera(photo_of_qr(qr_text, tmp_path / "r.jpg"), 1280, 720)
        pilot.pump(2)
        pilot.tap("start_lookup")
        pilot.tap("scan")
        pilot.wait_for(lambda: flow.session.step is Step.LOOKUP_RESULT, timeout=30)
        assert result.dossier_code in screen_text(pilot)


@pytest.mark.parametrize("orientation", ["portrait"])
def test_every_touch_target_is_big_enough(kiosk_config: Any, orientation: str) -> None:
    from screens.widgets import KButton

    with running_kiosk(kiosk_config) as (pilot, app, flow):
        from kiosk.demo.citizens import walk_to
        from kiosk.flow.runner import InlineRunner

        flow.runner = InlineRunner()
        for step in Step:
            walk_to(flow, step)
            pilot.pump(3)
            stack = [pilot.root]
            while stack:
                w = stack.pop()
                if isinstance(w, KButton) and w.opacity > 0 and w.get_root_window():
                    assert w.height >= 64 and w.width >= 64, (step, w.text, w.size)
                stack.extend(w.children)
