"""Decoding under a pixel budget: a 40-MP photo never becomes a 40-MP array."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.paths import PROJECT_ROOT
from kiosk.vision.errors import ImageUnreadable
from kiosk.vision.images import (
    MAX_FULL_DECODE_PIXELS,
    as_bgr,
    decode_image,
    downscale,
    downscale_pixels,
    image_size,
    jpeg_reduction,
    load_image,
)

# 7296 × 5472: a 40-megapixel camera's photo.
BIG_W, BIG_H = 7296, 5472


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-MP JPEG of smooth random colours (seeded), written once for the module."""
    rng = np.random.default_rng(40)
    coarse = rng.integers(0, 256, (BIG_H // 64, BIG_W // 64, 3), dtype=np.uint8)
    pixels = cv2.resize(coarse, (BIG_W, BIG_H), interpolation=cv2.INTER_LINEAR)
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    path = tmp_path_factory.mktemp("big") / "forty-megapixels.jpg"
    path.write_bytes(encoded.tobytes())
    return path


def test_header_gives_the_size_without_decoding(big_jpeg: Path) -> None:
    assert image_size(big_jpeg) == (BIG_W, BIG_H)


def test_40_megapixel_jpeg_is_decoded_reduced(big_jpeg: Path) -> None:
    image = load_image(big_jpeg, max_pixels=12_000_000)
    # Half size straight from the DCT: 10 MP, within the 12-MP budget.
    assert image.shape == (BIG_H // 2, BIG_W // 2, 3)
    assert image.dtype == np.uint8
    small = load_image(big_jpeg, max_pixels=1_000_000)
    assert small.shape[0] * small.shape[1] <= 1_000_000
    assert small.shape[1] / small.shape[0] == pytest.approx(BIG_W / BIG_H, rel=0.01)


def test_40_megapixel_jpeg_decoding_memory_stays_within_budget(big_jpeg: Path) -> None:
    """Peak memory of a fresh process decoding the file at 4 MP: far below one full bitmap."""
    script = (
        "import json, resource, sys\n"
        "from kiosk.vision.images import load_image\n"
        "import cv2, numpy\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "image = load_image(sys.argv[1], max_pixels=4_000_000)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'kib': after - before, 'shape': list(image.shape)}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(big_jpeg)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    figures = json.loads(result.stdout)
    full_bitmap_mib = BIG_W * BIG_H * 3 / 2**20  # 114 MiB
    assert figures["shape"] == [BIG_H // 4, BIG_W // 4, 3]
    assert figures["kib"] / 1024 < full_bitmap_mib / 2


def test_reduction_is_the_smallest_that_fits() -> None:
    assert jpeg_reduction(4000, 3000, 12_000_000) == 1
    assert jpeg_reduction(BIG_W, BIG_H, 12_000_000) == 2
    assert jpeg_reduction(BIG_W, BIG_H, 3_000_000) == 4
    assert jpeg_reduction(BIG_W, BIG_H, 100_000) == 8


def test_png_too_large_for_whole_decoding_is_refused(tmp_path: Path) -> None:
    # A tiny file that claims a huge size: a decompression bomb is refused from its header.
    side = int(MAX_FULL_DECODE_PIXELS**0.5) + 100
    image = np.zeros((side, side), np.uint8)
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    assert ok
    path = tmp_path / "bomb.png"
    path.write_bytes(encoded.tobytes())
    with pytest.raises(ImageUnreadable, match="too large"):
        load_image(path)


def test_small_png_round_trip_and_budget() -> None:
    image = np.zeros((300, 400, 3), np.uint8)
    image[:, :, 2] = 200
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    decoded = decode_image(encoded.tobytes())
    assert np.array_equal(decoded, image)
    assert decode_image(encoded.tobytes(), max_pixels=30_000).shape[0] * 200 <= 30_000


@pytest.mark.parametrize("data", [b"", b"not an image", b"\xff\xd8\xff\xe0" + b"\x00" * 20])
def test_garbage_is_unreadable(data: bytes) -> None:
    with pytest.raises(ImageUnreadable):
        decode_image(data)


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ImageUnreadable, match="missing.jpg"):
        load_image(tmp_path / "missing.jpg")


def test_arrays_are_checked_and_converted() -> None:
    gray = np.zeros((4, 5), np.uint8)
    assert as_bgr(gray).shape == (4, 5, 3)
    assert as_bgr(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)
    with pytest.raises(ImageUnreadable):
        as_bgr(np.zeros((4, 5, 2), np.uint8))
    with pytest.raises(ImageUnreadable):
        as_bgr(np.zeros((4, 5, 3), np.uint16))


def test_downscale_keeps_small_images_and_shrinks_large_ones() -> None:
    image = np.zeros((720, 1280, 3), np.uint8)
    assert downscale(image, 2000) is image
    assert downscale(image, 640).shape == (360, 640, 3)
    assert downscale_pixels(image, 1280 * 720) is image
    assert downscale_pixels(image, 230_400).shape[:2] == (360, 640)
    with pytest.raises(ValueError):
        downscale(image, 0)
