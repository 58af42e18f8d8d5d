"""Auto-capture: only after N still, good frames; a move or a bad frame starts over."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.vision_helpers import content_correlation, scene, shifted

from devices.simulated.camera import SimulatedCamera
from kiosk.vision.capture import (
    MSG_CAPTURED,
    MSG_HOLD_STILL,
    MSG_NEXT_PAGE,
    AutoCapture,
    CaptureState,
    CaptureStatus,
)
from kiosk.vision.page_finder import find_page
from kiosk.vision.quality import Issue, assess

N = 5


def jittered(
    image: np.ndarray, count: int, seed: int = 0, amplitude: float = 1.5
) -> Iterator[np.ndarray]:
    """``count`` copies of ``image`` moved by a hand's tremor (≤ ``amplitude`` px)."""
    rng = np.random.default_rng(seed)
    for dx, dy in rng.uniform(-amplitude, amplitude, (count, 2)):
        yield shifted(image, float(dx), float(dy))


def feed(capture: AutoCapture, frames: Iterable[np.ndarray]) -> list[CaptureStatus]:
    return [capture.process(frame) for frame in frames]


def test_captures_only_after_n_stable_good_frames() -> None:
    generated = scene(0)
    statuses = feed(AutoCapture(stable_frames=N), jittered(generated.image, N + 2))
    states = [s.state for s in statuses]
    assert states[: N - 1] == [CaptureState.HOLD_STILL] * (N - 1)
    assert states[N - 1 :] == [CaptureState.CAPTURED] * 3
    assert [s.progress for s in statuses[:N]] == pytest.approx([(i + 1) / N for i in range(N)])
    assert all(s.msgid == MSG_HOLD_STILL for s in statuses[: N - 1])
    captured = statuses[N - 1]
    assert captured.msgid == MSG_CAPTURED
    assert captured.page is not None
    assert captured.page.shape[:2] == (2339, 1654)  # A4 portrait at 200 dpi
    assert captured.rotation == 0
    assert content_correlation(captured.page, generated.page.image) > 0.85
    # Sticky: the same capture until reset, not a new one per frame; fresh only once.
    assert captured.fresh
    assert all(s.page is captured.page and not s.fresh for s in statuses[N:])


def test_page_moved_during_the_count_starts_it_again() -> None:
    image = scene(1).image
    frames = list(jittered(image, 3)) + list(jittered(shifted(image, 30, 12), N + 1, seed=1))
    capture = AutoCapture(stable_frames=N)
    statuses = feed(capture, frames)
    # The move is seen (MOVING), the count restarts, and the capture comes N frames after it.
    assert statuses[3].state is CaptureState.HOLD_STILL
    assert statuses[3].progress == 0.0
    assert Issue.MOVING in statuses[3].issues
    assert statuses[3].msgid == "Hold still."
    captured_at = next(i for i, s in enumerate(statuses) if s.state is CaptureState.CAPTURED)
    assert captured_at == 3 + N


def test_slow_drift_beyond_the_tolerance_restarts_the_count() -> None:
    image = scene(1).image
    detection = find_page(image)
    assert detection is not None
    quality = assess(image, detection)
    capture = AutoCapture(stable_frames=N, tolerance=0.01)
    # Each frame moves 6 px (no MOVING issue frame to frame), but they add up past 1 %.
    progress = []
    for step in range(N):
        moved = type(detection)(
            detection.corners + np.float32([6 * step, 0]),
            detection.area_ratio,
            detection.confidence,
            detection.frame_size,
        )
        progress.append(capture.update(image, moved, quality).progress)
    assert capture.state is CaptureState.HOLD_STILL
    assert progress[-1] < 1.0
    assert min(progress[1:]) < max(progress)  # the count went back to the start


def test_a_bad_frame_ends_the_run() -> None:
    sharp = scene(2).image
    blurred = cv2.GaussianBlur(sharp, (0, 0), 3.0)
    frames = list(jittered(sharp, N - 1)) + [blurred] + list(jittered(sharp, N, seed=2))
    capture = AutoCapture(stable_frames=N)
    statuses = feed(capture, frames[:N])
    assert capture.state is CaptureState.HOLD_STILL
    statuses += feed(capture, frames[N:])
    bad = statuses[N - 1]
    assert Issue.BLURRED in bad.issues
    assert bad.state is CaptureState.HOLD_STILL  # the page is there: keep it still
    assert bad.msgid == "Hold still, the picture is blurred."
    assert bad.progress == 0.0
    captured_at = next(i for i, s in enumerate(statuses) if s.state is CaptureState.CAPTURED)
    assert captured_at == N - 1 + N


def test_nothing_is_captured_from_an_empty_desk() -> None:
    statuses = feed(AutoCapture(stable_frames=2), jittered(scene(0, page=False).image, 4))
    assert {s.state for s in statuses} == {CaptureState.SEARCHING}
    assert {s.msgid for s in statuses} == {"Place the document under the camera."}


def test_a_page_too_far_is_not_captured_and_says_why() -> None:
    statuses = feed(AutoCapture(stable_frames=2), jittered(scene(0, page_scale=0.4).image, 4))
    assert {s.state for s in statuses} == {CaptureState.SEARCHING}
    assert {s.msgid for s in statuses} == {"Move the document closer."}


def test_upside_down_page_is_captured_upright() -> None:
    generated = scene(3, quarter_turns=2)
    statuses = feed(AutoCapture(stable_frames=3), jittered(generated.image, 3))
    captured = statuses[-1]
    assert captured.state is CaptureState.CAPTURED
    assert captured.rotation == 180
    assert content_correlation(captured.page, generated.page.image) > 0.85


def test_reset_captures_again_and_next_page_waits_for_a_new_page() -> None:
    first = scene(4).image
    capture = AutoCapture(stable_frames=2)
    feed(capture, jittered(first, 2))
    assert capture.state is CaptureState.CAPTURED
    capture.reset()
    assert capture.state is CaptureState.SEARCHING and capture.captured is None
    assert feed(capture, jittered(first, 2))[-1].state is CaptureState.CAPTURED

    capture.next_page()
    waiting = feed(capture, jittered(first, 3, seed=5))
    assert {s.state for s in waiting} == {CaptureState.SEARCHING}
    assert {s.msgid for s in waiting} == {MSG_NEXT_PAGE}
    # The page is taken away, the next one laid down: captured.
    feed(capture, [scene(4, page=False).image])
    second = scene(5, center=(0.42, 0.5)).image
    assert feed(capture, jittered(second, 2))[-1].state is CaptureState.CAPTURED


def test_plays_through_the_simulated_camera(tmp_path: Path) -> None:
    """Frames from the device simulator, with a slight hand shake, are captured."""
    path = tmp_path / "scene.png"
    cv2.imwrite(str(path), scene(6).image)
    capture = AutoCapture(stable_frames=4)
    with SimulatedCamera(path, 1280, 720, motion=0.15, seed=3) as camera:
        statuses = [capture.process(camera.read()) for _ in range(8)]
    assert statuses[-1].state is CaptureState.CAPTURED
    first = next(i for i, s in enumerate(statuses) if s.state is CaptureState.CAPTURED)
    assert first >= 3


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        AutoCapture(stable_frames=0)
    with pytest.raises(ValueError):
        AutoCapture(tolerance=0)
