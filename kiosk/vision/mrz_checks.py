"""The MRZ's rules: what each position may hold, what each check digit covers, when a read
is consistent, and the repair a failing check digit allows.

    layout(fmt)        the characters each position may hold (ICAO 9303-4/-5); cccd_layout()
                       adds the CCCD's own: its document number and 12-digit ID are digits
    positions(...)     the positions each check digit covers; unchecked_positions(fmt) the others
    problems_of(info)     why a read cannot be right: failing check digits, dates that are no
                       dates, a sex that is not M/F/<, and for a CCCD its 12-digit ID (a valid
                       number whose last 9 digits are the document number, whose year of birth
                       and sex are the MRZ's, whose own check digit holds)
    repair(reading)    the one change (or two) that makes every check hold, or None
    guarded(reading)   positions where a misread would go unnoticed, for the confidence guard

The 7-3-1 check digits count a character's value modulo 10, so they cannot tell 0, A, K, U and
< apart (all 0), nor 1, B, L, V, and so on: a swap among those leaves every digit holding. The
layout (letters in names, digits in dates) and the CCCD's cross-checks cover some of that; the
reader's confidence guard covers the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations, product

import numpy as np

from kiosk.emrtd.errors import MRZError
from kiosk.emrtd.mrz import MRZInfo, cccd_id_number, check_digit, parse_mrz
from kiosk.identity.id_number import InvalidIdNumber, parse_id_number
from kiosk.vision.mrz_glyphs import ALPHABET, FORMATS

CONFUSIONS = ["0O", "1I", "2Z", "5S", "8B", "6G", "KX<"]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
DIGITS = "0123456789"
DIGITS_FILLER = "0123456789<"
SEX = "MF<"


def layout(fmt: str) -> list[list[str]]:
    """The characters each position of each line may hold (ICAO 9303-4 and -5)."""
    if fmt == "TD1":
        first = [LETTERS] * 5 + [ALPHABET] * 9 + [DIGITS_FILLER] + [ALPHABET] * 15
        second = (
            [DIGITS_FILLER] * 6
            + [DIGITS]
            + [SEX]
            + [DIGITS_FILLER] * 6
            + [DIGITS]
            + [LETTERS] * 3
            + [ALPHABET] * 11
            + [DIGITS]
        )
        return [first, second, [LETTERS] * 30]
    second = (
        [ALPHABET] * 9
        + [DIGITS]
        + [LETTERS] * 3
        + [DIGITS_FILLER] * 6
        + [DIGITS]
        + [SEX]
        + [DIGITS_FILLER] * 6
        + [DIGITS]
        + [ALPHABET] * 14
        + [DIGITS_FILLER]
        + [DIGITS]
    )
    return [[LETTERS] * 44, second]


def cccd_layout() -> list[list[str]]:
    """A CCCD's TD1: the document number (9 digits), its check digit and the 12-digit ID that
    opens the optional data are digits."""
    first, second, third = layout("TD1")
    first = first[:5] + [DIGITS] * 22 + first[27:]
    return [first, second, third]


# (line, start, end) spans covered by each check digit of parse_mrz, the digit included.
_CHECKED = {
    "TD1": {
        "document_number": [(0, 5, 15)],
        "date_of_birth": [(1, 0, 7)],
        "date_of_expiry": [(1, 8, 15)],
        "composite": [(0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 30)],
    },
    "TD3": {
        "document_number": [(1, 0, 10)],
        "date_of_birth": [(1, 13, 20)],
        "date_of_expiry": [(1, 21, 28)],
        "optional_data": [(1, 28, 43)],
        "composite": [(1, 0, 10), (1, 13, 20), (1, 21, 44)],
    },
}


def positions(fmt: str, names: Sequence[str]) -> set[tuple[int, int]]:
    """The (line, column) positions the named check digits cover, the digits included."""
    return {
        (line, col)
        for name in names
        for line, start, end in _CHECKED[fmt][name]
        for col in range(start, end)
    }


def unchecked_positions(fmt: str) -> set[tuple[int, int]]:
    """Positions no check digit covers (names, sex, nationality, document code, state)."""
    count, length = FORMATS[fmt]
    every = {(line, col) for line in range(count) for col in range(length)}
    return every - positions(fmt, list(_CHECKED[fmt]))


@dataclass
class Reading:
    """The template reader's result: the chosen characters and every character's score."""

    fmt: str
    lines: list[str]
    scores: list[np.ndarray]  # per line (length, 37)
    allowed: list[list[str]]

    @classmethod
    def decode(cls, fmt: str, scores: list[np.ndarray]) -> Reading:
        """Each position's best-scoring allowed character; a TD1 of Vietnam is decoded again
        with the CCCD's layout (digits in its number fields)."""
        reading = cls._decode(fmt, scores, layout(fmt))
        if fmt == "TD1" and reading.lines[0][2:5] == "VNM":
            reading = cls._decode(fmt, scores, cccd_layout())
        return reading

    @classmethod
    def _decode(cls, fmt: str, scores: list[np.ndarray], layout: list[list[str]]) -> Reading:
        lines = []
        for line_scores, allowed in zip(scores, layout, strict=True):
            chars = []
            for cell, ok in zip(line_scores, allowed, strict=True):
                index = [ALPHABET.index(c) for c in ok]
                chars.append(ok[int(np.argmax(cell[index]))])
            lines.append("".join(chars))
        return cls(fmt, lines, scores, layout)

    def margin(self, line: int, col: int, among: str | None = None) -> float:
        """How far the chosen character's score is above the best other allowed one (of
        ``among`` only, when given)."""
        cell = self.scores[line][col]
        allowed = [
            ALPHABET.index(c) for c in self.allowed[line][col] if among is None or c in among
        ]
        chosen = ALPHABET.index(self.lines[line][col])
        others = [cell[i] for i in allowed if i != chosen]
        return float(cell[chosen] - max(others)) if others else 1.0

    def alternatives(self, line: int, col: int, within: float) -> list[str]:
        """Allowed characters other than the chosen one: its usual confusions, and those whose
        score is within ``within`` of the chosen one's."""
        current = self.lines[line][col]
        allowed = self.allowed[line][col]
        cell = self.scores[line][col]
        best = cell[ALPHABET.index(current)]
        found = [
            c
            for group in CONFUSIONS
            if current in group
            for c in group
            if c != current and c in allowed
        ]
        if within <= 0:
            return found
        close = [c for c in allowed if c != current and cell[ALPHABET.index(c)] >= best - within]
        return list(dict.fromkeys(found + sorted(close, key=lambda c: -cell[ALPHABET.index(c)])))


def parse(lines: Sequence[str]) -> MRZInfo | None:
    """``parse_mrz`` of these lines, or None when they are no MRZ."""
    try:
        return parse_mrz("\n".join(lines))
    except MRZError:
        return None


def _real_date(yymmdd: str) -> bool:
    if not re.fullmatch(r"[0-9]{6}", yymmdd):
        return False
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    try:
        date(2000, month, day)  # a leap year: 29 February exists
    except ValueError:
        return False
    return True


def _is_cccd(info: MRZInfo) -> bool:
    return info.format == "TD1" and info.issuing_state == "VNM" and info.document_code[:1] in "IC"


def problems_of(info: MRZInfo) -> list[str]:
    """Why this MRZ cannot be right although its check digits may hold (empty: none)."""
    problems = [f"{name} check digit fails" for name, ok in info.checks.items() if not ok]
    if not _real_date(info.date_of_birth):
        problems.append(f"date of birth {info.date_of_birth} is not a date")
    if info.date_of_expiry != "<<<<<<" and not _real_date(info.date_of_expiry):
        problems.append(f"date of expiry {info.date_of_expiry} is not a date")
    if info.sex not in SEX:
        problems.append(f"sex {info.sex!r}")
    if _is_cccd(info):
        problems.extend(_cccd_problems(info))
    return problems


def _cccd_problems(info: MRZInfo) -> list[str]:
    """The CCCD's own rules: its 12-digit ID in the optional data ends with the document
    number, is a valid ID number, and agrees with the date of birth and the sex."""
    id_number = cccd_id_number(info)
    if id_number is None:
        return ["the optional data does not hold a 12-digit ID ending with the document number"]
    try:
        facts = parse_id_number(id_number)
    except InvalidIdNumber as exc:
        return [f"ID number {id_number}: {exc}"]
    problems = []
    if f"{facts.birth_year % 100:02d}" != info.date_of_birth[:2]:
        problems.append(f"ID number {id_number} says born in {facts.birth_year}")
    if info.sex in "MF" and facts.sex != info.sex:
        problems.append(f"ID number {id_number} says sex {facts.sex}")
    rest = info.optional_data[12:]
    if re.fullmatch(r"<*\d", rest) and rest[-1] != check_digit(id_number):
        problems.append("the ID number's own check digit fails")
    return problems


_MAX_TRIALS = 3000
_CLEAR_LEAD = 0.05  # how much better the best repair must fit the picture than the next one
_CLOSE = 0.12  # a character scoring this close to the chosen one is a candidate too


@dataclass(frozen=True)
class Change:
    """One character changed by a repair (line and column from 0)."""

    line: int
    col: int
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.line + 1}:{self.col + 1} {self.old}→{self.new}"


def repair(reading: Reading) -> tuple[list[str], list[Change]] | None:
    """(lines, changes) after the repair that makes every check hold, or None.

    Only positions a failing check covers (and no holding one) are touched. One change is tried
    first, among the usual confusions and the characters the templates found nearly as likely;
    then two (confusions first). When several repairs make every check hold (the 7-3-1 digits
    cannot tell 0, A, K, U and < apart, nor 1, B, L, V, …), the one that fits the picture best
    is taken only if it fits clearly better than the next; otherwise None: rescan.
    """
    info = parse(reading.lines)
    if info is None:
        return None
    failing = [name for name, ok in info.checks.items() if not ok]
    holding = [name for name, ok in info.checks.items() if ok]
    suspects = sorted(positions(reading.fmt, failing) - positions(reading.fmt, holding))
    if not failing:
        # Check digits hold but a cross-check fails (a date, the CCCD's ID): the error is in
        # a field the composite covers; a change there must keep every check holding.
        suspects = sorted(positions(reading.fmt, ["composite"]))
    for depth, within in ((1, _CLOSE), (2, 0.0), (2, _CLOSE)):
        options = [(pos, reading.alternatives(*pos, within=within)) for pos in suspects]
        found = _solutions(reading, [(pos, alts) for pos, alts in options if alts], depth)
        if found is None:
            return None
        if found:
            found.sort(key=lambda item: item[0])
            if len(found) > 1 and found[1][0] - found[0][0] < _CLEAR_LEAD:
                return None
            _, lines, changes = found[0]
            return lines, changes
    return None


def _solutions(
    reading: Reading, options: list[tuple[tuple[int, int], list[str]]], depth: int
) -> list[tuple[float, list[str], list[Change]]] | None:
    """Every change of ``depth`` positions that makes the MRZ consistent, with how much worse
    it fits the templates (the loss); None when there are too many to try."""
    found: dict[tuple[str, ...], tuple[float, list[str], list[Change]]] = {}
    for trials, combo in enumerate(_combinations(options, depth)):
        if trials > _MAX_TRIALS:
            return None
        lines = [list(line) for line in reading.lines]
        changes, loss = [], 0.0
        for (line, col), char in combo:
            changes.append(Change(line, col, lines[line][col], char))
            cell = reading.scores[line][col]
            loss += float(cell[ALPHABET.index(lines[line][col])] - cell[ALPHABET.index(char)])
            lines[line][col] = char
        text = ["".join(line) for line in lines]
        if not _quick_checks_hold(reading.fmt, text):
            continue
        candidate = parse(text)
        if candidate is not None and not problems_of(candidate):
            found[tuple(text)] = (loss, text, changes)
    return list(found.values())


_VALUES = {char: (0 if char == "<" else int(char, 36)) for char in ALPHABET}
_WEIGHTS = (7, 3, 1)


def _holds(field: str, digit: str) -> bool:
    total = sum(_VALUES[char] * _WEIGHTS[i % 3] for i, char in enumerate(field))
    return digit == str(total % 10)


def _quick_checks_hold(fmt: str, lines: list[str]) -> bool:
    """The date and composite check digits, computed directly: a fast first filter for the
    repair's candidates (``parse_mrz`` then checks everything)."""
    if fmt == "TD1":
        first, second = lines[0], lines[1]
        composite = first[5:30] + second[0:7] + second[8:15] + second[18:29]
        return (
            _holds(second[0:6], second[6])
            and _holds(second[8:14], second[14])
            and _holds(composite, second[29])
        )
    second = lines[1]
    composite = second[0:10] + second[13:20] + second[21:43]
    return (
        _holds(second[13:19], second[19])
        and _holds(second[21:27], second[27])
        and _holds(composite, second[43])
    )


def _combinations(
    options: list[tuple[tuple[int, int], list[str]]], depth: int
) -> Iterator[list[tuple[tuple[int, int], str]]]:
    """Every way of changing ``depth`` distinct positions to one of their alternatives."""
    for chosen in combinations(options, depth):
        places = [pos for pos, _ in chosen]
        for chars in product(*(alts for _, alts in chosen)):
            yield list(zip(places, chars, strict=True))


def guarded(reading: Reading) -> dict[tuple[int, int], str | None]:
    """Positions where a misread would go unnoticed, each with the characters it could be
    mistaken for: those no check digit covers (any allowed character), and those where other
    allowed characters have the same check-digit value (0, A, K, U and < all count 0), so a
    swap among them leaves every check digit holding."""
    unchecked = unchecked_positions(reading.fmt)
    found: dict[tuple[int, int], str | None] = {}
    for line, (text, allowed) in enumerate(zip(reading.lines, reading.allowed, strict=True)):
        for col, char in enumerate(text):
            if (line, col) in unchecked:
                found[(line, col)] = None
                continue
            value = check_value(char) % 10
            twins = "".join(c for c in allowed[col] if check_value(c) % 10 == value)
            if len(twins) > 1:
                found[(line, col)] = twins
    return found


def check_value(char: str) -> int:
    """A character's value in the 7-3-1 sum: digits 0-9, A=10 … Z=35, < = 0."""
    return 0 if char == "<" else int(char, 36)
