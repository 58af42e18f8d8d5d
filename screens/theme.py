"""Colours and sizes of the kiosk's look: a normal palette and a high-contrast one (WCAG AAA)."""

from __future__ import annotations

NORMAL: dict[str, tuple[float, float, float, float]] = {
    "bg": (0.957, 0.965, 0.976, 1),
    "surface": (1, 1, 1, 1),
    "fg": (0.09, 0.11, 0.15, 1),
    "muted": (0.30, 0.34, 0.40, 1),
    "primary": (0.05, 0.28, 0.63, 1),
    "on_primary": (1, 1, 1, 1),
    "secondary": (0.87, 0.90, 0.95, 1),
    "on_secondary": (0.05, 0.20, 0.45, 1),
    "header": (0.64, 0.11, 0.11, 1),
    "on_header": (1, 1, 1, 1),
    "error": (0.70, 0.07, 0.07, 1),
    "on_error": (1, 1, 1, 1),
    "ok": (0.07, 0.45, 0.20, 1),
    "line": (0.78, 0.81, 0.86, 1),
}

HIGH_CONTRAST: dict[str, tuple[float, float, float, float]] = {
    "bg": (0, 0, 0, 1),
    "surface": (0, 0, 0, 1),
    "fg": (1, 1, 1, 1),
    "muted": (1, 1, 1, 1),
    "primary": (1, 0.84, 0, 1),
    "on_primary": (0, 0, 0, 1),
    "secondary": (0, 0, 0, 1),
    "on_secondary": (1, 0.84, 0, 1),
    "header": (0, 0, 0, 1),
    "on_header": (1, 1, 1, 1),
    "error": (1, 0.55, 0.55, 1),
    "on_error": (0, 0, 0, 1),
    "ok": (0.55, 1, 0.55, 1),
    "line": (1, 1, 1, 1),
}

NORMAL_SCALE = 1.0
LARGE_SCALE = 1.3

MIN_TOUCH = 96  # px: every button is at least this tall (the issue asks for 64 or more)
