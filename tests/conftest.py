"""Shared test set-up: Kivy offscreen before any import of it, a kiosk config per test, and
under pytest-xdist (``make test``: two workers) the screens' render started once, by the
controller, for the worker that runs tests/screens/rendered/."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

# Kivy reads these at import time: no argument parsing, a private home, offscreen rendering
# through Mesa with SDL's offscreen driver (no X server).
os.environ.setdefault("KIVY_NO_ARGS", "1")
if "PYTEST_XDIST_WORKER" in os.environ:  # each worker its own Kivy home (config.ini, logs)
    os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-home-tests-")
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


# -- the screens' render under pytest-xdist --------------------------------------------------

RENDERED = Path(__file__).resolve().parent / "screens" / "rendered"


def _selects_rendered(config: pytest.Config) -> bool:
    """Whether the run's paths include tests/screens/rendered (no path: the testpaths)."""
    paths = [a.split("::")[0] for a in config.args] or [str(Path(__file__).parent)]
    for arg in paths:
        path = Path(config.invocation_params.dir, arg).resolve()
        if path == RENDERED or RENDERED in path.parents or path in RENDERED.parents:
            return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:  # an xdist worker: the controller's render, if it started one
        folder = workerinput.get("screens_render_dir")
        config.screens_render_dir = Path(folder) if folder else None  # type: ignore[attr-defined]
        return
    if not config.pluginmanager.hasplugin("xdist") or not config.getoption("numprocesses"):
        return  # a plain run: tests/screens/rendered/conftest.py starts it at collection
    if not _selects_rendered(config):
        return
    import shutil
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from update_references import start_render

    out = Path(tempfile.mkdtemp(prefix="kiosk-rendered-screens-"))
    process = start_render(out)
    config.screens_render_dir = out  # type: ignore[attr-defined]

    def clean_up() -> None:
        if process.poll() is None:
            process.kill()
        process.wait()
        shutil.rmtree(out, ignore_errors=True)

    config.add_cleanup(clean_up)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: tell each worker where the controller's render goes."""
    folder = getattr(node.config, "screens_render_dir", None)
    node.workerinput["screens_render_dir"] = str(folder) if folder else ""


PCSCD_TESTS = "tests/identity/test_chip_pcsc.py"


@pytest.hookimpl(tryfirst=True)  # before tests/screens/rendered/ puts its tests last of all
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The pcscd tests (one daemon for the machine, timed exchanges with a simulated card) go
    near the end, after the screens' render has left its core."""
    late = [item for item in items if item.nodeid.startswith(PCSCD_TESTS)]
    if late:
        chosen = set(late)
        items[:] = [item for item in items if item not in chosen] + late
