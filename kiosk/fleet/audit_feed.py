"""The staff audit log (kiosk/staff/audit.py) as the heartbeat carries it to the back office.

Each heartbeat carries the entries after the last one the back office confirmed (at most
``MAX_ENTRIES_PER_BEAT``, oldest first; the rest go with the next beats). The back office
stores them, checks that they continue the chain it holds, and answers
``audit_received_through: <seq>``; ``confirm(seq)`` keeps that mark in
``<data_dir>/fleet/audit_mark.json``. The back office's mark is the truth: one lower than ours
(its database restored from a backup, say) sends the entries after it again.

The same read counts the wrong PINs of the last hour (``staff.pin_failed`` entries) for the
fleet page's "repeated PIN failures" alert. Entries hold no personal data: the audit log
refuses PINs, names and ID numbers in them.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from kiosk.fleet.state_file import load_state, save_state
from kiosk.infra.clock import now_vietnam
from kiosk.staff.audit import AuditLog
from kiosk.staff.errors import AuditLogError

log = logging.getLogger(__name__)

MARK_FILE: Final = "audit_mark.json"
MAX_ENTRIES_PER_BEAT: Final = 200
PIN_FAILED: Final = "staff.pin_failed"
PIN_WINDOW: Final = timedelta(hours=1)
_MAX_REMEMBERED_FAILURES: Final = 10_000


@dataclass(frozen=True)
class AuditReading:
    """What one read of the log gives the heartbeat."""

    entries: list[dict[str, Any]]
    pin_failures_last_hour: int


class AuditFeed:
    """One kiosk's audit log, read for the heartbeat; safe from any thread."""

    def __init__(
        self,
        audit_log: AuditLog,
        mark_path: Path,
        *,
        clock: Callable[[], datetime] = now_vietnam,
    ) -> None:
        self.audit_log = audit_log
        self.mark_path = Path(mark_path)
        self._clock = clock
        self._lock = threading.Lock()
        self._mark = max(0, int(load_state(self.mark_path).get("received_through", 0) or 0))
        self._scanned = 0
        self._failures: deque[datetime] = deque(maxlen=_MAX_REMEMBERED_FAILURES)

    @classmethod
    def in_folder(cls, audit_log: AuditLog, folder: Path, **kwargs: Any) -> AuditFeed:
        """The feed whose mark is kept in ``folder/audit_mark.json``."""
        return cls(audit_log, Path(folder) / MARK_FILE, **kwargs)

    @property
    def received_through(self) -> int:
        """The last entry the back office confirmed (0: none yet)."""
        return self._mark

    def read(self, limit: int = MAX_ENTRIES_PER_BEAT) -> AuditReading:
        """The entries to send (after the mark, at most ``limit``) and the PIN failures of the
        last hour. A log that cannot be read sends nothing this time (logged)."""
        with self._lock:
            since = min(self._mark, self._scanned)
            try:
                found = self.audit_log.entries_since(since)
            except AuditLogError as e:
                log.warning("fleet: the audit log cannot be read: %s", e)
                found = []
            for entry in found:
                if entry.seq <= self._scanned:
                    continue
                self._scanned = entry.seq
                if entry.action == PIN_FAILED:
                    moment = _moment(entry.at)
                    if moment is not None:
                        self._failures.append(moment)
            horizon = self._clock() - PIN_WINDOW
            while self._failures and self._failures[0] < horizon:
                self._failures.popleft()
            to_send = [e.to_dict() for e in found if e.seq > self._mark][: max(0, limit)]
            recent = sum(1 for moment in self._failures if moment >= horizon)
            return AuditReading(to_send, recent)

    def confirm(self, received_through: int) -> None:
        """The back office holds every entry up to ``received_through``: keep the mark."""
        seq = max(0, int(received_through))
        with self._lock:
            if seq == self._mark:
                return
            if seq < self._mark:
                log.warning(
                    "fleet: the back office holds the audit log up to entry %d only (this kiosk "
                    "thought %d): sending again from there",
                    seq,
                    self._mark,
                )
            self._mark = seq
            try:
                save_state(self.mark_path, {"received_through": seq})
            except OSError as e:
                log.warning("fleet: %s cannot be written: %s", self.mark_path, e)


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
