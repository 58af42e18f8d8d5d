"""Look-up screens: scan the receipt's QR with the camera or type the dossier code (or the
provisional reference of a receipt printed while the back office was away) on the kiosk's
keyboard, which opens on its dossier-code layout (digits, '.', '-' first; "ABC" for the agency
part such as H21); see the status, its history and the next step."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.infra.clock import to_vietnam_time
from kiosk.infra.text import format_datetime
from screens.base import KioskScreen
from screens.keyboard import VietnameseKeyboard  # noqa: F401  (used by lookup.kv)

STATE_MSGIDS = {
    "received": "Received",
    "in_progress": "Being processed",
    "needs_more": "More papers needed",
    "result_ready": "Result ready",
    "returned": "Returned",
}


class LookupScreen(KioskScreen):
    error = StringProperty("")

    def search(self) -> None:
        self.error = ""
        self.flow.lookup.lookup(self.ids.code.text)

    def scan(self) -> None:
        self.error = ""
        self.flow.lookup.scan_receipt()

    def show_notice(self, notice: Any) -> bool:
        """A code that is wrong, unknown or not sent yet is said beside the code, whenever the
        back office's answer arrives."""
        if not notice.error:
            return False
        self.error = self.t(notice.msgid)
        return True

    def refresh(self) -> None:
        # Each visit opens the keyboard on the code's keypad (digits, '.', '-'), whichever
        # layer the last citizen left it on.
        keyboard = self.ids.keyboard
        keyboard.layer = keyboard.first_layer()

    def reset(self) -> None:
        self.error = ""
        self.ids.code.text = ""
        self.refresh()


class LookupResultScreen(KioskScreen):
    code = StringProperty("")
    state = StringProperty("")
    history = StringProperty("")
    next_step = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show_cancel = False  # its own "Done" ends the session

    def refresh(self) -> None:
        status: Any = self.session.data.lookup_status
        if status is None:
            return
        lang = self.app.lang
        self.code = status.code
        self.state = self.t(STATE_MSGIDS.get(status.status.value, status.status.value))
        lines = []
        for event in status.history:
            when = format_datetime(to_vietnam_time(event.at))
            label = self.t(STATE_MSGIDS.get(event.state.value, event.state.value))
            lines.append(f"{when} · {label}" + (f" · {event.note}" if event.note else ""))
        self.history = "\n".join(lines)
        self.next_step = status.next_step_en if lang == "en" else status.next_step_vi

    def done(self) -> None:
        self.flow.finish()

    def reset(self) -> None:
        self.code = self.state = self.history = self.next_step = ""
