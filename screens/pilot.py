"""Drive the kiosk's Kivy shell headlessly: pump frames, tap widgets, wait, take screenshots.

Used by the offscreen UI tests and by ``kiosk screenshot``. The app is prepared the way
``App.run()`` prepares it, but frames are pumped by the caller instead of an endless loop, so a
test can tap a button, wait for the session to move and look at what the screen shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.base import EventLoop
from kivy.input.motionevent import MotionEvent
from kivy.uix.widget import Widget


class PilotTouch(MotionEvent):
    """One finger on the screen at window coordinates (x, y)."""

    def __init__(self, x: float, y: float) -> None:
        win = EventLoop.window
        super().__init__(
            "pilot",
            1,
            {"sx": x / max(1, win.width - 1), "sy": y / max(1, win.height - 1)},
            is_touch=True,
            type_id="touch",
        )
        self.profile = ["pos"]

    def depack(self, args: dict[str, float]) -> None:
        self.sx = args["sx"]
        self.sy = args["sy"]
        super().depack(args)


class PilotError(AssertionError):
    """What the pilot was asked to do is not possible on the screen shown."""


class Pilot:
    """A headless driver of one ``App``."""

    def __init__(self, app: App) -> None:
        self.app = app
        EventLoop.ensure_window()
        app._run_prepare()
        self.pump(3)

    def pump(self, frames: int = 2) -> None:
        for _ in range(frames):
            EventLoop.idle()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise PilotError("timed out waiting for the kiosk")
            self.pump(1)
            time.sleep(0.01)
        self.pump(2)

    @property
    def root(self) -> Widget:
        return self.app.root

    def screen(self) -> Any:
        return self.root.ids.screens.current_screen

    def widget(self, widget_id: str) -> Widget:
        """A widget by id: on the current screen first, then in the shell."""
        screen = self.screen()
        found = _find_id(screen, widget_id)
        if found is None:
            found = self.root.ids.get(widget_id)
        if found is None:
            raise PilotError(f"no widget with id {widget_id!r} on screen {screen.name!r}")
        return found

    def find_text(self, text: str, *, startswith: bool = False) -> Widget:
        """The first visible widget on the current screen showing ``text``."""
        stack = [self.screen()]
        while stack:
            widget = stack.pop(0)
            shown = getattr(widget, "text", None)
            visible = isinstance(shown, str) and widget.opacity > 0
            if visible and (shown == text or (startswith and shown.startswith(text))):
                return widget
            stack.extend(reversed(widget.children))
        raise PilotError(f"no widget shows {text!r} on screen {self.screen().name!r}")

    def tap(self, target: Widget | str) -> None:
        """Touch the middle of a widget and lift the finger, like a citizen would."""
        widget = self.widget(target) if isinstance(target, str) else target
        self.pump(1)
        self._scroll_into_view(widget)
        if widget.disabled or widget.opacity == 0 or widget.get_root_window() is None:
            raise PilotError(f"{target!r} is not tappable (disabled, hidden or not shown)")
        x, y = widget.to_window(*widget.center)
        touch = PilotTouch(x, y)
        EventLoop.post_dispatch_input("begin", touch)
        EventLoop.post_dispatch_input("end", touch)
        self.pump(2)

    def hold(self, x: float, y: float, seconds: float) -> None:
        """Keep a finger on window point (x, y) for ``seconds`` (the kiosk's clock runs
        meanwhile), then lift it."""
        touch = PilotTouch(x, y)
        EventLoop.post_dispatch_input("begin", touch)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(1)
            time.sleep(0.02)
        EventLoop.post_dispatch_input("end", touch)
        self.pump(2)

    def _scroll_into_view(self, widget: Widget) -> None:
        """Scroll every ScrollView above ``widget`` so that it is visible, as a citizen would."""
        from kivy.uix.scrollview import ScrollView

        from screens.scrolling import reveal

        parent = widget.parent
        while parent is not None and parent is not parent.parent:
            if isinstance(parent, ScrollView):
                reveal(parent, widget)
                self.pump(2)
            parent = parent.parent

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.pump(3)
        self.root.export_to_png(str(path))
        return path

    def close(self) -> None:
        self.app.dispatch("on_stop")
        window = EventLoop.window
        if window is not None and self.app.root is not None:
            window.remove_widget(self.app.root)
        App._running_app = None


def _find_id(widget: Widget, widget_id: str) -> Widget | None:
    ids = getattr(widget, "ids", {})
    if widget_id in ids:
        return ids[widget_id]
    for child in widget.children:
        found = _find_id(child, widget_id)
        if found is not None:
            return found
    return None
