"""Vietnam's two-level administrative map of 1 July 2025 (Nghị quyết 202/2025/QH15): the 34
provinces (tỉnh, thành phố) and their 3,321 communes (xã, phường, đặc khu), with the official
codes (mã đơn vị hành chính), for the address fields of the declaration forms.

The data is ``assets/data/admin-units-2025.json`` (see ``assets/data/README.md``: source,
licence, refresh), read once on first use and kept. Nothing here needs the network or a package
at run time.

Names are Unicode NFC, as published: ``Province.name`` is "Thành phố Huế", ``short_name`` "Huế";
``Commune.name`` is "Phường Thuận Hóa", ``short_name`` "Thuận Hóa".

Searching (``search_provinces``, ``search_communes``) is meant to run on every keystroke. What
was typed is matched with or without tones and marks (đ = d), case and punctuation ignored,
spaces optional ("daklak"), a leading "tỉnh", "thành phố", "TP", "xã", "phường", "P." … optional,
and a few customary abbreviations ("hcm", "tp hcm", "Sài Gòn", "hn", "Thừa Thiên Huế"). Order:
the whole name typed, then names starting with what was typed, then names with a word starting
with each typed word, then names containing it (3 characters or more); a province found only by
the name of a province merged into it in 2025 ("Bình Dương" → Thành phố Hồ Chí Minh) comes after
all of those. Within a rank, a name matching the tones the citizen typed comes first, then
Vietnamese alphabetical order.

``find_province`` / ``find_commune`` are the exact-ish look-ups for a value already chosen or
typed in full: by code, or by name ignoring case, punctuation and the type word; ignoring tones
only as a fallback when that leaves exactly one unit. They return None when unknown or ambiguous.

The form engine's contract (``check_address`` / ``resolve_address``):
- the province must come from the list: otherwise ``MSG_PROVINCE`` ("Choose a province from
  the list.") is an error;
- the commune is required (``MSG_COMMUNE_REQUIRED``) and may be free text: a commune that is
  not in the chosen province's list is accepted as typed, not an error; ``resolve_address``
  reports it with ``commune_listed = False`` and the soft notice ``MSG_COMMUNE_NOT_LISTED`` for
  the screen to show (and staff to check), ``check_address`` returns no error for it;
- a commune longer than ``MAX_COMMUNE_CHARS`` is an error (``MSG_TOO_LONG``).
Whether the address as a whole is required is the form engine's business: call these when the
field has an answer.

Exceptions::

    KioskError
     └── AddressError
          ├── AddressDataError    (operator) the data file is missing or broken; names the file
          └── UnknownProvince     no province has this code (a caller passed a stale code)
"""

from __future__ import annotations

import heapq
import json
import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kiosk import paths
from kiosk.catalog.procedures import vietnamese_sort_key
from kiosk.errors import KioskError

DATA_FILE = paths.ASSETS_DIR / "data" / "admin-units-2025.json"
DATA_FORMAT = "motcua-kiosk/admin-units/1"

MSG_PROVINCE = "Choose a province from the list."
MSG_COMMUNE_REQUIRED = "Choose or type the commune, ward or special zone."
MSG_COMMUNE_NOT_LISTED = (
    "This commune is not in the list for the chosen province. Please check it; "
    "you may keep what you typed."
)
MSG_TOO_LONG = "This answer is too long."  # the form engine's msgid, already translated

MAX_COMMUNE_CHARS = 60
DEFAULT_LIMIT = 20

PROVINCE_TYPES = ("tỉnh", "thành phố")
COMMUNE_TYPES = ("xã", "phường", "đặc khu")

# Customary names that are not the official one (search and look-up), by province code. All
# capitals: an abbreviation, matched whole or from its third character.
PROVINCE_ALIASES: dict[str, tuple[str, ...]] = {
    "01": ("HN", "TPHN", "Thủ đô Hà Nội"),
    "46": ("Thừa Thiên Huế",),
    "79": ("HCM", "TPHCM", "Sài Gòn"),
}

# Type words a citizen may type before a name (folded forms), longest first.
_PROVINCE_WORDS = ("thanh pho", "tinh", "tp", "t p")
_COMMUNE_WORDS = ("dac khu", "phuong", "xa", "dk", "p", "x")
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘ʼ`´"), None)
_NON_WORD = re.compile(r"[^\w]+")
_PROVINCE_CODE = re.compile(r"^\d{2}$")
_COMMUNE_CODE = re.compile(r"^\d{5}$")
_FORMER_RANK = 4  # a match on a former province's name ranks after every direct match


class AddressError(KioskError):
    """The address data cannot answer."""


class AddressDataError(AddressError):
    """The data file is missing or broken (operator); the message names the file."""


class UnknownProvince(AddressError):
    """No province has this code."""

    msgid = MSG_PROVINCE

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"no province with code {code!r}")


# --- the model -------------------------------------------------------------------------------


def _strip_type(name: str, types: Iterable[str]) -> str:
    for unit_type in types:
        prefix = unit_type.capitalize() + " "
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


@dataclass(frozen=True, slots=True)
class Province:
    """A province-level unit: ``code`` "46", ``name`` "Thành phố Huế", ``type`` "thành phố".

    ``former`` names the provinces merged into it on 1 July 2025 ("Tỉnh Bình Dương", ...).
    """

    code: str
    name: str
    type: str
    former: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        """The name without its type word: "Huế"."""
        return _strip_type(self.name, PROVINCE_TYPES)


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune-level unit: ``code`` "19789", ``name`` "Phường Thuận Hóa", ``type`` "phường"."""

    code: str
    name: str
    type: str
    province_code: str

    @property
    def short_name(self) -> str:
        """The name without its type word: "Thuận Hóa"."""
        return _strip_type(self.name, COMMUNE_TYPES)


@dataclass(frozen=True)
class ResolvedAddress:
    """What ``resolve_address`` made of a province and a commune.

    ``errors``: msgids that stop the answer (empty: acceptable). ``commune`` is the listed unit
    or None when the commune was typed freely (``commune_text`` keeps it, cleaned) and
    ``notice`` then holds the soft ``MSG_COMMUNE_NOT_LISTED``.
    """

    province: Province | None
    commune: Commune | None
    commune_text: str
    errors: tuple[str, ...]
    notice: str | None

    @property
    def commune_listed(self) -> bool:
        """True when the commune is one of the chosen province's listed units."""
        return self.commune is not None


# --- text keys -------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """NFC, single spaces, no spaces or commas at the ends."""
    return " ".join(unicodedata.normalize("NFC", text).split()).strip(" ,")


def fold(text: str) -> str:
    """The search key: lower case, no tones or letter marks (đ → d), no apostrophes, words of
    letters and digits separated by single spaces. ``fold("Xã Ea H'Leo") == "xa ea hleo"``."""
    decomposed = unicodedata.normalize("NFD", text.casefold().translate(_APOSTROPHES))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d")
    return " ".join(_NON_WORD.sub(" ", bare).replace("_", " ").split())


def _toned_key(text: str) -> str:
    """Lower case with tones kept (NFC), punctuation dropped: for exact look-ups."""
    lowered = unicodedata.normalize("NFC", text).casefold().translate(_APOSTROPHES)
    return " ".join(_NON_WORD.sub(" ", lowered).replace("_", " ").split())


def _without_type_words(key: str, words: tuple[str, ...]) -> str:
    """``key`` without a leading type word, when something follows it ("tp hue" → "hue")."""
    for word in words:
        if key.startswith(word + " "):
            return key[len(word) + 1 :]
    return key


class _Query:
    """A typed text prepared once for matching against every unit."""

    __slots__ = ("variants", "firsts", "toned_words")

    def __init__(self, text: str, type_words: tuple[str, ...]) -> None:
        key = fold(text)
        variants = [key]
        stripped = _without_type_words(key, type_words)
        if stripped != key:
            variants.append(stripped)
        # (spaced, compact, words with a leading space, penalty): what was typed without its
        # type word ranks after what was typed whole ("xa phu": Xã Phú Hồ before Phường Phú Bài)
        self.variants = [
            (v, v.replace(" ", ""), [" " + w for w in v.split()], i) for i, v in enumerate(variants)
        ]
        self.firsts = [v.split()[0] for v in variants if v]
        toned = _toned_key(text).split()
        # Tones count only when the citizen typed some.
        self.toned_words = toned if " ".join(toned) != key else []


# How a unit's name may match (see _Entry.rank).
_NAME = 0  # a short name: every rank
_TYPED = 1  # the name with its type word: whole or prefix, once the type word is typed
_CUSTOMARY = 2  # "Sài Gòn", "Thừa Thiên Huế": every rank, after the official names
_ABBREVIATION = 3  # "HCM": whole, or prefix from 3 characters, after the official names


def _prefix_allowed(kind: int, type_c: str, qc: str) -> bool:
    """A typed name matches once its type word is typed; an abbreviation from 3 characters."""
    if kind == _TYPED:
        return qc.startswith(type_c)
    return kind != _ABBREVIATION or len(qc) >= 3


# Loading folds each official name a few times (entries, two indexes): once is enough.
_fold_cached = lru_cache(maxsize=16384)(fold)
_toned_cached = lru_cache(maxsize=16384)(_toned_key)


class _Entry:
    """One unit's searchable names: (spaced, compact, " " + spaced, kind, type word, offset).

    ``offset`` is added to the rank (a former province's name: after every direct match); a
    customary name or abbreviation ranks after the official names at the same rank."""

    __slots__ = ("unit", "order", "targets", "blob", "toned")

    def __init__(
        self, unit: Province | Commune, order: int, names: list[tuple[str, int, str, int]]
    ) -> None:
        self.unit = unit
        self.order = order
        self.targets: list[tuple[str, str, str, int, str, int]] = []
        seen: set[str] = set()
        for name, kind, type_word, offset in names:
            key = _fold_cached(name)
            if key and key not in seen:
                seen.add(key)
                type_c = _fold_cached(type_word).replace(" ", "")
                self.targets.append((key, key.replace(" ", ""), " " + key, kind, type_c, offset))
        self.blob = "\n".join(t[0] + "\n" + t[1] for t in self.targets)
        self.toned = " ".join(_toned_cached(name) for name, *_ in names)

    def rank(self, query: _Query) -> tuple[int, int, int, int] | None:
        """The sort key of this unit for ``query``, or None when it does not match."""
        if not any(first in self.blob for first in query.firsts):
            return None
        best: tuple[int, int] | None = None
        for spaced, compact, padded, kind, type_c, offset in self.targets:
            customary = 1 if kind in (_ABBREVIATION, _CUSTOMARY) else 0
            for q, qc, qwords, stripped in query.variants:
                if q == spaced or qc == compact:
                    r = 0
                elif not _prefix_allowed(kind, type_c, qc):
                    continue
                elif spaced.startswith(q) or compact.startswith(qc):
                    r = 1
                elif kind not in (_NAME, _CUSTOMARY):
                    continue
                elif all(w in padded for w in qwords):
                    r = 2
                elif len(qc) >= 3 and qc in compact:
                    r = 3
                else:
                    continue
                found = (r + offset, customary + stripped)
                if best is None or found < best:
                    best = found
        if best is None:
            return None
        tones = 0 if all(w in self.toned for w in query.toned_words) else 1
        return best[0], best[1], tones, self.order


class _CandidateIndex:
    """The entries that may match a query, without looking at every entry (for the nationwide
    commune search: 3,321 entries). A superset of the matches, which ``_Entry.rank`` decides:

    - a name starting with, or with a word starting with, the first typed word: from a map of
      every prefix of every word of the names (type words excepted);
    - a name containing the typed text without spaces ("daklak", "aklak"; 3 characters or
      more): ``str.find`` in one string of all the names without spaces; for 2 characters, the
      few names whose first word is one letter ("A Lưới" typed "al");
    - the type word and name typed without a space ("xaphu"): names starting with what follows;
    - only a type word typed ("xa", "phuong"): every unit of that type matches alike, in
      alphabetical order, so only the first ``limit`` of them need ranking.
    """

    def __init__(self, entries: list[_Entry], types: tuple[str, ...]) -> None:
        self.entries = entries
        prefixes: dict[str, set[int]] = {}
        parts: list[str] = []
        self.starts: list[int] = []
        offset = 0
        self.by_type: dict[str, list[int]] = {}
        self.one_letter_first: list[int] = []
        for i, entry in enumerate(entries):
            compacts = []
            for spaced, compact, _padded, kind, type_c, _offset in entry.targets:
                if kind == _TYPED:
                    self.by_type.setdefault(type_c, []).append(i)
                    continue
                compacts.append(compact)
                if len(spaced.split(" ", 1)[0]) == 1 and i not in self.one_letter_first[-1:]:
                    self.one_letter_first.append(i)
                for word in spaced.split():
                    for end in range(1, len(word) + 1):
                        prefixes.setdefault(word[:end], set()).add(i)
            text = "\n" + "\n".join(compacts)
            self.starts.append(offset)
            parts.append(text)
            offset += len(text)
        self.prefixes = {key: tuple(sorted(ids)) for key, ids in prefixes.items()}
        self.blob = "".join(parts) + "\n"  # each name between two newlines
        self.type_words = {fold(t): fold(t).replace(" ", "") for t in types}

    def _containing(self, text: str, found: set[int]) -> None:
        """Add the entries with a name (without spaces) containing ``text``; starting with it
        when ``text`` starts with a newline."""
        blob, starts, at = self.blob, self.starts, self.blob.find(text)
        while at >= 0:
            i = bisect_right(starts, at) - 1
            found.add(i)
            # Go on after this entry's names.
            at = blob.find(text, starts[i + 1] if i + 1 < len(starts) else len(blob))

    def candidates(self, query: _Query, limit: int | None) -> list[_Entry]:
        found: set[int] = set()
        typed_only: list[int] = []
        for q, qc, _words, _stripped in query.variants:
            found.update(self.prefixes.get(q.split(" ", 1)[0], ()))
            if len(qc) >= 3:
                self._containing(qc, found)
            elif len(qc) == 2:  # "al" for "A Lưới": a one-letter first word typed with the next
                found.update(self.one_letter_first)
            for spaced_type, type_c in self.type_words.items():
                if q == spaced_type or qc == type_c:
                    typed_only = self.by_type.get(type_c, [])
                elif qc.startswith(type_c):
                    self._containing("\n" + qc[len(type_c) :], found)
        if typed_only:
            # They rank alike (after the names they share with ``found``): the first suffice.
            found.update(typed_only if limit is None else typed_only[:limit])
        return [self.entries[i] for i in found]


# --- the data --------------------------------------------------------------------------------


class AdminUnits:
    """The provinces and communes of one data file, with their search indexes."""

    def __init__(self, provinces: Iterable[Province], communes: Iterable[Commune]) -> None:
        by_name = lambda u: (vietnamese_sort_key(u.short_name), u.name, u.code)  # noqa: E731
        self._provinces = tuple(sorted(provinces, key=by_name))
        self._province_by_code = {p.code: p for p in self._provinces}
        all_communes = sorted(communes, key=by_name)
        self._commune_by_code = {c.code: c for c in all_communes}
        grouped: dict[str, list[Commune]] = {p.code: [] for p in self._provinces}
        for c in all_communes:
            grouped[c.province_code].append(c)
        self._communes: dict[str, tuple[Commune, ...]] = {
            code: tuple(items) for code, items in grouped.items()
        }

        self._province_entries = [
            _Entry(p, i, self._province_names(p)) for i, p in enumerate(self._provinces)
        ]
        self._commune_entries: dict[str, list[_Entry]] = {p.code: [] for p in self._provinces}
        self._all_commune_entries: list[_Entry] = []
        for i, c in enumerate(all_communes):
            names = [(c.short_name, _NAME, "", 0), (c.name, _TYPED, c.type, 0)]
            entry = _Entry(c, i, names)
            self._commune_entries[c.province_code].append(entry)
            self._all_commune_entries.append(entry)

        self._nationwide = _CandidateIndex(self._all_commune_entries, COMMUNE_TYPES)
        self._province_exact = self._index(
            (p, [p.name, p.short_name, *PROVINCE_ALIASES.get(p.code, ())]) for p in self._provinces
        )
        self._commune_exact = {
            code: self._index((c, [c.name, c.short_name]) for c in items)
            for code, items in self._communes.items()
        }
        self._commune_exact_all = self._index((c, [c.name, c.short_name]) for c in all_communes)

    @staticmethod
    def _province_names(p: Province) -> list[tuple[str, int, str, int]]:
        names = [(p.short_name, _NAME, "", 0), (p.name, _TYPED, p.type, 0)]
        for alias in PROVINCE_ALIASES.get(p.code, ()):
            names.append((alias, _ABBREVIATION if alias.isupper() else _CUSTOMARY, "", 0))
        for old in p.former:
            short = _strip_type(old, PROVINCE_TYPES)
            old_type = old[: len(old) - len(short)].strip().lower()
            names.append((short, _NAME, "", _FORMER_RANK))
            names.append((old, _TYPED, old_type, _FORMER_RANK))
        return names

    @staticmethod
    def _index(
        items: Iterable[tuple[Any, list[str]]],
    ) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
        """Two maps name-key → units: toned (case and punctuation ignored) and folded."""
        toned: dict[str, list[Any]] = {}
        folded: dict[str, list[Any]] = {}
        for unit, names in items:
            for name in names:
                for index, key in ((toned, _toned_cached(name)), (folded, _fold_cached(name))):
                    bucket = index.setdefault(key, [])
                    if unit not in bucket:
                        bucket.append(unit)
        return toned, folded

    # --- listing ---

    def provinces(self) -> list[Province]:
        """All provinces in Vietnamese alphabetical order of their short names."""
        return list(self._provinces)

    def province(self, code: str) -> Province:
        """The province with this code; UnknownProvince if none."""
        try:
            return self._province_by_code[code]
        except (KeyError, TypeError):
            raise UnknownProvince(str(code)) from None

    def communes(self, province_code: str) -> list[Commune]:
        """The communes of a province in Vietnamese alphabetical order of their short names."""
        return list(self._communes[self.province(province_code).code])

    def commune_count(self) -> int:
        return len(self._commune_by_code)

    # --- search ---

    def search_provinces(self, text: str, limit: int | None = None) -> list[Province]:
        """Provinces matching ``text`` (see the module docstring), best first."""
        return self._search(self._province_entries, text, _PROVINCE_WORDS, limit)  # type: ignore[return-value]

    def search_communes(
        self, province_code: str | None, text: str, limit: int | None = DEFAULT_LIMIT
    ) -> list[Commune]:
        """Communes of a province (all provinces when ``province_code`` is None) matching
        ``text``, best first, at most ``limit`` (None: all)."""
        if province_code is None:
            entries = self._all_commune_entries
        else:
            entries = self._commune_entries[self.province(province_code).code]
        query = _Query(text, _COMMUNE_WORDS)
        if not query.firsts:
            return self._first(entries, limit)  # type: ignore[return-value]
        if province_code is None:  # 3,321 communes: look only at those that may match
            entries = self._nationwide.candidates(query, limit)
        return self._ranked(entries, query, limit)  # type: ignore[return-value]

    @staticmethod
    def _first(entries: list[_Entry], limit: int | None) -> list[Province | Commune]:
        """Nothing typed yet: the list in alphabetical order."""
        return [e.unit for e in (entries if limit is None else entries[:limit])]

    @classmethod
    def _search(
        cls, entries: list[_Entry], text: str, type_words: tuple[str, ...], limit: int | None
    ) -> list[Province | Commune]:
        query = _Query(text, type_words)
        if not query.firsts:
            return cls._first(entries, limit)
        return cls._ranked(entries, query, limit)

    @staticmethod
    def _ranked(
        entries: Iterable[_Entry], query: _Query, limit: int | None
    ) -> list[Province | Commune]:
        scored = []
        for entry in entries:
            key = entry.rank(query)
            if key is not None:
                scored.append((key, entry.unit))
        if limit is not None and limit < len(scored):
            scored = heapq.nsmallest(limit, scored, key=lambda s: s[0])
        else:
            scored.sort(key=lambda s: s[0])
        return [unit for _, unit in scored]

    # --- exact-ish look-ups ---

    def find_province(self, name_or_code: str | Province | None) -> Province | None:
        """The province named or coded by ``name_or_code`` ("46", "Thành phố Huế", "Huế",
        "TP. Hồ Chí Minh", "hcm", "Da Nang"); None when unknown or ambiguous."""
        if isinstance(name_or_code, Province):
            return self._province_by_code.get(name_or_code.code)
        text = clean_text(name_or_code or "")
        if text.isdigit() and len(text) <= 3:
            return self._province_by_code.get(f"{int(text):02d}")
        return self._lookup(self._province_exact, text, _PROVINCE_WORDS)

    def find_commune(
        self, province: str | Province | None, name_or_code: str | Commune | None
    ) -> Commune | None:
        """The commune of ``province`` (a Province, its code or name; None: any province) named
        or coded by ``name_or_code`` ("19789", "Phường Thuận Hóa", "Thuận Hóa", "thuan hoa");
        None when unknown, ambiguous or not in that province."""
        if province is None:
            code = None
            indexes = self._commune_exact_all
        else:
            found = self.find_province(province)
            if found is None:
                return None
            code = found.code
            indexes = self._commune_exact[code]
        if isinstance(name_or_code, Commune):
            listed = self._commune_by_code.get(name_or_code.code)
            return listed if listed is not None and code in (None, listed.province_code) else None
        text = clean_text(name_or_code or "")
        if text.isdigit() and len(text) <= 5:
            commune = self._commune_by_code.get(f"{int(text):05d}")
            if commune is not None and code in (None, commune.province_code):
                return commune
            return None
        return self._lookup(indexes, text, _COMMUNE_WORDS)

    @staticmethod
    def _lookup(
        indexes: tuple[dict[str, list[Any]], dict[str, list[Any]]],
        text: str,
        type_words: tuple[str, ...],
    ) -> Any:
        if not text:
            return None
        toned_index, folded_index = indexes
        toned, folded = _toned_key(text), fold(text)
        bare = _without_type_words(folded, type_words)
        dropped = len(folded.split()) - len(bare.split())
        toned_bare = " ".join(toned.split()[dropped:])
        # With tones as typed, then without them; each key as typed, then without a leading
        # type word. The first key that names anything decides: one unit, or None if several.
        for index, keys in ((toned_index, (toned, toned_bare)), (folded_index, (folded, bare))):
            for key in keys:
                found = index.get(key)
                if found:
                    return found[0] if len(found) == 1 else None
        return None

    # --- formatting and checking ---

    def format_address(
        self,
        street: str | None,
        commune: str | Commune | None,
        province: str | Province | None,
    ) -> str:
        """One line: "Số 12 đường Lê Lợi, Phường Thuận Hóa, Thành phố Huế". Listed units are
        written with their official names; anything else as typed (cleaned); empty parts left
        out."""
        if province is None and isinstance(commune, Commune):
            province = self._province_by_code.get(commune.province_code)
        found_province = self.find_province(province) if province is not None else None
        if found_province is not None:
            province_text = found_province.name
        else:
            province_text = clean_text(
                province.name if isinstance(province, Province) else province or ""
            )
        if isinstance(commune, Commune):
            commune_text = commune.name
        else:
            listed = (
                self.find_commune(found_province, commune) if found_province and commune else None
            )
            commune_text = listed.name if listed is not None else clean_text(commune or "")
        parts = (clean_text(street or ""), commune_text, province_text)
        return ", ".join(part for part in parts if part)

    def resolve_address(
        self, province: str | Province | None, commune: str | Commune | None
    ) -> ResolvedAddress:
        """The province and commune resolved against the list, with errors and the soft notice
        (the contract is in the module docstring)."""
        errors: list[str] = []
        found_province = self.find_province(province) if province is not None else None
        if found_province is None:
            errors.append(MSG_PROVINCE)
        typed = commune.name if isinstance(commune, Commune) else clean_text(commune or "")
        found_commune = None
        notice = None
        if not typed:
            errors.append(MSG_COMMUNE_REQUIRED)
        elif len(typed) > MAX_COMMUNE_CHARS:
            errors.append(MSG_TOO_LONG)
        elif found_province is not None:
            found_commune = self.find_commune(found_province, commune)
            if found_commune is None and isinstance(commune, Commune):
                found_commune = self.find_commune(found_province, commune.name)
            if found_commune is None:
                notice = MSG_COMMUNE_NOT_LISTED
            else:
                typed = found_commune.name
        return ResolvedAddress(found_province, found_commune, typed, tuple(errors), notice)

    def check_address(
        self, province: str | Province | None, commune: str | Commune | None
    ) -> list[str]:
        """The error msgids of ``resolve_address`` (empty: acceptable; a commune typed freely
        is acceptable)."""
        return list(self.resolve_address(province, commune).errors)


# --- loading ---------------------------------------------------------------------------------


def _problem(path: Path, where: str, what: str) -> AddressDataError:
    return AddressDataError(f"{path}: {where}: {what}")


def _name(path: Path, where: str, value: object, types: tuple[str, ...], unit_type: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _problem(path, where, "the name is missing")
    if unicodedata.normalize("NFC", value) != value:
        raise _problem(path, where, f"{value!r} is not Unicode NFC")
    if value != " ".join(value.split()):
        raise _problem(path, where, f"{value!r} has stray spaces")
    if unit_type not in types:
        raise _problem(path, where, f"type {unit_type!r} is not one of {', '.join(types)}")
    if not value.startswith(unit_type.capitalize() + " "):
        raise _problem(path, where, f"{value!r} does not start with its type {unit_type!r}")
    return value


def load(path: Path = DATA_FILE) -> AdminUnits:
    """Read and check a data file; AddressDataError (naming the file) if it is missing or
    broken."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AddressDataError(
            f"{path}: the address data file is missing (build it with "
            "python scripts/build_address_data.py)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AddressDataError(f"{path}: cannot be read: {exc}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AddressDataError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != DATA_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise _problem(path, "$.format", f"{found!r}, expected {DATA_FORMAT!r}")
    items = data.get("provinces")
    if not isinstance(items, list) or not items:
        raise _problem(path, "$.provinces", "no provinces")

    provinces: list[Province] = []
    communes: list[Commune] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"$.provinces[{i}]"
        if not isinstance(item, dict):
            raise _problem(path, where, "not an object")
        code = item.get("code")
        if not isinstance(code, str) or not _PROVINCE_CODE.match(code) or code in seen:
            raise _problem(path, where + ".code", f"{code!r} is not a new 2-digit code")
        seen.add(code)
        name = _name(path, where + ".name", item.get("name"), PROVINCE_TYPES, item.get("type"))
        former = item.get("former", [])
        if not isinstance(former, list) or not all(isinstance(f, str) for f in former):
            raise _problem(path, where + ".former", "not a list of names")
        rows = item.get("communes")
        if not isinstance(rows, list) or not rows:
            raise _problem(path, where + ".communes", "no communes")
        for j, row in enumerate(rows):
            at = f"{where}.communes[{j}]"
            if not (isinstance(row, list) and len(row) == 3):
                raise _problem(path, at, "not [code, name, type]")
            c_code, c_name, c_type = row
            if not isinstance(c_code, str) or not _COMMUNE_CODE.match(c_code) or c_code in seen:
                raise _problem(path, at, f"code {c_code!r} is not a new 5-digit code")
            seen.add(c_code)
            _name(path, at, c_name, COMMUNE_TYPES, c_type)
            communes.append(Commune(c_code, c_name, c_type, code))
        provinces.append(Province(code, name, item["type"], tuple(former)))

    counts = data.get("counts")
    if isinstance(counts, dict) and (
        counts.get("provinces") != len(provinces) or counts.get("communes") != len(communes)
    ):
        raise _problem(
            path,
            "$.counts",
            f"says {counts.get('provinces')} provinces and {counts.get('communes')} communes, "
            f"the file has {len(provinces)} and {len(communes)}",
        )
    return AdminUnits(provinces, communes)


_default: AdminUnits | None = None
_default_lock = threading.Lock()


def units() -> AdminUnits:
    """The shipped data, loaded on first use and kept."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = load(DATA_FILE)
    return _default


# --- the module's API on the shipped data ----------------------------------------------------


def provinces() -> list[Province]:
    """All 34 provinces in Vietnamese alphabetical order of their short names."""
    return units().provinces()


def communes(province_code: str) -> list[Commune]:
    """The communes of a province, alphabetical; UnknownProvince for an unknown code."""
    return units().communes(province_code)


def search_provinces(text: str, limit: int | None = None) -> list[Province]:
    """Provinces matching what was typed, best first."""
    return units().search_provinces(text, limit)


def search_communes(
    province_code: str | None, text: str, limit: int | None = DEFAULT_LIMIT
) -> list[Commune]:
    """Communes of a province (None: nationwide) matching what was typed, best first."""
    return units().search_communes(province_code, text, limit)


def find_province(name_or_code: str | Province | None) -> Province | None:
    """The province with this code or name; None when unknown or ambiguous."""
    return units().find_province(name_or_code)


def find_commune(
    province: str | Province | None, name_or_code: str | Commune | None
) -> Commune | None:
    """The commune of ``province`` with this code or name; None when unknown or ambiguous."""
    return units().find_commune(province, name_or_code)


def format_address(
    street: str | None, commune: str | Commune | None, province: str | Province | None
) -> str:
    """ "Số 12 đường Lê Lợi, Phường Thuận Hóa, Thành phố Huế"."""
    return units().format_address(street, commune, province)


def resolve_address(
    province: str | Province | None, commune: str | Commune | None
) -> ResolvedAddress:
    """Province and commune against the list: units, errors, the free-text flag and notice."""
    return units().resolve_address(province, commune)


def check_address(province: str | Province | None, commune: str | Commune | None) -> list[str]:
    """Error msgids for the form engine (empty: acceptable; see the module docstring)."""
    return units().check_address(province, commune)
