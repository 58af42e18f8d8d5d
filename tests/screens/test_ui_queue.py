"""Offscreen UI tests of the queue screens: the waiting figures next to each service, the
printer's notice before a number is taken, and the ticket screen's wait and not-printed line.

The kiosk runs with its real runner (a worker thread): the figures and the printer's state come
back to the UI thread, as on the kiosk."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from support.ui_harness import running_kiosk, screen_text

from kiosk.i18n import translate
from kiosk.printing.printer_watch import MSG_QUEUE_PRINTER_OUT, MSG_TICKET_NOT_PRINTED
from kiosk.session.state import Step
from screens.queue import MSG_ESTIMATED_NO_WAIT, MSG_ESTIMATED_WAIT, load_text

SERVICE = "IN"  # Xuất bản, In và Phát hành: counters 1 and 2 (config/queue.toml)


def vi(msgid: str) -> str:
    return translate(msgid, "vi")


def open_queue_screen(pilot: Any, flow: Any) -> Any:
    pilot.tap("start_queue")
    assert flow.session.step is Step.QUEUE
    screen = pilot.screen()
    pilot.wait_for(lambda: bool(screen._load))  # the figures came back from the runner
    return screen


def expected_wait(ticket: Any) -> str:
    if ticket.estimated_wait == 0:
        return vi(MSG_ESTIMATED_NO_WAIT)
    return vi(MSG_ESTIMATED_WAIT).format(n=ticket.estimated_wait)


def test_figures_next_to_each_service_follow_the_priority_chosen(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        tickets = flow.services.tickets
        for _ in range(5):
            tickets.issue(SERVICE)
        screen = open_queue_screen(pilot, flow)
        row = screen._rows[SERVICE]
        normal = tickets.estimate(SERVICE)[1]
        assert normal is not None and normal > 0
        assert row.ids.info.text == vi("Waiting: {n} · about {m} min").format(n=5, m=normal)
        for service in flow.queue.services_for_queue():  # every service has its figures
            info = screen._rows[service.code].ids.info.text
            assert info.startswith(vi("Waiting: {n} · about {m} min").split("{n}")[0])

        pilot.tap(pilot.find_text("Người cao tuổi"))
        load = screen._load[SERVICE]
        assert row.ids.info.text == load_text(app.t, load, priority=True)
        assert load.priority_wait_min is not None and load.priority_wait_min < normal

        app.set_lang("en")
        pilot.pump(2)
        assert row.ids.info.text.startswith("Waiting: 5 · ")
        service = next(s for s in flow.queue.services_for_queue() if s.code == SERVICE)
        assert row.ids.button.text == service.name_en


def test_printer_out_of_paper_is_told_before_the_number_and_the_ticket_says_so(
    kiosk_config: Any,
) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        printer = flow.services.virtual_printer
        printer.set_paper("out")
        for _ in range(2):  # two citizens, one after the other
            screen = open_queue_screen(pilot, flow)
            notice = pilot.widget("printer_notice")
            pilot.wait_for(lambda n=notice: n.shown)  # before any tap on "Get my number"
            assert notice.text == vi(MSG_QUEUE_PRINTER_OUT)
            assert notice.opacity == 1

            pilot.tap(screen._rows[SERVICE].ids.button)
            pilot.tap("issue")  # the button still works
            pilot.wait_for(lambda: flow.session.step is Step.TICKET)
            ticket = flow.session.data.ticket
            shown = screen_text(pilot)
            assert ticket.number in shown
            line = pilot.widget("not_printed")
            assert line.shown and line.text == vi(MSG_TICKET_NOT_PRINTED)
            assert pilot.widget("number").font_base == 200  # the number larger
            assert expected_wait(ticket) in shown
            pilot.tap("done")
            assert flow.session.step is Step.WELCOME
        assert printer.receipts == []
        alerts = flow.services.alerts.recent()
        assert len(alerts) == 1, alerts  # once, not once per citizen
        assert "paper out" in alerts[0]["message"]


def test_printed_ticket_shows_the_estimated_wait_and_no_printer_line(kiosk_config: Any) -> None:
    with running_kiosk(kiosk_config) as (pilot, app, flow):
        printer = flow.services.virtual_printer
        printer.set_paper("near_end")  # still prints: the citizen is told nothing
        for _ in range(4):
            flow.services.tickets.issue(SERVICE)
        screen = open_queue_screen(pilot, flow)
        pilot.wait_for(lambda: len(flow.services.alerts.recent()) == 1)
        pilot.pump(3)
        assert not pilot.widget("printer_notice").shown and screen.printer_notice == ""
        pilot.tap(screen._rows[SERVICE].ids.button)
        pilot.tap("issue")
        pilot.wait_for(lambda: flow.session.step is Step.TICKET)
        assert len(printer.wait_for_receipts(1)) == 1
        ticket = flow.session.data.ticket
        assert ticket.estimated_wait is not None and ticket.estimated_wait > 0
        wait = pilot.widget("wait")
        assert wait.shown and wait.text == vi(MSG_ESTIMATED_WAIT).format(n=ticket.estimated_wait)
        assert not pilot.widget("not_printed").shown
        assert pilot.widget("number").font_base == 140

        # a ticket without an estimate: the line is hidden, not "about None min"
        flow.session.data.ticket = replace(ticket, estimated_wait=None)
        pilot.screen().refresh()
        pilot.pump(2)
        assert not wait.shown and "None" not in screen_text(pilot)
        alerts = flow.services.alerts.recent()
        assert len(alerts) == 1 and "near its end" in alerts[0]["message"]
