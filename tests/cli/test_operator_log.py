"""The operators' log at start: the kiosk's own INFO lines show, Kivy's harmless noise does not.

Issue 12: every start printed a CRITICAL line and two tracebacks (Kivy probing xclip and xsel for
the X11 cut buffer) while the kiosk's own "starting: printer=…" line was hidden behind WARNING.
"""

from __future__ import annotations

import logging
from pathlib import Path

from support.cli_helpers import offscreen_kiosk_env, run_kiosk

from kiosk.cli.main import OWN_LOGGERS, configure_logging
from screens.kivy_env import KivyNoise


def _record(level: int, msg: str, name: str = "kivy") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, None, None)


def test_kiosk_run_logs_its_devices_and_no_kivy_noise(tmp_path: Path) -> None:
    result = run_kiosk("run", "--offscreen", "--seconds", "3", env=offscreen_kiosk_env(tmp_path))
    err = result.stderr
    assert result.returncode == 0, err[-3000:]
    assert "kiosk KIOSK-01 starting: printer=simulated camera=simulated" in err, err
    assert "CRITICAL" not in err, err
    assert "Traceback" not in err and "FileNotFoundError" not in err, err
    assert "Cutbuffer" not in err, err
    # Kivy's INFO chatter (version banner, GL details, providers) stays out of the default log.
    assert "kivy:" not in err, err
    # Every line is one record in the one format: time, level, logger, message.
    for line in err.strip().splitlines():
        assert line[:4].isdigit() and (" INFO " in line or " WARNING " in line), line


def test_kivy_noise_filter_drops_only_the_harmless_records() -> None:
    noise = KivyNoise()
    root = logging.getLogger()
    saved = root.level
    root.setLevel(logging.INFO)
    try:
        cutbuffer = (
            "Cutbuffer: Unable to find any valuable Cutbuffer provider. Please enable debug "
            "logging\nxclip - FileNotFoundError: [Errno 2] No such file or directory: 'xclip'"
        )
        assert not noise.filter(_record(logging.CRITICAL, cutbuffer))
        assert not noise.filter(
            _record(
                logging.WARNING, "Config: Older configuration version detected (0 instead of 27)"
            )
        )
        assert not noise.filter(_record(logging.DEBUG, "Base: something only DEBUG shows"))
        # Real Kivy problems still reach the operator.
        assert noise.filter(
            _record(logging.CRITICAL, "Clipboard: Unable to find any valuable Clipboard provider.")
        )
        assert noise.filter(_record(logging.CRITICAL, "Window: Unable to find any valuable Window"))
        assert noise.filter(_record(logging.ERROR, "GL: Minimum required OpenGL version (2.0)"))
        assert noise.filter(_record(logging.INFO, "Base: Start application main loop"))
    finally:
        root.setLevel(saved)


def test_log_level_default_and_explicit() -> None:
    saved = {name: logging.getLogger(name).level for name in OWN_LOGGERS}
    try:
        configure_logging(None, own_default="INFO")
        assert all(logging.getLogger(n).level == logging.INFO for n in OWN_LOGGERS)
        configure_logging(None)
        assert all(logging.getLogger(n).level == logging.WARNING for n in OWN_LOGGERS)
        configure_logging("error", own_default="INFO")
        assert all(logging.getLogger(n).level == logging.ERROR for n in OWN_LOGGERS)
        configure_logging("nonsense", own_default="INFO")
        assert all(logging.getLogger(n).level == logging.WARNING for n in OWN_LOGGERS)
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
