"""``kiosk screenshot``: every screen rendered offscreen with sample data, in each mode.

The screens are reached by driving the real flow (kiosk/demo/citizens.py), so a render shows
what a citizen meets; ``--check`` runs the layout checker (screens/layout_check.py) on each.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.app.launch import make_session
from kiosk.app.services import KioskParts
from kiosk.config.settings import KioskConfig
from kiosk.demo.staff import DEMO_STAFF, seed_demo_staff
from kiosk.flow.kiosk_flow import KioskFlow
from kiosk.paths import SAMPLES_DIR
from kiosk.session.state import Step

SCREENSHOT_SCREENS: tuple[str, ...] = tuple(s.value for s in Step) + (
    "identify_card",
    "documents_live",
    "documents_review",
    "form_keyboard",
    "form_address",
    "idle",
    "queue_printer_out",
    "ticket_not_printed",
    "staff_sign_in",
    "staff_pin",
    "maintenance_kiosk",
    "out_of_service",
)

#: Maintenance mode's screens (screens/maintenance.py), reached from the welcome screen. The
#: devices, outbox and queue pages render on demand only: they show loopback ports, timings and
#: what the sender has delivered so far, which differ from run to run (tests/screens/
#: test_ui_maintenance.py checks the devices page's layout instead).
STAFF_SCREENS = ("staff_sign_in", "staff_pin", "maintenance", "maintenance_camera",
                 "maintenance_outbox", "maintenance_queue", "maintenance_kiosk",
                 "maintenance_message", "out_of_service")  # fmt: skip


EXTRA_SCREENS = {
    "idle": Step.FORM,
    "form_keyboard": Step.FORM,
    "form_address": Step.FORM,
    "identify_card": Step.IDENTIFY,
    "documents_live": Step.DOCUMENTS,
    "documents_review": Step.DOCUMENTS,
    "queue_printer_out": Step.QUEUE,
    "ticket_not_printed": Step.TICKET,
    **dict.fromkeys(STAFF_SCREENS, Step.WELCOME),
}


def screenshot_config(cfg: KioskConfig, data_dir: Path) -> KioskConfig:
    """The config for rendering sample screens: simulated devices, a throw-away data folder."""
    kiosk = replace(cfg.kiosk, data_dir=data_dir, fullscreen=False, touch=True)
    printer = replace(cfg.printer, mode="simulated", host="127.0.0.1", port=0, out_dir=None)
    camera = replace(cfg.camera, mode="simulated", frames=SAMPLES_DIR / "document-vn.jpg")
    reader = replace(cfg.card_reader, mode="simulated")
    backoffice = replace(cfg.backoffice, url="")
    return replace(
        cfg, kiosk=kiosk, printer=printer, camera=camera, card_reader=reader, backoffice=backoffice
    )


#: The looks a screen is rendered in: (suffix of the file name, large text, high contrast).
MODES: dict[str, tuple[str, bool, bool]] = {
    "normal": ("", False, False),
    "large": ("-large", True, False),
    "contrast": ("-contrast", False, True),
}


def render_screens(
    cfg: KioskConfig,
    screens: list[str],
    out: Path,
    *,
    langs: tuple[str, ...] = ("vi",),
    large_text: bool = False,
    contrast: bool = False,
    modes: tuple[str, ...] | None = None,
    single_file: bool = False,
    at: datetime | None = None,
    problems: dict[str, list[str]] | None = None,
) -> list[Path]:
    """Render screens with sample data offscreen; returns the PNG files written.

    ``modes`` (names of ``MODES``) renders each screen in each look; otherwise ``large_text``
    and ``contrast`` choose one. ``at`` freezes the wall clock (dates, dossier codes, the
    receipt's QR) so that renders can be compared from day to day. With ``problems`` given, each
    render is checked by ``screens.layout_check`` and its problems are stored under the file name.
    """
    from screens.kivy_env import prepare_kivy

    prepare_kivy(orientation=cfg.kiosk.orientation, offscreen=True)
    from kiosk.demo.citizens import ManualClock, walk_to
    from kiosk.flow.runner import InlineRunner
    from kiosk.infra.clock import frozen_clock
    from screens.layout_check import check_layout
    from screens.pilot import Pilot
    from screens.shell import KioskApp
    from screens.theme import LARGE_SCALE, NORMAL_SCALE

    if modes:
        looks = [MODES[m] for m in modes]
    else:
        suffix = ("-large" if large_text else "") + ("-contrast" if contrast else "")
        looks = [(suffix, large_text, contrast)]
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="kiosk-screens-") as tmp, frozen_clock(at):
        shot_cfg = screenshot_config(cfg, Path(tmp))
        parts = KioskParts(shot_cfg)
        services = parts.services()
        seed_demo_staff(Path(tmp))
        clock = ManualClock()
        flow = KioskFlow(make_session(shot_cfg, clock), services, InlineRunner())
        app = KioskApp(flow, shot_cfg.kiosk, maintenance=parts.maintenance_mode(services))
        pilot = Pilot(app)
        try:
            for suffix, large, high_contrast in looks:
                for name in screens:
                    step = EXTRA_SCREENS.get(name) or Step(name)
                    for lang in langs:
                        if services.virtual_printer is not None:
                            paper_out = name in ("queue_printer_out", "ticket_not_printed")
                            services.virtual_printer.set_paper("out" if paper_out else "ok")
                        _leave_staff_state(app)
                        walk_to(flow, step)
                        app.font_scale = LARGE_SCALE if large else NORMAL_SCALE
                        app.set_contrast(high_contrast)
                        app.set_lang(lang)
                        _show_extra_state(name, app, flow, pilot, clock, shot_cfg)
                        pilot.pump(3)
                        path = out if single_file else out / f"{name}-{lang}{suffix}.png"
                        written.append(pilot.screenshot(path))
                        if problems is not None:
                            found = check_layout(
                                app.root, read_rgb(path), high_contrast=high_contrast
                            )
                            problems[path.name] = [str(p) for p in found]
        finally:
            _leave_staff_state(app)
            walk_to(flow, Step.WELCOME)
            pilot.close()
            services.close()
    return written


def read_rgb(path: Path) -> Any:
    """A PNG as an RGB NumPy array (rows from the top)."""
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{path} is not an image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _show_extra_state(
    name: str, app: Any, flow: KioskFlow, pilot: Any, clock: Any, cfg: KioskConfig
) -> None:
    """Bring a screen to the state its extra name shows (the chip's photo, the live camera, …)."""
    from devices.simulated.card_reader import SimulatedCardReader
    from kiosk.demo.citizens import identify_with_card

    if name == "identify_card":  # the chip read: photo and name to confirm
        screen = app.screens[Step.IDENTIFY]
        reader = flow.services.card_reader
        card = reader.card if isinstance(reader, SimulatedCardReader) else None
        assert card is not None, "screenshots use the simulated reader with its card on it"
        screen.digits = card.profile.id_number
        identify_with_card(flow, confirm=False)
    if name == "documents_live":  # the camera's preview with the guidance
        screen = app.screens[Step.DOCUMENTS]
        screen.capture(next(r.id for r in flow.documents.requirements() if not r.is_declaration))
        screen._stop_polling()
        flow.documents.hold_live_still(2)  # the same frame and progress on every machine
        screen.poll()
    if name == "documents_review":  # the captured page, straightened, to accept or retake
        screen = app.screens[Step.DOCUMENTS]
        screen.capture(next(r.id for r in flow.documents.requirements() if not r.is_declaration))
        pilot.wait_for(lambda s=screen: s.live_texture is not None)
        screen.capture_now()
        pilot.wait_for(lambda s=screen: s.phase == "review")
    if name in ("form_keyboard", "form_address"):
        show_form_typing(app, pilot, address=name == "form_address")
    if name in STAFF_SCREENS:
        _show_staff_state(name, app, pilot)
    if name == "idle":  # 15 seconds before the session ends
        clock.advance(cfg.kiosk.idle_timeout_s - 15)
        app.check_idle()


def _show_staff_state(name: str, app: Any, pilot: Any) -> None:
    """Maintenance mode as staff meet it: signed in as the demo technician (the supervisor's
    PIN typed wrong once for ``staff_pin``), or the kiosk closed with a preset message."""
    from kiosk.staff.service_state import PRESET_MESSAGES

    mode = app.maintenance
    if name == "out_of_service":
        mode.state.close(PRESET_MESSAGES["printer"])
        app._show_current()
        return
    app.open_staff_sign_in()
    screen = app.staff_screens["staff_sign_in"]
    if name == "staff_pin":
        supervisor = mode.accounts()[1]
        screen.choose(supervisor.id, supervisor.full_name)
        for digit in "111111":
            screen.key(digit)
        screen.submit()  # refused: the message shows under the masked PIN
        for digit in "4802":
            screen.key(digit)
        return
    if name == "staff_sign_in":
        return
    technician = mode.accounts()[0]
    screen.choose(technician.id, technician.full_name)
    for digit in DEMO_STAFF[0][2]:
        screen.key(digit)
    screen.submit()
    page = name.removeprefix("maintenance").removeprefix("_") or "devices"
    maintenance = app.staff_screens["maintenance"]
    if page == "camera":  # the devices page after the camera test: the frame and its outline
        maintenance.show_page("devices")
        maintenance.test_camera()
    elif page == "message":  # a closing message of staff's own words, on the keyboard
        maintenance.show_page("kiosk")
        maintenance.start_typing()
        maintenance._message_input.text = "Tạm nghỉ trưa, mời Ông/Bà quay lại lúc 13:30"
    else:
        maintenance.show_page(page)
    if page == "devices":
        maintenance.test_printer()  # the inline runner: the result shows at once
    maintenance.tick()


def _leave_staff_state(app: Any) -> None:
    """Back to citizens, the kiosk open, the PIN pad's failures forgotten."""
    if app.staff_view:
        app.leave_maintenance()
    mode = app.maintenance
    if mode is not None:
        mode.state.reopen()
        mode.desk.lockout.record_success()


def show_form_typing(app: Any, pilot: Any, *, address: bool) -> None:
    """The form with the keyboard open on a field being typed (or on an address's commune,
    with the suggestions from the 2025 map)."""
    screen = app.screens[Step.FORM]
    for _ in range(screen.page_count):
        kinds = [str(r.field.kind) for r in screen.page_rows()]
        if not address or "address" in kinds:
            break
        screen.page += 1
        screen._show_page()
    pilot.pump(2)
    for row in screen.page_rows():
        inputs = [ti for ti in row.text_inputs() if not ti.readonly]
        if address and str(row.field.kind) == "address":
            row.ids.province.text = "Thành phố Huế"
            row.ids.commune.text = ""
            row.ids.commune.focus = True
            screen.ids.keyboard.press("char", "T")
            screen.ids.keyboard.press("char", "h")
            screen.ids.keyboard.press("char", "u")
            screen.ids.keyboard.press("char", "â")
            screen.ids.keyboard.press("char", "n")
            break
        if not address and inputs and str(row.field.kind) == "text":
            inputs[0].text = ""
            inputs[0].focus = True
            keyboard = screen.ids.keyboard
            for word, tone in (("Nha", "HUYEN"), ("in", None), ("Hoa", None), ("Sen", None)):
                for ch in word:
                    keyboard.press("char", ch)
                if tone:
                    keyboard.press("tone", tone)
                keyboard.press("space", " ")
            break
    pilot.pump(4)
