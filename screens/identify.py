"""Identify screen: the 12-digit ID number on a keypad, then the chip card read with its CAN.

Phases (the session's ``IdentifyPhase``, moved by kiosk/flow/identify.py): ``number`` (keypad),
``scanning`` (the camera reads the card's QR or MRZ), ``reading`` (place the card; progress
while the chip is read), ``confirm`` (the photo and name from the chip: "this is me" or "not
me"). A citizen without the card continues with the typed number alone; the session then knows
the identity is unchecked.
"""

from __future__ import annotations

import io
from typing import Any

from kivy.properties import NumericProperty, ObjectProperty, StringProperty

from kiosk.flow.events import NumberScanned, ReadProgress
from kiosk.infra.text import format_date
from kiosk.session.state import IdentifyPhase
from screens.base import KioskScreen

ID_LENGTH = 12


def group_digits(digits: str) -> str:
    """001090012345 → '001 090 012 345', easier to check against the card."""
    return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))


def photo_texture(image_bytes: bytes) -> Any:
    """A Kivy texture of the chip's face image (JPEG or JPEG 2000)."""
    import cv2
    import numpy as np
    from kivy.core.image import Image as CoreImage

    array = cv2.imdecode(np.frombuffer(bytes(image_bytes), np.uint8), cv2.IMREAD_COLOR)
    if array is None:
        return None
    ok, png = cv2.imencode(".png", array)
    if not ok:
        return None
    return CoreImage(io.BytesIO(png.tobytes()), ext="png").texture


class IdentifyScreen(KioskScreen):
    """The screen mirrors the session's ``IdentifyPhase``; the flow moves it."""

    digits = StringProperty("")
    error = StringProperty("")
    phase = StringProperty("number")  # number | scanning | reading | confirm
    scan_kind = StringProperty("qr")
    progress = NumericProperty(0)
    photo = ObjectProperty(None, allownone=True)
    holder_name = StringProperty("")
    born = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        events = self.flow.events
        events.subscribe(ReadProgress, self._progress)
        events.subscribe(NumberScanned, self._number_scanned)

    def on_key(self, key: str) -> None:
        self.session.touch()
        self.error = ""
        if key == "clear":
            self.digits = ""
        elif key == "back":
            self.digits = self.digits[:-1]
        elif key.isdigit() and len(self.digits) < ID_LENGTH:
            self.digits += key

    def show_notice(self, notice: Any) -> bool:
        if not notice.error:
            return False
        self.error = self.t(notice.msgid)
        return True

    def phase_moved(self, phase: Any) -> None:
        if not isinstance(phase, IdentifyPhase):
            return
        self.phase = phase.value
        if phase is IdentifyPhase.CONFIRM:
            self._show_candidate()
        elif phase is IdentifyPhase.NUMBER:
            self._clear_candidate()

    def refresh(self) -> None:
        self.phase_moved(self.session.data.identify_phase)

    def read_card(self) -> None:
        """Read the chip with the CAN from the typed number."""
        self.error = ""
        self.progress = 0
        self.flow.identify.read_card(self.digits)

    def _progress(self, event: ReadProgress) -> None:
        self.progress = event.fraction

    def _number_scanned(self, event: NumberScanned) -> None:
        self.digits = event.id_number
        self.error = ""
        self.progress = 0

    def _show_candidate(self) -> None:
        candidate = self.session.data.chip_candidate
        if candidate is None:
            return
        self.photo = photo_texture(candidate.photo) if candidate.photo else None
        self.holder_name = candidate.full_name or ""
        dob = candidate.date_of_birth
        self.born = format_date(dob) if dob else ""

    def confirm(self) -> None:
        self.flow.identify.confirm_chip_identity()

    def not_me(self) -> None:
        self.flow.identify.reject_chip_identity()

    def without_card(self) -> None:
        """Continue with the typed number only (the identity stays unchecked)."""
        self.error = ""
        self.flow.identify.enter_id_number(self.digits)

    def scan(self, kind: str) -> None:
        """Read the ID number from the card's QR or MRZ with the camera, then the chip."""
        self.error = ""
        self.scan_kind = kind
        self.flow.identify.scan_card(kind)

    def submit(self) -> None:
        self.read_card()

    def _clear_candidate(self) -> None:
        self.photo = None
        self.holder_name = self.born = ""

    def reset(self) -> None:
        self.digits = ""
        self.error = ""
        self.phase = "number"
        self.progress = 0
        self._clear_candidate()
