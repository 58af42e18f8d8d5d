"""Maintenance mode's screens and the closed kiosk's screen (not steps of a citizen's journey).

    StaffSignInScreen   the staff chooser, then the PIN pad (masked); refusals say why and how
                        long to wait; "Back" returns to citizens
    MaintenanceScreen   four pages a technician reads without a manual: devices (health, paper,
                        driver; print a test page, probe a card, look through the camera with
                        its sharpness and the page outline), the outbox (waiting, oldest,
                        held back with the reason; send now, send one again), the queue
                        (waiting per service, counters), the kiosk (reload the procedures,
                        close with a message, reopen, leave)
    OutOfServiceScreen  what citizens read on a closed kiosk, in Vietnamese and English

The work is ``kiosk.maintenance`` (``MaintenanceMode`` and its ``MaintenanceConsole``, each
action audited); slow tests run on the flow's runner and come back on the Kivy thread.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.image import Image

from kiosk.maintenance.reports import CameraCheck, DeviceTest
from kiosk.staff.desk import Refusal, SignInRefused
from kiosk.staff.service_state import PRESET_MESSAGES, typed_message
from screens import theme
from screens.base import KioskScreen
from screens.documents import outline_points, texture_of
from screens.widgets import KButton, KInput, KLabel, discard_children

log = logging.getLogger(__name__)

PIN_MAX = 12
ID_DIGITS = 12  # a CCCD's ID number: its last 6 digits are the chip's CAN
DEVICE_MSGIDS = {
    "card_reader": "Card reader",
    "camera": "Camera",
    "printer": "Receipt printer",
    "backoffice": "Connection to the back office",
}
PAPER_MSGIDS = {
    "ok": "Paper: enough",
    "near_end": "Paper: running out",
    "out": "Paper: out",
    "unknown": "Paper: unknown",
}
STEP_MSGIDS = {
    "print": "Print",
    "status": "Printer's answer",
    "card": "Card on the reader",
    "card_access": "Chip answers (EF.CardAccess)",
    "frame": "Camera frame",
}
REFUSAL_MSGIDS = {
    Refusal.WRONG_PIN: "Wrong PIN.",
    Refusal.LOCKED: "Too many wrong PINs. Try again in {n} seconds.",
    Refusal.UNKNOWN_CARD: "This card belongs to no staff account.",
    Refusal.UNAVAILABLE: "Staff sign-in is unavailable: the accounts file is damaged.",
}
ROLE_MSGIDS = {"technician": "technician", "supervisor": "supervisor"}
PAGES = ("devices", "outbox", "queue", "kiosk")


class StaffScreen(KioskScreen):
    """A screen of maintenance mode: no step bar, no back or cancel in the footer."""

    show_back = BooleanProperty(False)
    show_cancel = BooleanProperty(False)

    @property
    def mode(self) -> Any:
        return self.app.maintenance


class StaffSignInScreen(StaffScreen):
    """Choose your name, then type your own PIN; or type your card's ID number and lay the
    card on the reader (its chip authenticated: a staff card opens a locked PIN pad)."""

    chosen_id = StringProperty("")
    chosen_name = StringProperty("")
    by_card = BooleanProperty(False)
    pin_length = NumericProperty(0)
    shown_digits = StringProperty("")  # the ID number being typed (card sign-in), never a PIN
    message = StringProperty("")
    reading = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pin = ""

    def refresh(self) -> None:
        box = self.ids.accounts
        discard_children(box)
        accounts = self.mode.accounts() if self.mode is not None else []
        for account in accounts:
            role = self.t(ROLE_MSGIDS.get(account.role.value, account.role.value))
            button = KButton(text=f"{account.full_name} ({account.id}, {role})")
            button.bind(on_release=lambda _b, a=account: self.choose(a.id, a.full_name))
            box.add_widget(button)
        if not accounts:
            box.add_widget(KLabel(text=self.t("No staff account on this kiosk.")))

    def choose(self, account_id: str, full_name: str) -> None:
        self.chosen_id, self.chosen_name = account_id, full_name
        self.by_card = False
        self._clear_pin()
        self.message = ""

    def choose_card(self) -> None:
        self.choose("", "")
        self.by_card = True

    def key(self, key: str) -> None:
        limit = ID_DIGITS if self.by_card else PIN_MAX
        if key == "clear":
            self._clear_pin()
        elif key == "back":
            self._pin = self._pin[:-1]
        elif key.isdigit() and len(self._pin) < limit:
            self._pin += key
        self.pin_length = len(self._pin)
        self.shown_digits = self._pin if self.by_card else ""

    def submit(self) -> None:
        if self.by_card:
            self._read_card()
            return
        pin, self._pin = self._pin, ""
        self.pin_length = 0
        if not self.chosen_id or not pin:
            return
        self._signed_in_or_refused(self.mode.sign_in(self.chosen_id, pin))

    def _read_card(self) -> None:
        """The staff member's card read on the worker; signed in back on this thread."""
        digits = self._pin
        if len(digits) != ID_DIGITS or self.reading:
            self.message = self.t("Type the 12 digits of your ID number.")
            return
        self._clear_pin()
        self.reading = True
        self.message = self.t("Lay your card on the reader…")

        def done(result: Any) -> None:
            self.reading = False
            if isinstance(result, SignInRefused):
                self._signed_in_or_refused(result)
            else:
                self._signed_in_or_refused(self.mode.sign_in_with_card(result))

        def failed(exc: BaseException) -> None:
            self.reading = False
            log.info("staff card not read: %s", exc)
            self.message = self.t(getattr(exc, "msgid", "") or "The card could not be read.")

        self.flow.runner.run(lambda: self.mode.read_staff_card(digits), done, failed)

    def _signed_in_or_refused(self, result: Any) -> None:
        if isinstance(result, SignInRefused):
            self.message = self.t(REFUSAL_MSGIDS[result.reason]).format(n=result.wait_whole_s)
            if result.reason is Refusal.WRONG_PIN and result.wait_s > 0:
                message = REFUSAL_MSGIDS[Refusal.LOCKED]
                self.message = self.t(message).format(n=result.wait_whole_s)
            return
        self.app.show_maintenance()

    def other_account(self) -> None:
        self.choose("", "")

    def _clear_pin(self) -> None:
        self._pin = ""
        self.pin_length = 0
        self.shown_digits = ""

    def reset(self) -> None:
        self.choose("", "")


class MaintenanceScreen(StaffScreen):
    """The four pages of maintenance mode."""

    page = StringProperty("devices")
    staff_line = StringProperty("")
    seconds_left = NumericProperty(0)
    result_lines = ListProperty([])
    busy = BooleanProperty(False)
    typing = BooleanProperty(False)  # the kiosk page: a closing message being typed

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._camera: CameraCheck | None = None
        self._result_ok = True
        self._reports: list[Any] | None = None  # the devices' last answers
        self._loading = False
        self._message_input: KInput | None = None  # kept across redraws, with the keyboard
        self._keyboard: Any = None

    @property
    def console(self) -> Any:
        return self.mode.console if self.mode is not None else None

    def show_page(self, page: str) -> None:
        self.page = page
        self.result_lines = []
        self._camera = None
        self._reports = None  # asked again each time the page opens
        self.refresh()

    def refresh(self) -> None:
        console = self.console
        if console is None:
            return
        session = self.mode.session
        role = self.t(ROLE_MSGIDS.get(session.role.value, session.role.value))
        self.staff_line = self.t("Signed in: {name} ({role})").format(
            name=session.full_name, role=role
        )
        box = self.ids.content
        for kept in (self._message_input, self._keyboard):  # built once: not discarded
            if kept is not None and kept.parent is not None:
                kept.parent.remove_widget(kept)
        discard_children(box)
        getattr(self, f"_show_{self.page}")(box, console)

    # ------------------------------------------------------------------ devices
    def _show_devices(self, box: Any, console: Any) -> None:
        for msgid, action in (
            ("Print a test page", self.test_printer),
            ("Test the card reader", self.test_card),
            ("Test the camera", self.test_camera),
        ):
            button = KButton(text=self.t(msgid), disabled=self.busy)
            button.bind(on_release=lambda _b, run=action: run())
            box.add_widget(button)
        if self.result_lines:
            box.add_widget(_card("\n".join(self.result_lines), ok=self._result_ok))
        if self._camera is not None:
            box.add_widget(CameraPreview(check=self._camera))
        if self._reports is None:
            self._load_reports(console)
        if self._reports is None:  # still asking the devices (on the worker)
            box.add_widget(KLabel(text=self.t("Checking the devices…")))
            return
        for report in self._reports:
            state = self.t("Working") if report.up else self.t("Not working")
            lines = [f"{self.t(DEVICE_MSGIDS[report.name])}: {state}"]
            if report.paper is not None:
                lines.append(self.t(PAPER_MSGIDS.get(report.paper, PAPER_MSGIDS["unknown"])))
            lines.append(f"{self.t('Device')}: {report.driver}")
            lines.append(report.detail)
            box.add_widget(_card("\n".join(lines), ok=report.up))

    def _load_reports(self, console: Any) -> None:
        """Ask the devices how they are on the worker (a back office out of reach takes
        seconds to say so); the page is drawn again with the answers."""
        if self._loading:
            return
        self._loading = True

        def done(reports: Any) -> None:
            self._loading = False
            self._reports = reports
            if self.page == "devices":  # staff may have moved to another page meanwhile
                Clock.schedule_once(lambda dt: self.refresh() if self.page == "devices" else None)

        def failed(exc: BaseException) -> None:
            self._loading = False
            log.error("device reports failed: %s", exc)

        self.flow.runner.run(console.devices, done, failed)

    def test_printer(self) -> None:
        self._in_background(lambda: self.console.print_test_page(self.app.lang))

    def test_card(self) -> None:
        self.result_lines = [self.t("Place a card on the reader…")]
        self._result_ok = True
        self.refresh()
        self._in_background(lambda: self.console.probe_card(timeout_s=10))

    def test_camera(self) -> None:
        self._in_background(self.console.check_camera)

    def _in_background(self, work: Any) -> None:
        if self.busy:
            return
        self.busy = True
        self.mode.touch()
        self.refresh()  # the test buttons show disabled until the result comes

        def done(result: Any) -> None:
            self.busy = False
            self._show_result(result)

        def failed(exc: BaseException) -> None:
            self.busy = False
            log.error("maintenance test failed: %s", exc)
            self.result_lines = [self.t("The test could not run: {error}").format(error=exc)]
            self.refresh()

        self.flow.runner.run(work, done, failed)

    def _show_result(self, result: Any) -> None:
        self._camera = None
        self._reports = None  # a test may have changed what a device says (paper, card)
        if isinstance(result, DeviceTest):
            self._result_ok = result.ok
            verdict = self.t("Test passed") if result.ok else self.t("Test failed")
            lines = [f"{verdict} ({result.total_ms:.0f} ms)"]
            for step in result.steps:
                mark = self.t("passed") if step.ok else self.t("failed")
                name = self.t(STEP_MSGIDS.get(step.step, step.step))
                lines.append(f"{name}: {mark}, {step.ms:.0f} ms. {step.detail}".rstrip())
            self.result_lines = lines
        elif isinstance(result, CameraCheck):
            if result.sharpness is None:
                figure = self.t("No page found: put a sheet of paper under the camera.")
            else:
                verdict = self.t("sharp enough") if result.sharp_enough else self.t("blurred")
                figure = self.t("Sharpness {value} ({verdict})").format(
                    value=f"{result.sharpness:.2f}", verdict=verdict
                )
            self.result_lines = [figure]
            self._result_ok = result.sharp_enough
            self._camera = result
        self.refresh()

    # ------------------------------------------------------------------ outbox and queue
    def _show_outbox(self, box: Any, console: Any) -> None:
        view = console.outbox()
        oldest = view.oldest_pending_age_s
        lines = [
            self.t("Waiting to be sent: {n}").format(n=view.pending),
            self.t("Held back: {n}").format(n=view.parked),
            self.t("Sent (answers kept): {n}").format(n=view.delivered),
        ]
        if oldest:
            lines.append(self.t("Oldest waiting: {m} minutes").format(m=int(oldest // 60)))
        box.add_widget(_card("\n".join(lines), ok=view.parked == 0 and (oldest or 0) < 900))
        send = KButton(text=self.t("Send now"), disabled=view.pending == 0)
        send.bind(on_release=lambda _b: self._act(console.send_now))
        box.add_widget(send)
        for parked in view.parked_dossiers:
            text = self.t("{code} · procedure {procedure} · {attempts} tries · {reason}").format(
                code=parked.reference,
                procedure=parked.procedure_code,
                attempts=parked.attempts,
                reason=parked.reason,
            )
            box.add_widget(_card(text, ok=False))
            again = KButton(text=self.t("Send this one again"))
            again.bind(on_release=lambda _b, r=parked.reference: self._act(console.send_again, r))
            box.add_widget(again)
        for name in view.quarantined:
            box.add_widget(_card(self.t("Damaged store set aside: {name}").format(name=name)))

    def _show_queue(self, box: Any, console: Any) -> None:
        view = console.queue()
        lines = [
            f"{view.service_names.get(code, code)}: {count}"
            for code, count in sorted(view.waiting.items())
        ]
        title = self.t("Waiting now")
        box.add_widget(_card("\n".join([title, *lines]) if lines else f"{title}: 0"))
        for counter in view.counters:
            state = self.t("open") if counter.open else self.t("closed")
            serving = (
                self.t("serving {number}").format(number=counter.serving) if counter.serving else ""
            )
            box.add_widget(_card(f"{counter.name}: {state} {serving}".rstrip()))

    # ------------------------------------------------------------------ the kiosk
    def _show_kiosk(self, box: Any, console: Any) -> None:
        reload = KButton(text=self.t("Reload the procedures"))
        reload.bind(on_release=lambda _b: self._act(console.reload_catalog))
        box.add_widget(reload)
        message = self.mode.state.message  # read once: a remote command may change it
        if message is not None:
            closed = f"{self.t('Out of service')}:\n{message.vi}\n{message.en}"
            box.add_widget(_card(closed, ok=False))
            reopen = KButton(text=self.t("Back in service"), kind="primary")
            reopen.bind(on_release=lambda _b: self._act(console.reopen_kiosk))
            box.add_widget(reopen)
        elif self.typing:
            self._show_typing(box)
        else:
            box.add_widget(KLabel(text=self.t("Close the kiosk to citizens with this message:")))
            for preset in PRESET_MESSAGES.values():
                text = preset.vi if self.app.lang == "vi" else preset.en
                close = KButton(text=text)
                close.bind(on_release=lambda _b, m=preset: self._act(console.close_kiosk, m))
                box.add_widget(close)
            other = KButton(text=self.t("Type another message"))
            other.bind(on_release=lambda _b: self.start_typing())
            box.add_widget(other)
        export = KButton(text=self.t("Export the logs to a USB stick"))
        export.bind(on_release=lambda _b: self._act(console.export_logs))
        box.add_widget(export)
        restart = KButton(text=self.t("Restart the kiosk software"))
        restart.bind(on_release=lambda _b: self.restart())
        box.add_widget(restart)
        for line in self.result_lines:
            box.add_widget(KLabel(text=line))

    def start_typing(self) -> None:
        self.typing = True
        self.result_lines = []
        self.refresh()

    def stop_typing(self) -> None:
        self.typing = False
        self.refresh()

    def _show_typing(self, box: Any) -> None:
        """A message of staff's own words (Vietnamese; the English line is the general one),
        typed on the kiosk's keyboard."""
        from screens.keyboard import VietnameseKeyboard

        if self._message_input is None:
            self._message_input = KInput(
                multiline=False, keyboard_mode="managed", size_hint_y=None, height=96
            )
        if self._keyboard is None:
            self._keyboard = VietnameseKeyboard(target=self._message_input)
        box.add_widget(KLabel(text=self.t("The message citizens will read, in Vietnamese:")))
        self._message_input.font_size = theme.ROLE_SIZES["body"] * self.app.font_scale
        box.add_widget(self._message_input)
        box.add_widget(self._keyboard)
        close = KButton(text=self.t("Close the kiosk with this message"), kind="primary")
        close.bind(on_release=lambda _b: self.close_with_typed())
        box.add_widget(close)
        back = KButton(text=self.t("Back to the list of messages"))
        back.bind(on_release=lambda _b: self.stop_typing())
        box.add_widget(back)
        for line in self.result_lines:
            box.add_widget(KLabel(text=line))
        self._message_input.focus = True

    def close_with_typed(self) -> None:
        text = self._message_input.text if self._message_input is not None else ""
        try:
            message = typed_message(text)
        except ValueError as exc:
            self.result_lines = [self.t("Not done: {error}").format(error=exc)]
            self.refresh()
            return
        self.typing = False
        if self._message_input is not None:
            self._message_input.text = ""
        self._act(self.console.close_kiosk, message)

    def restart(self) -> None:
        """The kiosk stops and its service manager starts it again (audited first)."""
        try:
            self.console.actor.audit("maintenance.restart")
        except Exception as exc:  # noqa: BLE001 - not on record: not done
            log.error("restart not audited, not done: %s", exc)
            self.result_lines = [self.t("Not done: {error}").format(error=exc)]
            self.refresh()
            return
        self.app.restart()

    def _act(self, action: Any, *args: Any) -> None:
        """A quick action: run it, say how it went, show the page again."""
        try:
            outcome = action(*args)
        except Exception as exc:  # noqa: BLE001 - the technician reads why, the log has it
            log.error("maintenance action %s failed: %s", getattr(action, "__name__", action), exc)
            said = self.t(exc.msgid) if getattr(exc, "msgid", "") else str(exc)
            self.result_lines = [self.t("Not done: {error}").format(error=said)]
        else:
            self.result_lines = [self.t("Done.")]
            if isinstance(outcome, int) and action.__name__ == "reload_catalog":
                self.result_lines = [self.t("{n} procedures loaded.").format(n=outcome)]
            if isinstance(outcome, Path):
                self.result_lines = [self.t("Written to {path}").format(path=outcome)]
        self.refresh()

    def leave(self) -> None:
        self.app.leave_maintenance()

    def tick(self) -> None:
        """Once a second: the seconds before the staff session ends."""
        if self.mode is not None:
            self.seconds_left = int(self.mode.seconds_left() + 0.999)

    def reset(self) -> None:
        self.page = "devices"
        self.result_lines = []
        self._camera = None
        self._reports = None
        self.typing = False
        if self._message_input is not None:
            self._message_input.text = ""


class OutOfServiceScreen(StaffScreen):
    """A closed kiosk: the message in both languages, whatever the header's language."""

    message_vi = StringProperty("")
    message_en = StringProperty("")

    def refresh(self) -> None:
        state = self.app.maintenance.state if self.app.maintenance is not None else None
        message = state.message if state is not None else None
        self.message_vi = message.vi if message is not None else ""
        self.message_en = message.en if message is not None else ""


class CameraPreview(Image):
    """The camera check's frame with the page finder's outline over it."""

    def __init__(self, check: CameraCheck, **kwargs: Any) -> None:
        super().__init__(fit_mode="contain", size_hint_y=None, height=420, **kwargs)
        self.check = check
        self.texture = texture_of(check.frame)
        with self.canvas.after:
            Color(0.1, 0.85, 0.3, 1)
            self._outline = Line(width=3, close=True)
        self.bind(pos=self._draw, size=self._draw)

    def _draw(self, *_args: Any) -> None:
        check = self.check
        self._outline.points = outline_points(self, check.corners, (check.width, check.height))


class StaffCard(KLabel):
    """A framed block of text (maintenance.kv); a problem is framed in the error colour and
    starts with "!" (not colour alone)."""

    problem = BooleanProperty(False)


def _card(text: str, ok: bool = True) -> StaffCard:
    return StaffCard(text=text if ok else f"! {text}", problem=not ok)
