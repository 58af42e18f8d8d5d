"""Cameras: the simulated one on real image files, OpenCV's on real captures, the samples."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType, SimpleNamespace

import cv2
import numpy as np
import pytest

from devices.base import DeviceUnavailable
from devices.camera.interface import CameraUnavailable
from devices.camera.opencv import OpenCVCamera
from devices.factory import make_camera
from devices.simulated.camera import SimulatedCamera, letterbox
from kiosk.paths import PROJECT_ROOT, SAMPLES_DIR

CAMERA_MSGID = "The camera is not available. Please ask the staff for help."
COLOURS = [(0, 0, 255), (0, 255, 0), (255, 0, 0)]  # BGR: red, green, blue


@pytest.fixture
def frames_dir(tmp_path: Path) -> Path:
    """Three solid images of different sizes, named out of creation order."""
    folder = tmp_path / "frames"
    folder.mkdir()
    sizes = [(320, 240), (200, 400), (1000, 300)]
    for name, colour, (w, h) in zip(["b.png", "c.jpg", "a.png"], COLOURS, sizes, strict=True):
        image = np.zeros((h, w, 3), np.uint8)
        image[:] = colour
        cv2.imwrite(str(folder / name), image)
    (folder / "notes.txt").write_text("not a frame", encoding="utf-8")
    return folder


def centre(frame: np.ndarray) -> tuple[int, int, int]:
    h, w = frame.shape[:2]
    b, g, r = (int(v) for v in frame[h // 2, w // 2])
    return (b, g, r)


def close_to(actual: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - e) <= 8 for a, e in zip(actual, expected, strict=True))


def test_plays_a_folder_sorted_at_the_configured_resolution_and_loops(frames_dir: Path) -> None:
    with SimulatedCamera(frames_dir, 640, 480) as camera:
        assert camera.resolution == (640, 480)
        frames = [camera.read() for _ in range(4)]
    for frame in frames:
        assert frame.shape == (480, 640, 3)
        assert frame.dtype == np.uint8
    # a.png (blue), b.png (red), c.jpg (green), then a.png again
    expected = [COLOURS[2], COLOURS[0], COLOURS[1], COLOURS[2]]
    for frame, colour in zip(frames, expected, strict=True):
        assert close_to(centre(frame), colour), (centre(frame), colour)


def test_plays_a_single_file_and_holds_the_last_frame_without_loop(frames_dir: Path) -> None:
    with SimulatedCamera(frames_dir / "b.png", 100, 100) as camera:
        assert all(close_to(centre(camera.read()), COLOURS[0]) for _ in range(3))
    with SimulatedCamera(frames_dir, 64, 48, loop=False) as camera:
        seen = [centre(camera.read()) for _ in range(5)]
    assert close_to(seen[2], COLOURS[1])
    assert close_to(seen[3], COLOURS[1]) and close_to(seen[4], COLOURS[1])


def test_letterbox_keeps_the_aspect_ratio_on_black_bars() -> None:
    image = np.full((100, 200, 3), 200, np.uint8)
    out = letterbox(image, 300, 300)
    assert out.shape == (300, 300, 3)
    assert out[0, 150].tolist() == [0, 0, 0]  # bar above
    assert out[299, 150].tolist() == [0, 0, 0]  # bar below
    assert out[150, 0].tolist() == [200, 200, 200]  # the picture spans the width
    rows = np.where(out[:, 150, 0] == 200)[0]
    assert rows.max() - rows.min() + 1 == 150  # 200x100 scaled by 1.5


def textured(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    image = (rng.random((240, 320, 3)) * 255).astype(np.uint8)
    path = tmp_path / "texture.png"
    cv2.imwrite(str(path), image)
    return path


def read_n(camera: SimulatedCamera, n: int) -> list[np.ndarray]:
    with camera:
        return [camera.read() for _ in range(n)]


def test_motion_changes_frames_deterministically_for_a_seed(tmp_path: Path) -> None:
    path = textured(tmp_path)
    still = read_n(SimulatedCamera(path, 320, 240), 3)
    shaken = read_n(SimulatedCamera(path, 320, 240, motion=3, seed=1), 3)
    again = read_n(SimulatedCamera(path, 320, 240, motion=3, seed=1), 3)
    other_seed = read_n(SimulatedCamera(path, 320, 240, motion=3, seed=2), 3)
    assert all(np.array_equal(still[0], f) for f in still)
    assert not any(np.array_equal(still[0], f) for f in shaken)
    assert not np.array_equal(shaken[0], shaken[1])  # the hand moves between frames
    assert all(np.array_equal(a, b) for a, b in zip(shaken, again, strict=True))
    assert not np.array_equal(shaken[0], other_seed[0])
    # reopening restarts the same shake
    camera = SimulatedCamera(path, 320, 240, motion=3, seed=1)
    first = read_n(camera, 2)
    second = read_n(camera, 2)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def sharpness(frame: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_blur_softens_frames_deterministically(tmp_path: Path) -> None:
    path = textured(tmp_path)
    sharp = read_n(SimulatedCamera(path, 320, 240), 1)[0]
    soft = read_n(SimulatedCamera(path, 320, 240, blur=2.5), 2)
    assert sharpness(soft[0]) < sharpness(sharp) / 4
    assert np.array_equal(soft[0], soft[1])
    assert np.array_equal(soft[0], read_n(SimulatedCamera(path, 320, 240, blur=2.5), 1)[0])


def test_paced_camera_still_gives_frames(frames_dir: Path) -> None:
    with SimulatedCamera(frames_dir, 32, 24, fps=500) as camera:
        assert [camera.read().shape for _ in range(3)] == [(24, 32, 3)] * 3


def test_unplug_makes_reads_fail_with_the_citizen_message_and_replug_recovers(
    frames_dir: Path,
) -> None:
    camera = SimulatedCamera(frames_dir, 160, 120)
    camera.open()
    first = camera.read()
    camera.unplug()
    with pytest.raises(CameraUnavailable) as caught:
        camera.read()
    assert isinstance(caught.value, DeviceUnavailable)
    assert caught.value.user_message() == CAMERA_MSGID
    assert "unplugged" in str(caught.value)
    health = camera.health()
    assert (health.device, health.ok) == ("camera", False)
    assert "unplugged" in health.detail
    camera.replug()
    assert camera.read().shape == first.shape
    assert camera.health().ok
    camera.close()


def test_unplugged_camera_cannot_open(frames_dir: Path) -> None:
    camera = SimulatedCamera(frames_dir, 160, 120)
    camera.unplug()
    with pytest.raises(CameraUnavailable, match="unplugged"):
        camera.open()
    assert not camera.is_open


def test_read_before_open_is_refused(frames_dir: Path) -> None:
    camera = SimulatedCamera(frames_dir, 160, 120)
    with pytest.raises(CameraUnavailable, match="not open"):
        camera.read()


@pytest.mark.parametrize("what", ["missing", "empty folder", "corrupt image"])
def test_bad_frame_sources_are_reported_not_crashed(tmp_path: Path, what: str) -> None:
    if what == "missing":
        source = tmp_path / "nowhere"
    elif what == "empty folder":
        source = tmp_path / "empty"
        source.mkdir()
    else:
        source = tmp_path / "broken.jpg"
        source.write_bytes(b"\xff\xd8 this is not a JPEG")
    camera = SimulatedCamera(source, 160, 120)
    with pytest.raises(CameraUnavailable) as caught:
        camera.open()
    assert caught.value.msgid == CAMERA_MSGID
    assert str(source) in str(caught.value)
    health = camera.health()
    assert not health.ok and str(source) in health.detail
    assert source.exists() == (what != "missing")  # nothing was touched or deleted


def test_invalid_parameters_are_rejected(frames_dir: Path) -> None:
    with pytest.raises(ValueError, match="resolution"):
        SimulatedCamera(frames_dir, 0, 480)
    with pytest.raises(ValueError, match="motion"):
        SimulatedCamera(frames_dir, 640, 480, motion=-1)
    with pytest.raises(ValueError, match="fps"):
        SimulatedCamera(frames_dir, 640, 480, fps=0)


def test_default_frames_are_the_shipped_samples() -> None:
    camera = SimulatedCamera(None, 1280, 720)
    assert camera.source == SAMPLES_DIR
    with camera:
        frames = [camera.read() for _ in range(2)]
    assert all(f.shape == (720, 1280, 3) for f in frames)
    # desk-empty.jpg then document-vn.jpg: the page makes the second frame much brighter
    assert frames[1].mean() > frames[0].mean() + 20


@pytest.mark.timeout(5)
def test_opencv_camera_on_a_missing_device_is_unavailable_quickly() -> None:
    camera = OpenCVCamera(97, 640, 480)
    with pytest.raises(CameraUnavailable) as caught:
        camera.open()
    assert caught.value.user_message() == CAMERA_MSGID
    assert "97" in str(caught.value)
    assert not camera.is_open
    with pytest.raises(CameraUnavailable, match="not open"):
        camera.read()
    health = camera.health()
    assert (health.device, health.ok) == ("camera", False)
    assert "97" in health.detail
    with pytest.raises(CameraUnavailable), camera:
        pass


class FileCamera(OpenCVCamera):
    """An OpenCVCamera whose 'device' is a video file: real VideoCapture, real failures."""

    def __init__(self, video: Path) -> None:
        super().__init__(0, 64, 48)
        self.video = video
        self.opens = 0

    def _open_capture(self) -> cv2.VideoCapture:
        self.opens += 1
        return cv2.VideoCapture(str(self.video))


def write_video(path: Path, levels: list[int]) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    assert writer.isOpened()
    for level in levels:
        writer.write(np.full((48, 64, 3), level, np.uint8))
    writer.release()


def test_opencv_camera_reconnects_once_when_a_read_fails(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    write_video(video, [40, 120, 200])
    with FileCamera(video) as camera:
        levels = [int(camera.read().mean()) for _ in range(3)]
        assert camera.opens == 1
        # The clip ends, as a camera stops when unplugged: one reconnect, frames again.
        after = camera.read()
        assert camera.opens == 2
        assert after.shape == (48, 64, 3)
        assert camera.resolution == (64, 48)
        assert camera.health().ok
    assert [abs(a - b) <= 6 for a, b in zip(levels, [40, 120, 200], strict=True)] == [True] * 3
    assert abs(int(after.mean()) - 40) <= 6


def test_opencv_camera_gives_up_when_the_reconnect_fails(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    write_video(video, [90])
    camera = FileCamera(video)
    camera.open()
    camera.read()
    video.unlink()  # the device does not come back
    with pytest.raises(CameraUnavailable) as caught:
        camera.read()
    assert caught.value.msgid == CAMERA_MSGID
    assert "reopened" in str(caught.value)
    assert camera.opens == 2
    assert not camera.is_open


def test_make_camera_follows_the_settings(frames_dir: Path) -> None:
    simulated = make_camera(
        SimpleNamespace(mode="simulated", device=0, width=320, height=240, frames=frames_dir)
    )
    assert isinstance(simulated, SimulatedCamera)
    assert simulated.resolution == (320, 240) and simulated.source == frames_dir
    real = make_camera(
        SimpleNamespace(mode="opencv", device=3, width=1920, height=1080, frames=None)
    )
    assert isinstance(real, OpenCVCamera) and real.device == 3
    with pytest.raises(CameraUnavailable, match="webcam"):
        make_camera(SimpleNamespace(mode="webcam", device=0, width=1, height=1, frames=None))


# --- the shipped samples ------------------------------------------------------------------


def load_make_samples() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_samples", PROJECT_ROOT / "scripts" / "make_samples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_samples_are_small_full_hd_jpegs_with_ground_truth() -> None:
    for name in ("document-vn.jpg", "desk-empty.jpg"):
        path = SAMPLES_DIR / name
        assert path.stat().st_size <= 250 * 1024
        image = cv2.imread(str(path))
        assert image is not None and image.shape == (1080, 1920, 3)
    truth = json.loads((SAMPLES_DIR / "document-vn.json").read_text(encoding="utf-8"))
    assert truth["title"] == "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP HOẠT ĐỘNG IN"
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in truth["lines"]
    assert "Độc lập - Tự do - Hạnh phúc" in truth["lines"]
    # The corners are where the page is: bright inside, the dark desk around it.
    document = cv2.imread(str(SAMPLES_DIR / "document-vn.jpg"), cv2.IMREAD_GRAYSCALE)
    mask = np.zeros(document.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.array(truth["page_corners"], np.int32), 255)
    inner = cv2.erode(mask, np.ones((25, 25), np.uint8))
    outer = cv2.dilate(mask, np.ones((61, 61), np.uint8)) == 0
    assert document[inner > 0].mean() > 170
    assert document[outer].mean() < 110
    empty = cv2.imread(str(SAMPLES_DIR / "desk-empty.jpg"), cv2.IMREAD_GRAYSCALE)
    assert empty[inner > 0].mean() < 110


def test_make_samples_regenerates_the_committed_samples(tmp_path: Path) -> None:
    module = load_make_samples()
    assert module.main(["--out", str(tmp_path)]) == 0
    for name in ("document-vn.jpg", "desk-empty.jpg"):
        fresh = cv2.imread(str(tmp_path / name)).astype(np.int16)
        shipped = cv2.imread(str(SAMPLES_DIR / name)).astype(np.int16)
        assert float(np.abs(fresh - shipped).mean()) < 1.0, name
    assert json.loads((tmp_path / "document-vn.json").read_text(encoding="utf-8")) == json.loads(
        (SAMPLES_DIR / "document-vn.json").read_text(encoding="utf-8")
    )
