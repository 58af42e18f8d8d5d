"""Read the machine-readable zone (MRZ) of a CCCD (TD1, 3 × 30) or a passport (TD3, 2 × 44).

    picture ─► find the zone ─► straighten ─► score every cell ─► decode ─► check ─► MRZRead
               mrz_zone           mrz_zone      mrz_glyphs          layout    mrz_checks

``read_mrz(image)`` tries the picture as it is, then turned 180°, 90° and 270°. In each view:

1. find the candidate zones (two or three long, evenly pitched, parallel lines);
2. straighten each onto a grid of character cells and correlate every cell with the 37 OCR-B
   glyphs; a zone whose cells match no glyph well (mean correlation below MIN_ZONE_SCORE) is
   ordinary text, not an MRZ;
3. decode: each position takes its best character among those its field allows (digits in
   dates, letters in names, M/F/< for the sex, digits in a CCCD's number fields);
4. check: every check digit and the cross-checks (real dates, the CCCD's 12-digit ID agreeing
   with the document number, the year of birth and the sex). If one fails, repair: the usual
   confusions (0/O, 1/I, 2/Z, 5/S, 8/B, 6/G, K/X/<), then any character the templates found
   nearly as likely, one change then two, accepted only if every check then holds and the
   repair fits the picture clearly better than any other that would;
5. guard: every cell must hold something like an OCR-B character (MIN_CELL_SCORE: a grid
   shifted by a cell reads an empty cell at one end); a character no check digit protects
   (the names, the sex, the nationality) or one a check digit cannot tell from a twin (0, A,
   K, U and < all count 0) must win over the next allowed character by MIN_MARGIN; otherwise
   the read is refused.

Anything that does not pass raises ``MRZUnreadable`` (the citizen rescans; the kiosk never
guesses); no zone at all raises ``MRZNotFound``; an array that is no picture ``ImageUnreadable``.

Tesseract (LSTM ``eng``, ``--oem 1 --psm 6``, whitelist A-Z 0-9 <) reads the straightened zone
when ``reader="tesseract"``, through the same decoding and repair: kept for comparison only. On
OCR-B it reads '<' as K and miscounts filler runs, gives no per-character confidence for the
guard, and takes ~200 ms; bench/vision.py measures both readers.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from kiosk.emrtd.errors import MRZError
from kiosk.emrtd.mrz import MRZInfo, cccd_id_number
from kiosk.identity.id_number import InvalidIdNumber, can_from_id_number
from kiosk.vision.errors import ImageUnreadable, MRZNotFound, MRZUnreadable
from kiosk.vision.images import downscale
from kiosk.vision.mrz_checks import (
    CONFUSIONS,
    Change,
    Reading,
    guarded,
    parse,
    problems_of,
    repair,
)
from kiosk.vision.mrz_glyphs import ALPHABET, FORMATS, template_scores
from kiosk.vision.mrz_zone import Zone, find_zones, straighten

WORK_MAX_SIDE = 1600  # the picture is searched at most this large


@dataclass(frozen=True)
class MRZRead:
    """One MRZ read from a picture.

    ``repaired`` lists each character changed by the check digits, as "line:column A→B"
    (1-based). ``id_number`` and ``can`` are set for a CCCD (the 12-digit ID in the optional
    data). ``mrz_key`` is the BAC/PACE key string ("" when the card has no expiry date).
    """

    lines: list[str]
    info: MRZInfo
    valid: bool
    repaired: list[str] = field(default_factory=list)
    id_number: str | None = None
    can: str | None = None
    mrz_key: str = ""
    seconds: float = 0.0


MIN_ZONE_SCORE = 0.55  # mean best glyph correlation below which a zone is no MRZ
UPRIGHT_SCORE = 0.85  # above it, the zone is OCR-B the right way up: no other turn is tried
MIN_MARGIN = 0.035  # how clearly a character no check digit protects must win
MIN_CELL_SCORE = 0.5  # every cell must hold something this much like an OCR-B character
READERS = ("templates", "tesseract")
_TURNS = (None, cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE)


def read_mrz(image: np.ndarray, *, strict: bool = True, reader: str = "templates") -> MRZRead:
    """Find and read the MRZ in a BGR (or gray) picture, in any of the four orientations.

    Raises ``MRZNotFound`` when the picture shows no MRZ and ``MRZUnreadable`` when it shows
    one that does not read consistently (the citizen rescans). With ``strict=False`` such an MRZ
    is returned as it was read, with ``valid=False``. ``reader="tesseract"`` reads the cells
    with tesseract instead of the OCR-B templates (for comparison: it has no per-character
    confidence, so names are not guarded; see bench/vision.py).
    """
    if reader not in READERS:
        raise ValueError(f"reader must be one of {READERS}, got {reader!r}")
    started = time.perf_counter()
    gray = _prepare(image)
    best: _Candidate | None = None
    for turn in _TURNS:
        view = gray if turn is None else cv2.rotate(gray, turn)
        for zone in find_zones(view)[:3]:
            candidate = _Candidate.of(view, zone)
            if candidate is None:
                continue
            outcome = candidate.settle(reader)
            if isinstance(outcome, tuple):
                return _result(*outcome, True, started)
            if best is None or candidate.score > best.score:
                best = candidate
        if best is not None and best.score >= UPRIGHT_SCORE:
            break  # clearly OCR-B standing this way up: unreadable, not turned
    if best is None:
        raise MRZNotFound("no MRZ (two or three long evenly spaced lines of OCR-B) in the picture")
    if not strict and best.reading is not None:
        info = parse(best.reading.lines)
        if info is not None:
            return _result(best.reading.lines, info, [], False, started)
    raise MRZUnreadable("MRZ does not read consistently: " + "; ".join(best.reasons or []))


def _prepare(image: np.ndarray) -> np.ndarray:
    """A gray working copy at most WORK_MAX_SIDE pixels long (shrunk before converting, so a
    40-megapixel picture costs no full-size copy); a small one is doubled."""
    if not isinstance(image, np.ndarray) or image.size == 0 or image.dtype != np.uint8:
        raise ImageUnreadable("not a picture: expected a non-empty uint8 NumPy array")
    if image.ndim == 3 and image.shape[2] in (3, 4):
        small = downscale(image, WORK_MAX_SIDE)
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        gray = cv2.cvtColor(small, code)
    elif image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        gray = downscale(image.reshape(image.shape[:2]), WORK_MAX_SIDE)
    else:
        raise ImageUnreadable(f"expected H×W, H×W×3 or H×W×4 pixels, got shape {image.shape}")
    if max(gray.shape) < 640:
        gray = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(gray)


@dataclass
class _Candidate:
    """A zone that looks like OCR-B: its straightened picture, its cells' scores, and once
    settled, its reading and why it failed."""

    fmt: str
    zone_img: np.ndarray
    scores: list[np.ndarray]
    score: float  # the mean of each cell's best correlation
    reading: Reading | None = None
    reasons: list[str] | None = None

    @classmethod
    def of(cls, gray: np.ndarray, zone: Zone) -> _Candidate | None:
        try:
            zone_img = straighten(gray, zone)
        except MRZUnreadable:
            return None
        scores = template_scores(zone_img, zone.format)
        score = float(np.mean([line.max(axis=1).mean() for line in scores]))
        if score < MIN_ZONE_SCORE:
            return None  # text lines, but not OCR-B
        return cls(zone.format, zone_img, scores, score)

    def settle(self, reader: str) -> tuple[list[str], MRZInfo, list[str]] | list[str]:
        """Decode, check, repair and guard this zone's reading (see ``_settle``)."""
        if reader == "tesseract":
            self.reading = Reading.decode(self.fmt, _tesseract_scores(self.zone_img, self.fmt))
        else:
            self.reading = Reading.decode(self.fmt, self.scores)
        outcome = _settle(self.reading, guard=reader == "templates")
        self.reasons = [] if isinstance(outcome, tuple) else outcome
        return outcome


def _settle(reading: Reading, *, guard: bool) -> tuple[list[str], MRZInfo, list[str]] | list[str]:
    """The read made consistent: (lines, info, repairs), or the reasons it cannot be."""
    info = parse(reading.lines)
    if info is None:
        return ["the text is not an MRZ"]
    changes: list[Change] = []
    lines = reading.lines
    problems = problems_of(info)
    if problems:
        fixed = repair(reading)
        if fixed is None:
            return problems
        lines, changes = fixed
        info = parse(lines)
        if info is None:  # pragma: no cover - a repair keeps the shape
            return ["the repaired text is not an MRZ"]
    if guard:
        blank = [
            f"{line + 1}:{col + 1}"
            for line, cells in enumerate(reading.scores)
            for col, best in enumerate(cells.max(axis=1))
            if best < MIN_CELL_SCORE
        ]
        if blank:
            return ["cells that hold no OCR-B character: " + ", ".join(blank)]
        changed = {(change.line, change.col) for change in changes}
        doubtful = [
            f"{line + 1}:{col + 1} {reading.lines[line][col]}"
            for (line, col), among in sorted(guarded(reading).items())
            if (line, col) not in changed and reading.margin(line, col, among) < MIN_MARGIN
        ]
        if doubtful:
            return ["characters no check digit protects are unclear: " + ", ".join(doubtful)]
    return lines, info, [str(change) for change in changes]


def _result(
    lines: list[str], info: MRZInfo, repaired: list[str], valid: bool, started: float
) -> MRZRead:
    id_number = cccd_id_number(info) if valid else None
    can = None
    if id_number is not None:
        try:
            can = can_from_id_number(id_number)
        except InvalidIdNumber:
            id_number = None
    try:
        key = info.mrz_key
    except MRZError:  # no expiry date ("không thời hạn"): no BAC key from the MRZ
        key = ""
    return MRZRead(
        lines=list(lines),
        info=info,
        valid=valid,
        repaired=repaired,
        id_number=id_number,
        can=can,
        mrz_key=key,
        seconds=time.perf_counter() - started,
    )


# --- tesseract, for comparison ----------------------------------------------------------------

_TESSERACT_CONFIG = f"--oem 1 --psm 6 -c tessedit_char_whitelist={ALPHABET}"


def _tesseract_scores(zone_img: np.ndarray, fmt: str) -> list[np.ndarray]:
    """Tesseract's reading of the straightened zone, as scores the decoder takes: 1 for the
    character read, 0.5 for its usual confusions (so a letter read where only digits may stand
    becomes its digit), 0 for the rest. Lines are cut or padded to the format's length."""
    import pytesseract

    count, length = FORMATS[fmt]
    try:
        text = pytesseract.image_to_string(zone_img, lang="eng", config=_TESSERACT_CONFIG)
    except (pytesseract.TesseractError, OSError, RuntimeError) as exc:
        raise MRZUnreadable(f"tesseract failed: {exc}") from exc
    found = [re.sub(r"[^A-Z0-9<]", "", line.upper()) for line in text.splitlines()]
    found = [line for line in found if len(line) >= length // 2]
    found = (found + [""] * count)[:count]
    scores = []
    for line in found:
        line = _fit_length(line, length)
        table = np.zeros((length, len(ALPHABET)), np.float32)
        for col, char in enumerate(line):
            for group in CONFUSIONS:
                if char in group:
                    for other in group:
                        table[col, ALPHABET.index(other)] = 0.5
            table[col, ALPHABET.index(char)] = 1.0
        scores.append(table)
    return scores


def _fit_length(line: str, length: int) -> str:
    """Tesseract reads '<' runs as K now and then and miscounts them: drop K next to '<' while
    too long, then cut or pad with '<'."""
    while len(line) > length:
        spurious = [m.start() for m in re.finditer(r"(?<=<)K|K(?=<)", line)]
        if not spurious:
            break
        line = line[: spurious[-1]] + line[spurious[-1] + 1 :]
    return line[:length].ljust(length, "<")
