"""The back office's remote commands, run on this kiosk: each maps onto maintenance mode's own
``MaintenanceConsole`` (so it is the same action staff run at the screen, audited as
``operator:backoffice`` beside the agent's own entry naming the command's id), or onto the shell
(a screenshot, a restart).

    reload-catalog       the procedures read and checked again (refused while someone uses
                         the kiosk: a citizen's form follows the procedure it was opened with)
    print-test-page      the printer's test page (refused while someone uses the kiosk)
    out-of-service       closed to citizens: ``message_vi`` (and ``message_en``), else the
                         preset "being serviced" message; an English text alone is refused
    back-in-service      open again
    enter-maintenance    closed with the "being serviced" message (staff on their way)
    leave-maintenance    open again
    screenshot           a PNG of the screen, refused while someone uses the kiosk
    restart              the kiosk stops with exit code 75 (systemd's ``Restart=`` starts it
                         again), refused while someone uses the kiosk, checked again at the stop

Handlers run on the fleet agent's thread: what touches the screen is posted to the Kivy thread
and awaited (``KivyRemoteUi``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from kiosk.fleet.commands import CommandResult, Handler
from kiosk.maintenance.console import MaintenanceConsole, RemoteActor
from kiosk.staff.service_state import PRESET_MESSAGES, typed_message

log = logging.getLogger(__name__)

EXIT_RESTART = 75  # EX_TEMPFAIL: the service manager starts the kiosk again
SCREENSHOT_TIMEOUT_S = 10.0


class RemoteUi(Protocol):
    """What the commands need of the running shell."""

    def in_use(self) -> bool: ...

    def screenshot_png(self) -> bytes: ...

    def request_restart(self) -> None: ...


def remote_handlers(console: MaintenanceConsole, ui: RemoteUi | None) -> dict[str, Handler]:
    """The command handlers over ``console`` (audited as the operator). Without ``ui`` (no
    screen) the screenshot and restart commands say so."""

    def busy() -> CommandResult | None:
        if ui is not None and ui.in_use():
            return CommandResult(
                "refused: someone is using the kiosk (a citizen or staff), try again later",
                ok=False,
            )
        return None

    def reload_catalog(args: dict[str, Any]) -> CommandResult:
        refused = busy()  # a citizen's form follows the procedure it was opened with
        if refused is not None:
            return refused
        count = console.reload_catalog()
        return CommandResult(f"{count} procedures loaded")

    def print_test_page(args: dict[str, Any]) -> CommandResult:
        refused = busy()
        if refused is not None:
            return refused
        result = console.print_test_page()
        steps = "; ".join(
            f"{s.step} {'ok' if s.ok else 'failed'} {s.ms:.0f} ms" for s in result.steps
        )
        return CommandResult(steps, ok=result.ok)

    def close(args: dict[str, Any]) -> CommandResult:
        vi, en = str(args.get("message_vi") or ""), str(args.get("message_en") or "")
        if en and not vi:
            return CommandResult("refused: the message needs a Vietnamese text", ok=False)
        message = typed_message(vi, en) if vi else PRESET_MESSAGES["servicing"]
        console.close_kiosk(message)
        return CommandResult("out of service")

    def reopen(args: dict[str, Any]) -> str:
        console.reopen_kiosk()
        return "back in service"

    def servicing(args: dict[str, Any]) -> str:
        console.close_kiosk(PRESET_MESSAGES["servicing"])
        return "out of service: being serviced"

    def screenshot(args: dict[str, Any]) -> CommandResult:
        if ui is None:
            return CommandResult("this kiosk runs without a screen", ok=False)
        refused = busy()
        if refused is not None:
            return refused
        png = ui.screenshot_png()
        console.actor.audit("maintenance.screenshot", bytes=len(png))
        return CommandResult(f"{len(png)} bytes", screenshot_png=png)

    def restart(args: dict[str, Any]) -> CommandResult:
        if ui is None:
            return CommandResult("this kiosk runs without a screen", ok=False)
        refused = busy()
        if refused is not None:
            return refused
        console.actor.audit("maintenance.restart")
        ui.request_restart()
        return CommandResult("restarting")

    return {
        "reload-catalog": reload_catalog,
        "print-test-page": print_test_page,
        "out-of-service": close,
        "back-in-service": reopen,
        "enter-maintenance": servicing,
        "leave-maintenance": reopen,
        "screenshot": screenshot,
        "restart": restart,
    }


def remote_console(
    services: Any, state: Any, append: Callable[..., Any], reload_catalog: Callable[[], Any]
) -> MaintenanceConsole:
    """The console the commands run on, audited as the operator."""
    return MaintenanceConsole(
        services, state, actor=RemoteActor(append), reload_catalog=reload_catalog
    )


class KivyRemoteUi:
    """The shell seen from the agent's thread: questions and captures run on the Kivy thread."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def _on_ui_thread(self, call: Callable[[], Any]) -> Any:
        from kivy.clock import Clock

        done = threading.Event()
        box: dict[str, Any] = {}

        def run(_dt: float) -> None:
            try:
                box["value"] = call()
            except Exception as exc:  # noqa: BLE001 - handed back to the agent's thread
                box["error"] = exc
            finally:
                done.set()

        Clock.schedule_once(run)
        if not done.wait(SCREENSHOT_TIMEOUT_S):
            raise TimeoutError("the screen did not answer in time")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def in_use(self) -> bool:
        return bool(self._on_ui_thread(self.app.in_use))

    def screenshot_png(self) -> bytes:
        return bytes(self._on_ui_thread(self.app.screenshot_png))

    def request_restart(self) -> None:
        from kivy.clock import Clock

        def stop(_dt: float) -> None:  # after the acknowledgement, if still nobody is there
            if self.app.in_use():
                log.warning("restart dropped: someone started using the kiosk meanwhile")
                return
            self.app.restart()

        Clock.schedule_once(stop, 1.0)
