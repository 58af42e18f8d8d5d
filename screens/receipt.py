"""Receipt and rating screens: the dossier code, appointment date and QR; then satisfaction."""

from __future__ import annotations

import io
from typing import Any

import qrcode
from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from screens.base import KioskScreen


def qr_texture(payload: str) -> Any:
    """A Kivy texture of ``payload`` as a QR code, for the citizen to photograph."""
    image = qrcode.make(payload, border=2).get_image().convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    buf.seek(0)
    texture = CoreImage(buf, ext="png").texture
    texture.mag_filter = "nearest"
    return texture


class ReceiptScreen(KioskScreen):
    code = StringProperty("")
    appointment = StringProperty("")
    fee = StringProperty("")
    printed = BooleanProperty(True)
    provisional = BooleanProperty(False)
    qr = ObjectProperty(None, allownone=True)
    qr_payload = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show_back = False

    def refresh(self) -> None:
        from screens.procedure import fee_text

        result = self.session.data.result
        if result is None:
            return
        self.code = result.dossier_code
        self.appointment = result.appointment_date.strftime("%d/%m/%Y")
        self.fee = fee_text(result.fee_vnd, self.app.lang, self.t("Free of charge"))
        self.printed = bool(self.session.data.receipt_printed)
        self.provisional = bool(result.provisional)
        if self.qr is None or getattr(self, "_qr_code", None) != self.code:
            self.qr_payload = self.flow.receipt_data().qr_payload()
            self.qr = qr_texture(self.qr_payload)
            self._qr_code = self.code

    def done(self) -> None:
        self.flow.receipt_done()

    def reset(self) -> None:
        self.code = self.appointment = self.fee = ""
        self.qr = None
        self.qr_payload = ""
        self._qr_code = None
        self.printed = True
        self.provisional = False


class RatingScreen(KioskScreen):
    """Five levels from "very satisfied" to "very dissatisfied" (Thông tư 01/2018/TT-VPCP)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show_back = False

    def rate(self, level: int | None) -> None:
        self.flow.rate(level)
