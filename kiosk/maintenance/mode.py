"""``MaintenanceMode``: entering and leaving maintenance at the kiosk, for the screens.

    mode = MaintenanceMode(desk, state, services, reload_catalog=...)
    mode.accounts()                      # who may sign in (id, name, role) for the chooser
    result = mode.sign_in("NV001", pin)  # MaintenanceConsole | SignInRefused
    mode.check()                         # False once the staff session timed out (then left)
    mode.leave()                         # sign out, back to citizens (or out of service)

The screens reach it only after the citizen's session was wiped (screens/shell.py). Signing in
puts the kiosk in maintenance (``ServiceState``), which the metrics and the heartbeat report;
leaving, by hand or after ``[staff] session_timeout_s`` without a touch, ends the staff session
(audited by the desk) and gives the kiosk back to citizens, or to the out-of-service screen if
staff closed it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.maintenance.console import MaintenanceConsole
from kiosk.staff.accounts import StaffAccount
from kiosk.staff.desk import Refusal, SignInRefused, StaffDesk, StaffSession
from kiosk.staff.errors import StaffFileError
from kiosk.staff.service_state import ServiceState

if TYPE_CHECKING:
    from kiosk.flow.services import Services

log = logging.getLogger(__name__)


class MaintenanceMode:
    """One kiosk's maintenance mode: at most one staff member signed in at a time."""

    def __init__(
        self,
        desk: StaffDesk,
        state: ServiceState,
        services: Services,
        *,
        reload_catalog: Callable[[], Any] | None = None,
        log_lines: Callable[[], list[str]] | None = None,
    ) -> None:
        self.desk = desk
        self.state = state
        self.services = services
        self._reload_catalog = reload_catalog
        self._log_lines = log_lines
        self._session: StaffSession | None = None
        self._console: MaintenanceConsole | None = None

    @property
    def session(self) -> StaffSession | None:
        return self._session

    @property
    def console(self) -> MaintenanceConsole | None:
        return self._console

    def accounts(self) -> list[StaffAccount]:
        """The staff who may sign in, for the chooser; [] (logged) when the file is broken."""
        try:
            return self.desk.accounts.accounts()
        except StaffFileError as e:
            log.error("staff accounts not listed: %s", e)
            return []

    def wait_s(self) -> float:
        """Seconds before the PIN pad takes a PIN (the lock-out)."""
        return self.desk.wait_s()

    def sign_in(self, account_id: str, pin: str) -> MaintenanceConsole | SignInRefused:
        result = self.desk.sign_in(account_id, pin)
        if isinstance(result, SignInRefused):
            return result
        return self._start(result)

    def sign_in_with_card(self, id_number: str) -> MaintenanceConsole | SignInRefused:
        """``id_number`` from a chip that passed passive authentication only."""
        result = self.desk.sign_in_with_card(id_number)
        if isinstance(result, SignInRefused):
            return result
        return self._start(result)

    def read_staff_card(self, id_number: str, *, timeout_s: float = 15.0) -> str | SignInRefused:
        """Read the staff member's own card (``id_number`` typed: its CAN opens PACE) and
        return the chip's ID number once its signature chains to a trusted CSCA; a card the
        kiosk cannot authenticate is refused as unknown. Chip errors (no card, wrong card,
        expired, tampered) raise as for citizens. Runs on a worker; ``sign_in_with_card``
        then signs in on the screen's thread."""
        from kiosk.identity.model import Authenticity

        outcome = self.services.chip.read(id_number, timeout_s=timeout_s)
        identity = outcome.identity
        try:
            if identity.authenticity is not Authenticity.AUTHENTIC:
                log.warning("staff card refused: passive authentication %s", outcome.passive)
                self.desk.audit_log.append(
                    "system", "staff.card_refused", {"passive": outcome.passive}
                )
                return SignInRefused(Refusal.UNKNOWN_CARD)
            return str(identity.id_number)
        finally:
            identity.wipe()

    def _start(self, session: StaffSession) -> MaintenanceConsole:
        if self._session is not None:
            self._session.end("replaced")
        self._session = session
        self._console = MaintenanceConsole(
            self.services,
            self.state,
            actor=session,
            reload_catalog=self._reload_catalog,
            log_lines=self._log_lines,
            audit_path=self.desk.audit_log.path,
        )
        self.state.enter_maintenance(session.account_id)
        log.info("maintenance mode: %s signed in (%s)", session.account_id, session.method)
        return self._console

    def touch(self) -> None:
        """The staff member touched the screen: the inactivity timer starts again."""
        if self._session is not None and self._session.is_active():
            self._session.touch()

    def seconds_left(self) -> float:
        return self._session.seconds_left() if self._session is not None else 0.0

    def check(self) -> bool:
        """Whether a staff session still runs; one that timed out is ended and the kiosk
        leaves maintenance."""
        if self._session is None:
            return False
        if self._session.is_active():
            return True
        log.info("maintenance mode: %s timed out", self._session.account_id)
        self._finish()
        return False

    def leave(self) -> None:
        """Sign out and give the kiosk back."""
        if self._session is not None:
            self._session.end()
            log.info("maintenance mode: %s signed out", self._session.account_id)
        self._finish()

    def _finish(self) -> None:
        self._session = None
        self._console = None
        self.state.leave_maintenance()
