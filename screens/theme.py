"""Colours and sizes of the kiosk's look: a normal palette (WCAG AA: text 4.5:1, boundaries 3:1)
and a high-contrast one (WCAG AAA: text 7:1), and the text zoom steps.

Every control has a visible boundary: a fill or a border of at least 3:1 against what is around
it (``border``), in every state. Disabled controls keep readable text (``disabled_fg`` on
``disabled``), and a chosen option is marked by a tick and a border, not by the main action's fill.
``screens.layout_check`` measures all of this on the rendered screens.
"""

from __future__ import annotations

Colour = tuple[float, float, float, float]

NORMAL: dict[str, Colour] = {
    "bg": (0.957, 0.965, 0.976, 1),
    "surface": (1, 1, 1, 1),
    "fg": (0.09, 0.11, 0.15, 1),
    "muted": (0.30, 0.34, 0.40, 1),
    "primary": (0.05, 0.28, 0.63, 1),
    "on_primary": (1, 1, 1, 1),
    "secondary": (0.87, 0.90, 0.95, 1),
    "on_secondary": (0.05, 0.20, 0.45, 1),
    "selected": (0.86, 0.92, 1.0, 1),
    "on_selected": (0.03, 0.17, 0.40, 1),
    "pressed": (0.30, 0.34, 0.40, 1),
    "on_pressed": (1, 1, 1, 1),
    "panel": (0.80, 0.83, 0.88, 1),  # behind the keyboard's keys
    "header": (0.64, 0.11, 0.11, 1),
    "on_header": (1, 1, 1, 1),
    "error": (0.70, 0.07, 0.07, 1),
    "on_error": (1, 1, 1, 1),
    "ok": (0.07, 0.45, 0.20, 1),
    "line": (0.42, 0.46, 0.52, 1),
    "border": (0.33, 0.38, 0.46, 1),
    "focus": (0.05, 0.28, 0.63, 1),
    "disabled": (0.90, 0.91, 0.93, 1),
    "disabled_fg": (0.33, 0.36, 0.41, 1),
    "disabled_border": (0.48, 0.51, 0.56, 1),
}

HIGH_CONTRAST: dict[str, Colour] = {
    "bg": (0, 0, 0, 1),
    "surface": (0, 0, 0, 1),
    "fg": (1, 1, 1, 1),
    "muted": (1, 1, 1, 1),
    "primary": (1, 0.84, 0, 1),
    "on_primary": (0, 0, 0, 1),
    "secondary": (0, 0, 0, 1),
    "on_secondary": (1, 0.84, 0, 1),
    "selected": (0, 0, 0, 1),
    "on_selected": (1, 1, 1, 1),
    "pressed": (1, 1, 1, 1),
    "on_pressed": (0, 0, 0, 1),
    "panel": (0, 0, 0, 1),
    "header": (0, 0, 0, 1),
    "on_header": (1, 1, 1, 1),
    "error": (1, 0.55, 0.55, 1),
    "on_error": (0, 0, 0, 1),
    "ok": (0.55, 1, 0.55, 1),
    "line": (1, 1, 1, 1),
    "border": (1, 1, 1, 1),
    "focus": (1, 0.84, 0, 1),
    "disabled": (0, 0, 0, 1),
    "disabled_fg": (0.78, 0.78, 0.78, 1),
    "disabled_border": (0.62, 0.62, 0.62, 1),
}

# Text zoom: "A+" steps through these; large text (config, or an elder at the kiosk) is the last.
ZOOM_STEPS: tuple[float, ...] = (1.0, 1.25, 1.5)
NORMAL_SCALE = ZOOM_STEPS[0]
LARGE_SCALE = ZOOM_STEPS[-1]

# Font sizes (px at zoom 1) of the label roles.
ROLE_SIZES: dict[str, int] = {"title": 52, "big": 80, "subtitle": 36, "body": 30, "small": 26}

MIN_TOUCH = 96  # px: every button is at least this tall (the issue asks for 64 or more)
BORDER_WIDTH = 2  # px: a control's boundary
FOCUS_WIDTH = 4  # px: the focused text box's mark


def next_zoom(scale: float) -> float:
    """The zoom step after ``scale`` (the largest goes back to normal)."""
    larger = [step for step in ZOOM_STEPS if step > scale + 1e-6]
    return larger[0] if larger else ZOOM_STEPS[0]
