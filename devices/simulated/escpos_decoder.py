"""A decoder of the ESC/POS byte stream a receipt printer receives, and the paper it would print.

``EscposDecoder.feed(data)`` takes bytes as they arrive (a command may be split between two
chunks), keeps the printer's modes (alignment, emphasis, character size, code page, line
spacing), lays out what would be printed as ``Row``/``Picture``/``Feed`` items, answers the
real-time status requests (``DLE EOT n``, ``GS r n``, ``GS a`` automatic status back) through
callbacks, and hands over a ``Page`` at every cut (``GS V``). ``render_page`` draws a page as
the paper would look. Unknown commands are logged and skipped, never fatal.

Supported: ESC @, ESC a, ESC E, ESC !, GS !, ESC t, ESC -, ESC 2/3, ESC d, ESC J, LF, HT,
text, GS v 0 (raster), ESC * (column bit image), GS ( L / GS 8 L (graphics), GS ( k (QR:
store + print, drawn with ``qrcode``), GS V, ESC i/m (cut), DLE EOT, GS r, GS a; the
lengths of the other common commands so they are skipped cleanly.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
import qrcode
from escpos.capabilities import CAPABILITIES
from PIL import Image, ImageDraw, ImageFont

from kiosk.paths import FONTS_DIR

log = logging.getLogger(__name__)

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT, FF, CAN = 0x0A, 0x0D, 0x09, 0x0C, 0x18

Align = Literal["left", "center", "right"]
_ALIGN: dict[int, Align] = {
    0: "left",
    1: "center",
    2: "right",
    48: "left",
    49: "center",
    50: "right",
}

CELL_W = {0: 12, 1: 9}  # font A 12x24, font B 9x17 dots
CELL_H = {0: 24, 1: 17}
DEFAULT_LINE_SPACING = 30  # dots; ESC 2

_INVERT = bytes(255 - i for i in range(256))

# Parameters of the commands that are skipped, by second byte: a fixed count.
_ESC_FIXED: dict[int, int] = {
    0x0C: 0, 0x20: 1, 0x24: 2, 0x25: 1, 0x3C: 0, 0x3D: 1, 0x3F: 1, 0x47: 1, 0x4C: 0,
    0x4D: 1, 0x52: 1, 0x53: 0, 0x54: 1, 0x55: 1, 0x56: 1, 0x57: 8, 0x5C: 2, 0x63: 2,
    0x65: 1, 0x66: 2, 0x67: 1, 0x6A: 1, 0x70: 3, 0x72: 1, 0x75: 1, 0x76: 0, 0x7B: 1,
}  # fmt: skip
_GS_FIXED: dict[int, int] = {
    0x24: 2, 0x2F: 1, 0x3A: 0, 0x42: 1, 0x48: 1, 0x49: 1, 0x4C: 2, 0x50: 2, 0x54: 1,
    0x57: 2, 0x5C: 2, 0x5E: 3, 0x62: 1, 0x63: 0, 0x66: 1, 0x68: 1, 0x77: 1, 0x7A: 1,
}  # fmt: skip
_FS_FIXED: dict[int, int] = {
    0x21: 1, 0x26: 0, 0x2D: 1, 0x2E: 0, 0x43: 1, 0x53: 2, 0x57: 1, 0x70: 2,
}  # fmt: skip


# --------------------------------------------------------------------------- the paper


@dataclass(frozen=True)
class TextRun:
    """Characters printed in one style; ``cells`` is the count of character cells."""

    text: str
    bold: bool
    underline: bool
    font: int
    width_mult: int
    height_mult: int

    @property
    def width(self) -> int:
        return len(self.text) * CELL_W[self.font] * self.width_mult

    @property
    def height(self) -> int:
        return CELL_H[self.font] * self.height_mult


@dataclass(frozen=True)
class InlineImage:
    """A column bit image (ESC *) printed inside a text line."""

    image: Image.Image

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


@dataclass(frozen=True)
class Row:
    """One printed line: text runs and inline images, then the paper advances ``advance``."""

    segments: tuple[TextRun | InlineImage, ...]
    align: Align
    advance: int

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments if isinstance(s, TextRun))

    @property
    def width(self) -> int:
        return sum(s.width for s in self.segments)


@dataclass(frozen=True)
class Picture:
    """A block image: ``kind`` "raster" (GS v 0), "graphics" (GS ( L) or "qr" (GS ( k)."""

    image: Image.Image  # mode "1", black where a dot is printed
    align: Align
    kind: str
    payload: str | None = None


@dataclass(frozen=True)
class Feed:
    """Blank paper fed, in dots."""

    dots: int


Item = Row | Picture | Feed


@dataclass
class Page:
    """What was printed between two cuts."""

    items: list[Item] = field(default_factory=list)
    cut: Literal["full", "partial"] | None = None

    @property
    def text(self) -> list[str]:
        """The decoded text lines (blank lines left out), NFC."""
        return [r.text.rstrip() for r in self.items if isinstance(r, Row) and r.text.strip()]

    @property
    def images(self) -> list[Image.Image]:
        """Raster, graphics and column images as received (QR codes are in ``qr_payloads``).

        Column images (ESC *) come in strips, one per line: consecutive strips of the same
        width are joined back into one image.
        """
        out: list[Image.Image] = []
        strips: list[Image.Image] = []
        for item in self.items:
            lone = item.segments[0] if isinstance(item, Row) and len(item.segments) == 1 else None
            strip = lone.image if isinstance(lone, InlineImage) else None
            if strip is not None and (not strips or strips[0].width == strip.width):
                strips.append(strip)
                continue
            if strips:
                out.append(_stack(strips))
                strips = []
            if strip is not None:
                strips.append(strip)
            elif isinstance(item, Picture) and item.kind != "qr":
                out.append(item.image)
            elif isinstance(item, Row):
                out += [s.image for s in item.segments if isinstance(s, InlineImage)]
        if strips:
            out.append(_stack(strips))
        return out

    @property
    def qr_payloads(self) -> list[str]:
        return [i.payload or "" for i in self.items if isinstance(i, Picture) and i.kind == "qr"]

    @property
    def empty(self) -> bool:
        return not any(
            isinstance(i, Picture) or (isinstance(i, Row) and i.segments) for i in self.items
        )


# --------------------------------------------------------------------------- decoder


class NeedMore(Exception):
    """The buffer ends inside a command: wait for the next chunk."""


@dataclass
class _Modes:
    align: Align = "left"
    bold: bool = False
    underline: bool = False
    font: int = 0
    width_mult: int = 1
    height_mult: int = 1
    code_page: int = 0
    line_spacing: int = DEFAULT_LINE_SPACING


@dataclass
class _QRState:
    module: int = 3
    ec: int = 48
    data: bytes = b""


StatusProvider = Callable[[str, int], bytes | None]


class EscposDecoder:
    """Decode an ESC/POS stream into pages; answers status requests through ``respond``."""

    def __init__(
        self,
        width_dots: int = 576,
        *,
        on_page: Callable[[Page], None],
        respond: Callable[[bytes], None] = lambda data: None,
        status: StatusProvider = lambda kind, n: None,
        on_command: Callable[[str], None] = lambda name: None,
    ) -> None:
        self.width_dots = width_dots
        self._on_page = on_page
        self._respond = respond
        self._status = status
        self._on_command = on_command
        self._buf = bytearray()
        self._modes = _Modes()
        self._qr = _QRState()
        self._page = Page()
        self._line: list[TextRun | InlineImage] = []
        self._line_align: Align | None = None
        self._graphics: Image.Image | None = None

    # ---- public

    def feed(self, data: bytes) -> None:
        """Take the next bytes of the stream."""
        self._buf += data
        pos = 0
        try:
            while pos < len(self._buf):
                pos += self._step(pos)
        except NeedMore:
            pass
        del self._buf[:pos]

    def flush(self) -> Page | None:
        """At the end of a stream: the printed but uncut page, or None when nothing was printed."""
        if self._line:
            self._print_line()
        page, self._page = self._page, Page()
        self._buf.clear()
        return None if page.empty else page

    # ---- helpers

    def _need(self, pos: int, count: int) -> bytes:
        if pos + count > len(self._buf):
            raise NeedMore
        return bytes(self._buf[pos : pos + count])

    def _log(self, name: str) -> None:
        self._on_command(name)

    def _skip(self, name: str, length: int, pos: int) -> int:
        self._need(pos, length)
        self._log(name)
        return length

    # ---- dispatch

    def _step(self, pos: int) -> int:
        b = self._buf[pos]
        if b == ESC:
            return self._esc(pos)
        if b == GS:
            return self._gs(pos)
        if b == DLE:
            return self._dle(pos)
        if b == FS:
            return self._fs(pos)
        if b == LF:
            self._log("LF")
            self._print_line(feed_if_empty=True)
            return 1
        if b == HT:
            self._text(" " * (8 - len(self._current_text()) % 8))
            return 1
        if b in (CR, FF, CAN) or b < 0x20:
            if b != CR:
                self._log(f"control 0x{b:02x}")
            return 1
        end = pos
        while end < len(self._buf) and self._buf[end] >= 0x20:
            end += 1
        self._text(self._decode(bytes(self._buf[pos:end])))
        self._log("text")
        return end - pos

    def _esc(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        m = self._modes
        if cmd == 0x40:  # ESC @
            self._log("ESC @")
            self._line, self._line_align = [], None
            self._modes = _Modes()
            return 2
        if cmd in (0x61, 0x45, 0x21, 0x74, 0x2D, 0x33, 0x64, 0x4A, 0x4D, 0x47):
            n = self._need(pos, 3)[2]
            if cmd == 0x61:
                self._log("ESC a")
                m.align = _ALIGN.get(n, m.align)
            elif cmd in (0x45, 0x47):
                self._log("ESC E" if cmd == 0x45 else "ESC G")
                m.bold = bool(n & 1)
            elif cmd == 0x21:
                self._log("ESC !")
                m.font = n & 1
                m.bold = bool(n & 0x08)
                m.height_mult = 2 if n & 0x10 else 1
                m.width_mult = 2 if n & 0x20 else 1
                m.underline = bool(n & 0x80)
            elif cmd == 0x74:
                self._log("ESC t")
                m.code_page = n
            elif cmd == 0x2D:
                self._log("ESC -")
                m.underline = n in (1, 2, 49, 50)
            elif cmd == 0x33:
                self._log("ESC 3")
                m.line_spacing = n
            elif cmd == 0x4D:
                self._log("ESC M")
                m.font = 1 if n in (1, 49) else 0
            elif cmd == 0x64:
                self._log("ESC d")
                self._print_line()
                self._page.items.append(Feed(n * m.line_spacing))
            else:
                self._log("ESC J")
                self._print_line()
                self._page.items.append(Feed(n))
            return 3
        if cmd == 0x32:  # ESC 2
            self._log("ESC 2")
            m.line_spacing = DEFAULT_LINE_SPACING
            return 2
        if cmd == 0x2A:  # ESC * m nL nH d1..dk
            return self._esc_star(pos)
        if cmd in (0x69, 0x6D):  # ESC i / ESC m: partial cut (obsolete)
            self._log("ESC i" if cmd == 0x69 else "ESC m")
            self._cut("partial")
            return 2
        if cmd == 0x44:  # ESC D n1..nk NUL
            return self._until_nul("ESC D", pos, 2)
        if cmd == 0x26:  # ESC & y c1 c2 [x d1..d(y*x)]...
            return self._esc_amp(pos)
        if cmd == 0x28:  # ESC ( fn pL pH ...
            head = self._need(pos, 5)
            return self._skip(f"ESC ( {chr(head[2])}", 5 + head[3] + 256 * head[4], pos)
        if cmd in _ESC_FIXED:
            return self._skip(f"ESC 0x{cmd:02x}", 2 + _ESC_FIXED[cmd], pos)
        log.warning("unknown command ESC 0x%02x: skipped", cmd)
        self._log(f"unknown ESC 0x{cmd:02x}")
        return 2

    def _gs(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        m = self._modes
        if cmd == 0x21:  # GS ! n
            n = self._need(pos, 3)[2]
            self._log("GS !")
            m.width_mult = min(8, (n >> 4) + 1)
            m.height_mult = min(8, (n & 0x0F) + 1)
            return 3
        if cmd == 0x76:  # GS v 0 m xL xH yL yH d
            return self._gs_v0(pos)
        if cmd == 0x56:  # GS V m [n]
            mode = self._need(pos, 3)[2]
            length = 4 if mode in (65, 66, 97, 98, 103, 104) else 3
            head = self._need(pos, length)
            self._log("GS V")
            if length == 4 and mode in (65, 66):
                self._print_line()
                self._page.items.append(Feed(head[3]))
            self._cut("full" if mode in (0, 48, 65, 97, 103) else "partial")
            return length
        if cmd == 0x28:  # GS ( fn pL pH ...
            head = self._need(pos, 5)
            length = head[3] + 256 * head[4]
            body = self._need(pos, 5 + length)[5:]
            if head[2] == 0x6B:
                self._log("GS ( k")
                self._two_d_code(body)
            elif head[2] == 0x4C:
                self._log("GS ( L")
                self._graphics_cmd(body)
            else:
                self._log(f"GS ( {chr(head[2])}")
            return 5 + length
        if cmd == 0x38:  # GS 8 L p1 p2 p3 p4 ...
            head = self._need(pos, 7)
            length = int.from_bytes(head[3:7], "little")
            body = self._need(pos, 7 + length)[7:]
            self._log(f"GS 8 {chr(head[2])}")
            if head[2] == 0x4C:
                self._graphics_cmd(body)
            return 7 + length
        if cmd == 0x72:  # GS r n: transmit status
            n = self._need(pos, 3)[2]
            self._log(f"GS r {n}")
            self._answer("GS r", n)
            return 3
        if cmd == 0x61:  # GS a n: automatic status back
            n = self._need(pos, 3)[2]
            self._log("GS a")
            if n:
                self._answer("ASB", n)
            return 3
        if cmd == 0x6B:  # GS k m ... barcode
            return self._gs_k(pos)
        if cmd == 0x2A:  # GS * x y d1..d(x*y*8)
            head = self._need(pos, 4)
            return self._skip("GS *", 4 + head[2] * head[3] * 8, pos)
        if cmd in (0x44, 0x51, 0x43):  # GS D / GS Q / GS C: rare, length-prefixed variants
            log.warning("unsupported command GS 0x%02x: skipped", cmd)
            self._log(f"unknown GS 0x{cmd:02x}")
            return 2
        if cmd in _GS_FIXED:
            return self._skip(f"GS 0x{cmd:02x}", 2 + _GS_FIXED[cmd], pos)
        log.warning("unknown command GS 0x%02x: skipped", cmd)
        self._log(f"unknown GS 0x{cmd:02x}")
        return 2

    def _dle(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        if cmd == 0x04:  # DLE EOT n [a]
            n = self._need(pos, 3)[2]
            length = 4 if n in (7, 8) else 3
            self._need(pos, length)
            self._log(f"DLE EOT {n}")
            self._answer("DLE EOT", n)
            return length
        if cmd == 0x05:  # DLE ENQ n
            return self._skip("DLE ENQ", 3, pos)
        if cmd == 0x14:  # DLE DC4 fn ...
            fn = self._need(pos, 3)[2]
            extra = {1: 2, 2: 2, 7: 1, 8: 7}.get(fn, 0)
            return self._skip(f"DLE DC4 {fn}", 3 + extra, pos)
        self._log(f"unknown DLE 0x{cmd:02x}")
        return 2

    def _fs(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        if cmd == 0x28:  # FS ( fn pL pH ...
            head = self._need(pos, 5)
            return self._skip(f"FS ( {chr(head[2])}", 5 + head[3] + 256 * head[4], pos)
        if cmd == 0x32:  # FS 2 c1 c2 d1..d72
            return self._skip("FS 2", 76, pos)
        if cmd in _FS_FIXED:
            return self._skip(f"FS 0x{cmd:02x}", 2 + _FS_FIXED[cmd], pos)
        log.warning("unknown command FS 0x%02x: skipped", cmd)
        self._log(f"unknown FS 0x{cmd:02x}")
        return 2

    # ---- commands with data

    def _until_nul(self, name: str, pos: int, start: int) -> int:
        end = self._buf.find(b"\x00", pos + start)
        if end < 0:
            raise NeedMore
        self._log(name)
        return end - pos + 1

    def _esc_amp(self, pos: int) -> int:
        y, c1, c2 = self._need(pos, 5)[2:5]
        length = 5
        for _ in range(max(0, c2 - c1 + 1)):
            x = self._need(pos, length + 1)[length]
            length += 1 + y * x
        return self._skip("ESC &", length, pos)

    def _gs_k(self, pos: int) -> int:
        mode = self._need(pos, 3)[2]
        if mode <= 6:
            return self._until_nul("GS k", pos, 3)
        n = self._need(pos, 4)[3]
        return self._skip("GS k", 4 + n, pos)

    def _esc_star(self, pos: int) -> int:
        head = self._need(pos, 5)
        mode, count = head[2], head[3] + 256 * head[4]
        rows = 3 if mode in (32, 33) else 1
        data = self._need(pos, 5 + count * rows)[5:]
        self._log("ESC *")
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8).reshape(count, rows), axis=1)
        image = _bits_to_image(bits.T)
        sx, sy = {0: (2, 3), 1: (1, 3), 32: (2, 1), 33: (1, 1)}.get(mode, (1, 1))
        if (sx, sy) != (1, 1):
            image = image.resize((image.width * sx, image.height * sy), Image.Resampling.NEAREST)
        self._line.append(InlineImage(image))
        if self._line_align is None:
            self._line_align = self._modes.align
        return 5 + count * rows

    def _gs_v0(self, pos: int) -> int:
        head = self._need(pos, 8)
        if head[2] not in (0x30, 0x00):
            log.warning("GS v 0x%02x is not GS v 0: skipped", head[2])
            self._log("unknown GS v")
            return 3
        mode = head[3]
        width_bytes = head[4] + 256 * head[5]
        height = head[6] + 256 * head[7]
        data = self._need(pos, 8 + width_bytes * height)[8:]
        self._log("GS v 0")
        image = _raster_to_image(data, width_bytes * 8, height)
        sx = 2 if mode in (1, 3, 49, 51) else 1
        sy = 2 if mode in (2, 3, 50, 51) else 1
        if (sx, sy) != (1, 1):
            image = image.resize((image.width * sx, image.height * sy), Image.Resampling.NEAREST)
        self._picture(image, "raster")
        return 8 + width_bytes * height

    def _graphics_cmd(self, body: bytes) -> None:
        if len(body) < 2:
            return
        fn = body[1]
        if fn == 112 and len(body) >= 10:  # store raster graphics: m fn a bx by c xL xH yL yH d
            bx, by = body[3], body[4]
            width = body[6] + 256 * body[7]
            height = body[8] + 256 * body[9]
            data = body[10 : 10 + ((width + 7) // 8) * height]
            image = _raster_to_image(data, ((width + 7) // 8) * 8, height).crop(
                (0, 0, width, height)
            )
            if (bx, by) != (1, 1):
                image = image.resize((width * bx, height * by), Image.Resampling.NEAREST)
            self._graphics = image
        elif fn == 50 and self._graphics is not None:  # print the stored graphics
            self._picture(self._graphics, "graphics")
            self._graphics = None
        else:
            log.info("GS ( L function %d ignored", fn)

    def _two_d_code(self, body: bytes) -> None:
        if len(body) < 2:
            return
        cn, fn = body[0], body[1]
        if cn != 49:  # PDF417 (48) and others: not drawn
            log.info("2D code type %d not rendered", cn)
            return
        if fn == 67 and len(body) >= 3:
            self._qr.module = max(1, min(16, body[2]))
        elif fn == 69 and len(body) >= 3:
            self._qr.ec = body[2]
        elif fn == 80:
            self._qr.data = bytes(body[3:])
        elif fn == 81:
            self._print_qr()
        else:  # 65 model, 66 columns, 82 size information: nothing to draw or answer
            log.info("QR function %d ignored", fn)

    def _print_qr(self) -> None:
        ec = {48: "L", 49: "M", 50: "Q", 51: "H"}.get(self._qr.ec, "L")
        level = getattr(qrcode.constants, f"ERROR_CORRECT_{ec}")
        code = qrcode.QRCode(error_correction=level, box_size=self._qr.module, border=2)
        code.add_data(self._qr.data)
        code.make(fit=True)
        image = code.make_image().get_image().convert("1")
        payload = self._qr.data.decode("utf-8", errors="replace")
        self._picture(image, "qr", payload=unicodedata.normalize("NFC", payload))

    # ---- layout

    def _answer(self, kind: str, n: int) -> None:
        reply = self._status(kind, n)
        if reply:
            self._respond(reply)

    def _decode(self, raw: bytes) -> str:
        return decode_text(raw, self._modes.code_page)

    def _current_text(self) -> str:
        return "".join(s.text for s in self._line if isinstance(s, TextRun))

    def _text(self, text: str) -> None:
        m = self._modes
        cell = CELL_W[m.font] * m.width_mult
        for ch in text:
            used = sum(s.width for s in self._line)
            if used + cell > self.width_dots:  # the printer wraps a full line by itself
                self._print_line()
            if self._line_align is None:
                self._line_align = m.align
            last = self._line[-1] if self._line else None
            style = (m.bold, m.underline, m.font, m.width_mult, m.height_mult)
            if (
                isinstance(last, TextRun)
                and (
                    last.bold,
                    last.underline,
                    last.font,
                    last.width_mult,
                    last.height_mult,
                )
                == style
            ):
                self._line[-1] = TextRun(last.text + ch, *style)
            else:
                self._line.append(TextRun(ch, *style))

    def _print_line(self, *, feed_if_empty: bool = False) -> None:
        if not self._line:
            if feed_if_empty:
                self._page.items.append(Feed(self._modes.line_spacing))
            return
        height = max(s.height for s in self._line)
        self._page.items.append(
            Row(
                tuple(self._line), self._line_align or "left", max(height, self._modes.line_spacing)
            )
        )
        self._line, self._line_align = [], None

    def _picture(self, image: Image.Image, kind: str, payload: str | None = None) -> None:
        self._print_line()
        if image.width > self.width_dots:
            log.warning(
                "%s image %d dots wide on %d-dot paper: clipped", kind, image.width, self.width_dots
            )
            image = image.crop((0, 0, self.width_dots, image.height))
        self._page.items.append(Picture(image, self._modes.align, kind, payload))

    def _cut(self, kind: Literal["full", "partial"]) -> None:
        self._print_line()
        page, self._page = self._page, Page()
        page.cut = kind
        self._on_page(page)


def _stack(images: list[Image.Image]) -> Image.Image:
    if len(images) == 1:
        return images[0]
    out = Image.new("1", (images[0].width, sum(i.height for i in images)), 1)
    y = 0
    for image in images:
        out.paste(image, (0, y))
        y += image.height
    return out


def _raster_to_image(data: bytes, width: int, height: int) -> Image.Image:
    """Raster bytes (bit 1 = printed dot, MSB first) as a mode "1" image, black on white."""
    return Image.frombytes("1", (width, height), bytes(data).translate(_INVERT))


def _bits_to_image(bits: np.ndarray) -> Image.Image:
    """A 0/1 array (1 = printed dot) as a mode "1" image, black on white."""
    return Image.fromarray(np.where(bits > 0, 0, 255).astype(np.uint8), mode="L").convert("1")


@lru_cache(maxsize=64)
def _code_page(code_page: int) -> str | tuple[str, ...]:
    """How to decode an ESC t code page, from python-escpos' printer database: a Python codec
    name, or a 256-character table for pages Python lacks (Vietnamese TCVN-3)."""
    name = CAPABILITIES["profiles"]["default"]["codePages"].get(str(code_page), "Unknown")
    encoding = CAPABILITIES["encodings"].get(name, {})
    if encoding.get("python_encode"):
        return str(encoding["python_encode"])
    if "data" in encoding:
        # python-escpos' TCVN-3 data writes "Đ" (U+0110) as its look-alike "Ð" (U+00D0).
        high = "".join(encoding["data"]).replace("\u00d0", "\u0110")
        if len(high) == 128:
            return tuple(chr(i) for i in range(128)) + tuple(high)
    log.warning("code page %d (%s) is not known here: decoded as CP437", code_page, name)
    return "cp437"


def decode_text(raw: bytes, code_page: int) -> str:
    """Printable bytes in an ESC t code page as NFC text (undecodable bytes become U+FFFD)."""
    page = _code_page(code_page)
    if isinstance(page, str):
        text = raw.decode(page, errors="replace")
    else:
        text = "".join(page[b] for b in raw)
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- rendering


@lru_cache(maxsize=4)
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONTS_DIR / name), 20)


def _draw_run(run: TextRun) -> Image.Image:
    font = _font(run.bold)
    natural = max(1, int(font.getlength(run.text)) + 1)
    cell_h = CELL_H[run.font]
    img = Image.new("L", (natural, cell_h), 255)
    draw = ImageDraw.Draw(img)
    draw.text((0, cell_h - 4), run.text, font=font, fill=0, anchor="ls")
    if run.underline:
        draw.line((0, cell_h - 2, natural, cell_h - 2), fill=0, width=1)
    return img.resize((run.width, run.height), Image.Resampling.LANCZOS)


def _x_for(align: Align, width: int, paper: int) -> int:
    if align == "center":
        return max(0, (paper - width) // 2)
    if align == "right":
        return max(0, paper - width)
    return 0


def render_page(page: Page, width_dots: int) -> Image.Image:
    """The page as the paper would look: ``width_dots`` wide, black on white, mode "L"."""
    heights = []
    for item in page.items:
        if isinstance(item, Row):
            heights.append(item.advance)
        elif isinstance(item, Picture):
            heights.append(item.image.height)
        else:
            heights.append(item.dots)
    canvas = Image.new("L", (width_dots, max(1, sum(heights))), 255)
    y = 0
    for item, height in zip(page.items, heights, strict=True):
        if isinstance(item, Row):
            row_h = max((s.height for s in item.segments), default=0)
            x = _x_for(item.align, item.width, width_dots)
            for seg in item.segments:
                img = _draw_run(seg) if isinstance(seg, TextRun) else seg.image.convert("L")
                canvas.paste(img, (x, y + row_h - img.height))
                x += seg.width
        elif isinstance(item, Picture):
            x = _x_for(item.align, item.image.width, width_dots)
            canvas.paste(item.image.convert("L"), (x, y))
        y += height
    return canvas


__all__ = [
    "EscposDecoder",
    "decode_text",
    "Feed",
    "InlineImage",
    "Page",
    "Picture",
    "Row",
    "TextRun",
    "render_page",
]
