"""The on-screen Vietnamese keyboard: letters with the vowel forms and the five tone keys, Telex as
an option, a digits-and-punctuation layer, a numeric keypad for number, date, tax and phone
fields, an e-mail layout, and a dossier-code layout (``mode = "code"``): a keypad with '.' and '-'
first, for codes such as 000.00.08.H21-261124-0001, and an "ABC" key to capital letters (with the
digits, '.' and '-' kept above and beside them) for the agency part such as H21.

``VietnameseKeyboard`` types into its ``target`` (a Kivy ``TextInput``) at the cursor, through a
``kiosk.forms.vn_typing.Composer``: what it writes is always NFC. A selection is replaced by the key
typed (backspace deletes it). It talks upward through two events: ``on_enter`` (the "Next" key:
on to the next field) and ``on_hide`` (the "Done" key). Keys are ``KButton``s (the theme's
colours, large-text and high-contrast modes) at least ``theme.MIN_TOUCH`` high; the keys and
rows are built once and reused when the mode changes. Built in Python, so no .kv file to list:
``screens/widgets.kv`` (``shell.load_kv()``) must be loaded first; the keys' one rule of their
own (narrower label margins than other buttons) is loaded after it, at the first keyboard.

Targets should have ``keyboard_mode = "managed"`` (as the form's inputs do): Kivy then neither
opens its own keyboard nor takes the focus away from the input when a key is touched.
"""

from __future__ import annotations

import time
from typing import Any

from kivy.app import App
from kivy.graphics import Color, Rectangle
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.forms.vn_typing import STYLES, TONE_NAMES, Composer, Tone, nfc
from kiosk.i18n import translate
from kiosk.paths import FONTS_DIR
from screens import theme
from screens.widgets import KButton

MSG_SPACE = "Space"
MSG_NEXT = "Next"
MSG_DONE = "Done"

MODES = ("text", "number", "phone", "email", "date", "tax", "code")
# Keys a numeric layout shows beside 0 unless ``extra_keys`` names others.
DEFAULT_EXTRA_KEYS: dict[str, tuple[str, ...]] = {
    "number": (),
    "date": ("/",),
    "tax": ("-",),
    "phone": ("+",),
}
LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
VOWEL_FORMS = "ăâêôơưđ"
TONE_SAMPLES: tuple[tuple[Tone, str], ...] = (
    (Tone.SAC, "á"),
    (Tone.HUYEN, "à"),
    (Tone.HOI, "ả"),
    (Tone.NGA, "ã"),
    (Tone.NANG, "ạ"),
)
SYMBOL_ROWS = ("1234567890", "-/:;(),.?!", "'\"@&+%#*=_")
EMAIL_KEYS = ("@", ".", "_", "-")
# The dossier-code layout: its keypad's bottom row, and the capitals of its letter layer.
CODE_PAD_KEYS = (".", "0", "-")
CODE_PUNCTUATION = (".", "-")
CODE_LETTER_ROWS = tuple(row.upper() for row in LETTER_ROWS)
SYMBOL_FONT = str(FONTS_DIR / "DejaVuSans.ttf")  # ⇧ ⇪ ⌫ are not in Roboto
BACKSPACE, SHIFT, CAPS = "⌫", "⇧", "⇪"
DOUBLE_TAP_S = 0.5

# Kivy applies rules in the order they were loaded: this one must come after widgets.kv's
# <KButton> (whose labels keep 24 px from each side), so it is loaded at the first keyboard.
_KEY_RULE = """
<KeyButton>:
    text_size: self.width - 12, None
"""
_key_rule_loaded = False


def _load_key_rule() -> None:
    global _key_rule_loaded
    if not _key_rule_loaded:
        Builder.load_string(_KEY_RULE, filename="screens/keyboard.py")
        _key_rule_loaded = True


class KeyButton(KButton):
    """One key: ``action`` is what it does, ``value`` what it types (char) or which tone."""

    action = StringProperty("char")  # char | tone | space | backspace | shift | layer | telex
    value = StringProperty("")  #        | enter | hide


class VietnameseKeyboard(BoxLayout):
    """The kiosk's keyboard. Set ``target`` and ``mode``; listen to ``on_enter``/``on_hide``."""

    __events__ = ("on_enter", "on_hide")

    target = ObjectProperty(None, allownone=True)
    mode = OptionProperty("text", options=MODES)
    telex = BooleanProperty(False)
    style = OptionProperty("modern", options=STYLES)  # where tones go: hoà or hòa
    extra_keys = ListProperty([])  # numeric layouts: keys beside 0 (default per mode above)
    autocap = OptionProperty("none", options=("none", "words", "sentences"))
    shift = BooleanProperty(False)  # one capital, then back to small letters
    caps = BooleanProperty(False)  # capitals until pressed again
    layer = OptionProperty("letters", options=("letters", "symbols"))
    key_height = NumericProperty(theme.MIN_TOUCH)
    font_base = NumericProperty(34)

    def __init__(self, **kwargs: Any) -> None:
        _load_key_rule()
        self._composer = Composer()
        self._shift_at = -1.0
        self._shift_pressed = False
        self._keys: list[KeyButton] = []
        self._rows: dict[str, BoxLayout] = {}
        self._extra_buttons: dict[str, KeyButton] = {}
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("spacing", 10)
        super().__init__(**kwargs)
        self.bind(minimum_height=self.setter("height"))
        self._build()
        with self.canvas.before:
            self._bg_color = Color(*theme.NORMAL["panel"])
            self._bg = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._place_bg, size=self._place_bg)
        app = App.get_running_app()
        if app is not None and hasattr(app, "colors"):
            app.bind(colors=lambda *_: self._paint(), lang=lambda *_: self._relabel())
        self._paint()
        self.bind(
            mode=self._arrange,
            layer=self._arrange,
            extra_keys=self._arrange,
            shift=self._relabel,
            caps=self._relabel,
            telex=self._relabel,
            key_height=self._resize,
            font_base=self._resize,
            autocap=lambda *_: self._autocap(),
        )
        self._arrange()

    # ------------------------------------------------------------------ events
    def on_enter(self) -> None:
        pass

    def on_hide(self) -> None:
        pass

    def on_mode(self, _instance: Any, _mode: str) -> None:
        self.layer = self.first_layer()

    def first_layer(self) -> str:
        """The layer a field opens on: a code's digits first, else the letters."""
        return "symbols" if self.mode == "code" else "letters"

    def on_target(self, _instance: Any, _target: Any) -> None:
        self._composer.clear()
        self.layer = self.first_layer()
        self.shift = False
        self.caps = False
        self._autocap()

    # ------------------------------------------------------------------ building
    def _key(self, label: str, action: str = "char", value: str = "", **kw: Any) -> KeyButton:
        key = KeyButton(text=label, action=action, value=value or label, **kw)
        key.min_height = self.key_height
        key.font_base = kw.get("font_base", self.font_base)
        key.bind(on_release=self._pressed)
        self._keys.append(key)
        return key

    def _row(self, name: str, keys: list[Widget]) -> BoxLayout:
        row = BoxLayout(orientation="horizontal", size_hint_y=None, spacing=8)
        row.bind(minimum_height=row.setter("height"))
        for key in keys:
            row.add_widget(key)
        self._rows[name] = row
        return row

    def _build(self) -> None:
        small = self.font_base - 6
        self._row("forms", [self._key(ch) for ch in VOWEL_FORMS])
        self._row(
            "tones",
            [
                self._key(f"{sample} {TONE_NAMES[tone]}", "tone", tone.name, font_base=small)
                for tone, sample in TONE_SAMPLES
            ],
        )
        self._row("digits", [self._key(ch) for ch in SYMBOL_ROWS[0]])
        self._row("q", [self._key(ch) for ch in LETTER_ROWS[0]])
        self._row(
            "a",
            [
                Widget(size_hint_x=0.5),
                *[self._key(ch) for ch in LETTER_ROWS[1]],
                Widget(size_hint_x=0.5),
            ],
        )
        self._shift_key = self._key(SHIFT, "shift", size_hint_x=1.5, font_name=SYMBOL_FONT)
        self._row(
            "z",
            [
                self._shift_key,
                *[self._key(ch) for ch in LETTER_ROWS[2]],
                self._key(BACKSPACE, "backspace", size_hint_x=1.5, font_name=SYMBOL_FONT),
            ],
        )
        self._telex_key = self._key("Telex", "telex", size_hint_x=1.6, font_base=small)

        def space(width: float) -> KeyButton:
            return self._key(MSG_SPACE, "space", " ", size_hint_x=width, font_base=small)

        def done() -> KeyButton:
            return self._key(MSG_DONE, "hide", size_hint_x=1.5, font_base=small)

        def next_key(width: float = 1.6) -> KeyButton:
            return self._key(MSG_NEXT, "enter", size_hint_x=width, kind="primary", font_base=small)

        def layer(label: str, name: str) -> KeyButton:
            return self._key(label, "layer", name, size_hint_x=1.5, font_base=small)

        self._row(
            "bottom",
            [
                layer("123", "symbols"),
                self._telex_key,
                self._key(","),
                space(3.2),
                self._key("."),
                done(),
                next_key(),
            ],
        )
        self._row("sym1", [self._key(ch) for ch in SYMBOL_ROWS[1]])
        self._row("sym2", [self._key(ch) for ch in SYMBOL_ROWS[2]])
        self._row(
            "sym_bottom",
            [
                layer("ABC", "letters"),
                space(4),
                self._key(BACKSPACE, "backspace", size_hint_x=1.5, font_name=SYMBOL_FONT),
                done(),
                next_key(),
            ],
        )
        self._row(
            "email_bottom",
            [
                *[self._key(ch) for ch in EMAIL_KEYS],
                done(),
                next_key(),
            ],
        )
        self._row("pad1", [self._key(ch) for ch in "123"])
        self._row("pad2", [self._key(ch) for ch in "456"])
        self._row("pad3", [self._key(ch) for ch in "789"])
        self._pad_zero = self._key("0")
        self._pad_back = self._key(BACKSPACE, "backspace", font_name=SYMBOL_FONT)
        self._row("pad4", [])
        self._row(
            "pad_bottom",
            [
                done(),
                next_key(3),
            ],
        )
        # The dossier code: a keypad (CODE_PAD_KEYS below 7 8 9), then an "ABC" layer of
        # capitals under the digits row, with '.' and '-' at hand for H21-261124-0001.
        self._row("code_pad4", [self._key(ch) for ch in CODE_PAD_KEYS])
        self._row(
            "code_pad_bottom",
            [
                layer("ABC", "letters"),
                self._key(BACKSPACE, "backspace", size_hint_x=1.5, font_name=SYMBOL_FONT),
                done(),
                next_key(),
            ],
        )
        self._row("code_q", [self._key(ch) for ch in CODE_LETTER_ROWS[0]])
        self._row(
            "code_a",
            [
                Widget(size_hint_x=0.5),
                *[self._key(ch) for ch in CODE_LETTER_ROWS[1]],
                Widget(size_hint_x=0.5),
            ],
        )
        self._row(
            "code_z",
            [
                *[self._key(ch) for ch in CODE_LETTER_ROWS[2]],
                self._key(BACKSPACE, "backspace", size_hint_x=1.5, font_name=SYMBOL_FONT),
            ],
        )
        self._row(
            "code_bottom",
            [
                layer("123", "symbols"),
                *[self._key(ch) for ch in CODE_PUNCTUATION],
                done(),
                next_key(),
            ],
        )

    def _extra(self, label: str) -> KeyButton:
        key = self._extra_buttons.get(label)
        if key is None:
            key = self._extra_buttons[label] = self._key(label)
        return key

    # ------------------------------------------------------------------ showing
    def layout_rows(self) -> list[str]:
        """The names of the rows the current mode and layer show, top to bottom."""
        if self.mode in DEFAULT_EXTRA_KEYS:
            return ["pad1", "pad2", "pad3", "pad4", "pad_bottom"]
        if self.mode == "code":
            if self.layer == "letters":
                return ["digits", "code_q", "code_a", "code_z", "code_bottom"]
            return ["pad1", "pad2", "pad3", "code_pad4", "code_pad_bottom"]
        if self.mode == "email":
            return ["digits", "q", "a", "z", "email_bottom"]
        if self.layer == "symbols":
            return ["digits", "sym1", "sym2", "sym_bottom"]
        return ["forms", "tones", "q", "a", "z", "bottom"]

    def is_keypad(self) -> bool:
        """Whether the current mode and layer show a keypad (three keys a row)."""
        if self.mode == "code":
            return self.layer != "letters"
        return self.mode in DEFAULT_EXTRA_KEYS

    def _arrange(self, *_: Any) -> None:
        pad = self._rows["pad4"]
        pad.clear_widgets()
        extras = list(self.extra_keys) or list(DEFAULT_EXTRA_KEYS.get(self.mode, ()))
        for label in extras:
            pad.add_widget(self._extra(label))
        if not extras:
            pad.add_widget(Widget())
        pad.add_widget(self._pad_zero)
        pad.add_widget(self._pad_back)
        self.clear_widgets()
        self._pad()
        for name in self.layout_rows():
            self.add_widget(self._rows[name])
        self._relabel()

    def _relabel(self, *_: Any) -> None:
        lang = _lang()
        upper = self.shift or self.caps
        for key in self._keys:
            if key.action == "char" and key.value.isalpha():
                key.text = key.value.upper() if upper else key.value
            elif key.action == "space":
                key.text = translate(MSG_SPACE, lang)
            elif key.action == "enter":
                key.text = translate(MSG_NEXT, lang)
            elif key.action == "hide":
                key.text = translate(MSG_DONE, lang)
        self._shift_key.text = CAPS if self.caps else SHIFT
        self._shift_key.selected = upper
        self._telex_key.selected = self.telex

    def _resize(self, *_: Any) -> None:
        small = self.font_base - 6
        for key in self._keys:
            key.min_height = self.key_height
            wide = key.action in ("tone", "space", "enter", "hide", "layer", "telex")
            key.font_base = small if wide else self.font_base

    def _place_bg(self, *_: Any) -> None:
        self._bg.pos = self.pos
        self._bg.size = self.size
        self._pad()

    def _pad(self) -> None:
        # A keypad is narrower than the letters: three keys across the middle of a wide screen.
        numeric = self.is_keypad() and self.width > 600
        padding = [self.width * 0.2, 12, self.width * 0.2, 12] if numeric else [12, 12, 12, 12]
        if list(self.padding) != padding:
            self.padding = padding

    def _paint(self) -> None:
        app = App.get_running_app()
        colors = getattr(app, "colors", None) or theme.NORMAL
        self._bg_color.rgba = colors["panel"]

    # ------------------------------------------------------------------ keys
    def press(self, action: str, value: str = "") -> None:
        """Do what a key does (the buttons call this; so can a test or a physical keyboard)."""
        if action == "shift":
            # One press: the next letter is a capital; a second press within DOUBLE_TAP_S locks
            # capitals; a later one takes the shift back off (as when the keyboard put it on at
            # the start of a word and the citizen wants a small letter).
            now = time.monotonic()
            double = self._shift_pressed and now - self._shift_at <= DOUBLE_TAP_S
            if self.caps:
                self.caps = self.shift = False
            elif self.shift and double:
                self.caps, self.shift = True, False
            elif self.shift:
                self.shift = False
            else:
                self.shift = True
            self._shift_pressed = self.shift  # on by this press (not by the automatic capitals)
            self._shift_at = now
        elif action == "layer":
            self.layer = value
        elif action == "telex":
            self.telex = not self.telex
        elif action == "enter":
            self.dispatch("on_enter")
        elif action == "hide":
            self.dispatch("on_hide")
        else:
            self._edit(action, value)

    def _pressed(self, key: KeyButton) -> None:
        value = key.value
        if key.action == "char" and (self.shift or self.caps):
            value = value.upper()
        self.press(key.action, value)

    def _edit(self, action: str, value: str) -> None:
        target = self.target
        if target is None or getattr(target, "readonly", False) or target.disabled:
            return
        if target.selection_text:
            target.delete_selection()
            if action == "backspace":
                return
        text = target.text
        cursor = min(max(target.cursor_index(), 0), len(text))
        before, after = nfc(text[:cursor]), nfc(text[cursor:])
        composer = self._composer
        composer.telex = self.telex and self.mode == "text"
        composer.style = self.style
        if composer.text != before:
            composer.text = before
        if action == "char":
            composer.key(value)
            if self.shift and not self.caps and value.isalpha():
                self.shift = False
        elif action == "space":
            composer.key(" ")
        elif action == "tone":
            if self.mode == "text":
                composer.tone(Tone[value])
        elif action == "backspace":
            composer.backspace()
        before = composer.text
        target.text = nfc(before + after)
        target.cursor = target.get_cursor_from_index(len(before))
        self._shift_pressed = False  # a key came between: the next shift press is a new one
        self._autocap()

    def _autocap(self) -> None:
        if self.autocap == "none" or self.caps or self.mode != "text":
            return
        target = self.target
        before = "" if target is None else target.text[: target.cursor_index()]
        stripped = before.rstrip()
        if self.autocap == "words":
            self.shift = not before or before[-1].isspace()
        else:
            self.shift = not stripped or (before[-1].isspace() and stripped[-1] in ".?!")

    # ------------------------------------------------------------------ for tests and the form
    def keys_showing(self, label: str) -> list[KeyButton]:
        """The keys on screen whose label is ``label`` (as a citizen reads them)."""
        shown = {id(w) for name in self.layout_rows() for w in self._rows[name].children}
        return [k for k in self._keys if id(k) in shown and k.text == label]

    def key_for(self, action: str, value: str = "") -> KeyButton:
        """The key on screen that does ``action`` (with ``value``): the first one shown."""
        for name in self.layout_rows():
            for w in reversed(self._rows[name].children):
                if (
                    isinstance(w, KeyButton)
                    and w.action == action
                    and (not value or w.value == value)
                ):
                    return w
        raise LookupError(f"no key {action} {value!r} in mode {self.mode} ({self.layer})")


def _lang() -> str:
    app = App.get_running_app()
    return getattr(app, "lang", "vi") or "vi"
