"""The eMRTD exception tree. Every parser and protocol raises only these.

    KioskError                              (kiosk/errors.py)
     └── EmrtdError                         anything that went wrong with the chip or its data
          ├── TLVError                      malformed BER-TLV (truncated, bad length, bad tag)
          ├── ParseError                    a file that does not follow its ICAO/VN structure
          ├── MRZError                      an MRZ that does not parse or fails a check digit
          ├── CardStatusError               the card answered an error status word (``sw``)
          │    ├── FileNotFoundOnCard       6A82
          │    └── SecurityStatusNotSatisfied 6982 (file needs secure messaging / access)
          ├── NotAnEmrtd                    the card has no eMRTD application (SELECT AID failed)
          ├── AccessDenied                  BAC/PACE refused the key: wrong CAN or MRZ
          ├── SecureMessagingError          a response with a bad MAC, missing or odd DOs
          └── UnsupportedProtocol           the card offers nothing this kiosk can use

``step`` names the read step that failed (see kiosk/emrtd/reader.py), ``sw`` the status word.
"""

from __future__ import annotations

from kiosk.errors import KioskError

MSG_READ_AGAIN = (
    "The card could not be read. Please lay it flat on the reader again and keep it still."
)


class EmrtdError(KioskError):
    """Base of the eMRTD errors."""

    msgid = MSG_READ_AGAIN

    def __init__(self, detail: str = "", *, sw: int | None = None, step: str | None = None) -> None:
        super().__init__(detail)
        self.sw = sw
        self.step = step

    def __str__(self) -> str:
        text = super().__str__()
        if self.sw is not None:
            text += f" (SW={self.sw:04X})"
        if self.step:
            text += f" [step {self.step}]"
        return text


class TLVError(EmrtdError):
    """Malformed BER-TLV."""


class ParseError(EmrtdError):
    """A file whose structure is not what ICAO 9303 (or the VN DG13) says."""


class MRZError(EmrtdError):
    """An MRZ that does not parse or whose check digits fail."""

    msgid = "The code on the back of the card could not be read correctly. Please scan it again."


class CardStatusError(EmrtdError):
    """The card answered with an error status word."""


class FileNotFoundOnCard(CardStatusError):
    """6A82: no such file."""


class SecurityStatusNotSatisfied(CardStatusError):
    """6982: the file needs access control (BAC/PACE) first."""


class NotAnEmrtd(EmrtdError):
    """The card in the reader is not an ICAO eMRTD (no CCCD application)."""

    msgid = "This card is not a chip citizen ID card. Please use your CCCD chip card."


class AccessDenied(EmrtdError):
    """The chip refused the access key (wrong CAN, wrong MRZ)."""

    msgid = (
        "The card did not accept the number. Please check the 12-digit ID number you typed "
        "and try again."
    )


class SecureMessagingError(EmrtdError):
    """A secured response failed its MAC or lacked a required data object."""


class UnsupportedProtocol(EmrtdError):
    """The card offers no access protocol this kiosk implements."""

    msgid = "This card cannot be read at this kiosk. Please ask the staff at the counter."
