"""The screens that once failed their citizens, reached the way a citizen reaches them: real taps
through the kiosk with the production thread runner, then the layout check on what is drawn, in
vi and en × normal, large text and high contrast.

- identify, "Is this you?": the chip's photo must show (it was 0 px high once reached by taps);
- documents, the live camera: the preview and the title must show;
- documents, the page to accept: the captured page must show under the question.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from support.ui_harness import running_kiosk

from kiosk.app.screenshots import read_rgb
from kiosk.demo.citizens import sample_answers
from kiosk.session.state import Step
from screens.layout_check import check_layout
from screens.theme import LARGE_SCALE, NORMAL_SCALE

ID_NUMBER = "001090012345"  # the demo card on the simulated reader
LOOKS = [
    (lang, large, contrast)
    for lang in ("vi", "en")
    for large, contrast in ((False, False), (True, False), (False, True))
]


def problems_in_every_look(pilot: Any, app: Any, tmp_path: Path, label: str) -> list[str]:
    found = []
    for lang, large, contrast in LOOKS:
        app.font_scale = LARGE_SCALE if large else NORMAL_SCALE
        app.set_contrast(contrast)
        app.set_lang(lang)
        path = pilot.screenshot(tmp_path / f"{label}-{lang}-{large}-{contrast}.png")
        found += [
            f"{path.name}: {p}"
            for p in check_layout(app.root, read_rgb(path), high_contrast=contrast)
        ]
    app.font_scale = NORMAL_SCALE
    app.set_contrast(False)
    app.set_lang("vi")
    return found


def hold_a_live_frame(pilot: Any, documents: Any) -> None:
    """Stop the camera's preview on a frame while the live phase shows, to look at it in every
    look. A still page may be captured by itself first (on a busy machine it can be before the
    first look): then "Retake", as a citizen would, and try again."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pilot.pump(1)
        if documents.phase == "review":
            pilot.tap("retake_live")
            continue
        if documents.phase == "live" and documents.live_texture is not None:
            documents._stop_polling()
            pilot.pump(3)
            if documents.phase == "live":
                return
    raise AssertionError("the live camera never held a frame")


def drawn_height(image: Any) -> float:
    return float(image.norm_image_size[1]) if image.texture is not None else 0.0


def test_the_photo_the_preview_and_the_page_show_when_reached_by_taps(
    kiosk_config: Any, tmp_path: Path
) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        pilot.tap("start_dossier")
        pilot.tap("accept")
        keypad = pilot.widget("keypad")
        for digit in ID_NUMBER:
            pilot.tap(next(b for b in keypad.children if getattr(b, "text", "") == digit))
        pilot.tap("next")  # read my card
        identify = pilot.screen()
        pilot.wait_for(lambda: identify.phase == "confirm", timeout=30)
        photo = pilot.widget("photo")
        assert drawn_height(photo) >= 400, photo.norm_image_size
        assert problems_in_every_look(pilot, app, tmp_path, "identify_card") == []
        assert drawn_height(photo) >= 400

        pilot.tap("confirm")
        assert flow.session.step is Step.PROCEDURE
        flow.dossier.choose_procedure(flow.dossier.procedures()[0].code)
        assert flow.dossier.submit_form(sample_answers(flow)) == {}
        pilot.wait_for(lambda: flow.session.step is Step.DOCUMENTS)
        documents = pilot.screen()
        row = next(r for r in documents._rows if r.requirement and not r.requirement.is_declaration)
        pilot.tap(row.ids.capture)
        hold_a_live_frame(pilot, documents)
        live = pilot.widget("live")
        assert drawn_height(live) >= 400, live.norm_image_size
        assert problems_in_every_look(pilot, app, tmp_path, "documents_live") == []

        documents._start_polling()
        pilot.tap("capture_now")
        pilot.wait_for(lambda: documents.phase == "review", timeout=60)
        page = pilot.widget("page")
        assert drawn_height(page) >= 400, page.norm_image_size
        assert problems_in_every_look(pilot, app, tmp_path, "documents_review") == []
