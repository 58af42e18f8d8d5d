"""Shared test set-up: Kivy offscreen before any import of it, and a kiosk config per test."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Kivy reads these at import time: no argument parsing, a private home, offscreen rendering
# through Mesa with SDL's offscreen driver (no X server).
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-tests-"))
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

# The kiosk's window (1080×1920 portrait) before any test module imports a screen: a screen module
# imported first would create Kivy's default 800×600 window, and the UI tests would tap widgets
# laid out for a screen no kiosk has.
from screens.kivy_env import prepare_kivy  # noqa: E402

prepare_kivy(offscreen=True)


@pytest.fixture
def kiosk_env(tmp_path: Path) -> dict[str, str]:
    """Overrides that point the default config at a private data folder and a free port."""
    return {
        "KIOSK_KIOSK_DATA_DIR": str(tmp_path / "var"),
        "KIOSK_KIOSK_FULLSCREEN": "false",
        "KIOSK_PRINTER_PORT": "0",
        "KIOSK_PRINTER_HOST": "127.0.0.1",
    }


@pytest.fixture
def kiosk_config(kiosk_env: dict[str, str]):  # type: ignore[no-untyped-def]
    from kiosk.config.settings import load_config

    return load_config(None, env=kiosk_env)
