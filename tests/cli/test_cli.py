"""The ``kiosk`` command: config check messages, exit codes, JSON, and a real offscreen start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.cli_helpers import ROOT, offscreen_kiosk_env, run_kiosk


def test_config_check_default_is_ok() -> None:
    result = run_kiosk("config", "check")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_config_check_names_each_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[kiosk]\nagency_name = "Trung tâm"\nagency_code = "000.00.08.H21"\n'
        'idle_timeout_s = "ninety"\ncolour = "red"\n',
        encoding="utf-8",
    )
    result = run_kiosk("config", "check", str(bad))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, lines
    text = result.stderr
    assert all(str(bad) in line for line in lines)
    assert "[kiosk] idle_timeout_s" in text and "expected an integer" in text
    assert "[kiosk] colour" in text and "unknown key" in text
    assert "[kiosk] id" in text and "missing required key" in text


def test_config_check_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[kiosk\n", encoding="utf-8")
    result = run_kiosk("config", "check", str(bad), "--json")
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False and payload["issues"]


def test_run_refuses_a_broken_config_with_one_line(tmp_path: Path) -> None:
    result = run_kiosk("run", "--offscreen", env={"KIOSK_KIOSK_IDLE_TIMEOUT_S": "abc"})
    assert result.returncode == 1
    assert "KIOSK_KIOSK_IDLE_TIMEOUT_S" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_run_starts_offscreen_and_stops(tmp_path: Path) -> None:
    env = offscreen_kiosk_env(tmp_path)
    result = run_kiosk("--log-level", "INFO", "run", "--offscreen", "--seconds", "2", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "kiosk KIOSK-01 starting" in result.stderr
    assert (tmp_path / "var" / "tickets.sqlite").exists()


def test_screenshot_one_screen(tmp_path: Path) -> None:
    out = tmp_path / "welcome.png"
    env = {"KIVY_NO_ARGS": "1", "KIVY_HOME": str(tmp_path / "kivy")}
    result = run_kiosk("screenshot", "welcome", "--out", str(out), "--lang", "en", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    from PIL import Image

    with Image.open(out) as image:
        assert image.size == (1080, 1920)


def test_screenshot_unknown_screen_is_a_usage_error(tmp_path: Path) -> None:
    result = run_kiosk("screenshot", "nope", "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert "unknown screen" in result.stderr


def test_doctor_reports_every_device(tmp_path: Path) -> None:
    env = {"KIOSK_KIOSK_DATA_DIR": str(tmp_path / "var"), "KIOSK_PRINTER_PORT": "0"}
    result = run_kiosk("doctor", "--json", env=env)
    payload = json.loads(result.stdout)
    devices = " ".join(c["device"] for c in payload["checks"]).lower()
    assert "camera" in devices and "printer" in devices
    assert result.returncode == (0 if payload["ok"] else 1)


def test_sigterm_stops_the_kiosk_cleanly(tmp_path: Path) -> None:
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(
        KIOSK_KIOSK_DATA_DIR=str(tmp_path / "var"),
        KIOSK_KIOSK_FULLSCREEN="false",
        KIOSK_PRINTER_PORT="0",
        KIVY_NO_ARGS="1",
        KIVY_HOME=str(tmp_path / "kivy"),
        SDL_VIDEODRIVER="offscreen",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli.main", "--log-level", "INFO", "run", "--offscreen"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    assert proc.stderr is not None
    for line in proc.stderr:
        if "Start application main loop" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=30)[1]
    assert proc.returncode == 0, rest[-2000:]
    assert "stopping the kiosk" in rest
