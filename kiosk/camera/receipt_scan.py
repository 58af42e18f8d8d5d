"""Reading the dossier code from a receipt's QR code with the camera, for look-up.

The receipt's QR holds compact JSON (``kiosk.printing.receipt.ReceiptData.qr_payload``: the dossier
code,
the procedure, the applicant's ID number, the issuing kiosk, the times), or, when the back
office had not answered before printing, the same with the provisional reference as the code.
A QR that holds just a code is accepted too, and so is a tracking address (``[kiosk]
tracking_url``) that carries the code in its query or as its last path segment. Frames are read
until one gives a code or the time is up; any other QR in view (the card's, an advert's) is
passed over.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from kiosk.dossier.model import DossierCodeError, parse_dossier_code
from kiosk.errors import KioskError

MSG_NO_RECEIPT_QR = (
    "No receipt QR code was found. Hold the QR code printed on your receipt under the camera, "
    "or type the dossier code."
)


class ReceiptScanFailed(KioskError):
    """No receipt QR read in the time given."""

    msgid = MSG_NO_RECEIPT_QR


def _is_code(text: str) -> bool:
    from kiosk.delivery.outbox.store import is_provisional_reference

    if is_provisional_reference(text):
        return True
    try:
        parse_dossier_code(text)
    except DossierCodeError:
        return False
    return True


def code_from_qr_text(text: str) -> str | None:
    """The dossier code (or provisional reference) a QR's text carries; None for another QR."""
    text = text.strip()
    if text.lower().startswith(("https://", "http://")):
        return _code_in_address(text)
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            return None
        code = doc.get("dossier_code") if isinstance(doc, dict) else None
        return code.strip() if isinstance(code, str) and _is_code(code.strip()) else None
    return text.upper() if _is_code(text.upper()) else None


def _code_in_address(address: str) -> str | None:
    """The code in a tracking address: a query value, else the last path segment."""
    url = urlsplit(address)
    candidates = [value for _key, value in parse_qsl(url.query)]
    candidates.append(unquote(url.path.rstrip("/").rsplit("/", 1)[-1]))
    for candidate in candidates:
        code = candidate.strip().upper()
        if code and _is_code(code):
            return code
    return None


def code_in_frame(frame: Any) -> str | None:
    """The code of the first receipt QR in a camera frame, or None."""
    from kiosk.vision.qr_reader import read_qr

    return next(filter(None, map(code_from_qr_text, read_qr(frame))), None)


def scan_receipt_with_camera(camera: Any, *, seconds: float = 12.0) -> str:
    """Frames from ``camera`` until a receipt's QR reads: its code. ``ReceiptScanFailed``."""
    from kiosk.camera.card_scan import scan_frames

    code, _ = scan_frames(camera, code_in_frame, seconds=seconds)
    if code is None:
        raise ReceiptScanFailed(f"no receipt QR read in {seconds:g} s")
    return code
