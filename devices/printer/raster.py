"""Typesetting layout blocks into a raster image: how Vietnamese prints right on any ESC/POS
printer.

``render_layout`` turns a list of blocks into a black-on-white ``PIL.Image`` (mode "1") of the
paper's width in printer dots, drawn with the shipped Roboto fonts. ESC/POS code pages cannot
print precomposed letters such as "ễ" or "ộ", so printing this raster is the default. Lines wrap
by measured pixel width; nothing is ever clipped. A character Roboto lacks (a name with "Ǫ" or
"★") is drawn with DejaVu Sans; one neither font has (a Han character in a foreign name) is
printed as "□" and logged, never dropped silently.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from devices.printer.blocks import (
    LINE_GAP_PX,
    MARGIN_PX,
    TEXT_SIZE_PX,
    Align,
    Block,
    FieldBlock,
    ItemBlock,
    QRBlock,
    SeparatorBlock,
    SpacerBlock,
    TextBlock,
    TextSize,
)
from kiosk.paths import FONT_BOLD, FONT_REGULAR, FONTS_DIR

log = logging.getLogger(__name__)


def nfc(text: str) -> str:
    """The NFC form of ``text`` (every string that reaches paper goes through it)."""
    return unicodedata.normalize("NFC", text)


_SIZES: list[str] = list(TEXT_SIZE_PX)


FALLBACK_REGULAR = FONTS_DIR / "DejaVuSans.ttf"


FALLBACK_BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"


MISSING_GLYPH = "\u25a1"  # □, drawn with the fallback font


@lru_cache(maxsize=32)
def _font(size: TextSize, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), TEXT_SIZE_PX[size])


@lru_cache(maxsize=32)
def _fallback_font(size: TextSize, bold: bool) -> ImageFont.FreeTypeFont:
    path = FALLBACK_BOLD if bold else FALLBACK_REGULAR
    return ImageFont.truetype(str(path), TEXT_SIZE_PX[size])


@lru_cache(maxsize=8)
def _covered(path: str) -> frozenset[int]:
    """The code points a TrueType font has glyphs for (its cmap)."""
    from reportlab.pdfbase.ttfonts import TTFontFile

    return frozenset(TTFontFile(path).charToGlyph)


@lru_cache(maxsize=256)
def _warn_missing(ch: str) -> None:
    log.warning("U+%04X (%s) is in no receipt font: printed as %s", ord(ch), ch, MISSING_GLYPH)


def font_pieces(text: str, size: TextSize, bold: bool) -> list[tuple[str, ImageFont.FreeTypeFont]]:
    """``text`` cut into pieces each drawn with one font: Roboto, else DejaVu Sans, else "□"."""
    primary = _covered(str(FONT_BOLD if bold else FONT_REGULAR))
    fallback = _covered(str(FALLBACK_BOLD if bold else FALLBACK_REGULAR))
    pieces: list[tuple[str, ImageFont.FreeTypeFont]] = []
    for ch in text:
        code = ord(ch)
        if code in primary or (unicodedata.category(ch) in ("Cc", "Cf", "Mn") and code < 0x370):
            font = _font(size, bold)
        else:
            if code not in fallback:
                _warn_missing(ch)
                ch = MISSING_GLYPH
            font = _fallback_font(size, bold)
        if pieces and pieces[-1][1] is font:
            pieces[-1] = (pieces[-1][0] + ch, font)
        else:
            pieces.append((ch, font))
    return pieces


@lru_cache(maxsize=8192)
def text_length(text: str, size: TextSize, bold: bool) -> float:
    """Width in dots of ``text`` as drawn (fallback fonts included)."""
    return sum(font.getlength(piece) for piece, font in font_pieces(text, size, bold))


def draw_text(
    draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: TextSize, bold: bool
) -> float:
    """Draw ``text`` with its baseline-left anchor at ``xy``; returns the width drawn."""
    x, y = xy
    for piece, font in font_pieces(text, size, bold):
        draw.text((x, y), piece, font=font, fill=0, anchor="la")
        x += font.getlength(piece)
    return x - xy[0]


@lru_cache(maxsize=32)
def _line_box(size: TextSize) -> tuple[int, int]:
    """(offset, height) of one line: room for stacked diacritics (Ộ, Ễ) and descenders (ỵ)."""
    top, bottom = 0, 0
    for bold in (False, True):
        font = _font(size, bold)
        ascent, descent = font.getmetrics()
        tall = font.getbbox("ỘỄẤẬỸ", anchor="la")
        deep = font.getbbox("gjpqyỵỴ", anchor="la")
        top = min(top, tall[1])
        bottom = max(bottom, ascent + descent, deep[3])
    return -top, bottom - top + LINE_GAP_PX


def _split_long(word: str, size: TextSize, bold: bool, width: float) -> list[str]:
    """Break a word wider than ``width`` into pieces that fit (at least one char each)."""
    pieces: list[str] = []
    current = ""
    for ch in word:
        if current and text_length(current + ch, size, bold) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


Run = tuple[str, bool]  # (text, bold)


_SPACES = re.compile(r"[ \t\r\n]+")  # not NBSP: "08:15\u00a026/11/2024" stays on one line


Line = list[Run]


def wrap_runs(
    runs: Iterable[Run], size: TextSize, first_width: float, width: float | None = None
) -> list[Line]:
    """Greedy word wrap of styled runs by measured width; each line is a list of runs.

    The first line may be ``first_width`` wide, the others ``width`` (default: the same).
    A word wider than a line is broken between characters rather than clipped.
    """
    next_width = first_width if width is None else width
    tokens: list[tuple[str, bool]] = []
    for text, bold in runs:
        for word in _SPACES.split(nfc(text)):
            if not word:
                continue
            tokens.append((word, bold))
    lines: list[Line] = []
    line: Line = []
    used = 0.0
    limit = first_width
    for word, bold in tokens:
        space = text_length(" ", size, bold) if line else 0.0
        wlen = text_length(word, size, bold)
        if line and used + space + wlen <= limit:
            line.append((" " + word, bold))
            used += space + wlen
            continue
        if line:
            lines.append(line)
            line, used, limit = [], 0.0, next_width
        if wlen <= limit:
            line, used = [(word, bold)], wlen
            continue
        pieces = _split_long(word, size, bold, limit)
        for piece in pieces[:-1]:
            lines.append([(piece, bold)])
            limit = next_width
        line, used = [(pieces[-1], bold)], text_length(pieces[-1], size, bold)
    if line:
        lines.append(line)
    return lines


def line_width(line: Line, size: TextSize) -> float:
    """Measured width of a wrapped line."""
    return sum(text_length(text, size, bold) for text, bold in line)


def _draw_lines(
    lines: Sequence[Line], size: TextSize, width_px: int, align: Align, indent: int = 0
) -> Image.Image:
    offset, height = _line_box(size)
    img = Image.new("L", (width_px, max(1, height * len(lines))), 255)
    draw = ImageDraw.Draw(img)
    inner = width_px - 2 * MARGIN_PX
    for row, line in enumerate(lines):
        lw = line_width(line, size)
        x = float(MARGIN_PX + indent)
        if align == "center":
            x = MARGIN_PX + (inner - lw) / 2
        elif align == "right":
            x = MARGIN_PX + inner - lw
        y = row * height + offset
        for text, bold in line:
            x += draw_text(draw, (x, y), text, size, bold)
    return img


def _render_block(block: Block, width_px: int) -> Image.Image:
    inner = width_px - 2 * MARGIN_PX
    if isinstance(block, TextBlock):
        size = block.size
        lines = wrap_runs([(block.text, block.bold)], size, inner)
        if block.fit and len(lines) > 1:
            smaller = _SIZES[_SIZES.index(size) - 1 :: -1] if size != "small" else []
            for candidate in smaller:
                fitted = wrap_runs([(block.text, block.bold)], candidate, inner)
                if len(fitted) == 1:
                    size, lines = candidate, fitted
                    break
        return _draw_lines(lines or [[("", False)]], size, width_px, block.align)
    if isinstance(block, FieldBlock):
        runs: list[Run] = [(block.label + ":", True)]
        if block.value:
            runs.append((block.value, block.value_bold))
        return _draw_lines(wrap_runs(runs, block.size, inner), block.size, width_px, "left")
    if isinstance(block, ItemBlock):
        indent = int(text_length(block.marker + " ", block.size, False)) + 16
        body = wrap_runs([(block.text, False)], block.size, inner - indent) or [[("", False)]]
        img = _draw_lines(body, block.size, width_px, "left", indent=indent)
        marker_xy = (MARGIN_PX + 16, _line_box(block.size)[0])
        draw_text(ImageDraw.Draw(img), marker_xy, block.marker, block.size, False)
        return img
    if isinstance(block, SeparatorBlock):
        img = Image.new("L", (width_px, 14), 255)
        draw = ImageDraw.Draw(img)
        if block.style == "solid":
            draw.rectangle((MARGIN_PX, 6, width_px - MARGIN_PX - 1, 7), fill=0)
        else:
            for x in range(MARGIN_PX, width_px - MARGIN_PX, 12):
                draw.rectangle((x, 6, min(x + 6, width_px - MARGIN_PX - 1), 7), fill=0)
        return img
    if isinstance(block, SpacerBlock):
        return Image.new("L", (width_px, max(1, block.height_px)), 255)
    if isinstance(block, QRBlock):
        return _render_qr(block, width_px)
    raise TypeError(f"not a layout block: {block!r}")


def qr_image(data: str, module_px: int, border: int = 2) -> Image.Image:
    """A QR code for ``data`` (UTF-8, error correction M) as a black-on-white "L" image."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module_px, border=border
    )
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def qr_module_for(block: QRBlock, width_px: int) -> int:
    """Dots per QR module: the block's own, else the largest that fits comfortably (max 6)."""
    if block.module_px is not None:
        return block.module_px
    inner = width_px - 2 * MARGIN_PX
    probe = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    probe.add_data(block.data.encode("utf-8"))
    probe.make(fit=True)
    modules = probe.modules_count + 4
    return max(1, min(6, int(min(inner * 0.7, 340) // modules)))


def _render_qr(block: QRBlock, width_px: int) -> Image.Image:
    inner = width_px - 2 * MARGIN_PX
    code = qr_image(block.data, qr_module_for(block, width_px))
    if code.width > inner:
        raise ValueError(f"QR of {code.width} dots does not fit {inner} dots of paper")
    parts = [Image.new("L", (width_px, code.height), 255)]
    parts[0].paste(code, ((width_px - code.width) // 2, 0))
    if block.caption:
        lines = wrap_runs([(block.caption, False)], "small", inner)
        parts.append(_draw_lines(lines, "small", width_px, "center"))
    return _stack(parts, width_px)


def _stack(parts: Sequence[Image.Image], width_px: int) -> Image.Image:
    height = sum(p.height for p in parts)
    out = Image.new("L", (width_px, max(1, height)), 255)
    y = 0
    for part in parts:
        out.paste(part, (0, y))
        y += part.height
    return out


def render_layout(blocks: Sequence[Block], width_px: int) -> Image.Image:
    """Draw the blocks top to bottom on white paper ``width_px`` dots wide; mode "1"."""
    if width_px < 2 * MARGIN_PX + 64:
        raise ValueError(f"paper width {width_px} dots is too narrow")
    parts = [Image.new("L", (width_px, MARGIN_PX), 255)]
    parts += [_render_block(block, width_px) for block in blocks]
    parts.append(Image.new("L", (width_px, MARGIN_PX), 255))
    grey = _stack(parts, width_px)
    return grey.point(lambda v: 255 if v >= 128 else 0, mode="1")
