"""Offscreen: every procedure's form renders and is completed by taps and keys alone; the
longest one, with a chip identity, is timed in taps and key presses."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from support.form_filler import FormFiller
from support.ui_harness import running_kiosk, screen_text

from kiosk.catalog.procedures import load_catalog
from kiosk.paths import CONFIG_DIR
from kiosk.session.state import Step

ID_NUMBER = "001090012345"  # the demo card on the simulated reader
PROCEDURES = sorted(p.code for p in load_catalog(CONFIG_DIR / "procedures").procedures())


def identified_at_form(pilot: Any, flow: Any, code: str) -> None:
    """The citizen has their card read (the real chip path) and taps the procedure."""
    pilot.tap("start_dossier")
    pilot.tap("accept")
    keypad = pilot.widget("keypad")
    for digit in ID_NUMBER:
        pilot.tap(next(b for b in keypad.children if getattr(b, "text", "") == digit))
    pilot.tap("next")
    screen = pilot.screen()
    pilot.wait_for(lambda: screen.phase == "confirm")
    pilot.tap("confirm")
    assert flow.session.step is Step.PROCEDURE
    title = flow.services.catalog.get(code).title(pilot.app.lang)
    pilot.tap(pilot.find_text(title, startswith=True))
    assert flow.session.step is Step.FORM


def fill_whole_form(pilot: Any, flow: Any) -> FormFiller:
    filler = FormFiller(pilot)
    screen = pilot.screen()
    for _ in range(screen.page_count):
        filler.fill_page({})
        filler.next_page()
        if flow.session.step is not Step.FORM:
            break
        assert not any(r.error for r in screen.page_rows()), screen_text(pilot)
    return filler


def test_every_form_is_completed_by_taps_and_keys(kiosk_config: Any) -> None:
    """One citizen, identified once, fills every procedure's form in turn (one app: starting
    the shell and reading the card twelve times would only slow the suite)."""
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        identified_at_form(pilot, flow, PROCEDURES[0])
        for i, code in enumerate(PROCEDURES):
            if i:
                flow.back()  # documents → form
                flow.back()  # form → procedure
                pilot.pump(2)
                assert flow.session.step is Step.PROCEDURE
                title = flow.services.catalog.get(code).title(pilot.app.lang)
                pilot.tap(pilot.find_text(title, startswith=True))
            assert flow.session.step is Step.FORM and flow.dossier.current_procedure().code == code
            filler = fill_whole_form(pilot, flow)
            assert flow.session.step is Step.DOCUMENTS, (code, screen_text(pilot))
            answers = flow.session.data.answers
            assert flow.dossier.form().validate_answers(answers) == {}, code
            assert filler.effort.keys > 0 and filler.effort.taps > 0


def test_the_longest_form_with_a_chip_identity_counts_taps_and_keys(kiosk_config: Any) -> None:
    from kiosk.forms.spec import FormSpec

    catalog = load_catalog(CONFIG_DIR / "procedures")
    longest = max(catalog.procedures(), key=lambda p: len(FormSpec.from_definition(p.form).fields))
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        identified_at_form(pilot, flow, longest.code)
        assert flow.session.data.identity.authenticity.value == "authentic"
        filler = fill_whole_form(pilot, flow)
        assert flow.session.step is Step.DOCUMENTS
        effort = filler.effort
        assert effort.prefilled_fields >= 3  # name, ID number, date of birth at least
        figures = {
            "procedure": longest.code,
            "fields": len(flow.dossier.form().fields),
            "pages": effort.pages,
            "taps": effort.taps,
            "key_presses": effort.keys,
            "fields_typed_or_chosen": effort.typed_fields,
            "fields_prefilled": effort.prefilled_fields,
            "characters_prefill_saved": effort.prefilled_chars,
        }
        out = os.environ.get("FORM_EFFORT_JSON")
        if out:
            Path(out).write_text(json.dumps(figures, ensure_ascii=False, indent=2))
        print(json.dumps(figures, ensure_ascii=False))
