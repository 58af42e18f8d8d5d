"""Identify screen: the 12-digit ID number typed on an on-screen keypad.

Issue 3 adds the chip card (PACE/BAC) and issue 4 the camera reading the card's QR or MRZ; both
fill the same ``Identity`` through the flow.
"""

from __future__ import annotations

from kivy.properties import StringProperty

from screens.base import KioskScreen

ID_LENGTH = 12


def group_digits(digits: str) -> str:
    """001090012345 → '001 090 012 345', easier to check against the card."""
    return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))


class IdentifyScreen(KioskScreen):
    digits = StringProperty("")
    error = StringProperty("")

    def on_key(self, key: str) -> None:
        self.session.touch()
        self.error = ""
        if key == "clear":
            self.digits = ""
        elif key == "back":
            self.digits = self.digits[:-1]
        elif key.isdigit() and len(self.digits) < ID_LENGTH:
            self.digits += key

    def submit(self) -> None:
        notices: list = []
        previous = self.flow.on_notice
        self.flow.on_notice = notices.append
        try:
            accepted = self.flow.enter_id_number(self.digits)
        finally:
            self.flow.on_notice = previous
        if not accepted and notices:
            self.error = self.t(notices[0].msgid)

    def reset(self) -> None:
        self.digits = ""
        self.error = ""
