"""Queue screens: choose a service and, if it applies, a priority; then the ticket.

Priority (elderly, pregnant, disability, young child, merit) is declared with one tap and
confirmed by staff at the counter; issue 7 adds the calling policy and the age read from the chip.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from screens.base import KioskScreen
from screens.widgets import KButton


class QueueScreen(KioskScreen):
    service = StringProperty("")
    priority = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._service_buttons: dict[str, KButton] = {}
        self._priority_buttons: dict[str, KButton] = {}

    def refresh(self) -> None:
        from kiosk.tickets import PRIORITY_CLASSES

        lang = self.app.lang
        for service in self.flow.services_for_queue():
            button = self._service_buttons.get(service.code)
            if button is None:
                button = KButton()
                button.bind(on_release=lambda _b, code=service.code: self.choose_service(code))
                self._service_buttons[service.code] = button
                self.ids.services.add_widget(button)
            button.text = service.name_en if lang == "en" else service.name_vi
            button.selected = service.code == self.service
        for klass in PRIORITY_CLASSES:
            code = klass.code
            button = self._priority_buttons.get(code)
            if button is None:
                button = KButton()
                button.bind(on_release=lambda _b, c=code: self.choose_priority(c))
                self._priority_buttons[code] = button
                self.ids.priorities.add_widget(button)
            button.text = klass.label(lang)
            button.selected = code == self.priority

    def choose_service(self, code: str) -> None:
        self.session.touch()
        self.service = code
        self.refresh()

    def choose_priority(self, code: str) -> None:
        self.session.touch()
        self.priority = "" if self.priority == code else code
        self.refresh()

    def issue(self) -> None:
        if self.service:
            self.flow.issue_ticket(self.service, self.priority or None)

    def reset(self) -> None:
        self.service = ""
        self.priority = ""
        for button in [*self._service_buttons.values(), *self._priority_buttons.values()]:
            button.selected = False


class TicketScreen(KioskScreen):
    """The ticket number, big; its own "Done" ends the session."""

    number = StringProperty("")
    service_name = StringProperty("")
    ahead = StringProperty("")
    priority_label = StringProperty("")

    def refresh(self) -> None:
        from kiosk.tickets import find_priority_class

        ticket = self.session.data.ticket
        if ticket is None:
            return
        lang = self.app.lang
        self.number = ticket.number
        service = next(
            (s for s in self.flow.services_for_queue() if s.code == ticket.service_code), None
        )
        if service is not None:
            self.service_name = service.name_en if lang == "en" else service.name_vi
        self.ahead = self.t("People ahead of you: {n}").format(n=ticket.people_ahead)
        self.priority_label = ""
        if ticket.priority_class:
            label = find_priority_class(ticket.priority_class).label(lang)
            self.priority_label = self.t("Priority: {label}").format(label=label)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show_cancel = False

    def done(self) -> None:
        self.flow.finish()

    def reset(self) -> None:
        self.number = self.service_name = self.ahead = self.priority_label = ""
