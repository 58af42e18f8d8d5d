"""``FleetAgent``: the thread that keeps the back office told of this kiosk and runs its commands.

Every ``interval_s`` (``[fleet] heartbeat_s``) the agent

    1. sends the heartbeat (status.py): the status now, and the audit entries not yet confirmed;
    2. keeps the audit mark the back office answers (``audit_received_through``);
    3. when the answer says commands are pending, fetches them, runs each through the
       ``CommandRunner`` (commands.py: MAC checked, at most once, 24-hour limit) and
       acknowledges each with its result.

When the back office cannot be reached (or refuses this kiosk), the agent says so once in the
log, waits twice as long after each failure (``interval_s`` doubling up to ``max_backoff_s``,
10 minutes by default, with a little jitter so a fleet does not return all at once) and says
once when it answers again. Nothing is queued meanwhile: each heartbeat carries the status of
its own moment; unconfirmed audit entries stay in the audit file, unacknowledged results in
commands.json. ``stop()`` wakes the agent at once (an ``Event``, no sleeping) and returns when
the request in progress, if any, ends (the client's timeout bounds it).

``build_fleet_agent(...)`` wires one from the kiosk's parts (see its docstring).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from kiosk.delivery.backoffice import BackOfficeError, BackOfficeUnavailable
from kiosk.delivery.http_client import BackOfficeAuthError
from kiosk.fleet.audit_feed import AuditFeed
from kiosk.fleet.commands import CommandRunner, Handler
from kiosk.fleet.ran_commands import RanCommands
from kiosk.fleet.state_file import fleet_dir
from kiosk.fleet.status import KioskMode, ModeProvider, StatusReader
from kiosk.fleet.today import DayTally

if TYPE_CHECKING:
    from kiosk.delivery.http_client import KioskCommand
    from kiosk.flow.events import Events
    from kiosk.flow.services import Services
    from kiosk.staff.audit import AuditLog

log = logging.getLogger(__name__)

DEFAULT_MAX_BACKOFF_S: Final = 600.0
JITTER: Final = 0.1


class FleetClient(Protocol):
    """The back-office calls the agent makes (kiosk/delivery/http_client.py ``HttpBackOffice``)."""

    kiosk_id: str

    def heartbeat(self, payload: dict[str, Any]) -> dict[str, Any]: ...

    def commands(self) -> list[KioskCommand]: ...

    def ack(self, command_id: int, ok: bool = True, detail: str = "") -> None: ...

    def mac_is_valid(self, message: bytes, mac: str) -> bool: ...

    def upload_screenshot(self, png: bytes) -> None: ...


@dataclass(frozen=True)
class AgentStats:
    """How the agent is doing (for tests and ``kiosk doctor``-like reports)."""

    beats_sent: int
    beats_failed: int
    consecutive_failures: int
    next_delay_s: float
    out_of_reach_since: float | None  # monotonic seconds; None while the back office answers


class FleetAgent:
    """Heartbeats and remote commands on a daemon thread; ``start()`` then ``stop()``."""

    def __init__(
        self,
        client: FleetClient,
        status: StatusReader,
        runner: CommandRunner,
        *,
        interval_s: float,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be more than 0, not {interval_s}")
        self.client = client
        self.status = status
        self.runner = runner
        self.interval_s = float(interval_s)
        self.max_backoff_s = max(float(max_backoff_s), self.interval_s)
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._sent = 0
        self._failed = 0
        self._failures_in_row = 0
        self._delay = self.interval_s
        self._out_since: float | None = None
        self._said: type[BaseException] | None = None
        self._audit_problem: str | None = None

    # -- life ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread (the first heartbeat goes at once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="fleet-agent", daemon=True)
        self._thread.start()
        log.info("fleet: heartbeats to the back office every %g s", self.interval_s)

    def stop(self, timeout_s: float | None = 30.0) -> None:
        """Stop the thread: at once between heartbeats, else when the request in progress ends."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("fleet: the agent did not stop within %s s", timeout_s)

    close = stop

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stats(self) -> AgentStats:
        with self._lock:
            return AgentStats(
                self._sent, self._failed, self._failures_in_row, self._delay, self._out_since
            )

    def _loop(self) -> None:
        delay = 0.0
        while not self._stop.wait(delay):
            try:
                answered = self.beat()
            except Exception:  # noqa: BLE001 - a bug here must not end the heartbeats
                log.exception("fleet: a heartbeat failed unexpectedly")
                answered = True  # not the back office's fault: no backoff
            delay = self._next_delay(answered)

    def _next_delay(self, answered: bool) -> float:
        with self._lock:
            if answered:
                self._failures_in_row = 0
                self._delay = self.interval_s
            else:
                self._failures_in_row += 1
                steps = min(self._failures_in_row, 32)
                self._delay = min(self.interval_s * 2.0**steps, self.max_backoff_s)
            delay = self._delay
        if not answered:
            delay *= 1.0 + random.uniform(-JITTER, JITTER)
        return delay

    # -- one heartbeat ---------------------------------------------------------------------------

    def beat(self) -> bool:
        """One heartbeat and the commands it announces; True when the back office answered."""
        payload = self.status.heartbeat()
        try:
            answer = self.client.heartbeat(payload)
        except BackOfficeError as e:
            self._out_of_reach(e)
            return False
        self._answered()
        mark = answer.get("audit_received_through")
        if self.status.audit is not None and isinstance(mark, int) and not isinstance(mark, bool):
            self.status.audit.confirm(mark)
        problem = answer.get("audit_problem") or None
        if problem != self._audit_problem:  # said when it changes, not at every beat
            self._audit_problem = problem
            if problem:
                log.error("fleet: the back office refuses this kiosk's audit entries: %s", problem)
        if answer.get("pending_commands", 1) == 0:
            return True
        return self._commands()

    def _commands(self) -> bool:
        try:
            commands = self.client.commands()
        except BackOfficeError as e:
            self._out_of_reach(e)
            return False
        for command in commands:
            if self._stop.is_set():
                break
            ack = self.runner.process(command)
            if ack is None:
                continue
            try:
                self.client.ack(command.id, ack.ok, ack.detail)
            except (BackOfficeUnavailable, BackOfficeAuthError) as e:
                self._out_of_reach(e)  # the result is kept: acknowledged at the next fetch
                return False
            except BackOfficeError as e:  # this one refused (a forged id has no row there)
                log.warning(
                    "fleet: the acknowledgement of command %d was refused: %s", command.id, e
                )
        return True

    def _out_of_reach(self, error: BackOfficeError) -> None:
        with self._lock:
            self._failed += 1
            first = self._out_since is None
            if first:
                self._out_since = self._monotonic()
            repeat = not first and type(error) is self._said
            self._said = type(error)
        if repeat:
            log.debug("fleet: the back office is still out of reach: %s", error)
            return
        log.warning(
            "fleet: the back office cannot be reached or refuses this kiosk (%s); heartbeats "
            "go on, less often (up to every %g s), and this is said once until it answers",
            error,
            self.max_backoff_s,
        )

    def _answered(self) -> None:
        with self._lock:
            self._sent += 1
            since, self._out_since, self._said = self._out_since, None, None
        if since is not None:
            log.info(
                "fleet: the back office answers again after %.0f s; heartbeats every %g s",
                self._monotonic() - since,
                self.interval_s,
            )


def build_fleet_agent(
    services: Services,
    client: FleetClient,
    handlers: Mapping[str, Handler],
    *,
    data_dir: Path,
    interval_s: float,
    mode: ModeProvider = KioskMode,
    events: Events | None = None,
    audit_log: AuditLog | None = None,
    max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
) -> FleetAgent:
    """A ``FleetAgent`` for the kiosk whose parts are ``services``, state in
    ``<data_dir>/fleet/``: today's figures counted from ``events`` (the flow's) and the rating
    store, the audit log's entries shipped and audited commands (when ``audit_log`` is given),
    ``handlers`` for the commands (name -> handler(args) -> detail or CommandResult). Not
    started: call ``start()``, and ``stop()`` before the services close."""
    folder = fleet_dir(data_dir)
    today = DayTally.in_folder(folder, ratings=services.ratings)
    if events is not None:
        today.watch(events)
    feed = AuditFeed.in_folder(audit_log, folder) if audit_log is not None else None
    status = StatusReader(services, interval_s=interval_s, mode=mode, today=today, audit=feed)
    runner = CommandRunner(client, handlers, RanCommands.in_folder(folder), audit_log=audit_log)
    return FleetAgent(client, status, runner, interval_s=interval_s, max_backoff_s=max_backoff_s)
