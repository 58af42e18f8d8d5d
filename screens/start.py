"""Welcome and consent screens: choose what to do, then agree to the use of personal data."""

from __future__ import annotations

from screens.base import KioskScreen

# The welcome names the place as the header does: by ``[kiosk] agency_name`` of the config,
# never by a wording of its own.
MSG_WELCOME_TO = "Welcome to {agency}"
MSG_WELCOME = "Welcome to the one-stop-shop"  # a config with no agency name


class WelcomeScreen(KioskScreen):
    """The idle screen: submit a dossier, take a queue ticket, or look up a dossier."""

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.show_back = False
        self.show_cancel = False

    def welcome_title(self, lang: str) -> str:
        """The welcome line: "Welcome to" the agency the header names, in ``lang``."""
        agency = str(getattr(self.app.settings, "agency_name", "") or "").strip()
        if not agency:
            return self.app.t(MSG_WELCOME, lang)
        return self.app.t(MSG_WELCOME_TO, lang).format(agency=agency)

    def start(self, journey: str) -> None:
        from kiosk.session.state import Journey

        self.flow.start(Journey(journey))


class ConsentScreen(KioskScreen):
    """Decree 13/2023/NĐ-CP: say what is collected and why, and ask before reading anything."""

    def accept(self) -> None:
        self.session.accept_consent()

    def decline(self) -> None:
        self.session.decline_consent()
