"""A running kiosk shell for UI tests: real services, simulated devices, a headless pilot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from screens.kivy_env import prepare_kivy

prepare_kivy(offscreen=True)

from kivy.clock import Clock  # noqa: E402

from kiosk.app.launch import make_session  # noqa: E402
from kiosk.app.services import KioskParts  # noqa: E402
from kiosk.flow.kiosk_flow import KioskFlow  # noqa: E402
from kiosk.flow.runner import ThreadRunner  # noqa: E402
from screens.pilot import Pilot  # noqa: E402
from screens.shell import KioskApp  # noqa: E402


@contextmanager
def running_kiosk(cfg: Any) -> Iterator[tuple[Pilot, KioskApp, KioskFlow]]:
    """Start the kiosk shell on ``cfg``, maintenance mode included; yield (pilot, app, flow);
    tear everything down."""
    parts = KioskParts(cfg)
    services = parts.services()
    runner = ThreadRunner(post=lambda fn: Clock.schedule_once(lambda dt: fn()))
    flow = KioskFlow(make_session(cfg), services, runner)
    app = KioskApp(flow, cfg.kiosk, maintenance=parts.maintenance_mode(services))
    pilot = Pilot(app)
    try:
        yield pilot, app, flow
    finally:
        runner.shutdown()
        pilot.close()
        flow.session.wipe()
        services.close()


def label_texts(widget: Any) -> list[str]:
    """Every non-empty text shown by the widget and its children (what a citizen can read)."""
    texts: list[str] = []
    stack = [widget]
    while stack:
        w = stack.pop()
        text = getattr(w, "text", None)
        if isinstance(text, str) and text.strip() and getattr(w, "opacity", 1) > 0:
            texts.append(text)
        stack.extend(w.children)
    return texts


def screen_text(pilot: Pilot) -> str:
    return "\n".join(label_texts(pilot.screen()))
