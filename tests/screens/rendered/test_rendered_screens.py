"""Every screen as a citizen sees it, in vi and en × normal, large text and high contrast.

One offscreen render of all of them (``kiosk screenshot --all --modes all --check``, the wall
clock held still) feeds two kinds of test per image:

- the layout check (screens/layout_check.py): what should show has a size, no text is clipped
  or spills over its neighbours, touch targets are 64 px and do not overlap, text contrast is
  4.5:1 (7:1 in high contrast) and control boundaries 3:1, all measured on the drawn pixels;
- the reference image (tests/screens/rendered/reference/): the render, at half size, may differ
  from it in at most 0.1 % of its pixels. On failure the new image and a picture of the changed
  pixels are written to out/reference-diffs/; after an intended change, ``make references``
  regenerates the references (look at each before committing).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import cv2
import pytest

from kiosk.app.screenshots import MODES, SCREENSHOT_SCREENS

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from update_references import (  # noqa: E402
    MAX_CHANGED,
    REFERENCE_DIR,
    changed_share,
    finish_render,
    reduced,
    start_render,
)

DIFF_DIR = ROOT / "out" / "reference-diffs"
# The first of these tests waits for the render (minutes on a busy machine: it runs beside both
# workers); finish_render has its own limit, the per-test 120 s is not the one that applies.
pytestmark = pytest.mark.timeout(900)
NAMES = [
    f"{screen}-{lang}{MODES[mode][0]}.png"
    for mode in MODES
    for screen in SCREENSHOT_SCREENS
    for lang in ("vi", "en")
]


@pytest.fixture(scope="session")
def rendered(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, list[str]]]:
    """The renders: started in the background when the run began (conftest.py), so that they
    take a core while the other tests run; or now."""
    out = getattr(request.config, "screens_render_dir", None)
    if out is None:
        out = tmp_path_factory.mktemp("screens")
        start_render(out)
    return out, finish_render(out)


def test_every_screen_and_mode_is_rendered(rendered: Any) -> None:
    out, problems = rendered
    assert sorted(p.name for p in out.glob("*.png")) == sorted(NAMES)
    assert sorted(problems) == sorted(NAMES)
    assert len(NAMES) == len(SCREENSHOT_SCREENS) * 2 * 3


@pytest.mark.parametrize("name", NAMES)
def test_layout(rendered: Any, name: str) -> None:
    _, problems = rendered
    assert problems[name] == [], "\n".join(problems[name])


@pytest.mark.parametrize("name", NAMES)
def test_reference_image(rendered: Any, name: str) -> None:
    out, _ = rendered
    reference = REFERENCE_DIR / name
    new = reduced(out / name)
    assert reference.exists(), f"no reference for {name}: run make references"
    share, picture = changed_share(new, cv2.imread(str(reference), cv2.IMREAD_COLOR))
    if share > MAX_CHANGED:
        DIFF_DIR.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(DIFF_DIR / name), new)
        cv2.imwrite(str(DIFF_DIR / name.replace(".png", "-diff.png")), picture)
        pytest.fail(
            f"{name}: {share:.2%} of the pixels changed (at most {MAX_CHANGED:.1%}); new image "
            f"and diff in {DIFF_DIR.relative_to(ROOT)}; if the change is intended: make references"
        )
