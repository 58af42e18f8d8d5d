"""Frame quality: each issue found on the scene that has it, and not on a clean one."""

from __future__ import annotations

import numpy as np
import pytest
from support.vision_helpers import scene

from devices.simulated.document_scenes import BACKGROUNDS
from kiosk.paths import SAMPLES_DIR
from kiosk.vision.errors import ImageUnreadable
from kiosk.vision.images import load_image
from kiosk.vision.page_finder import PageDetection, find_page
from kiosk.vision.quality import MESSAGES, PRIORITY, Issue, Quality, assess

# The message each issue tells the citizen (the brief's wording; TOO_DARK/TOO_BRIGHT completed).
EXPECTED_MSGIDS = {
    Issue.NO_DOCUMENT: "Place the document under the camera.",
    Issue.TOO_DARK: "It is too dark. Do not block the light above the document.",
    Issue.TOO_BRIGHT: "It is too bright. Move the document out of the direct light.",
    Issue.BLURRED: "Hold still, the picture is blurred.",
    Issue.GLARE: "Tilt the document a little to remove the glare.",
    Issue.TOO_SMALL: "Move the document closer.",
    Issue.CUT_OFF: "The document is cut off at the edge. Move it to the middle.",
    Issue.MOVING: "Hold still.",
}

SPOILED = [
    ({"blur": 2.5}, Issue.BLURRED),
    ({"blur": 6.0}, Issue.BLURRED),
    ({"motion_blur": 10.0}, Issue.BLURRED),
    ({"glare": 0.4}, Issue.GLARE),
    ({"exposure": 0.3}, Issue.TOO_DARK),
    ({"exposure": 2.2}, Issue.TOO_BRIGHT),
    ({"page_scale": 0.4}, Issue.TOO_SMALL),
    ({"cut_off": "left"}, Issue.CUT_OFF),
    ({"cut_off": "bottom"}, Issue.CUT_OFF),
    ({"cut_off": "right", "cut_fraction": 0.06}, Issue.CUT_OFF),
]


def quality_of(seed: int, **options: object) -> Quality:
    image = scene(seed, **options).image
    return assess(image, find_page(image))


@pytest.mark.parametrize("background", BACKGROUNDS)
def test_clean_scenes_are_good(background: str) -> None:
    for seed in (0, 1):
        quality = quality_of(seed, background=background)
        assert quality.ok, (quality.issues, quality.measures)
        assert quality.issues == []
        assert quality.msgid is None


@pytest.mark.parametrize(
    "options",
    [
        {"lighting": 0.9},
        {"shadow": 0.4},
        {"blur": 1.0},
        {"quarter_turns": 2},
        {"width": 1920, "height": 1080},
        {"width": 1920, "height": 1080, "lighting": 0.8, "background": "clutter"},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_acceptable_variations_are_good(options: dict[str, object]) -> None:
    quality = quality_of(2, **options)
    assert quality.ok, (quality.issues, quality.measures)


@pytest.mark.parametrize(
    ("options", "issue"), SPOILED, ids=lambda v: v.name if isinstance(v, Issue) else str(v)
)
@pytest.mark.parametrize("seed", [0, 1])
def test_each_issue_is_found_on_its_scene(
    options: dict[str, object], issue: Issue, seed: int
) -> None:
    quality = quality_of(seed, **options)
    assert issue in quality.issues, (quality.issues, quality.measures)
    assert not quality.ok
    # ... and not on the same scene unspoiled.
    assert issue not in quality_of(seed).issues


def test_issue_found_on_a_larger_frame_too() -> None:
    for options, issue in SPOILED[:4]:
        quality = quality_of(5, width=1920, height=1080, **options)
        assert issue in quality.issues, (options, quality.issues, quality.measures)


@pytest.mark.parametrize("background", BACKGROUNDS)
def test_empty_desk_says_no_document(background: str) -> None:
    quality = quality_of(0, background=background, page=False)
    assert quality.issues == [Issue.NO_DOCUMENT]
    assert quality.msgid == "Place the document under the camera."


def test_shipped_empty_desk_says_no_document() -> None:
    image = load_image(SAMPLES_DIR / "desk-empty.jpg")
    assert assess(image, find_page(image)).issues == [Issue.NO_DOCUMENT]


def test_dark_and_overexposed_empty_frames_say_so_first() -> None:
    dark = quality_of(0, page=False, exposure=0.2)
    assert dark.issues == [Issue.TOO_DARK, Issue.NO_DOCUMENT]
    bright = quality_of(0, page=False, background="speckle", exposure=2.5)
    assert bright.issues[0] is Issue.TOO_BRIGHT
    assert Issue.NO_DOCUMENT in bright.issues


def test_moving_page_is_told_to_hold_still() -> None:
    image = scene(0).image
    detection = find_page(image)
    assert detection is not None
    assert assess(image, detection, previous=detection).ok
    nudged = PageDetection(
        detection.corners + np.float32([2, -1]),
        detection.area_ratio,
        detection.confidence,
        detection.frame_size,
    )
    assert assess(image, detection, previous=nudged).ok  # a hand's tremor is not a move
    moved = PageDetection(
        detection.corners + np.float32([40, 0]),
        detection.area_ratio,
        detection.confidence,
        detection.frame_size,
    )
    quality = assess(image, detection, previous=moved)
    assert quality.issues == [Issue.MOVING]
    assert quality.msgid == "Hold still."
    assert quality.measures.motion == pytest.approx(40 / np.hypot(1280, 720), rel=1e-3)


def test_issues_come_in_the_order_to_fix_them() -> None:
    quality = quality_of(1, page_scale=0.4, blur=2.5)
    assert quality.issues == [Issue.TOO_SMALL, Issue.BLURRED]
    assert quality.msgid == EXPECTED_MSGIDS[Issue.TOO_SMALL]
    assert list(Issue) == PRIORITY


def test_every_issue_has_its_citizen_message() -> None:
    assert {issue: issue.msgid for issue in Issue} == EXPECTED_MSGIDS
    assert set(MESSAGES) == set(Issue)


def test_blank_page_is_not_called_blurred() -> None:
    image = scene(0).image.copy()
    detection = find_page(image)
    assert detection is not None
    # Paint the page's inside plain paper: nothing to judge sharpness on.
    import cv2

    centre = detection.corners.mean(axis=0)
    inner = centre + (detection.corners - centre) * 0.95
    cv2.fillConvexPoly(image, np.round(inner).astype(np.int32), (235, 238, 240))
    quality = assess(image, detection)
    assert quality.measures.sharpness is None
    assert Issue.BLURRED not in quality.issues


def test_assess_refuses_what_is_not_an_image() -> None:
    with pytest.raises(ImageUnreadable):
        assess(np.zeros((0, 0), np.uint8), None)
