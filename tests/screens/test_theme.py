"""Every state of every button is readable and stands out, in both palettes: text against its
fill 4.5:1 (7:1 in high contrast), the control's edge (fill or border) 3:1 against the screen."""

from __future__ import annotations

import itertools

import pytest

from screens import theme
from screens.layout_check import contrast_ratio
from screens.widgets import KButton

PALETTES = {"normal": (theme.NORMAL, 4.5), "high contrast": (theme.HIGH_CONTRAST, 7.0)}
STATES = list(
    itertools.product(
        ("primary", "secondary", "danger"), ("normal", "down"), (False, True), (False, True)
    )
)


@pytest.mark.parametrize("palette", PALETTES)
@pytest.mark.parametrize(("kind", "state", "selected", "disabled"), STATES)
def test_button_text_and_edge(
    palette: str, kind: str, state: str, selected: bool, disabled: bool
) -> None:
    colours, text_ratio = PALETTES[palette]
    fill = KButton.fill_colour(colours, kind, state, selected, disabled)
    text = (
        colours["disabled_fg"]
        if disabled
        else KButton.text_colour(colours, kind, state, selected, disabled)
    )
    border = KButton.border_colour(colours, kind, state, selected, disabled)
    assert contrast_ratio(text, fill) >= text_ratio
    edge = max(
        contrast_ratio(fill, colours["bg"]),
        contrast_ratio(border, colours["bg"]) if border[3] else 1,
    )
    assert edge >= 3.0


@pytest.mark.parametrize("palette", PALETTES)
def test_text_boxes_lines_and_panels(palette: str) -> None:
    colours, text_ratio = PALETTES[palette]
    for surface in ("bg", "surface"):
        assert contrast_ratio(colours["fg"], colours[surface]) >= text_ratio
        assert contrast_ratio(colours["muted"], colours[surface]) >= text_ratio
        assert contrast_ratio(colours["border"], colours[surface]) >= 3.0
        assert contrast_ratio(colours["focus"], colours[surface]) >= 3.0
        assert contrast_ratio(colours["line"], colours[surface]) >= 3.0
    assert contrast_ratio(colours["primary"], colours["panel"]) >= 3.0  # the keyboard's Next


def test_zoom_steps_cycle() -> None:
    assert theme.ZOOM_STEPS == (1.0, 1.25, 1.5)
    assert [theme.next_zoom(s) for s in theme.ZOOM_STEPS] == [1.25, 1.5, 1.0]
    assert theme.LARGE_SCALE == 1.5
