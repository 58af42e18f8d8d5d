"""Fill the form screen the way a citizen does: tap a field, type on the on-screen keyboard,
tap choices and suggestions, tap "Next page"; count every tap and key press.

Keys are pressed through the keyboard's own buttons (``trigger_action``, the buttons'
``on_release``); fields, choices, suggestions and page buttons are touched by the pilot.
A character with a tone is typed as its base letter (ă â ê ô ơ ư đ are keys of their own) and
the tone key after the word, as the keyboard's tone row is used.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from kiosk.demo.citizens import sample_value
from kiosk.forms.spec import Kind

TONE_MARKS = {
    "\u0301": "SAC",
    "\u0300": "HUYEN",
    "\u0309": "HOI",
    "\u0303": "NGA",
    "\u0323": "NANG",
}


@dataclass
class Effort:
    """What filling a form took."""

    taps: int = 0  # touches on fields, choices, suggestions, rows and pages
    keys: int = 0  # key presses on the on-screen keyboard
    typed_fields: int = 0
    prefilled_fields: int = 0
    prefilled_chars: int = 0  # what the citizen would have typed without prefill
    pages: int = 0
    notes: list[str] = field(default_factory=list)


class FormFiller:
    def __init__(self, pilot: Any, *, keys: bool = True) -> None:
        """``keys=False`` puts typed text straight into the inputs (what the keyboard would
        type), for tests about something else than typing."""
        self.pilot = pilot
        self.keys = keys
        self.effort = Effort()

    def settle(self) -> None:
        """Let the layout catch up (Kivy's clock: triggers, layouts, label textures) without
        drawing a frame: positions are all a touch needs, and software GL makes every frame
        cost a tenth of a second. Screenshots and the pilot still draw."""
        from kivy.clock import Clock

        for _ in range(2):
            Clock.tick()
            Clock.tick_draw()  # layouts run here (their triggers wait for "before the frame")

    @property
    def screen(self) -> Any:
        return self.pilot.screen()

    @property
    def keyboard(self) -> Any:
        return self.screen.ids.keyboard

    def tap(self, widget: Any) -> None:
        """A touch on ``widget``, brought into sight first (two frames, not the pilot's five:
        the form is long and software rendering is slow)."""
        from kivy.base import EventLoop
        from kivy.uix.scrollview import ScrollView

        from screens.pilot import PilotTouch
        from screens.scrolling import reveal

        parent = widget.parent
        while parent is not None and parent is not parent.parent:
            if isinstance(parent, ScrollView):
                reveal(parent, widget)
            parent = parent.parent
        self.settle()
        assert not widget.disabled and widget.opacity > 0, f"{widget} is not tappable"
        touch = PilotTouch(*widget.to_window(*widget.center))
        EventLoop.post_dispatch_input("begin", touch)
        EventLoop.post_dispatch_input("end", touch)
        self.settle()
        self.effort.taps += 1

    def press(self, key: Any) -> None:
        assert key.get_root_window() is not None and key.opacity > 0, key.text
        key.trigger_action(duration=0)
        self.effort.keys += 1

    # --- typing --------------------------------------------------------------------------

    def type_text(self, text: str) -> None:
        """Type ``text`` into the focused input with the keyboard's keys only."""
        kb = self.keyboard
        for i, word in enumerate(text.split(" ")):
            if i:
                self.press(kb.key_for("space"))
            self._type_word(kb, word)
        self.settle()

    def _type_word(self, kb: Any, word: str) -> None:
        stem = word.rstrip(",.;:!?)")
        tone: str | None = None
        for ch in stem:
            base, mark = _split_tone(ch)
            if mark:
                tone = mark
            self._type_char(kb, base)
        if tone:  # the tone key goes after the letters of the word, before its punctuation
            self.press(kb.key_for("tone", tone))
        for ch in word[len(stem) :]:
            self._type_char(kb, ch)

    def _type_char(self, kb: Any, ch: str) -> None:
        if ch.isalpha() and kb.mode == "text":
            want_upper = ch.isupper()
            if want_upper != (kb.shift or kb.caps):
                self.press(kb.key_for("shift"))
            keys = kb.keys_showing(ch) or kb.keys_showing(ch.swapcase())
        else:
            keys = kb.keys_showing(ch)
            if not keys and kb.mode == "text":
                self.press(kb.key_for("layer", "symbols"))
                keys = kb.keys_showing(ch)
                assert keys, f"no key shows {ch!r}"
                self.press(keys[0])
                self.press(kb.key_for("layer", "letters"))
                return
        assert keys, f"no key shows {ch!r} in mode {kb.mode}"
        self.press(keys[0])

    def clear_and_type(self, text_input: Any, text: str) -> None:
        if not self.keys:
            text_input.text = text
            return
        self.tap(text_input)
        assert self.keyboard.target == text_input, (
            "the keyboard did not come for the field",
            text_input.to_window(*text_input.pos),
            self.screen.ids.scroll.to_window(*self.screen.ids.scroll.pos),
            self.screen.ids.scroll.size,
            self.keyboard.to_window(*self.keyboard.pos),
            self.keyboard.size,
        )
        while text_input.text:
            self.press(self.keyboard.key_for("backspace"))
        self.type_text(text)
        assert unicodedata.normalize("NFC", text_input.text) == text, (text_input.text, text)

    # --- rows ----------------------------------------------------------------------------

    def fill_page(self, values: dict[str, Any]) -> None:
        for row in self.screen.page_rows():
            f = row.field
            if f.name in self.screen._sources:
                self.effort.prefilled_fields += 1
                self.effort.prefilled_chars += _length(self.screen._draft.get(f.name))
                if f.kind is not Kind.ADDRESS or row.draft().get("province"):
                    continue
            self.fill_row(row, values.get(f.name, sample_value(f)))

    def fill_row(self, row: Any, value: Any) -> None:
        f = row.field
        self.effort.typed_fields += 1
        if f.kind in (Kind.CHOICE, Kind.YESNO):
            button = next(b for b in row.ids.choices.buttons() if b.choice_value == value)
            self.tap(button)
        elif f.kind is Kind.ADDRESS:
            self.fill_address(row, value)
        elif f.kind is Kind.GROUP:
            self.fill_group(row, value)
        else:
            self.clear_and_type(row.ids.input, str(value))

    def fill_address(self, row: Any, value: dict[str, str]) -> None:
        from kiosk.forms import addresses

        for part, hints in (("province", "province_hints"), ("commune", "commune_hints")):
            name = value[part]
            if not self.keys:
                row.ids[part].text = name
                continue
            self.clear_and_type(row.ids[part], name.split(" ")[-1])  # the last word, then pick
            self.settle()
            match = [b for b in row.ids[hints].children if b.text == name]
            if match:
                self.tap(match[0])
                continue
            province = addresses.find_province(row.ids.province.text)
            found = (
                province
                if part == "province"
                else addresses.find_commune(province, row.ids.commune.text)
            )
            if found is None or found.name != name:
                self.clear_and_type(row.ids[part], name)
        self.clear_and_type(row.ids.street, value["street"])

    def fill_group(self, row: Any, rows: list[dict[str, Any]]) -> None:
        while len(row.items()) < len(rows):
            self.tap(row.ids.add_row)
        for item, values in zip(row.items(), rows, strict=False):
            for sub in item.rows:
                self.fill_row(sub, values[sub.field.name])

    def next_page(self) -> None:
        self.effort.pages += 1
        self.tap(self.pilot.widget("next"))


def _split_tone(ch: str) -> tuple[str, str | None]:
    decomposed = unicodedata.normalize("NFD", ch)
    tone = next((TONE_MARKS[m] for m in decomposed if m in TONE_MARKS), None)
    base = "".join(m for m in decomposed if m not in TONE_MARKS)
    return unicodedata.normalize("NFC", base), tone


def _length(value: Any) -> int:
    if isinstance(value, dict):
        return sum(len(str(v or "")) for v in value.values())
    if isinstance(value, list):
        return sum(_length(v) for v in value)
    return len(str(value or ""))
