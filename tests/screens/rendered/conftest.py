"""Render every screen in the background as soon as the run starts, and run the rendered
screens' tests last: the renders (about two minutes) take a core while the rest of the suite
runs. Under pytest-xdist (``make test``) the controller starts the render
(tests/conftest.py) and the worker that runs these tests waits for its files; in a plain run
it starts here, when these tests are collected."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from update_references import start_render  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rendered = [item for item in items if "test_rendered_screens.py" in item.nodeid]
    if not rendered:
        return
    chosen = set(rendered)
    items[:] = [item for item in items if item not in chosen] + rendered
    if getattr(config, "screens_render_dir", None) is not None:
        return  # the xdist controller started it
    if hasattr(config, "workerinput"):
        return  # a worker without the controller's render: the fixture renders when needed
    out = Path(tempfile.mkdtemp(prefix="kiosk-rendered-screens-"))
    process = start_render(out)
    config.screens_render_dir = out  # type: ignore[attr-defined]

    def clean_up() -> None:
        if process.poll() is None:  # the run was stopped before the renders were read
            process.kill()
        process.wait()
        shutil.rmtree(out, ignore_errors=True)

    config.add_cleanup(clean_up)
