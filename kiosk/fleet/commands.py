"""Running the commands the back office hands this kiosk: checked, at most once, each answered.

``CommandRunner(client, handlers, ran).process(command)`` decides, in this order:

    1. the MAC (command_mac.py) does not verify     refused, not run: "refused: bad signature"
    2. the id was run before (ran_commands.py)       not run again: its stored result
    3. created more than 24 h ago                    refused, not run: "refused: older than 24 h"
    4. no handler for its name                       "unknown command"
    5. otherwise                                     recorded as running, the handler called with
                                                     the args, the result recorded and returned

and gives the ``Ack`` to send (ok and a detail for staff). A forged command is acknowledged as
refused rather than left pending: it then stops coming back at every heartbeat and shows as
refused on the fleet page, where staff see that something wrote to the commands table or
tampered with the answer; its id is not recorded, so the genuine command with that id (if any)
can still run. Handlers are given by the caller (the composition root)::

    handlers: Mapping[str, Handler]     "restart" -> handler(args) -> "restarting in 2 s"

A handler returns a detail (str) or a ``CommandResult`` (``ok=False`` for a refusal it
explains; ``screenshot_png`` for bytes to upload before the acknowledgement). A handler that
raises fails the command with the exception's type and message. Handlers run on the agent's
thread: one that must act on the UI thread posts there (and may wait for it), and one that
stops the kiosk (restart) arranges it to happen after it returns, so the result goes out
first. Each command run or refused is written to the audit log (actor ``operator:backoffice``).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from kiosk.delivery.backoffice import BackOfficeError
from kiosk.fleet.command_mac import command_message
from kiosk.staff.errors import AuditLogError

if TYPE_CHECKING:
    from kiosk.delivery.http_client import KioskCommand
    from kiosk.fleet.ran_commands import RanCommands
    from kiosk.staff.audit import AuditLog

log = logging.getLogger(__name__)

MAX_AGE_S: Final = 24 * 3600.0
AUDIT_ACTOR: Final = "operator:backoffice"
BAD_SIGNATURE: Final = "refused: bad signature"
TOO_OLD: Final = "refused: older than 24 h"
UNKNOWN: Final = "unknown command"
INTERRUPTED: Final = "interrupted: the kiosk stopped while it ran; not run again"
_MAX_DETAIL: Final = 2000


@dataclass(frozen=True)
class CommandResult:
    """What a handler did: ``detail`` for staff (no personal data), ``ok``, and optionally a
    PNG of the screen to upload (the ``screenshot`` command)."""

    detail: str = ""
    ok: bool = True
    screenshot_png: bytes | None = field(default=None, repr=False)


Handler = Callable[[dict[str, Any]], "str | CommandResult"]


@dataclass(frozen=True)
class Ack:
    """The acknowledgement to send for one command."""

    ok: bool
    detail: str


class CommandClient(Protocol):
    """What the runner asks of the back-office client (kiosk/delivery/http_client.py)."""

    kiosk_id: str

    def mac_is_valid(self, message: bytes, mac: str) -> bool: ...

    def upload_screenshot(self, png: bytes) -> None: ...


class CommandRunner:
    """Checks and runs commands for one kiosk (called from one thread: the agent's)."""

    def __init__(
        self,
        client: CommandClient,
        handlers: Mapping[str, Handler],
        ran: RanCommands,
        *,
        audit_log: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
        max_age_s: float = MAX_AGE_S,
    ) -> None:
        self.client = client
        self.handlers = dict(handlers)
        self.ran = ran
        self.audit_log = audit_log
        self._clock = clock
        self.max_age_s = max_age_s
        self._refused_seen: deque[int] = deque(maxlen=256)

    def process(self, command: KioskCommand) -> Ack | None:
        """The acknowledgement for ``command`` (running it when it is due); None when it could
        not be recorded as running (a disk fault): not run, not acknowledged, tried again at
        the next fetch."""
        if not self._authentic(command):
            return self._refuse_forged(command)
        done = self.ran.get(command.id)
        if done is not None:
            log.info("fleet: command %d was already handled here: not run again", command.id)
            if done.state == "running":
                return self._record(command, Ack(False, INTERRUPTED))
            return Ack(done.ok, done.detail)
        age_s = self._clock() - command.created_at.timestamp()
        if age_s > self.max_age_s:
            log.warning(
                "fleet: command %d (%s) refused: %.0f h old",
                command.id,
                command.command,
                age_s / 3600,
            )
            self._audit("fleet.command_refused", command, reason="older than 24 h")
            return self._record(command, Ack(False, TOO_OLD))
        handler = self.handlers.get(command.command)
        if handler is None:
            log.warning("fleet: command %d: no handler for %r", command.id, command.command)
            self._audit("fleet.command_refused", command, reason="unknown command")
            return self._record(command, Ack(False, UNKNOWN))
        try:
            self.ran.start(command.id, command.command)
        except OSError as e:
            log.error("fleet: command %d not run: it cannot be recorded (%s)", command.id, e)
            return None
        ack = self._run(command, handler)
        self._audit("fleet.command_run", command, ok=ack.ok)
        return self._record(command, ack)

    # -- inside --------------------------------------------------------------------------------

    def _authentic(self, command: KioskCommand) -> bool:
        if not command.mac or not command.created_at_text:
            return False
        try:
            message = command_message(
                command.id,
                self.client.kiosk_id,
                command.command,
                command.args,
                command.created_at_text,
            )
        except (TypeError, ValueError):  # args that are not JSON: not what the server signed
            return False
        return self.client.mac_is_valid(message, command.mac)

    def _refuse_forged(self, command: KioskCommand) -> Ack:
        if command.id not in self._refused_seen:  # said once per id, not at every heartbeat
            self._refused_seen.append(command.id)
            log.error(
                "fleet: command %d refused: its signature does not verify (forged, or changed "
                "on the way); not run",
                command.id,
            )
            self._audit(
                "fleet.command_refused", None, command_id=command.id, reason="bad signature"
            )
        return Ack(False, BAD_SIGNATURE)

    def _run(self, command: KioskCommand, handler: Handler) -> Ack:
        log.info("fleet: running command %d (%s)", command.id, command.command)
        try:
            result = handler(dict(command.args))
        except Exception as exc:  # noqa: BLE001 - a failing handler is a failed command
            log.exception("fleet: command %d (%s) failed", command.id, command.command)
            return Ack(False, f"failed: {type(exc).__name__}: {exc}"[:_MAX_DETAIL])
        if not isinstance(result, CommandResult):
            return Ack(True, str(result)[:_MAX_DETAIL])
        if result.screenshot_png is not None:
            try:
                self.client.upload_screenshot(result.screenshot_png)
            except BackOfficeError as e:
                log.warning("fleet: command %d: the screenshot was not uploaded: %s", command.id, e)
                return Ack(False, f"screenshot not uploaded: {e}"[:_MAX_DETAIL])
        return Ack(result.ok, str(result.detail)[:_MAX_DETAIL])

    def _record(self, command: KioskCommand, ack: Ack) -> Ack:
        try:
            self.ran.finish(command.id, command.command, ack.ok, ack.detail)
        except OSError as e:
            log.error("fleet: the result of command %d cannot be recorded: %s", command.id, e)
        return ack

    def _audit(self, action: str, command: KioskCommand | None, **detail: Any) -> None:
        if self.audit_log is None:
            return
        if command is not None:
            detail = {"command_id": command.id, "command": command.command, **detail}
        try:
            self.audit_log.append(AUDIT_ACTOR, action, detail)
        except (AuditLogError, ValueError) as e:
            log.error("fleet: audit entry %s not written: %s", action, e)
