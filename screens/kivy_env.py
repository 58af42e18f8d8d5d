"""Prepare Kivy before its first import: window size, offscreen rendering, no exit on Escape.

Kivy reads its environment and config when first imported, so ``prepare_kivy()`` must run before
any ``import kivy``. Offscreen rendering uses SDL's offscreen video driver over Mesa's EGL
(Debian's libgl1-mesa-dri, libegl1, libgles2): no X server is needed.

Kivy logs through Python's ``logging`` (``KIVY_LOG_MODE=PYTHON``) as the ``kivy`` logger, and
that logger follows the process's logging setup (``kiosk --log-level``, see kiosk/cli/main.py)
rather
than Kivy's own config.ini level, so the kiosk's INFO lines are not buried under Kivy's.
``KivyNoise`` drops the few start-up records that are harmless on a kiosk yet look alarming in
the operators' log; every other Kivy warning and error still shows.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile

PORTRAIT = (1080, 1920)
LANDSCAPE = (1920, 1080)


def window_size(orientation: str) -> tuple[int, int]:
    return LANDSCAPE if orientation == "landscape" else PORTRAIT


class KivyNoise(logging.Filter):
    """Drop Kivy's harmless start-up records; let every other record through.

    - ``Cutbuffer: Unable to find any valuable Cutbuffer provider`` (CRITICAL, with a traceback
      for xclip and for xsel): the X11 cut buffer is middle-click paste, which a touchscreen
      kiosk does not have. Kivy probes for it on Linux whatever ``KIVY_CLIPBOARD`` says (the
      clipboard itself is SDL2's), and logs CRITICAL when neither tool is installed
      (kivy/kivy#4036).
    - ``Config: Older configuration version detected`` / ``Upgrading configuration``: a fresh
      ``KIVY_HOME`` (a new temporary one on every start) always gets Kivy's default config.ini.
    - Records below the process's level (the root logger's): while Kivy is being imported its
      logger holds config.ini's level (INFO), and Kivy's version banner would slip through.
    """

    HARMLESS = (
        "Cutbuffer: Unable to find any valuable Cutbuffer provider",
        "Config: Older configuration version detected",
        "Config: Upgrading configuration in progress",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.root.getEffectiveLevel():
            return False  # logged while Kivy's import held its logger at config.ini's level
        message = record.msg if isinstance(record.msg, str) else ""
        return not message.startswith(self.HARMLESS)


def quiet_kivy_noise() -> None:
    """Install ``KivyNoise`` on the ``kivy`` logger (once); safe before Kivy is imported."""
    kivy_log = logging.getLogger("kivy")
    if not any(isinstance(f, KivyNoise) for f in kivy_log.filters):
        kivy_log.addFilter(KivyNoise())


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
    # kiosk handles those signals itself and shuts down cleanly (kiosk.app.launch.run_kiosk).
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
    quiet_kivy_noise()
    from kivy.config import Config

    # Importing Kivy set its logger to config.ini's level (INFO): let it follow the process's
    # logging instead (WARNING unless ``--log-level`` says otherwise), as the kiosk's loggers do.
    # (In Kivy's own KIVY or MIXED mode, which an operator may choose, its level stays Kivy's.)
    if os.environ["KIVY_LOG_MODE"] == "PYTHON":
        logging.getLogger("kivy").setLevel(logging.NOTSET)
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
