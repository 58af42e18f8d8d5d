"""Composition root: config → services → flow → Kivy shell. The only place that wires them.

``run_kiosk()`` is ``kiosk run``. Kivy is imported inside the functions, after
``screens.kivy_env.prepare_kivy()``, so the rest of ``kiosk`` stays importable without a display.
``build_kiosk()`` is the kiosk without its screens: the services, the flow over them, and the
Prometheus metrics watching the flow and served on ``[telemetry] metrics_port``.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

from kiosk.app.remote import EXIT_RESTART, KivyRemoteUi, remote_console, remote_handlers
from kiosk.app.services import KioskParts
from kiosk.config.settings import KioskConfig
from kiosk.flow.kiosk_flow import KioskFlow
from kiosk.flow.runner import Runner, ThreadRunner
from kiosk.infra.log_ring import install_log_ring
from kiosk.session.state import Session
from kiosk.telemetry.metrics import KioskMetrics

log = logging.getLogger(__name__)


def make_session(cfg: KioskConfig, clock: Any = None) -> Session:
    return Session(
        timeout_s=cfg.kiosk.idle_timeout_s,
        warning_s=cfg.kiosk.idle_warning_s,
        scratch_root=cfg.kiosk.data_dir / "sessions",
        clock=clock,
    )


def build_kiosk(
    cfg: KioskConfig, runner: Runner, *, clock: Any = None, parts: KioskParts | None = None
) -> tuple[KioskFlow, KioskMetrics]:
    """The running kiosk's flow (its services started, closed by ``flow.services.close()``)
    and its metrics, watching the flow and served on ``[telemetry] metrics_port``. ``clock``
    (monotonic seconds) times the session's idle rule and the metrics' durations; ``parts``
    (default: new ones) stay usable for what is built over the services (maintenance mode)."""
    parts = parts or KioskParts(cfg)
    services = parts.services(serve_metrics=True)
    try:
        flow = KioskFlow(make_session(cfg, clock), services, runner)
        parts.metrics.watch(flow.session, flow.events, clock=clock)
    except BaseException:
        services.close()
        raise
    return flow, parts.metrics


def run_kiosk(
    cfg: KioskConfig,
    *,
    offscreen: bool = False,
    seconds: float | None = None,
    on_ready: Any = None,
) -> int:
    """Run the kiosk until stopped (SIGTERM/SIGINT, or after ``seconds``). Returns an exit code.

    ``on_ready()`` is called on the first frame after the welcome screen is shown.
    """
    from screens.kivy_env import prepare_kivy

    prepare_kivy(
        orientation=cfg.kiosk.orientation,
        offscreen=offscreen or os.environ.get("SDL_VIDEODRIVER") == "offscreen",
        fullscreen=cfg.kiosk.fullscreen,
        touch=cfg.kiosk.touch,
    )
    from kivy.clock import Clock

    from screens.shell import KioskApp

    runner = ThreadRunner(post=lambda fn: Clock.schedule_once(lambda dt: fn()))
    parts = KioskParts(cfg)
    flow, _metrics = build_kiosk(cfg, runner, parts=parts)
    services = flow.services
    try:
        ring = install_log_ring()  # the recent log, masked, for staff to export
        maintenance = parts.maintenance_mode(services, ring.lines)
        app = KioskApp(flow, cfg.kiosk, maintenance=maintenance)
        remote_ui = KivyRemoteUi(app)
        console = remote_console(
            services,
            services.service_state,
            parts.staff_desk.audit_log.append,
            lambda: parts.reload_catalog(services),
        )
        parts.fleet_agent(services, remote_handlers(console, remote_ui), flow.events)
    except BaseException:
        runner.shutdown()
        services.close()
        raise

    def started(*_args: Any) -> None:  # returns None: a true result would stop the dispatch
        if seconds is not None:  # counted from the first frame, not from Kivy's import
            Clock.schedule_once(lambda dt: app.stop(), seconds)
        if on_ready is not None:
            Clock.schedule_once(lambda dt: on_ready(), 0)

    app.bind(on_start=started)

    def stop_on_signal(signum: int, frame: Any) -> None:
        log.info("signal %d: stopping the kiosk (session wiped, devices closed)", signum)
        Clock.schedule_once(lambda dt: app.stop())

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    log.info(
        "kiosk %s starting: printer=%s camera=%s card_reader=%s backoffice=%s",
        cfg.kiosk.id,
        cfg.printer.mode,
        cfg.camera.mode,
        cfg.card_reader.mode,
        cfg.backoffice.url or "embedded reference back office",
    )
    try:
        app.run()
    finally:
        maintenance.leave()  # a staff member still signed in is signed out (audited)
        runner.shutdown()
        flow.session.wipe()
        services.close()
    if app.restart_requested:
        log.info("stopped for a restart staff asked for (exit code %d)", EXIT_RESTART)
        return EXIT_RESTART
    return 0


def describe_services(services: Any) -> list[dict[str, Any]]:
    return [{"device": h.device, "ok": h.ok, "detail": h.detail} for h in services.health()]
