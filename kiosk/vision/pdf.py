"""Searchable PDFs of scanned pages: each page the picture plus an invisible text layer.

``searchable_pdf(pages)`` gives the bytes of one PDF holding every page, in order. Each page goes
through Tesseract's own PDF renderer (``image_to_pdf_or_hocr(..., extension="pdf")``), which draws
the picture and lays the recognised words over it as invisible text (render mode 3) in its
GlyphLessFont; pypdf then joins the one-page PDFs and sets the metadata (title, producer
``motcua-kiosk``), keeping one copy of the font.

Size: Tesseract embeds a JPEG file as it is (DCTDecode, no re-encoding) but stores any other
input Flate-compressed: a noisy A4 page at 200 dpi made 2.5 MB given as PNG, 300 KB as a JPEG at
quality 75 (and took 0.7 s instead of 1.9 s). So each page is written as a JPEG that records its
resolution, and Tesseract reads that file. Measured at 200 dpi, quality 75: 150 KB for a clean
rendered A4 page, 230 KB for a photographed one, 130 KB for assets/samples/document-vn.jpg
straightened to 1240×1754 (150 dpi). The recognised text comes from that same JPEG, with
Tesseract's Sauvola binarisation (see ``ocr.py``): the picture in the PDF is the page as
captured, in colour (red seals stay red), not a thresholded copy.

Page size: a page is taken to fill A4 (portrait or landscape, as its shape says). Its resolution
is the one at which it fills A4, capped at ``dpi``: a larger page is reduced to ``dpi``, a smaller
one keeps its pixels (a small one is first enlarged as ``ocr.prepare_page`` does, for the text).

``pdf_text(pdf)`` reads the text layer back, one string per page (NFC), for tests and checks.
Errors: ``ImageUnreadable`` for a page that is not a picture, ``OCRFailed`` when Tesseract fails,
``VisionError`` when ``pdf_text`` is given bytes that are not a PDF.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import pypdf
import pytesseract
from PIL import Image
from pypdf.errors import PyPdfError

from kiosk.vision.errors import VisionError
from kiosk.vision.images import load_image
from kiosk.vision.ocr import DEFAULT_LANG, nfc, prepare_page, tesseract_config, tesseract_errors

PRODUCER = "motcua-kiosk"
A4_INCHES = (210 / 25.4, 297 / 25.4)
# A page within this factor of ``dpi`` is kept as it is rather than resampled by a pixel.
DPI_TOLERANCE = 1.02
FONT_DEPTH = 4
DEFAULT_DPI = 200
DEFAULT_JPEG_QUALITY = 75
DEFAULT_TIMEOUT = 120.0  # seconds per page


def page_resolution(width: int, height: int) -> float:
    """The resolution (pixels per inch) at which a width×height picture fills an A4 page."""
    short_in, long_in = A4_INCHES
    if width > height:  # landscape
        return max(width / long_in, height / short_in)
    return max(width / short_in, height / long_in)


def fit_page(page: np.ndarray, dpi: int) -> tuple[np.ndarray, int]:
    """``page`` (BGR) sized for the PDF, and the resolution it is stored at (≤ ``dpi`` + 2 %)."""
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    image, _ = prepare_page(page)
    height, width = image.shape[:2]
    resolution = page_resolution(width, height)
    if resolution > dpi * DPI_TOLERANCE:
        scale = dpi / resolution
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        resolution = dpi
    return image, max(1, round(resolution))


def _jpeg_file(image: np.ndarray, resolution: int, quality: int, folder: str) -> str:
    """Write ``image`` (BGR) as a JPEG that records ``resolution``; return its path."""
    path = os.path.join(folder, "page.jpg")
    picture = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    picture.save(path, format="JPEG", quality=quality, optimize=True, dpi=(resolution, resolution))
    return path


def pdf_page(
    page: np.ndarray,
    *,
    lang: str = DEFAULT_LANG,
    dpi: int = DEFAULT_DPI,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """A one-page searchable PDF of ``page`` (BGR or gray uint8), from Tesseract's renderer."""
    image, resolution = fit_page(page, dpi)
    with tempfile.TemporaryDirectory(prefix="kiosk-pdf-") as folder, tesseract_errors():
        path = _jpeg_file(image, resolution, jpeg_quality, folder)
        return pytesseract.image_to_pdf_or_hocr(
            path,
            lang=lang,
            config=tesseract_config(dpi=resolution),
            extension="pdf",
            timeout=timeout,
        )


def searchable_pdf(
    pages: Iterable[np.ndarray],
    *,
    lang: str = DEFAULT_LANG,
    title: str | None = None,
    dpi: int = DEFAULT_DPI,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """One PDF of all ``pages`` in order, each the picture with its text, invisible, over it.

    Pages are taken one at a time from ``pages`` (an iterator keeps only one in memory). Raises
    ``ValueError`` for no page, ``ImageUnreadable`` or ``OCRFailed`` for a page that fails.
    """
    writer = pypdf.PdfWriter()
    count = 0
    for page in pages:
        single = pdf_page(page, lang=lang, dpi=dpi, jpeg_quality=jpeg_quality, timeout=timeout)
        writer.append(pypdf.PdfReader(io.BytesIO(single)))
        count += 1
    if count == 0:
        raise ValueError("a PDF needs at least one page")
    metadata = {"/Producer": PRODUCER, "/Creator": PRODUCER}
    if title:
        metadata["/Title"] = nfc(title)
    writer.add_metadata(metadata)
    # Every page carries the same GlyphLessFont, four objects deep (Type0 → CIDFont → descriptor
    # → font file). One pass merges one level of identical objects: four passes keep one copy.
    for _ in range(FONT_DEPTH):
        writer.compress_identical_objects()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_searchable_pdf(
    pages: Iterable[np.ndarray | Path | str],
    out_path: Path | str,
    *,
    lang: str = DEFAULT_LANG,
    title: str | None = None,
    dpi: int = DEFAULT_DPI,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
    timeout: float = DEFAULT_TIMEOUT,
) -> int:
    """Write the searchable PDF of ``pages`` (arrays or image files) to ``out_path``.

    Image files are loaded one at a time under ``images.load_image``'s pixel budget. The file
    appears whole or not at all (written beside, then renamed). Returns its size in bytes.
    """
    out_path = Path(out_path)
    pdf = searchable_pdf(
        (load_image(p) if isinstance(p, str | Path) else p for p in pages),
        lang=lang,
        title=title,
        dpi=dpi,
        jpeg_quality=jpeg_quality,
        timeout=timeout,
    )
    partial = out_path.with_name(out_path.name + ".part")
    partial.write_bytes(pdf)
    os.replace(partial, out_path)
    return len(pdf)


def pdf_text(pdf: bytes) -> list[str]:
    """The text layer of each page of ``pdf``, NFC, trailing spaces trimmed from each line."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        texts = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise VisionError(f"not a readable PDF: {exc}") from exc
    return ["\n".join(line.rstrip() for line in nfc(text).splitlines()).strip() for text in texts]
