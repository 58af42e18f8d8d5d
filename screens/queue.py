"""Queue screens: choose a service and, if it applies, a priority; then the ticket.

Priority (elderly, pregnant, disability, young child, merit) is declared with one tap and
confirmed by staff at the counter. Next to each service the queue screen shows how many wait and
the estimated wait of a number taken now (for the priority chosen), refreshed while it is shown;
above "Get my number" it says when the printer cannot print, before the citizen takes a number.
Both come from the flow's runner, never from the UI thread: the ticket store may wait for
another process's lock, and a silent printer takes its timeout.

The ticket screen shows the number, the people ahead, the estimated wait and, when the ticket
was not printed, says so and shows the number larger.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from screens.base import KioskScreen
from screens.widgets import KButton

MSG_LOAD_WAIT = "Waiting: {n} · about {m} min"
MSG_LOAD_NO_WAIT = "Waiting: {n} · a counter is free now"
MSG_LOAD_NO_COUNTER = "Waiting: {n} · no counter open now"
MSG_ESTIMATED_WAIT = "Estimated wait: about {n} min"
MSG_ESTIMATED_NO_WAIT = "Estimated wait: you will be called shortly"

REFRESH_S = 15.0  # how often the waiting figures are read again while the screen is shown


class ServiceRow(BoxLayout):
    """One service: its button and, next to it, the waiting count and the estimated wait."""

    __events__ = ("on_choose",)
    name = StringProperty("")
    info = StringProperty("")
    selected = BooleanProperty(False)

    def on_choose(self) -> None:
        pass


def load_text(t: Any, load: Any, priority: bool) -> str:
    """The figures shown next to a service (``t`` translates a msgid)."""
    minutes = load.priority_wait_min if priority else load.wait_min
    if minutes is None:
        return t(MSG_LOAD_NO_COUNTER).format(n=load.waiting)
    if minutes == 0:
        return t(MSG_LOAD_NO_WAIT).format(n=load.waiting)
    return t(MSG_LOAD_WAIT).format(n=load.waiting, m=minutes)


class QueueScreen(KioskScreen):
    service = StringProperty("")
    priority = StringProperty("")
    printer_notice = StringProperty("")  # a msgid from the flow; "" when tickets will print

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: dict[str, ServiceRow] = {}
        self._priority_buttons: dict[str, KButton] = {}
        self._no_priority: KButton | None = None
        self._load: dict[str, Any] = {}
        self._visit = 0  # answers for an earlier visit of the screen are dropped
        self._timer: Any = None

    # ------------------------------------------------------------------ life
    def on_pre_enter(self, *args: Any) -> None:
        self._visit += 1
        self._load = {}
        self.printer_notice = ""
        super().on_pre_enter(*args)
        self._ask_load()
        visit = self._visit
        self.flow.queue.check_printer(lambda msgid: self._printer_known(visit, msgid))
        self._stop_timer()
        self._timer = Clock.schedule_interval(lambda dt: self._ask_load(), REFRESH_S)

    def on_leave(self, *args: Any) -> None:
        self._visit += 1
        self._stop_timer()

    def shutdown(self) -> None:
        self.on_leave()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _ask_load(self) -> None:
        visit = self._visit
        self.flow.queue.refresh_load(lambda load: self._load_known(visit, load))

    def _load_known(self, visit: int, load: dict[str, Any]) -> None:
        if visit == self._visit:
            self._load = load
            self.refresh()

    def _printer_known(self, visit: int, msgid: str | None) -> None:
        if visit == self._visit:
            self.printer_notice = msgid or ""

    # ------------------------------------------------------------------ showing
    def refresh(self) -> None:
        from kiosk.tickets.store import PRIORITY_CLASSES

        lang = self.app.lang
        for service in self.flow.queue.services_for_queue():
            row = self._rows.get(service.code)
            if row is None:
                row = ServiceRow()
                row.bind(on_choose=lambda _r, code=service.code: self.choose_service(code))
                self._rows[service.code] = row
                self.ids.services.add_widget(row)
            row.name = service.name_en if lang == "en" else service.name_vi
            row.selected = service.code == self.service
            load = self._load.get(service.code)
            row.info = load_text(self.t, load, bool(self.priority)) if load else ""
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
        # the last choice says "none of these": most citizens are not a priority case
        if self._no_priority is None:
            self._no_priority = KButton()
            self._no_priority.bind(on_release=lambda _b: self.choose_priority(""))
            self.ids.priorities.add_widget(self._no_priority)
        self._no_priority.text = self.t("Not in a priority group")
        self._no_priority.selected = not self.priority

    def choose_service(self, code: str) -> None:
        self.session.touch()
        self.service = code
        self.refresh()

    def choose_priority(self, code: str) -> None:
        """Choose a priority group ("" for none); tapping the chosen group again takes it back."""
        self.session.touch()
        self.priority = "" if self.priority == code else code
        self.refresh()

    def issue(self) -> None:
        if self.service:
            self.flow.queue.issue_ticket(self.service, self.priority or None)

    def reset(self) -> None:
        self.service = ""
        self.priority = ""
        self.printer_notice = ""
        self._load = {}
        for row in self._rows.values():
            row.selected = False
            row.info = ""
        for button in self._priority_buttons.values():
            button.selected = False
        if self._no_priority is not None:
            self._no_priority.selected = True


class TicketScreen(KioskScreen):
    """The ticket number, big (bigger when it was not printed); its own "Done" ends the
    session."""

    number = StringProperty("")
    service_name = StringProperty("")
    ahead = StringProperty("")
    wait = StringProperty("")
    priority_label = StringProperty("")
    not_printed = StringProperty("")  # what to do when the ticket was not printed; "" if it was

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show_cancel = False

    def refresh(self) -> None:
        from kiosk.tickets.store import find_priority_class

        ticket = self.session.data.ticket
        if ticket is None:
            return
        lang = self.app.lang
        self.number = ticket.number
        service = next(
            (s for s in self.flow.queue.services_for_queue() if s.code == ticket.service_code), None
        )
        if service is not None:
            self.service_name = service.name_en if lang == "en" else service.name_vi
        self.ahead = self.t("People ahead of you: {n}").format(n=ticket.people_ahead)
        minutes = ticket.estimated_wait
        if minutes is None:
            self.wait = ""
        elif minutes == 0:
            self.wait = self.t(MSG_ESTIMATED_NO_WAIT)
        else:
            self.wait = self.t(MSG_ESTIMATED_WAIT).format(n=minutes)
        self.priority_label = ""
        if ticket.priority_class:
            label = find_priority_class(ticket.priority_class).label(lang)
            self.priority_label = self.t("Priority: {label}").format(label=label)
        msgid = self.flow.queue.ticket_not_printed()
        self.not_printed = self.t(msgid) if msgid else ""

    def done(self) -> None:
        self.flow.finish()

    def reset(self) -> None:
        self.number = self.service_name = self.ahead = self.wait = self.priority_label = ""
        self.not_printed = ""
