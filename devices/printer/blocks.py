"""The vocabulary of a printed layout: blocks (text, label/value field, numbered item, separator,
spacer, QR), text sizes in printer dots, and the printable width of common paper rolls.

The kiosk builds receipts and tickets from these blocks (kiosk/printing/receipt.py); the raster
typesetter (devices/printer/raster.py) and the ESC/POS job builder (devices/printer/escpos_job.py)
turn them into what the printer receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Align = Literal["left", "center", "right"]


TextSize = Literal["small", "normal", "large", "xlarge", "huge"]


#: Font size in printer dots (203 dpi) for each text size.
TEXT_SIZE_PX: dict[str, int] = {"small": 20, "normal": 24, "large": 30, "xlarge": 44, "huge": 110}


#: Printable width in dots of common paper rolls at 203 dpi.
_DOTS_FOR_WIDTH_MM = {80: 576, 58: 384}


MARGIN_PX = 8


LINE_GAP_PX = 4


def dots_for_width_mm(width_mm: int) -> int:
    """Printable width in dots for a paper roll: 80 mm -> 576, 58 mm -> 384."""
    try:
        return _DOTS_FOR_WIDTH_MM[width_mm]
    except KeyError:
        raise ValueError(f"unsupported paper width {width_mm} mm (use 58 or 80)") from None


@dataclass(frozen=True)
class TextBlock:
    """A paragraph, wrapped to the paper width.

    ``fit`` (for codes and numbers): use a smaller size, down to "small", before wrapping.
    """

    text: str
    align: Align = "left"
    bold: bool = False
    size: TextSize = "normal"
    fit: bool = False


@dataclass(frozen=True)
class FieldBlock:
    """``label: value`` with the label in bold, wrapped as one paragraph."""

    label: str
    value: str
    size: TextSize = "normal"
    value_bold: bool = False


@dataclass(frozen=True)
class ItemBlock:
    """A list item: ``marker`` (e.g. "1.") then ``text`` with a hanging indent."""

    marker: str
    text: str
    size: TextSize = "normal"


@dataclass(frozen=True)
class SeparatorBlock:
    """A horizontal rule across the paper."""

    style: Literal["solid", "dashed"] = "solid"


@dataclass(frozen=True)
class SpacerBlock:
    """Blank paper, ``height_px`` dots high."""

    height_px: int = 12


@dataclass(frozen=True)
class QRBlock:
    """A QR code, centred; ``module_px`` None picks the largest module that fits comfortably."""

    data: str
    module_px: int | None = None
    caption: str | None = None


Block = TextBlock | FieldBlock | ItemBlock | SeparatorBlock | SpacerBlock | QRBlock
