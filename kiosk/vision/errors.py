"""The vision exception tree. Every module of ``kiosk/vision`` raises only these.

    KioskError                      (kiosk/errors.py)
     └── VisionError                an image could not be used
          ├── ImageUnreadable       not an image, corrupt, empty, or a shape that is not a picture
          ├── NoDocumentFound       no page in the picture (empty desk, page too small or cut off)
          ├── MRZNotFound           no machine-readable zone in the picture
          ├── MRZUnreadable         an MRZ was found but fails its check digits beyond repair:
          │                         the citizen rescans, the kiosk never guesses a character
          ├── QRNotFound            no QR code in the picture
          ├── NotACCCDQR            a QR code that is not a CCCD's (wrong field count or ID)
          └── OCRFailed             tesseract failed, or read nothing from a page

OpenCV, Pillow, zxing-cpp and pytesseract exceptions are converted at the boundary of the module
that calls them and never leak past ``kiosk/vision``. ``str(err)`` is the technical detail for the
log; ``err.msgid`` is what the citizen is told (English id, Vietnamese in kiosk.po).
"""

from __future__ import annotations

from kiosk.errors import KioskError


class VisionError(KioskError):
    """Base of the vision errors."""

    msgid = "The picture could not be used. Please try again."


class ImageUnreadable(VisionError):
    """The bytes or the array are not a picture the kiosk can read."""

    msgid = "The picture could not be read. Please try again."


class NoDocumentFound(VisionError):
    """No page was found in the picture."""

    msgid = "No document was found. Place the document under the camera."


class MRZNotFound(VisionError):
    """No machine-readable zone (the three lines of the card's back) in the picture."""

    msgid = (
        "The code on the back of the card was not found. "
        "Place the back of the card under the camera."
    )


class MRZUnreadable(VisionError):
    """An MRZ whose check digits fail and cannot be repaired: ask for a rescan, never guess."""

    # The same id as kiosk.emrtd.errors.MRZError: one message, one translation.
    msgid = "The code on the back of the card could not be read correctly. Please scan it again."


class QRNotFound(VisionError):
    """No QR code in the picture."""

    msgid = "No QR code was found. Hold the QR code of your card under the camera."


class NotACCCDQR(VisionError):
    """A QR code that is not the one printed on a CCCD / Căn cước card."""

    msgid = "This QR code is not from a citizen ID card. Please show the QR code on your card."


class OCRFailed(VisionError):
    """Text recognition failed or read nothing."""

    msgid = "The text of the document could not be read. Please place it flat and try again."
