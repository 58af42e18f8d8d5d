"""Offscreen UI: the demo citizen's papers on file on the documents step.

The kiosk runs as in demo mode: the reference back office on loopback with the demo citizen's
papers, the simulated card on the reader. The card read signs the back office's challenge; after
"this is me" the papers arrive; the documents step offers "Use the copy on file" with the
paper's title and date, then "Capture instead"; the dossier reaches the back office with the
paper on file as its document.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from support.ui_harness import label_texts, running_kiosk

from kiosk.demo.citizens import sample_answers
from kiosk.session.state import Step  # noqa: E402  (after the harness prepared Kivy)

ID_NUMBER = "001090012345"  # the demo card on the simulated reader, with papers on file
PROCEDURE = "2.001740"  # registering a print shop: the ID card and the business registration
REQUIREMENT = "can_cuoc"


def documents_rows(pilot: Any) -> dict[str, Any]:
    return {r.requirement.id: r for r in pilot.screen()._rows if r.requirement is not None}


def offer_buttons(row: Any) -> list[Any]:
    return list(reversed(row.ids.offers.children))


def to_documents(pilot: Any, flow: Any, procedure: str) -> None:
    """From "this is me" to the documents step (the procedure and form have their own tests)."""
    assert flow.session.step is Step.PROCEDURE
    flow.dossier.choose_procedure(procedure)
    assert flow.dossier.submit_form(sample_answers(flow)) == {}
    pilot.pump(2)
    assert flow.session.step is Step.DOCUMENTS


def test_the_copy_on_file_is_offered_used_and_sent(kiosk_config: Any, tmp_path: Path) -> None:
    shots = Path(os.environ.get("PAPERS_SHOT_DIR", tmp_path))
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        pilot.tap("start_dossier")
        pilot.tap("accept")
        pilot.screen().digits = ID_NUMBER  # typed on the keypad (see test_ui_flow)
        pilot.tap("next")  # read my card
        screen = pilot.screen()
        pilot.wait_for(lambda: screen.phase == "confirm")
        pilot.tap("confirm")
        pilot.wait_for(lambda: flow.session.data.papers is not None)  # in the background
        found = flow.session.data.papers
        assert found.available and found.assurance == "active"  # the chip signed the challenge
        assert {p.kind for p in found.papers} >= {"can_cuoc", "dang_ky_doanh_nghiep"}
        to_documents(pilot, flow, PROCEDURE)

        rows = documents_rows(pilot)
        row = rows[REQUIREMENT]
        (paper,) = flow.documents.papers_for(row.requirement)
        (button,) = offer_buttons(row)
        assert button.text == "Dùng bản đã số hóa\nBản sao Căn cước công dân (02/01/2025)"
        assert "Đã có bản số hóa: bạn không cần chụp lại." in label_texts(row)
        (other,) = offer_buttons(rows["dang_ky_kinh_doanh"])
        assert other.text.endswith("Giấy chứng nhận đăng ký hộ kinh doanh (02/01/2025)")
        assert offer_buttons(rows["to_khai"]) == []  # the declaration is filled here
        pilot.screenshot(shots / "documents-on-file-offer-vi.png")

        flow.documents.capture_page(REQUIREMENT)  # a page captured first
        pilot.wait_for(lambda: row.pages == 1)
        page = flow.session.data.pages[REQUIREMENT][0].path
        pilot.tap(offer_buttons(row)[0])
        assert flow.session.data.on_file == {REQUIREMENT: paper.id}
        assert row.pages == 0 and not page.exists()  # the copy on file replaces it
        assert row.status == "Đang dùng bản đã số hóa: Bản sao Căn cước công dân (02/01/2025)"
        assert offer_buttons(row) == [] and row.ids.camera_actions.parent is None
        assert row.ids.capture_instead.parent is not None
        pilot.screenshot(shots / "documents-on-file-used-vi.png")

        pilot.tap(row.ids.capture_instead)  # changes their mind: back to the camera
        assert flow.session.data.on_file == {}
        assert row.ids.camera_actions.parent is not None and len(offer_buttons(row)) == 1
        pilot.tap(offer_buttons(row)[0])
        assert flow.session.data.on_file == {REQUIREMENT: paper.id}

        pilot.tap("next")
        assert flow.session.step is Step.REVIEW, app.notice
        pilot.tap("submit")
        pilot.wait_for(lambda: flow.session.step is Step.RECEIPT, timeout=60)
        code = flow.session.data.result.dossier_code
        stored, declaration = stored_dossier(kiosk_config, code, "to_khai")
        assert [a for a in stored if a["requirement_id"] == REQUIREMENT] == [
            {
                "requirement_id": REQUIREMENT,
                "title": row.requirement.title("vi"),
                "page": 0,
                "sha256": "",
                "size": 0,
                "on_file_ref": paper.id,
            }
        ]
        # the declaration names the paper on file the officer will open
        assert "bản điện tử đã có trong hệ thống" in declaration and paper.id in declaration
        pilot.tap("next")  # to the rating
        pilot.tap("level5")
        assert flow.session.data.papers is None and flow.session.data.on_file == {}


def stored_dossier(cfg: Any, code: str, form_id: str) -> tuple[list[dict[str, Any]], str]:
    """What the demo-mode back office stored for the dossier (its database, opened here): the
    attachments, and the text of the declaration PDF (document ``form_id``)."""
    from backoffice.context import Context
    from backoffice.dossiers import dossier_detail
    from backoffice.settings import Settings
    from kiosk.vision.pdf import pdf_text

    ctx = Context.open(Settings.for_folder(Path(cfg.kiosk.data_dir) / "backoffice"))
    try:
        attachments = dossier_detail(ctx, code)["attachments"]
        form = next(a for a in attachments if a["requirement_id"] == form_id)
        text = "".join(pdf_text(ctx.blobs.verify(form["sha256"]).read_bytes()))
    finally:
        ctx.close()
    return attachments, " ".join(text.split())


def test_without_the_card_nothing_is_offered(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        pilot.tap("start_dossier")
        pilot.tap("accept")
        pilot.screen().digits = ID_NUMBER  # typed on the keypad (see test_ui_flow)
        pilot.tap("without_card")  # the typed number proves nothing: no papers on file
        to_documents(pilot, flow, "LOCAL-BCH-01")
        assert flow.session.data.papers is None
        row = documents_rows(pilot)["dang_ky_doanh_nghiep"]
        assert offer_buttons(row) == [] and row.ids.camera_actions.parent is not None
        assert row.status == "Chưa chụp"
