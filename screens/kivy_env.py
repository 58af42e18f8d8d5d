"""Prepare Kivy before its first import: window size, offscreen rendering, no exit on Escape.

Kivy reads its environment and config when first imported, so ``prepare_kivy()`` must run before
any ``import kivy``. Offscreen rendering uses SDL's offscreen video driver over Mesa's EGL
(Debian's libgl1-mesa-dri, libegl1, libgles2): no X server is needed.
"""

from __future__ import annotations

import os
import sys
import tempfile

PORTRAIT = (1080, 1920)
LANDSCAPE = (1920, 1080)


def window_size(orientation: str) -> tuple[int, int]:
    return LANDSCAPE if orientation == "landscape" else PORTRAIT


def prepare_kivy(
    *,
    orientation: str = "portrait",
    offscreen: bool = False,
    fullscreen: bool = False,
    touch: bool = True,
) -> None:
    """Set Kivy's environment and config for the kiosk. Call once, before importing Kivy."""
    if "kivy" in sys.modules and "kivy.core.window" in sys.modules:
        return  # already prepared in this process (tests, screenshot --all)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    # SDL would turn SIGTERM/SIGINT into a window-close request, which the kiosk refuses; the
    # kiosk handles those signals itself and shuts down cleanly (kiosk.app.run_kiosk).
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")  # not xclip/xsel: no X server here
    if "KIVY_HOME" not in os.environ:
        os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-home-")
    if offscreen:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        # Mesa's software rasteriser: one thread. Its worker threads only fight the test
        # processes for two cores, and every texture upload waits for them.
        os.environ.setdefault("LP_NUM_THREADS", "1")
        fullscreen = False
    from kivy.config import Config

    width, height = window_size(orientation)
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "show_cursor", "0" if touch else "1")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set("kivy", "keyboard_mode", "dock" if touch else "system")
    Config.set("input", "mouse", "mouse,disable_multitouch")
