"""Procedure screen: the catalog's procedures (TTHC) as large buttons with time and fee."""

from __future__ import annotations

from typing import Any

from kiosk.infra.text import format_fee
from screens.base import KioskScreen
from screens.widgets import KButton


class ProcedureScreen(KioskScreen):
    """One button per procedure; built once (the catalog does not change while running)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._buttons: dict[str, KButton] = {}

    def refresh(self) -> None:
        box = self.ids.list
        lang = self.app.lang
        for proc in self.flow.dossier.procedures():
            button = self._buttons.get(proc.code)
            if button is None:
                button = KButton(kind="secondary")
                button.bind(on_release=lambda _b, code=proc.code: self.choose(code))
                self._buttons[proc.code] = button
                box.add_widget(button)
            days = self.t("{n} working days").format(n=proc.processing_days)
            fee = format_fee(proc.fee_vnd, lang)
            button.text = f"{proc.title(lang)}\n{proc.field_title(lang)} · {days} · {fee}"
            button.selected = proc.code == self.session.data.procedure_code

    def choose(self, code: str) -> None:
        self.flow.dossier.choose_procedure(code)
