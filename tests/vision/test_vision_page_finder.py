"""Page finder, straightening and orientation on generated scenes and the shipped sample."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from support.vision_helpers import content_correlation, diagonal, scene

from devices.simulated.document_scenes import BACKGROUNDS, render_document
from kiosk.paths import SAMPLES_DIR
from kiosk.vision.errors import ImageUnreadable, NoDocumentFound
from kiosk.vision.images import load_image
from kiosk.vision.orientation import (
    detect_orientation,
    fix_orientation,
    osd_orientation,
    rotate,
)
from kiosk.vision.page_finder import (
    PageDetection,
    corner_error,
    find_page,
    order_corners,
    page_size,
    require_page,
    straighten,
)

# "Within a few per cent of the truth": every corner within 1 % of the frame's diagonal
# (≈ 15 px at 1280×720); the finder is typically at 0.06 %.
CORNER_TOLERANCE = 0.01


def assert_found(image: np.ndarray, truth: np.ndarray) -> PageDetection:
    detection = find_page(image)
    assert detection is not None, "no page found"
    error = corner_error(detection.corners, truth)
    assert error <= CORNER_TOLERANCE * diagonal(image), f"corner off by {error:.1f} px"
    return detection


@pytest.mark.parametrize("background", BACKGROUNDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_page_found_on_every_desk(background: str, seed: int) -> None:
    generated = scene(seed, background=background)
    detection = assert_found(generated.image, generated.corners)
    assert detection.confidence >= 0.8
    assert detection.area_ratio == pytest.approx(generated.area_ratio, rel=0.05)
    assert detection.frame_size == (1280, 720)


@pytest.mark.parametrize(
    "options",
    [
        {"blur": 3.0},
        {"motion_blur": 10.0},
        {"lighting": 0.9},
        {"shadow": 0.4},
        {"glare": 0.5},
        {"exposure": 0.35},
        {"tilt": 0.2},
        {"page_scale": 0.45},
        {"quarter_turns": 1},
        {"quarter_turns": 2},
        {"quarter_turns": 3},
        {"background": "clutter", "lighting": 0.8, "blur": 1.5},
        {"width": 1920, "height": 1080, "background": "fabric"},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_page_found_under_light_blur_and_pose(options: dict[str, object]) -> None:
    generated = scene(3, **options)
    assert_found(generated.image, generated.corners)


@pytest.mark.parametrize("tint", [(0.72, 0.93, 1.0), (0.8, 1.0, 0.8), (1.0, 0.85, 0.85)])
def test_tinted_paper_is_found_too(tint: tuple[float, float, float]) -> None:
    """A light yellow, green or pink certificate: found by the luminance pass."""
    for background in ("wood", "clutter"):
        generated = scene(7, background=background, paper_tint=tint)
        assert_found(generated.image, generated.corners)


def test_page_found_on_the_shipped_sample() -> None:
    truth = json.loads((SAMPLES_DIR / "document-vn.json").read_text(encoding="utf-8"))
    image = load_image(SAMPLES_DIR / truth["image"])
    assert_found(image, np.array(truth["page_corners"], np.float32))


@pytest.mark.parametrize("background", BACKGROUNDS)
def test_no_page_on_an_empty_desk(background: str) -> None:
    for seed in (0, 1):
        assert find_page(scene(seed, background=background, page=False).image) is None


def test_no_page_on_the_shipped_empty_desk() -> None:
    image = load_image(SAMPLES_DIR / "desk-empty.jpg")
    assert find_page(image) is None
    with pytest.raises(NoDocumentFound) as caught:
        require_page(image)
    assert caught.value.msgid == "No document was found. Place the document under the camera."


def test_page_cut_off_reaches_the_border() -> None:
    generated = scene(2, cut_off="right")
    detection = find_page(generated.image)
    assert detection is not None
    assert detection.edge_margin() < 4.0
    # Its visible left side is where the truth says.
    left_truth = order_corners(generated.corners)[[0, 3]]
    left_found = detection.corners[[0, 3]]
    assert np.abs(left_found - left_truth).max() < CORNER_TOLERANCE * diagonal(generated.image)


def test_finder_refuses_what_is_not_an_image() -> None:
    with pytest.raises(ImageUnreadable):
        find_page(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(ImageUnreadable):
        find_page(np.zeros((10, 10, 3), np.float32))


def test_gray_and_tiny_frames_are_accepted() -> None:
    generated = scene(0)
    gray = generated.image[..., 1].copy()
    assert find_page(gray) is not None
    assert find_page(np.full((5, 7, 3), 128, np.uint8)) is None


def test_corners_are_ordered_clockwise_from_top_left() -> None:
    square = np.array([[10, 10], [110, 12], [108, 150], [8, 148]], np.float32)
    for permutation in itertools.permutations(range(4)):
        assert np.array_equal(order_corners(square[list(permutation)]), square)


def test_straightened_page_is_a4_portrait_with_the_document_on_it() -> None:
    generated = scene(4, tilt=0.15, lighting=0.6)
    detection = assert_found(generated.image, generated.corners)
    page = straighten(generated.image, detection.corners, dpi_target=150)
    assert page.shape[:2] == (1754, 1240)  # A4 at 150 dpi
    assert content_correlation(page, generated.page.image) > 0.85
    # The comparison means something: the same page upside down does not match.
    assert content_correlation(rotate(page, 180), generated.page.image) < 0.3


def test_page_lying_sideways_is_straightened_landscape() -> None:
    generated = scene(5, quarter_turns=1)
    detection = assert_found(generated.image, generated.corners)
    page = straighten(generated.image, detection.corners)
    height, width = page.shape[:2]
    assert width > height
    assert width / height == pytest.approx(297 / 210, rel=0.01)
    # Turned back by hand (the page was turned clockwise on the desk), it is the document.
    assert content_correlation(rotate(page, -90), generated.page.image) > 0.85


def test_page_size_keeps_a_measured_aspect_when_asked() -> None:
    card = np.array([[0, 0], [856, 0], [856, 540], [0, 540]], np.float32)  # ID-1 proportions
    width, height = page_size(card, dpi_target=100, paper_mm=None)
    assert width > height
    assert width / height == pytest.approx(856 / 540, rel=0.01)


@pytest.fixture(scope="module")
def straight_page() -> np.ndarray:
    generated = scene(6, background="speckle")
    detection = find_page(generated.image)
    assert detection is not None
    return straighten(generated.image, detection.corners)


@pytest.mark.parametrize("turned_by", [0, 90, 180, 270])
def test_orientation_fixed_for_every_quarter_turn(
    straight_page: np.ndarray, turned_by: int
) -> None:
    turned = rotate(straight_page, turned_by)
    upright, degrees = fix_orientation(turned)
    assert degrees == (360 - turned_by) % 360
    assert content_correlation(upright, scene(6, background="speckle").page.image) > 0.85


@pytest.mark.parametrize("seed", range(4))
def test_orientation_of_pages_turned_on_the_desk(seed: int) -> None:
    generated = scene(seed, quarter_turns=2, background="clutter")
    detection = assert_found(generated.image, generated.corners)
    upright, degrees = fix_orientation(straighten(generated.image, detection.corners))
    assert degrees == 180
    assert content_correlation(upright, generated.page.image) > 0.85


def test_blank_page_is_left_as_it_is() -> None:
    blank = np.full((700, 500, 3), 240, np.uint8)
    page, degrees = fix_orientation(blank)
    assert degrees == 0
    assert page is blank
    assert detect_orientation(blank).confidence == 0.0


def test_tesseract_osd_agrees_on_a_clean_rendered_page() -> None:
    pytesseract = pytest.importorskip("pytesseract")
    try:
        pytesseract.get_tesseract_version()
    except pytesseract.TesseractNotFoundError:
        pytest.skip("tesseract is not installed")
    page = render_document(1, 150).image
    found = osd_orientation(rotate(page, 90))
    assert found.degrees == 270
    assert found.method == "osd"


def test_scenes_are_deterministic_and_the_text_is_vietnamese_nfc() -> None:
    import unicodedata

    from devices.simulated.document_scenes import SceneOptions, make_scene

    options = SceneOptions(width=320, height=180, background="clutter", glare=0.3, shadow=0.3)
    first, again = make_scene(options, seed=11), make_scene(options, seed=11)
    assert np.array_equal(first.image, again.image)
    assert np.array_equal(first.corners, again.corners)
    assert not np.array_equal(first.image, make_scene(options, seed=12).image)
    lines = first.page.lines
    assert lines[0] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert all(unicodedata.is_normalized("NFC", line) for line in lines)
    assert first.page.title in " ".join(lines)  # the title may wrap over two lines
