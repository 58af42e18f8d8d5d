"""mypy --strict passes on the packages pyproject.toml names ([tool.mypy]: the session, the
flow, the chip protocols, delivery and the composition root)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kiosk.paths import PROJECT_ROOT


def test_mypy_strict_passes_on_the_typed_packages(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success"), done.stdout
