"""The receipt screen is the citizen's whole record when the printer fails; the review shows the
procedure's fee and processing time, and "Sửa" beside each section goes back to its step with
everything entered kept."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from support.ui_harness import running_kiosk, screen_text

from kiosk.demo.citizens import sample_answers, sample_identity, walk_to
from kiosk.flow.runner import InlineRunner
from kiosk.infra.clock import to_vietnam_time
from kiosk.printing.receipt import mask_id
from kiosk.session.state import Journey, Session, SessionError, Step

PROCEDURE = "LOCAL-BCH-02"  # a fee (1.000.000 đ), four documents to capture besides the form


def window_rect(widget: Any) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def in_scroll_view(widget: Any) -> bool:
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent
    while parent is not None and parent is not parent.parent:
        if isinstance(parent, ScrollView):
            return True
        parent = parent.parent
    return False


def assert_shown_whole(pilot: Any, widget: Any) -> None:
    """``widget`` has a real size, lies inside the screen and needs no scrolling to be seen."""
    left, bottom, right, top = window_rect(widget)
    s_left, s_bottom, s_right, s_top = window_rect(pilot.screen())
    assert widget.width > 0 and widget.height > 0, widget
    assert s_left <= left and right <= s_right and s_bottom <= bottom and top <= s_top, (
        widget,
        (left, bottom, right, top),
        (s_left, s_bottom, s_right, s_top),
    )
    assert not in_scroll_view(widget), widget


def overlap(a: Any, b: Any) -> bool:
    al, ab, ar, at = window_rect(a)
    bl, bb, br, bt = window_rect(b)
    return al < br and bl < ar and ab < bt and bb < at


def submitted_without_printer(flow: Any, procedure: str = PROCEDURE) -> None:
    flow.runner = InlineRunner()
    flow.services.virtual_printer.set_paper("out")
    walk_to(flow, Step.RECEIPT, procedure=procedure)


# --------------------------------------------------------------------------- receipt


def test_receipt_screen_is_the_whole_record_when_the_printer_fails(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        submitted_without_printer(flow)
        pilot.pump(3)
        data = flow.session.data
        assert data.receipt_printed is False
        assert "Vui lòng chụp lại mã QR" in pilot.widget("printed").text
        result = data.result
        proc = flow.services.catalog.get(PROCEDURE)
        text = screen_text(pilot)

        assert result.dossier_code in text
        assert result.appointment_date.strftime("%d/%m/%Y") in text
        assert proc.title("vi") in text
        assert "Nguyễn Văn An" in text
        id_number = data.identity.id_number
        assert mask_id(id_number) in text and id_number not in text  # masked as on paper
        received = to_vietnam_time(result.received_at).strftime("%H:%M %d/%m/%Y")
        assert re.fullmatch(r"\d\d:\d\d \d\d/\d\d/\d{4}", received)
        assert received in pilot.widget("received_at").value
        docs = pilot.widget("documents").value
        for req in proc.documents:
            if data.pages.get(req.id) or req.is_declaration:
                assert req.title("vi") in docs
            else:
                assert req.title("vi") not in docs  # not handed in: not on the record
        assert docs.startswith("1. ")
        assert "1.000.000 đ" in pilot.widget("fee").value
        assert kiosk_config.kiosk.agency_name in pilot.widget("collect_at").value
        for label in ("Thủ tục", "Người nộp hồ sơ", "Số định danh", "Giấy tờ đã nhận"):
            assert label in text
        assert "Thời gian tiếp nhận" in text and "Nơi trả kết quả" in text

        # the same facts the paper would have carried (one source: flow.receipt_data)
        paper = flow.dossier.receipt_data()
        assert paper.dossier_code == result.dossier_code
        assert paper.applicant_name in pilot.widget("applicant").value


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_receipt_fits_in_large_text_code_and_date_in_sight_qr_readable(
    kiosk_config: Any, lang: str, tmp_path: Path
) -> None:
    import cv2

    from kiosk.vision.qr_reader import read_qr
    from screens.theme import LARGE_SCALE

    with running_kiosk(kiosk_config) as (pilot, app, flow):
        submitted_without_printer(flow)
        app.set_lang(lang)
        app.font_scale = LARGE_SCALE
        pilot.pump(4)
        screen = pilot.screen()
        proc = flow.services.catalog.get(PROCEDURE)
        text = screen_text(pilot)
        assert proc.title(lang) in text
        if lang == "en":
            assert "Documents received" in text and "Collect the result at" in text
            first_doc = next(d for d in proc.documents if d.is_declaration)
            assert first_doc.title("en") in pilot.widget("documents").value

        code, date, qr, done = (pilot.widget(i) for i in ("code", "appointment", "qr", "next"))
        for widget in (code, date, qr, done, pilot.widget("printed")):
            assert_shown_whole(pilot, widget)
        assert code.text == flow.session.data.result.dossier_code
        assert code.texture_size[1] < 1.8 * code.font_size  # the code on one line
        assert min(qr.size) >= 400  # a phone reads it from arm's length
        assert not overlap(qr, done) and not overlap(code, qr) and not overlap(date, qr)
        scroll = screen.ids.details_scroll
        assert scroll.height >= 150  # the details have room, and scroll when they need more
        assert not overlap(scroll, qr) and not overlap(scroll, done)

        shot = pilot.screenshot(tmp_path / "receipt.png")
        assert screen.qr_payload in read_qr(cv2.imread(str(shot)))


def test_receipt_names_the_applicant_typed_in_the_form_when_no_chip_was_read(
    kiosk_config: Any,
) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        flow.runner = InlineRunner()
        walk_to(flow, Step.IDENTIFY)
        assert flow.identify.enter_id_number("001090012345")  # typed on the keypad: no name known
        assert not flow.session.data.identity.full_name
        flow.dossier.choose_procedure(PROCEDURE)
        assert not flow.dossier.submit_form(sample_answers(flow))
        for req in flow.documents.missing():
            flow.documents.capture_page(req.id)
        assert flow.documents.done()
        flow.dossier.confirm_review()
        pilot.pump(3)
        assert flow.session.step is Step.RECEIPT
        name = flow.dossier.build_submission().applicant.full_name
        assert name and pilot.widget("applicant").value == name


# --------------------------------------------------------------------------- review


def test_review_shows_fee_and_processing_time(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        flow.runner = InlineRunner()
        walk_to(flow, Step.REVIEW, procedure=PROCEDURE)
        pilot.pump(3)
        proc = flow.services.catalog.get(PROCEDURE)
        text = screen_text(pilot)
        assert "Lệ phí: 1.000.000 đ" in text
        assert f"Thời gian giải quyết: {proc.processing_days} ngày làm việc" in text
        assert pilot.widget("edit_form").text == "Sửa"
        assert pilot.widget("edit_documents").text == "Sửa"
        app.set_lang("en")
        pilot.pump(2)
        text = screen_text(pilot)
        assert "Fee: 1,000,000 VND" in text
        assert f"Processing time: {proc.processing_days} working days" in text
        assert pilot.widget("edit_form").text == "Edit"


def test_edit_goes_back_to_the_form_or_the_documents_keeping_everything(
    kiosk_config: Any,
) -> None:
    from test_ui_flow import fill_form, walk_to_form

    with running_kiosk(kiosk_config) as (pilot, app, flow):
        walk_to_form(pilot, flow)
        draft = fill_form(pilot, flow)
        pilot.tap("next")
        assert flow.session.step is Step.DOCUMENTS
        for req in flow.documents.missing():
            flow.documents.capture_page(req.id)
            pilot.wait_for(lambda r=req: bool(flow.session.data.pages.get(r.id)))
        pilot.tap("next")
        assert flow.session.step is Step.REVIEW
        data = flow.session.data
        answers = dict(data.answers)
        pages = {k: [p.path for p in v] for k, v in data.pages.items()}
        review_text = screen_text(pilot)

        # "Sửa" beside the declaration: the form, with what was typed
        pilot.tap("edit_form")
        assert flow.session.step is Step.FORM
        form = pilot.screen()
        shown = 0
        for row in form.page_rows():
            if row.kind in ("text", "multiline", "phone", "email"):
                assert row.ids.input.text == str(draft[row.field.name]), row.field.name
                shown += 1
        assert shown
        for _ in range(form.page_count + 1):  # forward again, page by page, to the documents
            if flow.session.step is not Step.FORM:
                break
            pilot.tap("next")
        assert flow.session.step is Step.DOCUMENTS
        assert data.answers == answers
        pilot.tap("next")
        assert flow.session.step is Step.REVIEW
        assert screen_text(pilot) == review_text

        # "Sửa" beside the documents: the documents, every page still there
        pilot.tap("edit_documents")
        assert flow.session.step is Step.DOCUMENTS
        assert {k: [p.path for p in v] for k, v in data.pages.items()} == pages
        pilot.tap("next")
        assert flow.session.step is Step.REVIEW
        assert data.answers == answers
        assert screen_text(pilot) == review_text


# --------------------------------------------------------------------------- session and flow


def at_review() -> Session:
    session = Session()
    session.start(Journey.DOSSIER)
    session.accept_consent()
    session.identified(sample_identity())
    session.choose_procedure("2.001740")
    session.form_done({"name": "Công ty TNHH In Ánh Dương"})
    session.documents_done()
    assert session.step is Step.REVIEW
    return session


def test_back_to_an_earlier_step_keeps_everything() -> None:
    session = at_review()
    seen: list[tuple[Step, Step]] = []
    session.subscribe(lambda s, old, new: seen.append((old, new)))
    session.back_to(Step.FORM)
    assert session.step is Step.FORM and seen == [(Step.REVIEW, Step.FORM)]  # one move
    assert session.data.answers == {"name": "Công ty TNHH In Ánh Dương"}
    assert session.data.procedure_code == "2.001740" and session.data.identity is not None
    session.form_done(session.data.answers)
    session.documents_done()
    session.back_to(Step.DOCUMENTS)
    assert session.step is Step.DOCUMENTS


@pytest.mark.parametrize("step", [Step.REVIEW, Step.SUBMIT, Step.RATING, Step.QUEUE])
def test_back_to_refuses_the_same_a_later_or_a_foreign_step(step: Step) -> None:
    session = at_review()
    with pytest.raises(SessionError):
        session.back_to(step)
    assert session.step is Step.REVIEW


def test_back_to_refused_once_submitted() -> None:
    session = at_review()
    session.confirm_review()
    with pytest.raises(SessionError):
        session.back_to(Step.FORM)
    session.submitted(object(), True)
    with pytest.raises(SessionError):
        session.back_to(Step.FORM)
    assert session.step is Step.RECEIPT


def test_flow_go_back_to(kiosk_config: Any) -> None:
    from kiosk.app.launch import make_session
    from kiosk.app.services import build_services
    from kiosk.flow.kiosk_flow import KioskFlow

    services = build_services(kiosk_config)
    try:
        flow = KioskFlow(make_session(kiosk_config), services, InlineRunner())
        walk_to(flow, Step.REVIEW)
        answers = dict(flow.session.data.answers)
        flow.go_back_to(Step.FORM)
        assert flow.session.step is Step.FORM
        assert not flow.dossier.submit_form(
            flow.dossier.form_values()
        )  # the form starts from the answers
        assert flow.documents.done()
        assert flow.session.step is Step.REVIEW and flow.session.data.answers == answers
        with pytest.raises(SessionError):
            flow.go_back_to(Step.SUBMIT)
    finally:
        flow.session.wipe()
        services.close()
