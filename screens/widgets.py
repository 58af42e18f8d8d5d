"""Reusable widgets of the kiosk: big buttons, wrapping labels, the numeric keypad, the step bar.

Widgets talk upward only through events (``on_press``/``on_release`` of buttons, ``on_key`` of
the keypad); colours and font sizes come from the app's theme properties so that the
high-contrast and large-text modes apply everywhere at once.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label


class KLabel(Label):
    """A label that wraps to its width and grows to its text's height."""

    role = StringProperty("body")  # title | subtitle | body | small | big
    font_base = NumericProperty(0)  # overrides the role's size when set
    shown = BooleanProperty(True)  # False collapses the label to no height


class KButton(ButtonBehavior, Label):
    """A large touch button; ``kind`` is primary, secondary or danger."""

    kind = StringProperty("secondary")
    selected = BooleanProperty(False)
    min_height = NumericProperty(96)
    font_base = NumericProperty(32)
    scales = BooleanProperty(True)  # False: keeps its size in large-text mode (header chrome)


class PhaseBox(BoxLayout):
    """One phase of a screen with several: hidden and deaf to touches unless ``active``."""

    active = BooleanProperty(True)

    def on_touch_down(self, touch: object) -> bool:
        return super().on_touch_down(touch) if self.active else False

    def on_touch_move(self, touch: object) -> bool:
        return super().on_touch_move(touch) if self.active else False

    def on_touch_up(self, touch: object) -> bool:
        return super().on_touch_up(touch) if self.active else False


class Keypad(GridLayout):
    """A 12-key numeric keypad: digits, clear and backspace. Emits ``on_key(key)``."""

    __events__ = ("on_key",)
    key_height = NumericProperty(110)

    def on_key(self, key: str) -> None:
        pass


class StepBar(BoxLayout):
    """The journey's progress: one segment per step, the current step named."""

    current = NumericProperty(0)
    total = NumericProperty(0)
    label = StringProperty("")
