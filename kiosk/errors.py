"""The root of the kiosk's exception trees and the rule for what a citizen is told.

    KioskError                  anything the kiosk explains to a citizen or an operator
     ├── config.ConfigError     a config file or override is wrong (operator)
     ├── devices.DeviceError    a device is missing, busy or failed (see devices/base.py)
     ├── backoffice.BackOfficeError
     └── session.SessionError   an event that the current step does not accept

Each error a citizen may see carries ``msgid``: an English gettext message id whose Vietnamese
translation lives in assets/locale/vi/LC_MESSAGES/kiosk.po. The UI shows
``err.user_message(translate)``; the log gets ``str(err)`` (the technical detail). A citizen
cancelling is not an error: flows return a result, they do not raise.
"""

from __future__ import annotations

from collections.abc import Callable


class KioskError(Exception):
    """Base class: ``str(err)`` is for the log, ``user_message()`` for the screen."""

    msgid: str = "Something went wrong. Please ask the staff at the counter for help."

    def __init__(self, detail: str = "", *, msgid: str | None = None) -> None:
        super().__init__(detail or self.msgid)
        if msgid is not None:
            self.msgid = msgid

    def user_message(self, translate: Callable[[str], str] = lambda s: s) -> str:
        """The message a citizen sees, translated by ``translate`` (a gettext function)."""
        return translate(self.msgid)
