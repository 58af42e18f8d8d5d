"""Vietnamese text in a printer's own code page: Windows-1258 or TCVN-3, bytes and table switches.

Used only when ``[printer] code_page`` says the printer has such a page; by default the kiosk
prints raster images and never needs this. Two encodings are supported:

- ``cp1258`` (Epson table 52 "WPC1258"): Windows-1258 holds the base letters (â ê ô ă ơ ư đ,
  and a few letters with a tone such as à, á) and five combining tone marks. Python's ``cp1258``
  codec, which python-escpos' ``text()`` uses, turns a precomposed letter such as "ễ" or "ộ"
  into ``?``; here each letter is split into its base and a combining tone mark instead
  ("ễ" = "ê" + U+0303), which is what the code page means.
- ``tcvn3`` (Epson tables 30 and 31, "TCVN-3" lowercase and uppercase): every Vietnamese letter
  precomposed, lowercase letters in one table and uppercase in the other; the encoder switches
  tables with ``ESC t n`` when the case changes.

Punctuation a page lacks is written plainly ("·" and "—" as "-", "…" as "..."). Another
character the page cannot hold is written without its marks if that leaves a letter the page
has ("ñ" -> "n"), else as "?"; each such character is reported so the caller can log it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from escpos.capabilities import CAPABILITIES

CodePageName = Literal["cp1258", "tcvn3"]
CODE_PAGES: tuple[str, ...] = ("cp1258", "tcvn3")

#: Tables in python-escpos' default (Epson) profile: cp1258 -> 52, tcvn3 -> 30 and 31.
DEFAULT_TABLES: dict[str, tuple[int, ...]] = {"cp1258": (52,), "tcvn3": (30, 31)}

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền sắc ngã hỏi nặng
#: Punctuation a page may lack, written the way a typewriter would (not counted as lost).
_PUNCTUATION = {
    "\u00b7": "-",  # middle dot
    "\u2013": "-",
    "\u2014": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u00a0": " ",
    "\u2022": "*",
}
ESC_T = b"\x1bt"


@dataclass
class Encoded:
    """Bytes for the printer, the table they leave selected and the characters replaced."""

    data: bytes
    table: int
    replaced: list[str] = field(default_factory=list)


@lru_cache(maxsize=4)
def _tcvn_table(name: str) -> dict[str, int]:
    """Character -> byte of one TCVN-3 table from python-escpos' capability data."""
    rows = CAPABILITIES["encodings"][name]["data"]
    high = "".join(rows)
    table = {chr(i): i for i in range(0x20, 0x7F)}
    for offset, ch in enumerate(high):
        if ch != " ":
            # The data writes the uppercase D with stroke as "Ð" (U+00D0), its look-alike.
            table["Đ" if ch == "Ð" else ch] = 0x80 + offset
    return table


def _cp1258_char(ch: str) -> bytes | None:
    """One NFC character in Windows-1258, splitting off a tone mark if needed; None if it can't."""
    try:
        return ch.encode("cp1258")
    except UnicodeEncodeError:
        pass
    decomposed = unicodedata.normalize("NFD", ch)
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    tones = [c for c in decomposed if c in _TONE_MARKS]
    try:
        return base.encode("cp1258") + "".join(tones).encode("cp1258")
    except UnicodeEncodeError:
        return None


def _plain(ch: str) -> str:
    """``ch`` without its combining marks ("ñ" -> "n"); "đ"/"Đ" have no marks to drop."""
    return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))


class VietnameseEncoder:
    """Encodes NFC text for one code page of the printer; keeps track of the selected table."""

    def __init__(self, name: str, tables: tuple[int, ...] | None = None) -> None:
        if name not in CODE_PAGES:
            raise ValueError(f"code page {name!r} is not one of {', '.join(CODE_PAGES)}")
        self.name = name
        wanted = DEFAULT_TABLES[name] if tables is None else tables
        if len(wanted) != len(DEFAULT_TABLES[name]):
            raise ValueError(f"{name} needs {len(DEFAULT_TABLES[name])} table number(s)")
        if any(not 0 <= n <= 255 for n in wanted):
            raise ValueError(f"table numbers {wanted} are not bytes")
        self.tables = tuple(wanted)

    def select(self) -> bytes:
        """``ESC t n`` for the first table (sent at the start of each job)."""
        return ESC_T + bytes([self.tables[0]])

    def cells(self, text: str) -> int:
        """Character cells ``text`` may take: a cp1258 tone mark is counted as a cell of its own,
        since some printers print it as one (wrapping early is better than losing the end)."""
        encoded = self.encode(text)
        return len(encoded.data) - 3 * encoded.data.count(ESC_T)

    def encode(self, text: str, table: int | None = None) -> Encoded:
        """Bytes for ``text`` starting with ``table`` selected (default: the first table)."""
        current = self.tables[0] if table is None else table
        out = bytearray()
        replaced: list[str] = []
        for ch in unicodedata.normalize("NFC", text):
            if unicodedata.category(ch) in ("Cc", "Cf"):
                continue  # never let a control byte of the text reach the printer
            if ch in _PUNCTUATION and not self._holds(ch):
                out += self.encode(_PUNCTUATION[ch], current).data
                continue
            if self.name == "cp1258":
                data = _cp1258_char(ch)
                if data is None:
                    data = _cp1258_char(_plain(ch)) if _plain(ch) != ch else None
                    replaced.append(ch)
                out += data if data is not None else b"?"
                continue
            chosen = self._tcvn_byte(ch, current)
            if chosen is None:
                plain = _plain(ch)
                chosen = self._tcvn_byte(plain, current) if plain != ch else None
                replaced.append(ch)
            if chosen is None:
                out += b"?"
                continue
            wanted_table, byte = chosen
            if wanted_table != current:
                out += ESC_T + bytes([wanted_table])
                current = wanted_table
            out.append(byte)
        return Encoded(bytes(out), current, replaced)

    def _holds(self, ch: str) -> bool:
        if self.name == "cp1258":
            return _cp1258_char(ch) is not None
        return self._tcvn_byte(ch, self.tables[0]) is not None

    def _tcvn_byte(self, ch: str, current: int) -> tuple[int, int] | None:
        lower, upper = self.tables
        order = (current, upper if current == lower else lower)
        for table in order:
            byte = _tcvn_table("TCVN-3-1" if table == lower else "TCVN-3-2").get(ch)
            if byte is not None:
                return table, byte
        return None


__all__ = ["CODE_PAGES", "DEFAULT_TABLES", "Encoded", "VietnameseEncoder"]
