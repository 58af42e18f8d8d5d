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
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget


class KLabel(Label):
    """A label that wraps to its width and grows to its text's height."""

    role = StringProperty("body")  # title | subtitle | body | small | big
    font_base = NumericProperty(0)  # overrides the role's size when set
    shown = BooleanProperty(True)  # False collapses the label to no height
    one_line = BooleanProperty(False)  # True: the font shrinks rather than wrap (a ticket number)


Colour = tuple[float, float, float, float]
Palette = dict[str, Colour]


class KButton(ButtonBehavior, Label):
    """A large touch button; ``kind`` is primary, secondary or danger.

    ``selected`` marks a chosen option (a tick, a thick border, a light fill: never the main
    action's look). A disabled button stays readable and says so by its flat grey look.
    """

    kind = StringProperty("secondary")
    selected = BooleanProperty(False)
    min_height = NumericProperty(96)
    font_base = NumericProperty(32)
    scales = BooleanProperty(True)  # False: keeps its size whatever the zoom
    wrap = BooleanProperty(True)  # False: one line, the button as wide as its text needs

    # The look's inputs are arguments so that the kv rules follow each of them.
    @staticmethod
    def fill_colour(
        colours: Palette, kind: str, state: str, selected: bool, disabled: bool
    ) -> Colour:
        if disabled:
            return colours["disabled"]
        if state == "down":
            return colours["pressed"]
        if selected:
            return colours["selected"]
        return colours[{"primary": "primary", "danger": "error"}.get(kind, "secondary")]

    @staticmethod
    def border_colour(
        colours: Palette, kind: str, state: str, selected: bool, disabled: bool
    ) -> Colour:
        if disabled:
            return colours["disabled_border"]
        if selected:
            return colours["focus"]
        if kind == "secondary" or colours["secondary"] == colours["bg"]:
            return colours["border"]
        return (0, 0, 0, 0)  # a primary or danger fill is its own boundary

    @staticmethod
    def text_colour(
        colours: Palette, kind: str, state: str, selected: bool, disabled: bool
    ) -> Colour:
        if state == "down" and not disabled:
            return colours["on_pressed"]
        if selected:
            return colours["on_selected"]
        return colours[{"primary": "on_primary", "danger": "on_error"}.get(kind, "on_secondary")]


class KInput(TextInput):
    """A text box with a visible border (3:1 or more) and a thick focus mark, in every palette."""


class PhaseBox(BoxLayout):
    """One phase of a screen with several: hidden, deaf to touches and of no height unless
    ``active``. The active phase takes the room the others leave (``size_hint_y`` 1)."""

    active = BooleanProperty(True)
    fills = BooleanProperty(True)  # False: the phase sets its own height (a docked keyboard)

    def on_active(self, _widget: object, active: bool) -> None:
        # An inactive phase must give its room back: left alone it would keep the height it had
        # while active and squeeze the next phase (the chip photo once showed 0 px high).
        if self.fills:
            self.size_hint_y = 1 if active else None
        if not active:
            self.height = 0

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


def discard_children(box: Widget) -> None:
    """Remove ``box``'s children for good: first the handlers their .kv rules bound (to
    ``app.colors``, ``app.lang``, …), which would otherwise outlive them and meet a dead widget
    at the next change of colours ("weakly-referenced object no longer exists"). Only for
    widgets that are never shown again: a row kept for later must keep its rules."""
    from kivy.lang import Builder

    for child in list(box.children):
        for widget in child.walk(restrict=True):
            Builder.unbind_widget(widget.uid)
    box.clear_widgets()
