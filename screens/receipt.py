"""Receipt and rating screens: the receipt on screen (code, appointment, QR and everything the
printed receipt says); then satisfaction.

When the printer fails, this screen is the citizen's only record: it shows what the printed
receipt shows, from the same data (``DossierJourney.receipt_data``), in the citizen's language.
"""

from __future__ import annotations

import io
from typing import Any

import qrcode
from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.infra.clock import to_vietnam_time
from kiosk.infra.text import format_date, format_datetime, format_fee
from kiosk.printing.receipt import collect_place, mask_id
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
    procedure = StringProperty("")
    applicant = StringProperty("")
    applicant_id = StringProperty("")
    documents = StringProperty("")
    received_at = StringProperty("")
    collect_at = StringProperty("")
    printed = BooleanProperty(True)
    provisional = BooleanProperty(False)
    qr = ObjectProperty(None, allownone=True)
    qr_payload = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show_back = False

    def refresh(self) -> None:
        result = self.session.data.result
        if result is None:
            return
        lang = self.app.lang
        receipt = self.flow.dossier.receipt_data(lang=lang)
        self.code = receipt.dossier_code
        self.appointment = format_date(receipt.appointment_date)
        self.fee = format_fee(receipt.fee_vnd, lang)
        self.procedure = receipt.procedure_name
        self.applicant = receipt.applicant_name
        self.applicant_id = mask_id(receipt.applicant_id)
        docs = receipt.documents
        self.documents = (
            "\n".join(f"{i}. {doc}" for i, doc in enumerate(docs, start=1))
            if docs
            else self.t("No documents")
        )
        self.received_at = format_datetime(to_vietnam_time(receipt.received_at))
        self.collect_at = collect_place(receipt.agency_name, self.app.settings.place)
        self.printed = bool(self.session.data.receipt_printed)
        self.provisional = bool(receipt.provisional)
        if self.qr is None or getattr(self, "_qr_code", None) != self.code:
            self.qr_payload = receipt.qr_payload()
            self.qr = qr_texture(self.qr_payload)
            self._qr_code = self.code
        self.ids.details_scroll.scroll_y = 1

    def done(self) -> None:
        self.flow.dossier.receipt_done()

    def reset(self) -> None:
        self.code = self.appointment = self.fee = ""
        self.procedure = self.applicant = self.applicant_id = self.documents = ""
        self.received_at = self.collect_at = ""
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
        self.flow.dossier.rate(level)
