"""The outbox's sender: delivers the stored dossiers to the back office on its own thread.

Oldest first, with exponential backoff and jitter while the back office is down; an answer is
recorded before the next dossier goes, so a dossier reaches the back office exactly once.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.delivery.backoffice import (
    BackOffice,
    BackOfficeError,
    BackOfficeUnavailable,
    IdempotencyConflict,
    SubmissionRejected,
)
from kiosk.delivery.outbox.store import (
    Outbox,
    OutboxEntry,
    OutboxEntryDamaged,
    OutboxError,
    OutboxStatus,
)

log = logging.getLogger(__name__)


Checkpoint = Callable[[str, OutboxEntry], None]


class OutboxSender:
    """Delivers the outbox to a back office on its own thread, oldest first.

    ``checkpoint(name, entry)``, when given, is called at ``"claimed"`` (attempt counted, not
    sent), ``"answered"`` (the back office answered, not yet recorded) and ``"recorded"``: the
    crash tests stop the process there. ``spool_dir`` holds decrypted pages during a send only.
    """

    def __init__(
        self,
        outbox: Outbox,
        backoffice: BackOffice,
        *,
        base_delay_s: float = 2.0,
        max_delay_s: float = 300.0,
        spool_dir: Path | None = None,
        idle_poll_s: float = 5.0,
        sweep_interval_s: float = 600.0,
        rng: random.Random | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        if base_delay_s <= 0 or max_delay_s < base_delay_s:
            raise OutboxError("retry delays: need 0 < base_delay_s <= max_delay_s")
        self.outbox = outbox
        self.backoffice = backoffice
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.spool_dir = spool_dir or outbox.path.with_name(outbox.path.stem + "-spool")
        self.idle_poll_s = idle_poll_s
        self.sweep_interval_s = sweep_interval_s
        self._rng = rng or random.Random()
        self._checkpoint = checkpoint
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._spool_cleaned = False

    # --- lifecycle ---

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the sender thread (a daemon: a hung back office cannot keep the kiosk up)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the thread to stop and wait up to ``timeout`` s; True if it stopped."""
        self._stop.set()
        self.outbox._notify()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        stopped = not self._thread.is_alive()
        if stopped:
            self._thread = None
        return stopped

    def __enter__(self) -> OutboxSender:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        next_sweep = 0.0
        while not self._stop.is_set():
            version = self.outbox.version
            try:
                worked = self.run_once()
                if time.monotonic() >= next_sweep:
                    self.outbox.sweep()
                    next_sweep = time.monotonic() + self.sweep_interval_s
            except Exception:  # noqa: BLE001 - the sender must outlive any one failure
                log.exception("outbox sender: unexpected failure; trying again shortly")
                self._stop.wait(min(self.idle_poll_s, 5.0))
                continue
            if worked:
                continue
            due = self.outbox.seconds_until_due()
            wait = self.idle_poll_s if due is None else min(due, self.idle_poll_s)
            self.outbox.wait_for_change(version, wait)

    # --- one delivery ---

    def backoff_delay(self, attempts: int) -> float:
        """Seconds before retry number ``attempts``: full jitter under an exponential cap."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempts - 1))
        return self._rng.uniform(0.0, ceiling)

    def run_once(self) -> bool:
        """Try the oldest due entry once; False when none is due."""
        if not self._spool_cleaned:
            self._clean_spool()
        entry = self.outbox.next_due()
        if entry is None or entry.id is None:
            return False
        entry_id = entry.id
        if not self.outbox.begin_attempt(entry_id):
            return True  # another sender took it meanwhile
        entry = self.outbox.get(entry_id) or entry
        self._at("claimed", entry)
        try:
            with self.outbox.submission(entry_id, self.spool_dir) as submission:
                result = self.backoffice.submit(submission)
        except OutboxEntryDamaged as e:
            self._park(entry, e, "the stored dossier does not decrypt or is incomplete")
        except (SubmissionRejected, IdempotencyConflict) as e:
            self._park(entry, e, "the back office refused it")
        except BackOfficeUnavailable as e:
            self._retry(entry, e, alert=False)
        except (BackOfficeError, OSError) as e:
            self._retry(entry, e, alert=True)
        except Exception as e:  # noqa: BLE001 - a bug in a client must not lose the dossier
            log.exception("outbox: unexpected error sending %s", entry.reference)
            self._retry(entry, e, alert=True)
        else:
            self._at("answered", entry)
            self.outbox.record_delivered(entry_id, result)
            log.info("outbox: %s delivered as %s", entry.reference, result.dossier_code)
            self._at("recorded", entry)
        return True

    def _at(self, name: str, entry: OutboxEntry) -> None:
        if self._checkpoint is not None:
            self._checkpoint(name, entry)

    def _park(self, entry: OutboxEntry, error: BaseException, why: str) -> None:
        assert entry.id is not None
        log.error("outbox: %s parked, %s: %s", entry.reference, why, error)
        self.outbox.record_failure(entry.id, error, park=True)
        self.outbox.alert(
            f"dossier {entry.reference} ({entry.procedure_code}) is parked: {why} "
            f"({type(error).__name__}); it will not be retried automatically: see "
            "`kiosk outbox status --json`, then `kiosk outbox retry REFERENCE` once fixed"
        )

    def _retry(self, entry: OutboxEntry, error: BaseException, *, alert: bool) -> None:
        assert entry.id is not None
        delay = self.backoff_delay(entry.attempts)
        log.warning(
            "outbox: %s not delivered (attempt %d, %s: %s); next try in %.1f s",
            entry.reference,
            entry.attempts,
            type(error).__name__,
            error,
            delay,
        )
        first = self.outbox.record_failure(entry.id, error, park=False, retry_in_s=delay)
        if alert and first:
            self.outbox.alert(
                f"dossier {entry.reference} cannot be delivered ({type(error).__name__}); the "
                "outbox keeps retrying: check the back-office settings and `kiosk doctor`"
            )

    def _clean_spool(self) -> None:
        """Delete decrypted pages left by a sender process that died mid-send."""
        self._spool_cleaned = True
        if not self.spool_dir.is_dir():
            return
        for folder in self.spool_dir.iterdir():
            pid_text = folder.name.split("-", 1)[0]
            if not pid_text.isdigit() or int(pid_text) == os.getpid():
                continue
            try:
                os.kill(int(pid_text), 0)
                continue  # that sender is alive
            except ProcessLookupError:
                pass
            except OSError:
                continue
            shutil.rmtree(folder, ignore_errors=True)

    # --- flush ---

    def flush(self, timeout: float) -> OutboxStatus:
        """Try every pending dossier now and wait up to ``timeout`` s for none to be pending.

        Works with the thread started (waits for it) or not (sends on the calling thread).
        """
        deadline = time.monotonic() + timeout
        self.outbox.make_due()
        while True:
            version = self.outbox.version
            if not self.running and time.monotonic() < deadline and self.run_once():
                continue
            status = self.outbox.status()
            remaining = deadline - time.monotonic()
            if status.pending == 0 or remaining <= 0:
                return status
            wait = min(remaining, 0.5)
            if not self.running:
                due = self.outbox.seconds_until_due()
                wait = min(remaining, due if due is not None else remaining)
            self.outbox.wait_for_change(version, wait)
