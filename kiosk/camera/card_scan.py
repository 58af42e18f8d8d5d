"""Reading the citizen ID card's QR code or MRZ with the camera, to open its chip without typing.

The QR (front of the 2021 CCCD, back of the 2024 Căn cước card) gives the 12-digit ID number,
hence the CAN; the MRZ (back) gives the ID number too and the BAC key that a chip without PACE
needs. Frames are taken until one reads or the time is up; a frame that holds an MRZ whose check
digits cannot be repaired is never guessed at: the next frame is tried, and at the end the
citizen is asked to scan again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from kiosk.errors import KioskError

T = TypeVar("T")

MSG_NOTHING_FOUND_QR = (
    "No QR code was found. Hold the side of the card with the QR code under the camera."
)
MSG_NOTHING_FOUND_MRZ = (
    "The code on the back of the card was not found. Hold the back of the card flat under the "
    "camera."
)


class ScanFailed(KioskError):
    """Nothing usable was read in the time given."""


@dataclass(frozen=True)
class CardScan:
    id_number: str
    mrz_key: str | None
    source: str  # "qr" or "mrz"


def scan_frame(frame: Any, kind: str) -> CardScan | None:
    """Try one frame; None when nothing is there, the vision errors when something is wrong."""
    from kiosk.vision.errors import MRZNotFound, QRNotFound

    if kind == "qr":
        from kiosk.vision.qr_reader import read_cccd_qr

        try:
            card = read_cccd_qr(frame)  # the card's code, even with another QR in view
        except QRNotFound:
            return None
        return CardScan(card.id_number, None, "qr")
    from kiosk.vision.mrz_reader import read_mrz

    try:
        read = read_mrz(frame)
    except MRZNotFound:
        return None
    if not read.id_number:
        return None
    return CardScan(read.id_number, read.mrz_key or None, "mrz")


def scan_frames(
    camera: Any, look: Callable[[Any], T | None], *, seconds: float
) -> tuple[T | None, KioskError | None]:
    """Frames from ``camera`` through ``look`` until it finds something or ``seconds`` pass:
    (what it found or None, the last error a frame raised). A frame that raises (an unreadable
    MRZ, a QR that is not the one wanted) only means the next frame is tried."""
    if not camera.is_open:
        camera.open()
    deadline = time.monotonic() + seconds
    last_error: KioskError | None = None
    while True:
        try:
            found = look(camera.read())
        except KioskError as exc:
            last_error = exc
            found = None
        if found is not None or time.monotonic() >= deadline:
            return found, last_error


def scan_card_with_camera(camera: Any, kind: str, *, seconds: float = 12.0) -> CardScan:
    """Frames from ``camera`` until the card's QR/MRZ reads; ``ScanFailed`` after ``seconds``."""
    if kind not in ("qr", "mrz"):
        raise ValueError(f"kind must be 'qr' or 'mrz', not {kind!r}")
    found, last_error = scan_frames(camera, lambda frame: scan_frame(frame, kind), seconds=seconds)
    if found is not None:
        return found
    if last_error is not None:
        raise last_error
    raise ScanFailed(
        f"no {kind} read in {seconds:g} s",
        msgid=MSG_NOTHING_FOUND_QR if kind == "qr" else MSG_NOTHING_FOUND_MRZ,
    )
