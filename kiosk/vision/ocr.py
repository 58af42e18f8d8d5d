"""Read the text of a straightened page with Tesseract: Vietnamese by default, NFC out.

``ocr_page(page)`` takes a BGR (or gray) uint8 array of an upright page, as the page finder
straightens it, and returns an ``OCRResult``: the text (NFC, one line per printed line, a blank
line between paragraphs), its words with their boxes and confidences, and the time it took.

What was measured on generated pages (fast ``vie`` LSTM model, Tesseract 5.3, one core):
  * Binarisation: Tesseract's own Sauvola (``thresholding_method=2``) beats its default global
    Otsu and an OpenCV adaptive threshold done beforehand on camera pages lit unevenly (character
    error rate 0.3 % against 2–4 % for Otsu on ``assets/samples/document-vn.jpg`` straightened),
    and costs nothing on clean pages. So the page goes in as grayscale, not thresholded.
  * Page segmentation ``--psm 3`` (automatic): ``--psm 6`` (one block) mixes centred headings and
    right-aligned lines and is 3–10× worse on a form.
  * Size: pages whose longer side is under ``MIN_LONG_SIDE`` pixels are enlarged (a page seen at
    ~70 dpi reads 4× better at twice the size); very large pages are reduced to A4 at 300 dpi.
  * The image goes to Tesseract as uncompressed PGM: writing a PNG of a full page costs more
    (0.5 s) than the difference in anything else. PGM carries no resolution, so Tesseract
    estimates it from the text unless ``dpi`` is given. (A BMP carries 96 dpi, which shrinks the
    Sauvola window and costs accuracy.)
  * ``OMP_THREAD_LIMIT=1``: Tesseract's OpenMP threads make it 3–4× slower on a 2-core kiosk.
    ``ocr_page`` sets it for the Tesseract process when the environment does not say otherwise.

Tesseract's ``vie`` model emits precomposed letters, but the result is normalised to NFC anyway:
the rest of the kiosk compares Vietnamese strings as NFC.

Errors: ``ImageUnreadable`` for an array that is not a picture (or too small to hold a letter),
``OCRFailed`` when Tesseract is missing, fails, lacks the language or times out. A blank page is
not an error: it reads as empty text.
"""

from __future__ import annotations

import os
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import cv2
import numpy as np
import pytesseract
from PIL import Image

from kiosk.vision.errors import ImageUnreadable, OCRFailed
from kiosk.vision.images import as_bgr, downscale, to_gray

DEFAULT_LANG = "vie"
# Pages smaller than this (longer side, pixels) are enlarged to UPSCALE_LONG_SIDE (A4 at 150 dpi).
MIN_LONG_SIDE = 1200
UPSCALE_LONG_SIDE = 1754
MAX_UPSCALE = 4.0
# Larger pages are reduced to this (A4 at 300 dpi): more pixels only cost time.
MAX_LONG_SIDE = 3508
# Below this (either side, pixels) an image cannot hold a readable letter.
MIN_SIDE = 16
DEFAULT_TIMEOUT = 60.0  # seconds per page; a full A4 page takes about one


@dataclass(frozen=True)
class Word:
    """One recognised word: ``box`` is (x, y, width, height) in the input page's pixels."""

    text: str
    box: tuple[int, int, int, int]
    conf: float  # Tesseract's confidence, 0–100


@dataclass(frozen=True)
class OCRResult:
    """The text of a page (NFC), its words, their mean confidence (0–100) and the time taken."""

    text: str
    words: list[Word] = field(default_factory=list)
    mean_confidence: float = 0.0  # 0.0 when no word was read
    seconds: float = 0.0


def tesseract_config(*, dpi: int | None = None, psm: int = 3) -> str:
    """The Tesseract options the kiosk reads pages with (LSTM engine, Sauvola binarisation)."""
    config = f"--oem 1 --psm {int(psm)} -c thresholding_method=2"
    if dpi is not None:
        config += f" --dpi {int(dpi)}"
    return config


def limit_threads() -> None:
    """Make Tesseract single-threaded unless the environment already sets OMP_THREAD_LIMIT.

    pytesseract starts Tesseract with this process's environment, so the setting is made there.
    """
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@contextmanager
def tesseract_errors() -> Iterator[None]:
    """Run a pytesseract call single-threaded, its failures turned into ``OCRFailed``."""
    limit_threads()
    try:
        yield
    except pytesseract.TesseractNotFoundError as exc:
        raise OCRFailed(f"tesseract is not installed: {exc}") from exc
    except pytesseract.TesseractError as exc:  # exit status and Tesseract's own message
        raise OCRFailed(f"tesseract failed ({exc.status}): {exc.message}") from exc
    except RuntimeError as exc:  # pytesseract's timeout
        raise OCRFailed(f"tesseract did not finish: {exc}") from exc
    except OSError as exc:  # temporary files
        raise OCRFailed(f"tesseract could not run: {exc}") from exc


def prepare_page(page: np.ndarray) -> tuple[np.ndarray, float]:
    """``page`` as BGR at a size Tesseract reads well, and the scale applied to it.

    Raises ``ImageUnreadable`` for an array that is not a picture or is too small to hold text.
    """
    image = as_bgr(page)
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise ImageUnreadable(f"image of {width}x{height} is too small to hold text")
    long_side = max(height, width)
    if long_side > MAX_LONG_SIDE:
        reduced = downscale(image, MAX_LONG_SIDE)
        return reduced, reduced.shape[1] / width
    if long_side < MIN_LONG_SIDE:
        scale = min(MAX_UPSCALE, UPSCALE_LONG_SIDE / long_side)
        size = (round(width * scale), round(height * scale))
        return cv2.resize(image, size, interpolation=cv2.INTER_CUBIC), size[0] / width
    return image, 1.0


def nfc(text: str) -> str:
    """``text`` in Unicode NFC, the form the kiosk keeps Vietnamese in."""
    return unicodedata.normalize("NFC", text)


def ocr_page(
    page: np.ndarray,
    lang: str = DEFAULT_LANG,
    *,
    dpi: int | None = None,
    psm: int = 3,
    timeout: float = DEFAULT_TIMEOUT,
) -> OCRResult:
    """Read the text of an upright page (BGR or gray uint8 array).

    ``dpi`` is the page's resolution when known (Tesseract estimates it otherwise); ``lang`` is a
    Tesseract language or several joined by ``+`` (``"vie+eng"``). Word boxes are in the input's
    pixels. Raises ``ImageUnreadable`` (not a picture) or ``OCRFailed`` (Tesseract failed).
    """
    started = time.perf_counter()
    image, scale = prepare_page(page)
    picture = Image.fromarray(to_gray(image))
    picture.format = "PPM"  # written uncompressed as PGM by pytesseract (see module docstring)
    if dpi is not None:
        dpi = max(1, round(dpi * scale))
    with tesseract_errors():
        data = pytesseract.image_to_data(
            picture,
            lang=lang,
            config=tesseract_config(dpi=dpi, psm=psm),
            output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
    text, words = _assemble(data, scale)
    mean = sum(word.conf for word in words) / len(words) if words else 0.0
    return OCRResult(
        text=text, words=words, mean_confidence=mean, seconds=time.perf_counter() - started
    )


def _assemble(data: dict[str, list], scale: float) -> tuple[str, list[Word]]:
    """The page text and its words from Tesseract's TSV rows (boxes back in input pixels)."""
    words: list[Word] = []
    paragraphs: list[list[str]] = []
    lines: dict[tuple[int, int, int], list[str]] = {}  # (block, paragraph, line) → words
    for i, raw in enumerate(data["text"]):
        if int(data["level"][i]) != 5:
            continue
        text = nfc(str(raw)).strip()
        if not text:
            continue
        box = tuple(round(int(data[key][i]) / scale) for key in ("left", "top", "width", "height"))
        words.append(Word(text=text, box=box, conf=max(0.0, float(data["conf"][i]))))
        line = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        lines.setdefault(line, []).append(text)
    current: tuple[int, int] | None = None
    for line, line_words in lines.items():  # dicts keep Tesseract's reading order
        if line[:2] != current:
            paragraphs.append([])
            current = line[:2]
        paragraphs[-1].append(" ".join(line_words))
    return "\n\n".join("\n".join(paragraph) for paragraph in paragraphs), words
