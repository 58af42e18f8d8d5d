"""Run the ``kiosk`` command in a child process as an operator would, with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_kiosk(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``kiosk ARGS`` with the test process's KIOSK_*/KIVY_* variables left out, ``env`` added."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "KIVY_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=timeout,
    )


def offscreen_kiosk_env(tmp_path: Path) -> dict[str, str]:
    """A kiosk that runs offscreen in ``tmp_path``: its own data folder, Kivy home, printer port."""
    return {
        "KIOSK_KIOSK_DATA_DIR": str(tmp_path / "var"),
        "KIOSK_KIOSK_FULLSCREEN": "false",
        "KIOSK_PRINTER_PORT": "0",
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(tmp_path / "kivy"),
        "SDL_VIDEODRIVER": "offscreen",
    }
