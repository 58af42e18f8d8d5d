"""The look-up screen's keyboard: a dossier code (digits, dots, hyphens, a few capitals such as
000.00.08.H21-261124-0001) opens on a keypad with '.' and '-', reaches the capitals by "ABC",
and a code typed by taps on the keys finds the dossier."""

from __future__ import annotations

from typing import Any

from support.ui_harness import running_kiosk, screen_text

from kiosk.session.state import Step  # noqa: E402  (after the harness prepared Kivy)

BACKSPACE = "⌫"


def shown(keyboard: Any, label: str) -> bool:
    return bool(keyboard.keys_showing(label))


def type_code(pilot: Any, keyboard: Any, code: str) -> None:
    """Tap each character's key, switching layers ("ABC" / "123") only when it is not shown."""
    for ch in code:
        if not shown(keyboard, ch):
            other = "ABC" if keyboard.layer == "symbols" else "123"
            pilot.tap(keyboard.keys_showing(other)[0])
        (key,) = keyboard.keys_showing(ch)
        pilot.tap(key)


def open_lookup(pilot: Any, flow: Any) -> str:
    """Submit a sample dossier, back to the welcome screen, open the look-up; its code."""
    from kiosk.demo.citizens import walk_to
    from kiosk.flow.runner import InlineRunner

    runner = flow.runner
    flow.runner = InlineRunner()
    walk_to(flow, Step.RECEIPT)
    code = flow.session.data.result.dossier_code
    flow.finish()
    flow.runner = runner
    pilot.pump(2)
    pilot.tap("start_lookup")
    assert flow.session.step is Step.LOOKUP
    return code


def test_lookup_opens_on_the_code_keypad(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        open_lookup(pilot, flow)
        keyboard = pilot.widget("keyboard")
        assert keyboard.mode == "code" and keyboard.is_keypad()
        for label in ("1", "9", "0", ".", "-", BACKSPACE, "ABC"):
            assert shown(keyboard, label), label
        assert not shown(keyboard, "q") and not shown(keyboard, "Q")
        # No Vietnamese vowel forms or tone keys on a code.
        assert not shown(keyboard, "ă") and not shown(keyboard, "á Sắc")
        pilot.tap(keyboard.keys_showing("ABC")[0])
        assert not keyboard.is_keypad()
        # Capitals, with the digits, '.' and '-' still at hand for "H21-261124-0001".
        for label in ("H", "Q", "M", "1", "0", ".", "-", BACKSPACE, "123"):
            assert shown(keyboard, label), label
        assert not shown(keyboard, "h")
        pilot.tap(keyboard.keys_showing("123")[0])
        assert keyboard.is_keypad()
        # Every key is as tall as the theme's touch size and at least 64 px wide (issue 12).
        from screens import theme

        for layer in ("symbols", "letters"):
            keyboard.layer = layer
            pilot.pump(2)
            for row in keyboard.layout_rows():
                for key in keyboard._rows[row].children:
                    if key.__class__.__name__ == "KeyButton":
                        assert key.height >= theme.MIN_TOUCH, (layer, key.text, key.height)
                        assert key.width >= 64, (layer, key.text, key.width)


def test_a_code_typed_on_the_keys_finds_the_dossier(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        code = open_lookup(pilot, flow)
        keyboard = pilot.widget("keyboard")
        field = pilot.widget("code")
        type_code(pilot, keyboard, "000.1X")
        assert field.text == "000.1X"
        pilot.tap(keyboard.keys_showing(BACKSPACE)[0])
        pilot.tap(keyboard.keys_showing(BACKSPACE)[0])
        pilot.tap(keyboard.keys_showing(BACKSPACE)[0])
        assert field.text == "000"
        field.text = ""
        pilot.pump(1)
        type_code(pilot, keyboard, code)
        assert field.text == code
        assert any(ch.isalpha() for ch in code), code  # the agency part needed the capitals
        next_key = keyboard.key_for("enter")
        pilot.tap(next_key)  # "Next" on the keyboard looks the code up
        pilot.wait_for(lambda: flow.session.step is Step.LOOKUP_RESULT, timeout=30)
        assert code in screen_text(pilot)


def test_the_lookup_opens_on_the_keypad_again_after_the_letters(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        open_lookup(pilot, flow)
        keyboard = pilot.widget("keyboard")
        pilot.tap(keyboard.keys_showing("ABC")[0])
        assert keyboard.layer == "letters"
        pilot.tap("back")
        pilot.pump(2)
        pilot.tap("start_lookup")
        pilot.pump(2)
        keyboard = pilot.widget("keyboard")
        assert keyboard.is_keypad(), keyboard.layer


def test_the_welcome_names_the_place_as_the_header_does(kiosk_config: Any) -> None:
    """The screen the look-up starts from: its greeting takes ``[kiosk] agency_name``, the
    name the header shows, in both languages (issue 12: they named the place differently)."""
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        pilot.pump(2)
        agency = kiosk_config.kiosk.agency_name
        assert kiosk_config.kiosk.place in agency
        assert pilot.widget("welcome").text == f"Chào mừng quý khách đến {agency}"
        assert agency in screen_text(pilot)
        app.lang = "en"
        pilot.pump(2)
        assert pilot.widget("welcome").text == f"Welcome to {agency}"
