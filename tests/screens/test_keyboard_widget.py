"""The on-screen Vietnamese keyboard, offscreen: keys pressed by touches and by ``on_release``
type into a real TextInput (tone keys, Telex, digits, backspace, the cursor), in the kiosk's
own app (its theme, fonts and kv rules), and the widget renders to a PNG.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from screens.kivy_env import prepare_kivy

prepare_kivy(offscreen=True)

from kivy.uix.boxlayout import BoxLayout  # noqa: E402
from kivy.uix.textinput import TextInput  # noqa: E402

from kiosk.forms.vn_typing import Tone  # noqa: E402
from screens.keyboard import BACKSPACE, KeyButton, VietnameseKeyboard  # noqa: E402
from screens.pilot import Pilot  # noqa: E402
from screens.shell import KioskApp, load_kv  # noqa: E402

SETTINGS = SimpleNamespace(language="vi", large_text=False, high_contrast=False, touch=True)


class KeyboardApp(KioskApp):
    """The kiosk's app (theme, language, fonts, kv rules) showing one input and the keyboard."""

    def build(self) -> BoxLayout:
        load_kv()
        root = BoxLayout(orientation="vertical", padding=24, spacing=24)
        self.field = TextInput(
            size_hint_y=None, height=96, font_size=32, multiline=False, keyboard_mode="managed"
        )
        self.keyboard = VietnameseKeyboard()
        root.add_widget(self.field)
        root.add_widget(BoxLayout())  # the rest of the form
        root.add_widget(self.keyboard)
        return root


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[Pilot, KeyboardApp]]:
    app = KeyboardApp(flow=None, settings=SETTINGS)
    pilot = Pilot(app)
    try:
        yield pilot, app
    finally:
        pilot.close()


@pytest.fixture
def kb(running: tuple[Pilot, KeyboardApp]) -> Iterator[VietnameseKeyboard]:
    pilot, app = running
    keyboard = app.keyboard
    app.field.text = ""
    keyboard.target = app.field
    yield keyboard
    keyboard.target = None
    keyboard.mode = "text"
    keyboard.telex = False
    keyboard.autocap = "none"
    keyboard.extra_keys = []
    app.set_contrast(False)
    app.lang = "vi"


def press(kb: VietnameseKeyboard, button: KeyButton) -> None:
    """A key pressed the way Kivy's button does it (its on_release)."""
    assert button.get_root_window() is not None and button.opacity > 0
    button.trigger_action(duration=0)


def tap_text(kb: VietnameseKeyboard, text: str) -> None:
    """Press the keys that type ``text``: shift for capitals, vowel-form keys, space."""
    for ch in text:
        if ch == " ":
            press(kb, kb.key_for("space"))
            continue
        if ch.isupper() and not kb.shift:
            press(kb, kb.key_for("shift"))
        labels = kb.keys_showing(ch) or kb.keys_showing(ch.swapcase())  # shift shows capitals
        assert labels, f"no key shows {ch!r}"
        press(kb, labels[0])


def tone(kb: VietnameseKeyboard, t: Tone) -> None:
    press(kb, kb.key_for("tone", t.name))


def test_name_by_tone_keys(kb: VietnameseKeyboard) -> None:
    field = kb.target
    tap_text(kb, "Nguyên")
    tone(kb, Tone.NGA)
    tap_text(kb, " Thi")
    tone(kb, Tone.NANG)
    tap_text(kb, " Thuy")
    tone(kb, Tone.HOI)
    assert field.text == "Nguyễn Thị Thuỷ"
    assert unicodedata.is_normalized("NFC", field.text)
    tone(kb, Tone.HOI)  # the same tone again takes it off
    assert field.text == "Nguyễn Thị Thuy"


def test_name_by_telex_with_automatic_capitals(kb: VietnameseKeyboard) -> None:
    field = kb.target
    press(kb, kb.key_for("telex"))
    assert kb.telex and kb.key_for("telex").selected
    kb.autocap = "words"
    assert kb.shift  # an empty field starts with a capital
    tap_text(kb, "nguyeenx thij thuyr")
    assert field.text == "Nguyễn Thị Thuỷ"
    assert unicodedata.is_normalized("NFC", field.text)


def test_traditional_style_and_vowel_form_keys(kb: VietnameseKeyboard) -> None:
    kb.style = "traditional"
    try:
        tap_text(kb, "Thuy")
        tone(kb, Tone.HOI)
        tap_text(kb, " Đăk")
        tone(kb, Tone.SAC)
        assert kb.target.text == "Thủy Đắk"
    finally:
        kb.style = "modern"


def test_backspace_removes_a_whole_letter(kb: VietnameseKeyboard) -> None:
    tap_text(kb, "Nguyên")
    tone(kb, Tone.NGA)
    back = kb.key_for("backspace")
    press(kb, back)
    assert kb.target.text == "Nguyễ"
    press(kb, back)
    assert kb.target.text == "Nguy"


def test_typing_at_the_cursor_and_over_a_selection(kb: VietnameseKeyboard) -> None:
    field = kb.target
    field.text = "Nguyn Văn"
    field.cursor = field.get_cursor_from_index(4)  # between "Nguy" and "n"
    tap_text(kb, "ê")
    tone(kb, Tone.NGA)
    assert field.text == "Nguyễn Văn"
    assert field.cursor_index() == 5
    field.select_text(7, 10)  # "Văn"
    tap_text(kb, "A")
    assert field.text == "Nguyễn A"
    field.select_text(0, 7)
    press(kb, kb.key_for("backspace"))
    assert field.text == "A"


def test_real_touches_type_and_keep_the_focus(
    running: tuple[Pilot, KeyboardApp], kb: VietnameseKeyboard
) -> None:
    pilot, _ = running
    field = kb.target
    field.focus = True
    for label in ("h", "o", "a"):
        pilot.tap(kb.keys_showing(label)[0])
    pilot.tap(kb.key_for("tone", Tone.HUYEN.name))
    assert field.text == "hoà"
    assert field.focus  # a managed input keeps its cursor while keys are touched
    field.focus = False


def test_digits_in_number_date_and_phone_modes(kb: VietnameseKeyboard) -> None:
    field = kb.target
    kb.mode = "number"
    assert kb.layout_rows()[0] == "pad1"
    assert not kb.keys_showing("q") and not kb.keys_showing("/")
    tap_text(kb, "0912345678")
    press(kb, kb.key_for("backspace"))
    assert field.text == "091234567"
    field.text = ""
    kb.mode = "date"
    tap_text(kb, "12/05/2024")
    assert field.text == "12/05/2024"
    field.text = ""
    kb.mode = "number"
    kb.extra_keys = ["."]
    assert kb.keys_showing(".") and not kb.keys_showing("/")
    kb.extra_keys = []
    kb.mode = "phone"
    tap_text(kb, "+84")
    assert field.text == "+84"


def test_tones_do_not_act_outside_text_mode(kb: VietnameseKeyboard) -> None:
    kb.mode = "email"
    assert not kb.keys_showing("á sắc") and not kb.keys_showing("ă")
    tap_text(kb, "an.le@so.vn")
    assert kb.target.text == "an.le@so.vn"
    kb.telex = True
    tap_text(kb, "aas")  # Telex is for Vietnamese text only
    assert kb.target.text == "an.le@so.vnaas"


def test_symbols_layer(kb: VietnameseKeyboard) -> None:
    press(kb, kb.key_for("layer", "symbols"))
    tap_text(kb, "12/3-4")
    press(kb, kb.key_for("layer", "letters"))
    assert kb.keys_showing("ê")
    assert kb.target.text == "12/3-4"


def test_shift_then_caps_lock(kb: VietnameseKeyboard) -> None:
    shift = kb.key_for("shift")
    press(kb, shift)
    tap_text(kb, "ab")
    assert kb.target.text == "Ab"
    press(kb, shift)
    press(kb, shift)  # twice: capitals stay
    assert kb.caps and kb.keys_showing("Ư")
    tap_text(kb, "đư")
    press(kb, shift)
    tap_text(kb, "c")
    assert kb.target.text == "AbĐƯc"


def test_next_and_done_keys_raise_events(kb: VietnameseKeyboard) -> None:
    seen: list[str] = []
    kb.bind(on_enter=lambda *_: seen.append("enter"), on_hide=lambda *_: seen.append("hide"))
    press(kb, kb.key_for("enter"))
    press(kb, kb.key_for("hide"))
    kb.mode = "number"
    press(kb, kb.key_for("enter"))
    assert seen == ["enter", "hide", "enter"]


def test_no_target_types_nothing(kb: VietnameseKeyboard) -> None:
    field = kb.target
    kb.target = None
    tap_text(kb, "a")
    assert field.text == ""
    field.readonly = True
    kb.target = field
    tap_text(kb, "a")
    assert field.text == ""
    field.readonly = False


@pytest.mark.parametrize("scale", [1.0, 1.3])
@pytest.mark.parametrize("mode", ["text", "number", "email"])
def test_keys_are_big_enough_and_labels_fit(
    running: tuple[Pilot, KeyboardApp], kb: VietnameseKeyboard, mode: str, scale: float
) -> None:
    pilot, app = running
    kb.mode = mode
    app.font_scale = scale
    try:
        pilot.pump(2)
        keys = [w for w in kb.walk(restrict=True) if isinstance(w, KeyButton)]
        assert len(keys) >= 13  # the keypad: 10 digits, delete, done, next
        for key in keys:
            assert key.height >= 64 and key.width >= 64, key.text
            width, height = key.texture_size
            assert width <= key.width and height < 2 * key.font_size, key.text  # one line
        assert kb.x >= 0 and kb.right <= kb.get_root_window().width
    finally:
        app.font_scale = 1.0


def test_automatic_capitals_for_sentences(kb: VietnameseKeyboard) -> None:
    kb.autocap = "sentences"
    tap_text(kb, "xin chao. ban")
    assert kb.target.text == "Xin chao. Ban"


def test_labels_follow_the_language(
    running: tuple[Pilot, KeyboardApp], kb: VietnameseKeyboard
) -> None:
    _, app = running
    app.lang = "en"
    assert kb.key_for("space").text == "Space" and kb.key_for("enter").text == "Next"
    app.lang = "vi"
    assert kb.key_for("hide").text == "Xong"
    assert kb.key_for("tone", "HUYEN").text == "à huyền"
    assert kb.key_for("backspace").text == BACKSPACE


@pytest.mark.parametrize("contrast", [False, True])
def test_renders_to_png(
    running: tuple[Pilot, KeyboardApp], kb: VietnameseKeyboard, tmp_path: Path, contrast: bool
) -> None:
    from PIL import Image

    pilot, app = running
    app.set_contrast(contrast)
    tap_text(kb, "Nguyên")
    tone(kb, Tone.NGA)
    pilot.pump(3)
    out = Path(os.environ.get("KEYBOARD_PNG_DIR", tmp_path))
    path = out / f"keyboard-{'contrast' if contrast else 'normal'}.png"
    kb.export_to_png(str(path))
    with Image.open(path) as image:
        assert image.size == (int(kb.width), int(kb.height))
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 20  # keys and letters, not a blank box
