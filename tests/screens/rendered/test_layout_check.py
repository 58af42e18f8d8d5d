"""The layout check catches what made the kiosk's screens fail their citizens, on small widget
trees drawn for real: a photo squeezed to nothing, text over text, a text box black on black, a
disabled button's text at 1.1:1, two buttons on top of each other, a title under the header."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kivy.base import EventLoop
from kivy.graphics import Color, Rectangle
from kivy.graphics.texture import Texture
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.textinput import TextInput

from kiosk.app.screenshots import read_rgb
from screens.layout_check import check_layout, contrast_ratio


def drawn(root: Any, tmp_path: Path, bg: tuple[float, ...] = (1, 1, 1, 1)) -> np.ndarray:
    EventLoop.ensure_window()
    window = EventLoop.window
    root.size = window.size
    with root.canvas.before:
        Color(*bg)
        Rectangle(pos=(0, 0), size=window.size)
    window.add_widget(root)
    try:
        for _ in range(3):
            EventLoop.idle()
        path = tmp_path / "drawn.png"
        root.export_to_png(str(path))
        return read_rgb(path)
    finally:
        window.remove_widget(root)


def kinds(problems: list[Any]) -> set[str]:
    return {p.kind for p in problems}


def test_wcag_contrast_ratio() -> None:
    assert contrast_ratio((0, 0, 0), (1, 1, 1)) == pytest.approx(21.0)
    assert contrast_ratio((1, 1, 1), (1, 1, 1)) == pytest.approx(1.0)
    assert contrast_ratio((0.46, 0.46, 0.46), (1, 1, 1)) == pytest.approx(4.6, abs=0.1)


def test_a_clean_screen_has_no_problem(tmp_path: Path) -> None:
    root = FloatLayout()
    root.add_widget(
        Label(
            text="Xin chào",
            color=(0, 0, 0, 1),
            font_size=40,
            size_hint=(None, None),
            size=(400, 80),
            pos=(40, 400),
        )
    )
    root.add_widget(
        Button(
            text="Tiếp tục",
            background_normal="",
            background_color=(0.05, 0.28, 0.63, 1),
            size_hint=(None, None),
            size=(300, 100),
            pos=(40, 200),
        )
    )
    assert check_layout(root, drawn(root, tmp_path)) == []


def test_a_photo_squeezed_to_nothing_text_over_text_and_a_spilling_layout(
    tmp_path: Path,
) -> None:
    root = FloatLayout()
    box = BoxLayout(orientation="vertical", size_hint=(None, None), size=(500, 200), pos=(0, 300))
    texture = Texture.create(size=(60, 80))
    texture.blit_buffer(bytes([128]) * 60 * 80 * 3, colorfmt="rgb", bufferfmt="ubyte")
    stale = Label(text="Reading the chip", color=(0, 0, 0, 1), size_hint_y=None, height=240)
    box.add_widget(stale)  # a phase that kept its height: the photo gets what is left, or less
    box.add_widget(Image(texture=texture, size_hint_y=None, height=10))
    root.add_widget(box)
    title = Label(
        text="Is this you?",
        color=(0, 0, 0, 1),
        font_size=40,
        size_hint=(None, None),
        size=(500, 60),
        pos=(0, 400),
    )
    root.add_widget(title)  # drawn over the stale phase's text
    problems = check_layout(root, drawn(root, tmp_path))
    assert any(p.kind == "no-size" and "Image" in p.widget for p in problems), problems
    assert any(p.kind == "overlap" and "Is this you" in p.detail + p.widget for p in problems), (
        problems
    )
    assert any("spills out of its layout" in p.detail for p in problems), problems


def test_a_text_box_black_on_black_has_no_boundary(tmp_path: Path) -> None:
    root = FloatLayout()
    root.add_widget(
        TextInput(
            background_normal="",
            background_active="",
            background_color=(0, 0, 0, 1),
            foreground_color=(1, 1, 1, 1),
            size_hint=(None, None),
            size=(500, 96),
            pos=(40, 300),
        )
    )
    problems = check_layout(root, drawn(root, tmp_path, bg=(0, 0, 0, 1)), high_contrast=True)
    assert any(p.kind == "boundary-contrast" and "TextInput" in p.widget for p in problems)


def test_kivys_default_disabled_text_fails_contrast(tmp_path: Path) -> None:
    root = FloatLayout()
    button = Button(
        text="Read my card",
        background_normal="",
        background_disabled_normal="",
        background_color=(0.87, 0.90, 0.95, 1),
        size_hint=(None, None),
        size=(400, 96),
        pos=(40, 300),
        disabled=True,
        opacity=0.6,
    )
    root.add_widget(button)
    problems = check_layout(root, drawn(root, tmp_path, bg=(0.957, 0.965, 0.976, 1)))
    assert any(p.kind == "text-contrast" and "(disabled)" in p.detail for p in problems), problems


def test_overlapping_and_small_targets(tmp_path: Path) -> None:
    root = FloatLayout()
    for x in (40, 200):
        root.add_widget(Button(text="A", size_hint=(None, None), size=(200, 100), pos=(x, 300)))
    root.add_widget(Button(text="B", size_hint=(None, None), size=(200, 40), pos=(40, 100)))
    problems = check_layout(root, drawn(root, tmp_path))
    assert "overlap" in kinds(problems)
    assert any(p.kind == "small-target" and "200×40" in p.detail for p in problems)


def test_clipped_text_and_broken_word(tmp_path: Path) -> None:
    root = FloatLayout()
    long = Label(
        text="Your number BAO-U0123456789",
        color=(0, 0, 0, 1),
        font_size=80,
        size_hint=(None, None),
        size=(300, 90),
        pos=(20, 300),
    )
    long.text_size = (300, None)
    root.add_widget(long)
    problems = check_layout(root, drawn(root, tmp_path))
    details = " ".join(p.detail for p in problems if p.kind == "clipped")
    assert "broken across lines" in details and "in a widget of" in details, problems
