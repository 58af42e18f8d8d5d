"""What a citizen would see wrong on a rendered screen, measured on the widgets as laid out and the
pixels as drawn: the checks ``kiosk screenshot --check`` and the screen tests run on every screen.

Checks (each problem names its kind, the widget and the numbers):

- ``no-size``: a widget that should show something (text, a photo, a preview, a text box) has
  almost no size on screen; ``blank-image``: an image shown with nothing to show.
- ``clipped``: text larger than its widget, a word broken across lines, a widget reaching out of
  its screen (under the header or the footer) or out of the window, or out of the layout that
  places it (a layout given less room than its content needs spills over its neighbours).
- ``overlap``: two touch targets, or two texts, that overlap; ``small-target``: a touch target
  under 64 px.
- ``text-contrast``: text against the background drawn behind it, below 4.5:1 (7:1 in high
  contrast), disabled text included.
- ``boundary-contrast``: the edge of a button or a text box (its fill or its border, including
  the focus mark) against what surrounds it, below 3:1 (WCAG 1.4.11).

Only what is visible counts: widgets of an inactive phase (opacity 0), scrolled out of view, or
under a modal overlay are left out. Colours come from the widgets; backgrounds from the pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

MIN_TARGET_PX = 64
TEXT_RATIO = 4.5
TEXT_RATIO_HIGH_CONTRAST = 7.0
BOUNDARY_RATIO = 3.0
SLACK_PX = 2  # rounding of layouts: a widget may reach this far past an edge


@dataclass(frozen=True)
class Problem:
    kind: str
    widget: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.widget}: {self.detail}"


Rect = tuple[float, float, float, float]  # x, y, right, top in window coordinates


@dataclass
class Shown:
    """A widget as a citizen sees it: where (window rect, and the part not scrolled away)."""

    widget: Any
    rect: Rect
    visible: Rect | None  # None: scrolled out of view
    opacity: float
    screen: Rect | None  # the screen it belongs to (None: the shell's chrome)
    in_scroll: bool


def relative_luminance(rgb: Any) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (float(c) for c in rgb[:3])
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: Any, b: Any) -> float:
    """WCAG contrast ratio of two RGB colours in 0..1."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def describe(widget: Any) -> str:
    name = type(widget).__name__
    ids = getattr(widget.parent, "ids", {}) if widget.parent is not None else {}
    widget_id = next((k for k, v in getattr(widget, "ids", {}).items() if v is widget), None)
    widget_id = widget_id or next((k for k, v in ids.items() if v is widget), None)
    text = getattr(widget, "text", "")
    text = text.replace("\n", " ")[:40] if isinstance(text, str) else ""
    return name + (f"#{widget_id}" if widget_id else "") + (f" {text!r}" if text else "")


def _intersect(a: Rect, b: Rect) -> Rect | None:
    x, y, r, t = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x, y, r, t) if r - x > 0.5 and t - y > 0.5 else None


def _window_rect(widget: Any) -> Rect:
    x, y = widget.to_window(widget.x, widget.y)
    return (x, y, x + widget.width, y + widget.height)


def shown_widgets(root: Any) -> Iterator[Shown]:
    """Every widget drawn with some opacity, outermost first, with its clip and its screen."""
    from kivy.uix.screenmanager import Screen
    from kivy.uix.scrollview import ScrollView

    window = (0.0, 0.0, float(root.width), float(root.height))
    stack: list[tuple[Any, float, Rect | None, Rect | None, bool]] = [
        (root, 1.0, window, None, False)
    ]
    while stack:
        widget, opacity, clip, screen, in_scroll = stack.pop()
        opacity *= widget.opacity
        if opacity < 0.05:
            continue
        rect = _window_rect(widget)
        visible = _intersect(rect, clip) if clip is not None else None
        yield Shown(widget, rect, visible, opacity, screen, in_scroll)
        child_clip, child_screen, child_scroll = clip, screen, in_scroll
        if isinstance(widget, Screen):
            child_screen = rect
        if isinstance(widget, ScrollView):
            child_clip = visible
            child_scroll = True
        if child_clip is None:
            continue
        for child in reversed(widget.children):
            stack.append((child, opacity, child_clip, child_screen, child_scroll))


def _is_target(widget: Any) -> bool:
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.textinput import TextInput

    return isinstance(widget, ButtonBehavior | TextInput)


def _modal(root: Any) -> Any:
    """The modal overlay in front of everything (the idle warning), or None."""
    for child in root.children:
        if getattr(child, "active", False) and type(child).__name__ == "IdleOverlay":
            return child
    return None


def _inside(widget: Any, ancestor: Any) -> bool:
    while widget is not None:
        if widget is ancestor:
            return True
        parent = widget.parent
        widget = None if parent is widget else parent
    return False


class Pixels:
    """The rendered screen (RGB, rows from the top) read in window coordinates."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = rgb.astype(np.float64) / 255.0
        self.height, self.width = rgb.shape[:2]

    def region(self, rect: Rect) -> np.ndarray:
        x0, y0 = max(0, int(round(rect[0]))), max(0, int(round(rect[1])))
        x1, y1 = min(self.width, int(round(rect[2]))), min(self.height, int(round(rect[3])))
        if x1 <= x0 or y1 <= y0:
            return np.zeros((0, 3))
        rows = slice(self.height - y1, self.height - y0)
        return self.rgb[rows, x0:x1].reshape(-1, 3)

    def dominant(self, rect: Rect) -> np.ndarray | None:
        """The most common colour of a region (its background when text covers less of it)."""
        pixels = self.region(rect)
        if not len(pixels):
            return None
        binned = np.round(pixels * 63).astype(np.int64)
        keys = binned[:, 0] * 4096 + binned[:, 1] * 64 + binned[:, 2]
        values, counts = np.unique(keys, return_counts=True)
        key = values[int(np.argmax(counts))]
        mask = keys == key
        return pixels[mask].mean(axis=0)

    def median(self, rect: Rect) -> np.ndarray | None:
        pixels = self.region(rect)
        return np.median(pixels, axis=0) if len(pixels) else None


def check_layout(root: Any, rgb: np.ndarray, *, high_contrast: bool = False) -> list[Problem]:
    """Every problem a citizen would meet on the screen drawn in ``rgb`` (the root's PNG)."""
    from kivy.uix.image import Image
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import Screen, ScreenManager
    from kivy.uix.textinput import TextInput

    pixels = Pixels(rgb)
    modal = _modal(root)
    window = (0.0, 0.0, float(root.width), float(root.height))
    problems: list[Problem] = []
    targets: list[Shown] = []
    texts: list[Shown] = []
    text_ratio = TEXT_RATIO_HIGH_CONTRAST if high_contrast else TEXT_RATIO
    for shown in shown_widgets(root):
        widget = shown.widget
        if modal is not None and not _inside(widget, modal):
            continue  # behind the modal warning: neither readable nor touchable
        if shown.visible is None:
            continue
        name = describe(widget)
        x, y, right, top = shown.rect
        # -- out of the window, or out of its screen (under the header or the footer)
        if not isinstance(widget, ScreenManager | Screen) and not shown.in_scroll:
            bounds = shown.screen or window
            if (
                x < bounds[0] - SLACK_PX
                or y < bounds[1] - SLACK_PX
                or right > bounds[2] + SLACK_PX
                or top > bounds[3] + SLACK_PX
            ) and (right - x > 1 and top - y > 1):
                where = "its screen" if shown.screen else "the window"
                problems.append(
                    Problem(
                        "clipped",
                        name,
                        f"reaches out of {where}: {_fmt(shown.rect)} beyond {_fmt(bounds)}",
                    )
                )
        spill = _spills_out_of_layout(widget, shown.rect)
        if spill:
            problems.append(Problem("clipped", name, spill))
        fully_shown = shown.visible == shown.rect or _contains(shown.visible, shown.rect)
        # -- what should show something has a real size
        text = getattr(widget, "text", None)
        has_text = isinstance(text, str) and bool(text.strip())
        if isinstance(widget, Label) and has_text:
            if widget.width < 4 or widget.height < 0.5 * widget.font_size:
                problems.append(Problem("no-size", name, f"text in {_fmt_size(widget)}"))
            elif fully_shown:
                problems.extend(_text_fits(widget, name))
        if isinstance(widget, Image):
            problems.extend(_image_shows(widget, name))
        if isinstance(widget, TextInput) and widget.height < widget.font_size + 8:
            problems.append(Problem("no-size", name, f"text box {_fmt_size(widget)}"))
        # -- text contrast against what is drawn behind it
        if isinstance(widget, Label) and has_text and fully_shown:
            colour = widget.disabled_color if widget.disabled else widget.color
            problem = _text_contrast(pixels, shown, colour, text_ratio, name)
            if problem:
                problems.append(problem)
        if _is_target(widget):
            targets.append(shown)
        elif isinstance(widget, Label) and has_text:
            texts.append(shown)
    for shown in targets:
        name = describe(shown.widget)
        fully_shown = _contains(shown.visible, shown.rect)
        width, height = shown.rect[2] - shown.rect[0], shown.rect[3] - shown.rect[1]
        if fully_shown and min(width, height) < MIN_TARGET_PX:
            problems.append(
                Problem("small-target", name, f"{width:.0f}×{height:.0f} px (min {MIN_TARGET_PX})")
            )
        if fully_shown:
            problem = _boundary_contrast(pixels, shown, name)
            if problem:
                problems.append(problem)
    problems.extend(_overlaps(targets))
    problems.extend(_overlaps(texts, _text_rect))
    return problems


def _text_rect(shown: Shown) -> Rect:
    """Where a label's text is drawn: Kivy centres the texture on the widget (alignment acts
    inside ``text_size``), cut to what is visible."""
    widget = shown.widget
    tw, th = widget.texture_size
    cx, cy = widget.to_window(*widget.center)
    drawn = (cx - tw / 2, cy - th / 2, cx + tw / 2, cy + th / 2)
    return _intersect(drawn, shown.visible or shown.rect) or (cx, cy, cx, cy)


def _overlaps(items: list[Shown], rect_of: Any = None) -> list[Problem]:
    problems = []
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if _inside(a.widget, b.widget) or _inside(b.widget, a.widget):
                continue
            if rect_of is not None:
                both = _intersect(rect_of(a), rect_of(b))
            else:
                both = _intersect(a.visible, b.visible) if a.visible and b.visible else None
            if both and both[2] - both[0] > SLACK_PX and both[3] - both[1] > SLACK_PX:
                problems.append(
                    Problem(
                        "overlap",
                        describe(a.widget),
                        f"overlaps {describe(b.widget)} on {_fmt(both)}",
                    )
                )
    return problems


def _spills_out_of_layout(widget: Any, rect: Rect) -> str:
    """Why ``widget`` lies outside the box, grid or stack layout that places it ('' if not)."""
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.gridlayout import GridLayout
    from kivy.uix.stacklayout import StackLayout

    parent = widget.parent
    if not isinstance(parent, BoxLayout | GridLayout | StackLayout):
        return ""
    if widget.width <= 1 or widget.height <= 1:
        return ""
    box = _window_rect(parent)
    if _contains(box, rect):
        return ""
    return f"spills out of its layout: {_fmt(rect)} beyond {_fmt(box)}"


def _contains(outer: Rect | None, inner: Rect) -> bool:
    if outer is None:
        return False
    return (
        inner[0] >= outer[0] - SLACK_PX
        and inner[1] >= outer[1] - SLACK_PX
        and inner[2] <= outer[2] + SLACK_PX
        and inner[3] <= outer[3] + SLACK_PX
    )


def _text_fits(label: Any, name: str) -> list[Problem]:
    problems = []
    tw, th = label.texture_size
    if th > label.height + SLACK_PX or tw > label.width + SLACK_PX:
        problems.append(
            Problem(
                "clipped",
                name,
                f"text {tw:.0f}×{th:.0f} px in a widget of {_fmt_size(label)}",
            )
        )
    wrap_width = label.text_size[0] if label.text_size else None
    core = getattr(label, "_label", None)
    if wrap_width and core is not None and not getattr(label, "shorten", False):
        padding = label.padding[0] + label.padding[2] if len(label.padding) == 4 else 0
        room = wrap_width - padding
        for word in label.text.split():
            width = core.get_extents(word)[0]
            if width > room + SLACK_PX:
                problems.append(
                    Problem(
                        "clipped",
                        name,
                        f"the word {word!r} ({width:.0f} px) is broken across lines "
                        f"({room:.0f} px wide)",
                    )
                )
                break
    return problems


def _image_shows(image: Any, name: str) -> list[Problem]:
    if image.texture is None:
        if image.width > 4 and image.height > 4:
            return [Problem("blank-image", name, f"nothing to show in {_fmt_size(image)}")]
        return []
    width, height = image.norm_image_size
    if min(width, height) < MIN_TARGET_PX:
        return [Problem("no-size", name, f"the picture is drawn {width:.0f}×{height:.0f} px")]
    return []


def _text_contrast(
    pixels: Pixels, shown: Shown, colour: Any, minimum: float, name: str
) -> Problem | None:
    background = pixels.dominant(shown.visible or shown.rect)
    if background is None:
        return None
    alpha = float(colour[3]) * shown.opacity
    drawn = np.asarray(colour[:3], dtype=np.float64) * alpha + background * (1 - alpha)
    ratio = contrast_ratio(drawn, background)
    if ratio + 1e-6 < minimum:
        return Problem(
            "text-contrast",
            name,
            f"{ratio:.2f}:1 (min {minimum}:1), text {_hex(drawn)} on {_hex(background)}"
            + (" (disabled)" if shown.widget.disabled else ""),
        )
    return None


def _boundary_contrast(pixels: Pixels, shown: Shown, name: str) -> Problem | None:
    """The control's edge (its fill or border, 1 to 6 px in) against 3 to 7 px outside it, on
    the middle half of each side; the weakest side counts."""
    x, y, right, top = shown.rect
    w, h = right - x, top - y
    sides = {
        "left": (lambda d: (x + d, y + h / 4, x + d + 1, top - h / 4)),
        "right": (lambda d: (right - d - 1, y + h / 4, right - d, top - h / 4)),
        "bottom": (lambda d: (x + w / 4, y + d, right - w / 4, y + d + 1)),
        "top": (lambda d: (x + w / 4, top - d - 1, right - w / 4, top - d)),
    }
    worst: tuple[float, str] | None = None
    for side, strip in sides.items():
        outside = [pixels.median(strip(-d)) for d in range(3, 8)]
        outside = [c for c in outside if c is not None]
        if not outside:
            continue  # the edge of the window: nothing around it to stand out from
        around = np.median(np.array(outside), axis=0)
        edge = [pixels.median(strip(d)) for d in range(1, 7)]
        best = max((contrast_ratio(c, around) for c in edge if c is not None), default=1.0)
        if worst is None or best < worst[0]:
            worst = (best, side)
    if worst is not None and worst[0] + 1e-6 < BOUNDARY_RATIO:
        state = " (disabled)" if shown.widget.disabled else ""
        return Problem(
            "boundary-contrast",
            name,
            f"{worst[0]:.2f}:1 on its {worst[1]} edge (min {BOUNDARY_RATIO}:1){state}",
        )
    return None


def _fmt(rect: Rect) -> str:
    return f"({rect[0]:.0f},{rect[1]:.0f})–({rect[2]:.0f},{rect[3]:.0f})"


def _fmt_size(widget: Any) -> str:
    return f"{widget.width:.0f}×{widget.height:.0f} px"


def _hex(rgb: Any) -> str:
    return "#" + "".join(f"{int(round(float(c) * 255)):02x}" for c in rgb[:3])
