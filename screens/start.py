"""Welcome and consent screens: choose what to do, then agree to the use of personal data."""

from __future__ import annotations

from screens.base import KioskScreen


class WelcomeScreen(KioskScreen):
    """The idle screen: submit a dossier, take a queue ticket, or look up a dossier."""

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.show_back = False
        self.show_cancel = False

    def start(self, journey: str) -> None:
        from kiosk.session import Journey

        self.flow.start(Journey(journey))


class ConsentScreen(KioskScreen):
    """Decree 13/2023/NĐ-CP: say what is collected and why, and ask before reading anything."""

    def accept(self) -> None:
        self.session.accept_consent()

    def decline(self) -> None:
        self.session.decline_consent()
