"""The Kivy shell: one window, a header with language and accessibility switches, the step bar,
one screen per step, "back" and "cancel", and the idle warning. Screens are built once.

The shell only shows the session and forwards taps; it follows the session's step through a
listener, runs the idle check once a second, and cannot be closed by a citizen (Escape and the
window's close request are swallowed).

Staff enter maintenance mode by holding a finger on the top-left corner (the agency's name)
for ``STAFF_PRESS_S`` seconds: the citizen's session, if any, is wiped first, then the staff
sign-in shows (screens/maintenance.py). A closed kiosk (out of service) shows its message
instead of the welcome screen; the corner still opens maintenance.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.flow.events import Notice
from kiosk.i18n import translate
from kiosk.paths import FONT_BOLD, FONT_REGULAR
from kiosk.session.state import IdleState, Journey, Step
from screens import theme
from screens.base import KioskScreen
from screens.documents import DocumentsScreen
from screens.form import FormScreen
from screens.identify import IdentifyScreen
from screens.lookup import LookupResultScreen, LookupScreen
from screens.maintenance import MaintenanceScreen, OutOfServiceScreen, StaffSignInScreen
from screens.procedure import ProcedureScreen
from screens.queue import QueueScreen, TicketScreen
from screens.receipt import RatingScreen, ReceiptScreen
from screens.review import ReviewScreen, SubmitScreen
from screens.start import ConsentScreen, WelcomeScreen

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).resolve().parent
KV_FILES = (
    "widgets.kv",
    "start.kv",
    "identify.kv",
    "procedure.kv",
    "form.kv",
    "documents.kv",
    "review.kv",
    "receipt.kv",
    "queue.kv",
    "lookup.kv",
    "maintenance.kv",
    "shell.kv",
)

SCREEN_CLASSES: dict[Step, type[KioskScreen]] = {
    Step.WELCOME: WelcomeScreen,
    Step.CONSENT: ConsentScreen,
    Step.IDENTIFY: IdentifyScreen,
    Step.PROCEDURE: ProcedureScreen,
    Step.FORM: FormScreen,
    Step.DOCUMENTS: DocumentsScreen,
    Step.REVIEW: ReviewScreen,
    Step.SUBMIT: SubmitScreen,
    Step.RECEIPT: ReceiptScreen,
    Step.RATING: RatingScreen,
    Step.QUEUE: QueueScreen,
    Step.TICKET: TicketScreen,
    Step.LOOKUP: LookupScreen,
    Step.LOOKUP_RESULT: LookupResultScreen,
}

STEP_MSGIDS: dict[Step, str] = {
    Step.CONSENT: "Consent",
    Step.IDENTIFY: "Identification",
    Step.PROCEDURE: "Procedure",
    Step.FORM: "Declaration",
    Step.DOCUMENTS: "Documents",
    Step.REVIEW: "Review",
    Step.SUBMIT: "Submission",
    Step.RECEIPT: "Receipt",
    Step.RATING: "Rating",
    Step.QUEUE: "Service",
    Step.TICKET: "Ticket",
    Step.LOOKUP: "Dossier code",
    Step.LOOKUP_RESULT: "Status",
}

STAFF_SCREENS: dict[str, type[KioskScreen]] = {
    "staff_sign_in": StaffSignInScreen,
    "maintenance": MaintenanceScreen,
    "out_of_service": OutOfServiceScreen,
}
STAFF_PRESS_S = 3.0  # the hidden gesture: a finger held this long on the corner
STAFF_CORNER_PX = 160  # the top-left square it is held on
SIGN_IN_TIMEOUT_S = 60.0  # the sign-in screen goes back to citizens after this long untouched

MSG_CANCEL = "Cancel"
MSG_FINISH = "Finish"

_kv_loaded = False


def load_kv() -> None:
    """Register the shipped fonts and load the .kv rules once per process."""
    global _kv_loaded
    if _kv_loaded:
        return
    LabelBase.register(
        DEFAULT_FONT,
        fn_regular=str(FONT_REGULAR),
        fn_bold=str(FONT_BOLD),
        fn_italic=str(FONT_REGULAR),
        fn_bolditalic=str(FONT_BOLD),
    )
    for name in KV_FILES:
        Builder.load_file(str(KV_DIR / name))
    _kv_loaded = True


class KioskRoot(FloatLayout):
    """The window's content: header, step bar, notice, screens, footer, and the idle overlay."""

    _press: Any = None

    def on_touch_down(self, touch: Any) -> bool:
        app = App.get_running_app()
        app.touched()
        if self.in_staff_corner(touch.pos):
            self._cancel_press()
            self._press = Clock.schedule_once(lambda dt: app.open_staff_sign_in(), STAFF_PRESS_S)
            touch.ud["staff_press"] = time.monotonic()
        return super().on_touch_down(touch)

    def on_touch_move(self, touch: Any) -> bool:
        if touch.ud.get("staff_press") and not self.in_staff_corner(touch.pos):
            self._cancel_press()
            touch.ud["staff_press"] = None
        return super().on_touch_move(touch)

    def on_touch_up(self, touch: Any) -> bool:
        if touch.ud.get("staff_press"):
            self._cancel_press()
            held = time.monotonic() - touch.ud["staff_press"]
            if held >= STAFF_PRESS_S:  # the timer may not have run on a busy frame: now then
                App.get_running_app().open_staff_sign_in()
        return super().on_touch_up(touch)

    def in_staff_corner(self, pos: tuple[float, float]) -> bool:
        x, y = pos
        return x - self.x <= STAFF_CORNER_PX and self.top - y <= STAFF_CORNER_PX

    def _cancel_press(self) -> None:
        if self._press is not None:
            self._press.cancel()
            self._press = None


class IdleOverlay(FloatLayout):
    """The idle warning over everything; when hidden it lets every touch through."""

    active = BooleanProperty(False)

    def on_touch_down(self, touch: Any) -> bool:
        if not self.active:
            return False
        super().on_touch_down(touch)
        return True  # modal: nothing behind it reacts

    def on_touch_up(self, touch: Any) -> bool:
        if not self.active:
            return False
        return super().on_touch_up(touch)


class KioskApp(App):
    """The kiosk's Kivy application around a ``KioskFlow``."""

    lang = StringProperty("vi")
    font_scale = NumericProperty(theme.NORMAL_SCALE)
    contrast = BooleanProperty(False)
    colors = DictProperty(dict(theme.NORMAL))
    notice = StringProperty("")
    notice_is_error = BooleanProperty(True)
    idle_warning = BooleanProperty(False)
    idle_seconds = NumericProperty(0)
    can_back = BooleanProperty(False)
    can_cancel = BooleanProperty(False)
    cancel_msgid = StringProperty(MSG_CANCEL)
    step_current = NumericProperty(0)
    step_total = NumericProperty(0)
    step_label = StringProperty("")
    flow = ObjectProperty(None)
    staff_view = StringProperty("")  # "", "staff_sign_in" or "maintenance"

    def __init__(self, flow: Any, settings: Any, maintenance: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flow = flow
        self.settings = settings
        self.maintenance = maintenance  # kiosk.maintenance.mode.MaintenanceMode, or None
        self.restart_requested = False
        self._staff_touched = 0.0
        self.title = "Ki-ốt Một cửa"
        self._defaults = (settings.language, settings.large_text, settings.high_contrast)
        self.apply_defaults()
        self.screens: dict[Step, KioskScreen] = {}
        self.staff_screens: dict[str, KioskScreen] = {}
        self._idle_event: Any = None
        self._notice_event: Any = None

    # ------------------------------------------------------------------ i18n and look
    def t(self, msgid: str, lang: str | None = None) -> str:
        return translate(msgid, lang or self.lang)

    def apply_defaults(self) -> None:
        lang, large, contrast = self._defaults
        self.lang = lang
        self.font_scale = theme.LARGE_SCALE if large else theme.NORMAL_SCALE
        self.set_contrast(contrast)

    def set_contrast(self, on: bool) -> None:
        self.contrast = on
        self.colors = dict(theme.HIGH_CONTRAST if on else theme.NORMAL)

    def toggle_lang(self) -> None:
        self.set_lang("en" if self.lang == "vi" else "vi")

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self._refresh_chrome()
        current = self.screens.get(self.flow.session.step)
        if current is not None:
            current.on_lang()

    def toggle_large_text(self) -> None:
        """ "A+": the next zoom step, the largest going back to normal."""
        self.font_scale = theme.next_zoom(self.font_scale)

    def toggle_contrast(self) -> None:
        self.set_contrast(not self.contrast)

    # ------------------------------------------------------------------ building
    def build(self) -> KioskRoot:
        load_kv()
        root = KioskRoot()
        manager: ScreenManager = root.ids.screens
        manager.transition = NoTransition()
        for step, cls in SCREEN_CLASSES.items():
            screen = cls(name=step.value)
            self.screens[step] = screen
            manager.add_widget(screen)
        for name, staff_cls in STAFF_SCREENS.items():
            staff_screen = staff_cls(name=name)
            self.staff_screens[name] = staff_screen
            manager.add_widget(staff_screen)
        if self.maintenance is not None:
            self.maintenance.state.subscribe(
                lambda _state: Clock.schedule_once(lambda dt: self._show_current())
            )
        manager.current = self._screen_name()
        self.flow.session.subscribe(self._on_step)
        self.flow.events.subscribe(Notice, self._route_notice)
        self.flow.session.subscribe_phase(self._on_phase)
        Window.bind(on_request_close=self._refuse_close, on_keyboard=self._on_keyboard)
        if self.settings.touch:
            Window.show_cursor = False
        self._idle_event = Clock.schedule_interval(lambda dt: self.check_idle(), 1.0)
        self._refresh_chrome()
        return root

    def _refuse_close(self, *args: Any, **kwargs: Any) -> bool:
        log.info("close request refused: the kiosk is closed from maintenance mode only")
        return True

    def _on_keyboard(self, window: Any, key: int, *args: Any) -> bool:
        return key == 27  # Escape (and Android back) never leaves the kiosk

    # ------------------------------------------------------------------ session events
    def _on_step(self, session: Any, old: Step, new: Step) -> None:
        self.clear_notice()
        self.idle_warning = False
        if new is Step.WELCOME:
            for screen in self.screens.values():
                screen.reset()
            self.apply_defaults()
        self._show_current()

    def _screen_name(self) -> str:
        """What shows now: a staff screen, the closed kiosk's message, or the citizen's step."""
        if self.staff_view:
            return self.staff_view
        step = self.flow.session.step
        mode = self.maintenance
        if step is Step.WELCOME and mode is not None and mode.state.out_of_service:
            return "out_of_service"
        return str(step.value)

    def _show_current(self) -> None:
        manager = self.root.ids.screens
        name = self._screen_name()
        if manager.current != name:
            manager.current = name
        elif name in self.staff_screens:
            self.staff_screens[name].refresh()
        self._refresh_chrome()

    def _refresh_chrome(self) -> None:
        session = self.flow.session
        current = self.screens.get(session.step)
        citizen = self._screen_name() == session.step.value
        self.can_back = citizen and session.can_go_back() and bool(current and current.show_back)
        self.can_cancel = citizen and session.can_cancel() and bool(current and current.show_cancel)
        # Once the dossier is in, ending the session is finishing, not cancelling.
        done = session.step in (Step.RECEIPT, Step.RATING, Step.TICKET, Step.LOOKUP_RESULT)
        self.cancel_msgid = MSG_FINISH if done else MSG_CANCEL
        index, total = session.position()
        self.step_current, self.step_total = index, total
        if total and session.step in STEP_MSGIDS:
            self.step_label = self.t("Step {i} of {n}: {name}").format(
                i=index, n=total, name=self.t(STEP_MSGIDS[session.step])
            )
        else:
            self.step_label = ""

    def _route_notice(self, notice: Notice) -> None:
        """A notice answering the step shown now goes to its screen when the screen shows it
        beside the action (a wrong code, a card not read); the rest to the notice bar. A notice
        for a step the citizen has left is only logged."""
        step = self.flow.session.step
        if notice.step is not None and notice.step is not step:
            log.info("notice for %s dropped at %s: %s", notice.step.value, step.value, notice.msgid)
            return
        screen = self.screens.get(step)
        if screen is not None and screen.show_notice(notice):
            return
        self.show_notice(notice)

    def _on_phase(self, phase: Any) -> None:
        screen = self.screens.get(self.flow.session.step)
        if screen is not None:
            screen.phase_moved(phase)

    def show_notice(self, notice: Any) -> None:
        self.notice = self.t(notice.msgid)
        self.notice_is_error = notice.error
        if self._notice_event is not None:
            self._notice_event.cancel()
        self._notice_event = Clock.schedule_once(lambda dt: self.clear_notice(), 15)
        self._refresh_chrome()
        current = self.screens.get(self.flow.session.step)
        if current is not None:
            current.refresh()

    def clear_notice(self) -> None:
        self.notice = ""

    # ------------------------------------------------------------------ navigation
    def go_back(self) -> None:
        if self.flow.session.can_go_back():
            self.flow.back()

    def go_cancel(self) -> None:
        if self.flow.session.can_cancel():
            self.flow.cancel()

    def touched(self) -> None:
        self.flow.session.touch()
        if self.staff_view:
            self._staff_touched = time.monotonic()
            if self.maintenance is not None:
                self.maintenance.touch()

    # ------------------------------------------------------------------ maintenance mode
    def open_staff_sign_in(self) -> None:
        """The hidden gesture: wipe whatever citizen is here, then the staff sign-in."""
        if self.maintenance is None or self.staff_view:
            return
        session = self.flow.session
        if session.step is not Step.WELCOME:
            if not session.can_cancel():  # a dossier being sent: it cannot be wiped now
                log.info("maintenance refused: the citizen's dossier is being sent; try again")
                return
            log.info("maintenance requested: the citizen's session is wiped first")
            self.flow.cancel()
        self.idle_warning = False
        self.clear_notice()
        self._staff_touched = time.monotonic()
        self.staff_screens["staff_sign_in"].reset()
        self.staff_view = "staff_sign_in"
        self._show_current()

    def show_maintenance(self) -> None:
        self.staff_screens["maintenance"].reset()
        self.staff_view = "maintenance"
        self._show_current()

    def leave_maintenance(self) -> None:
        if self.maintenance is not None:
            self.maintenance.leave()
        self.staff_view = ""
        for screen in self.staff_screens.values():
            screen.reset()
        self.apply_defaults()
        self._show_current()

    def restart(self) -> None:
        """Stop so that the service manager starts the kiosk again (``kiosk run`` then exits
        with code 75); staff still signed in are signed out first."""
        self.restart_requested = True
        Clock.schedule_once(lambda dt: self.stop(), 0.5)

    def in_use(self) -> bool:
        """Someone is at the kiosk: a citizen's session is under way, or staff are signed in
        or signing in."""
        return self.flow.session.step is not Step.WELCOME or bool(self.staff_view)

    def screenshot_png(self) -> bytes:
        """What the screen shows now, as PNG (the back office's ``screenshot`` command; the
        caller refuses while ``in_use()``)."""
        import io

        buffer = io.BytesIO()
        self.root.export_as_image().save(buffer, fmt="png")
        return buffer.getvalue()

    def _check_staff(self) -> None:
        if self.staff_view == "maintenance":
            if self.maintenance is None or not self.maintenance.check():
                self.leave_maintenance()
                return
            self.staff_screens["maintenance"].tick()  # type: ignore[attr-defined]
        elif time.monotonic() - self._staff_touched > SIGN_IN_TIMEOUT_S:  # the sign-in screen
            self.leave_maintenance()

    def continue_session(self) -> None:
        self.flow.session.touch()
        self.idle_warning = False

    def check_idle(self) -> None:
        if self.staff_view:
            self._check_staff()
            return
        state = self.flow.session.tick()
        warning = state is IdleState.WARNING
        if warning:  # the count is shown only in the warning: a hidden label is not redrawn
            self.idle_seconds = int(self.flow.session.seconds_left() + 0.999)
        self.idle_warning = warning

    def on_stop(self) -> None:
        if self._idle_event is not None:
            self._idle_event.cancel()
        if self._notice_event is not None:
            self._notice_event.cancel()
        for screen in [*self.screens.values(), *self.staff_screens.values()]:
            screen.shutdown()


__all__ = ["KioskApp", "Journey", "load_kv"]
