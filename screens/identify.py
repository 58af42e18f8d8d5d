"""Identify screen: the 12-digit ID number on a keypad, then the chip card read with its CAN.

Phases: ``number`` (keypad), ``reading`` (place the card; progress while the chip is read),
``confirm`` (the photo and name from the chip: "this is me" or "not me"). A citizen without the
card continues with the typed number alone; the session then knows the identity is unchecked.
Issue 4 adds the camera reading the card's QR or MRZ instead of typing.
"""

from __future__ import annotations

import io
from typing import Any

from kivy.clock import Clock
from kivy.properties import NumericProperty, ObjectProperty, StringProperty

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
    digits = StringProperty("")
    error = StringProperty("")
    phase = StringProperty("number")  # number | scanning | reading | confirm
    scan_kind = StringProperty("qr")
    progress = NumericProperty(0)
    photo = ObjectProperty(None, allownone=True)
    holder_name = StringProperty("")
    born = StringProperty("")

    def on_key(self, key: str) -> None:
        self.session.touch()
        self.error = ""
        if key == "clear":
            self.digits = ""
        elif key == "back":
            self.digits = self.digits[:-1]
        elif key.isdigit() and len(self.digits) < ID_LENGTH:
            self.digits += key

    def _capture_notice(self, action: Any) -> Any:
        notices: list = []
        previous = self.flow.on_notice
        self.flow.on_notice = notices.append
        try:
            result = action()
        finally:
            self.flow.on_notice = previous
        if notices:
            self.error = self.t(notices[0].msgid)
        return result

    def read_card(self) -> None:
        """Read the chip with the CAN from the typed number."""
        self.error = ""
        self.progress = 0
        self.flow.on_progress = self._progress_from_worker
        if self._capture_notice(lambda: self.flow.read_card(self.digits, self._read_done)):
            self.phase = "reading"

    def _progress_from_worker(self, step: str, index: int, total: int) -> None:
        Clock.schedule_once(lambda dt: setattr(self, "progress", index / max(total, 1)))

    def _read_done(self, ok: bool) -> None:
        candidate = self.session.data.chip_candidate
        if ok and candidate is not None:
            self.photo = photo_texture(candidate.photo) if candidate.photo else None
            self.holder_name = candidate.full_name or ""
            dob = candidate.date_of_birth
            self.born = dob.strftime("%d/%m/%Y") if dob else ""
            self.phase = "confirm"
        else:
            self.phase = "number"
            if not self.error and self.app.notice:
                self.error = self.app.notice

    def confirm(self) -> None:
        self.flow.confirm_chip_identity()

    def not_me(self) -> None:
        self.flow.reject_chip_identity()
        self._clear_candidate()
        self.phase = "number"

    def without_card(self) -> None:
        """Continue with the typed number only (the identity stays unchecked)."""
        self.error = ""
        self._capture_notice(lambda: self.flow.enter_id_number(self.digits))

    def scan(self, kind: str) -> None:
        """Read the ID number from the card's QR or MRZ with the camera, then the chip."""
        self.error = ""
        self.scan_kind = kind
        self.phase = "scanning"
        self.flow.scan_card(kind, self._scanned)

    def _scanned(self, id_number: str | None) -> None:
        if id_number is None:
            self.phase = "number"
            self.error = self.app.notice
            return
        self.digits = id_number
        self.read_card()

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
