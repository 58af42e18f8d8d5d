"""A receipt layout turned into the parts of one ESC/POS print job, as ``[printer]`` config says.

``compose_job(blocks, width_dots, options)`` returns ``JobPart``s that the driver writes in
order through python-escpos:

- ``RasterPart``: an image printed with ``GS v 0`` (the default for all text: Vietnamese drawn
  with the shipped fonts, right on any printer);
- ``RawPart``: bytes of text and style commands, used only when ``options.code_page`` names a
  Vietnamese code page the printer has (``cp1258`` or ``tcvn3``, see ``escpos_vietnamese``);
- ``NativeQRPart``: a QR code printed with the printer's own ``GS ( k`` command
  (``options.qr == "native"``); otherwise QR codes are drawn into the raster.

Text mode maps the layout's sizes onto the printer's fonts: small = font B, normal = font A,
large = double height, xlarge = double width and height, huge = four times; lines are wrapped
on words to the columns the paper holds, so centring and wrapping never depend on the printer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from devices.printer.blocks import (
    Block,
    FieldBlock,
    ItemBlock,
    QRBlock,
    SeparatorBlock,
    SpacerBlock,
    TextBlock,
)
from devices.printer.raster import qr_module_for, render_layout
from devices.printer.vietnamese_code_pages import VietnameseEncoder

log = logging.getLogger(__name__)

QRMode = Literal["image", "native"]

ESC, GS, LF = b"\x1b", b"\x1d", b"\n"
FONT_A_DOTS, FONT_B_DOTS = 12, 9

#: Text size -> (font, width multiplier, height multiplier) in text mode.
TEXT_SIZE_STYLE: dict[str, tuple[int, int, int]] = {
    "small": (1, 1, 1),
    "normal": (0, 1, 1),
    "large": (0, 1, 2),
    "xlarge": (0, 2, 2),
    "huge": (0, 4, 4),
}
_SIZES: list[str] = list(TEXT_SIZE_STYLE)
_ALIGN = {"left": 0, "center": 1, "right": 2}


@dataclass(frozen=True)
class JobOptions:
    """How text and QR codes are sent: ``code_page`` "" = raster (the default)."""

    code_page: str = ""
    tables: tuple[int, ...] | None = None
    qr: QRMode = "image"


@dataclass(frozen=True)
class RasterPart:
    """An image printed as ``GS v 0``, centred; black = a printed dot."""

    image: Image.Image


@dataclass(frozen=True)
class RawPart:
    """Text and style commands, sent as they are."""

    data: bytes


@dataclass(frozen=True)
class NativeQRPart:
    """A QR code the printer draws itself (``GS ( k``), ``module`` dots per module, centred."""

    data: str
    module: int


JobPart = RasterPart | RawPart | NativeQRPart


@dataclass
class Job:
    """The parts of one job and the characters the code page could not hold."""

    parts: list[JobPart]
    replaced: list[str] = field(default_factory=list)


def compose_job(blocks: Sequence[Block], width_dots: int, options: JobOptions) -> Job:
    """The parts that print ``blocks`` on ``width_dots`` of paper (see the module docstring)."""
    if options.code_page:
        return _TextComposer(width_dots, options).compose(blocks)
    if options.qr == "image":
        return Job([RasterPart(render_layout(blocks, width_dots))])
    parts: list[JobPart] = []
    for group, qr in _split_at_qr(blocks):
        if group:
            parts.append(RasterPart(render_layout(group, width_dots)))
        if qr is not None:
            parts.append(NativeQRPart(qr.data, qr_module_for(qr, width_dots)))
            if qr.caption:
                caption = TextBlock(qr.caption, align="center", size="small")
                parts.append(RasterPart(render_layout([caption], width_dots)))
    return Job(parts)


def _split_at_qr(blocks: Sequence[Block]) -> Iterator[tuple[list[Block], QRBlock | None]]:
    group: list[Block] = []
    for block in blocks:
        if isinstance(block, QRBlock):
            yield group, block
            group = []
        else:
            group.append(block)
    yield group, None


Run = tuple[str, bool]


class _TextComposer:
    """Builds the bytes of a layout in a Vietnamese code page of the printer."""

    def __init__(self, width_dots: int, options: JobOptions) -> None:
        self.width_dots = width_dots
        self.options = options
        self.encoder = VietnameseEncoder(options.code_page, options.tables)
        self.table = self.encoder.tables[0]
        self.replaced: list[str] = []

    def columns(self, size: str) -> int:
        font, wide, _high = TEXT_SIZE_STYLE[size]
        return self.width_dots // ((FONT_B_DOTS if font else FONT_A_DOTS) * wide)

    def compose(self, blocks: Sequence[Block]) -> Job:
        parts: list[JobPart] = []
        out = bytearray(self.encoder.select())
        for block in blocks:
            if isinstance(block, QRBlock):
                module = qr_module_for(block, self.width_dots)
                if self.options.qr == "native":
                    parts.append(RawPart(bytes(out) + ESC + b"a\x01"))
                    parts.append(NativeQRPart(block.data, module))
                    out = bytearray(ESC + b"a\x00")
                else:
                    parts += [RawPart(bytes(out)), RasterPart(_qr_raster(block, self.width_dots))]
                    out = bytearray()
                if block.caption:
                    out += self._paragraph([(block.caption, False)], "small", "center")
                continue
            out += self._block(block)
        out += ESC + b"a\x00" + ESC + b"E\x00" + GS + b"!\x00" + ESC + b"M\x00"
        parts.append(RawPart(bytes(out)))
        return Job([p for p in parts if not (isinstance(p, RawPart) and not p.data)], self.replaced)

    def _block(self, block: Block) -> bytes:
        if isinstance(block, TextBlock):
            size = block.size
            if block.fit and len(self._wrap([(block.text, block.bold)], size)) > 1:
                for smaller in _SIZES[_SIZES.index(size) - 1 :: -1]:
                    if len(self._wrap([(block.text, block.bold)], smaller)) == 1:
                        size = smaller
                        break
            return self._paragraph([(block.text, block.bold)], size, block.align)
        if isinstance(block, FieldBlock):
            runs: list[Run] = [(block.label + ":", True)]
            if block.value:
                runs.append((block.value, block.value_bold))
            return self._paragraph(runs, block.size, "left")
        if isinstance(block, ItemBlock):
            indent = "  " + block.marker + " "
            width = self.columns(block.size) - len(indent)
            lines = self._wrap([(block.text, False)], block.size, width)
            out = bytearray(self._style(block.size, "left"))
            for i, line in enumerate(lines or [[("", False)]]):
                lead = indent if i == 0 else " " * len(indent)
                out += self._line([(lead, False), *line])
            return bytes(out)
        if isinstance(block, SeparatorBlock):
            cols = self.columns("normal")
            rule = "-" * cols if block.style == "solid" else ("- " * cols)[:cols]
            return self._style("normal", "left") + self._line([(rule, False)])
        if isinstance(block, SpacerBlock):
            return ESC + b"J" + bytes([max(0, min(255, block.height_px))])
        raise TypeError(f"not a layout block: {block!r}")

    def _style(self, size: str, align: str) -> bytes:
        font, wide, high = TEXT_SIZE_STYLE[size]
        return (
            ESC + b"a" + bytes([_ALIGN[align]])
            + ESC + b"M" + bytes([font])
            + GS + b"!" + bytes([((wide - 1) << 4) | (high - 1)])
        )  # fmt: skip

    def _paragraph(self, runs: list[Run], size: str, align: str) -> bytes:
        out = bytearray(self._style(size, align))
        for line in self._wrap(runs, size) or [[("", False)]]:
            out += self._line(line)
        return bytes(out)

    def _line(self, line: list[Run]) -> bytes:
        out = bytearray()
        for text, bold in line:
            encoded = self.encoder.encode(text, self.table)
            self.table = encoded.table
            self.replaced += encoded.replaced
            out += ESC + b"E" + (b"\x01" if bold else b"\x00") + encoded.data
        return bytes(out + ESC + b"E\x00" + LF)

    def _wrap(self, runs: list[Run], size: str, width: int | None = None) -> list[list[Run]]:
        """Greedy word wrap by character cells; a word longer than a line is cut."""
        cols = self.columns(size) if width is None else width
        lines: list[list[Run]] = []
        line: list[Run] = []
        used = 0
        for text, bold in runs:
            for word in text.split():
                cells = self.encoder.cells(word)
                if line and used + 1 + cells <= cols:
                    line.append((" " + word, bold))
                    used += 1 + cells
                    continue
                if line:
                    lines.append(line)
                    line, used = [], 0
                while cells > cols:
                    head = _fit(word, cols, self.encoder)
                    lines.append([(head, bold)])
                    word = word[len(head) :]
                    cells = self.encoder.cells(word)
                line, used = [(word, bold)], cells
        if line:
            lines.append(line)
        return lines


def _fit(word: str, cols: int, encoder: VietnameseEncoder) -> str:
    """The longest start of ``word`` that takes at most ``cols`` cells (at least one char)."""
    end = 1
    while end < len(word) and encoder.cells(word[: end + 1]) <= cols:
        end += 1
    return word[:end]


def _qr_raster(block: QRBlock, width_dots: int) -> Image.Image:
    return render_layout([QRBlock(block.data, module_px=block.module_px)], width_dots)


__all__ = [
    "Job",
    "JobOptions",
    "JobPart",
    "NativeQRPart",
    "QRMode",
    "RasterPart",
    "RawPart",
    "TEXT_SIZE_STYLE",
    "compose_job",
]
