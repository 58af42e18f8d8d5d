"""The live document capture's loop (kiosk/camera/live_capture.py) on the simulated camera:
frames analysed on a worker thread until the page is captured, a vanished camera reported and
retried, and the still the screenshots hold, the same on every run."""

from __future__ import annotations

import time

import numpy as np

from devices.simulated.camera import SimulatedCamera
from kiosk.camera.live_capture import DocumentAnalyser, LiveCapture
from kiosk.paths import ASSETS_DIR

PAGE = ASSETS_DIR / "samples" / "document-vn.jpg"


def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_loop_captures_a_steady_page_and_stops() -> None:
    camera = SimulatedCamera(PAGE, 1280, 720, motion=0.3, seed=3)
    live = LiveCapture(camera, DocumentAnalyser)
    live.start()
    try:
        wait_for(lambda: (v := live.latest()) is not None and v.captured is not None)
        view = live.latest()
        assert view is not None and view.progress == 1.0 and view.corners is not None
        wait_for(lambda: not live.running)  # no more frames once captured
        frames = live.frames
        time.sleep(0.3)
        assert live.frames == frames
    finally:
        live.stop()
        camera.close()


def test_a_vanished_camera_is_reported_and_the_loop_goes_on() -> None:
    camera = SimulatedCamera(PAGE, 640, 480)
    camera.unplug()
    live = LiveCapture(camera, DocumentAnalyser)
    live.start()
    try:
        wait_for(lambda: (v := live.latest()) is not None and v.error is not None)
        view = live.latest()
        assert view is not None and view.guidance_msgid == view.error.msgid  # type: ignore[union-attr]
        camera.replug()
        wait_for(lambda: (v := live.latest()) is not None and v.error is None, timeout=10)
    finally:
        live.stop()
        camera.close()


def test_the_held_still_is_the_same_view_on_every_run() -> None:
    views = []
    for _ in range(2):
        camera = SimulatedCamera(PAGE, 1280, 720, motion=1.0, seed=7, fps=30)
        live = LiveCapture(camera, DocumentAnalyser)
        live.start()
        wait_for(lambda live=live: live.frames >= 3)  # the loop ran ahead a different way each time
        view = live.hold_still(2)
        assert not live.running and view is not None
        assert live.latest() is view
        views.append(view)
        camera.close()
    first, second = views
    assert first is not None and second is not None
    assert np.array_equal(first.frame, second.frame)
    assert first.progress == second.progress and first.corners == second.corners
    assert first.captured is None and 0 < first.progress < 1
