"""The durable outbox: a dossier is on the kiosk's disk, encrypted, before the citizen is told
"submitted", and reaches the back office exactly once whatever happens to the network, the back
office or the kiosk's power.

``Outbox.put(submission)`` stores the whole dossier (declaration and every attachment page) in
one SQLite transaction and returns an ``OutboxEntry``: a provisional reference the receipt can
print (``KIOSK-01-261124-000123``: kiosk id, day, six-digit daily sequence) and the dossier's
idempotency key. ``OutboxSender`` is a thread that delivers entries oldest first with that key
and records the back office's answer.

Storage and durability
    One SQLite file (WAL, ``synchronous=FULL``: the WAL is fsynced at every commit; opened,
    checked, written and quarantined by kiosk/infra/sqlite_store.py, as the other stores). The
    attachments are BLOBs in the same database, not files beside it: a dossier and its pages
    are then written by one atomic commit and one fsync, a crash leaves either the whole entry
    or nothing (no orphan or half-written file to find and clean up), ``integrity_check`` and
    the key check cover everything, and purging is one DELETE. The cost, the pages passing
    through the WAL before the main file, is small at a kiosk's volume (a few MB per dossier;
    see bench/submit.py). ``secure_delete`` overwrites purged pages.

States (table ``entries``)
    ``pending`` → ``delivered`` when the back office answered; the answer is stored in the same
    transaction that changes the state, so "delivered" always has a dossier code. A crash
    after the back office stored the dossier but before the kiosk recorded the answer leaves it
    pending: it is sent again with the same idempotency key and the back office answers the
    first code. ``pending`` → ``parked`` when the back office refuses it (SubmissionRejected,
    IdempotencyConflict): never retried automatically, staff are alerted and may ``requeue``
    it. BackOfficeUnavailable (and any other failure) is retried with exponential backoff and
    full jitter: the n-th retry waits uniform(0, min(cap, base·2^(n-1))) seconds. Attempts,
    the last error and the next attempt time are columns, so a restart continues the schedule.
    When the back office answers again, every waiting entry becomes due at once.

Encryption at rest (kiosk/delivery/outbox/crypto.py)
    AES-256-GCM per blob, random 96-bit nonce, associated data = entry id + blob name. The key
    comes from ``KIOSK_OUTBOX_KEY`` or a key file (``load_outbox_key``), never from the repo.
    Error texts, which may quote the dossier, are sealed too; the plain columns hold only the
    reference, the key, the procedure code, timestamps and the back office's answer.

Delivered dossiers
    ``purge_delivered(entry_id)`` deletes a delivered dossier once its receipt is printed (or
    as soon as it is delivered, if asked while still pending); ``sweep`` purges delivered
    dossiers older than ``purge_after_hours`` anyway. The answer (reference → dossier code,
    appointment date, fee; no personal data) stays in table ``delivered`` for
    ``keep_codes_days``.

How a citizen learns the final code when the back office was down
    The receipt is printed at once with the provisional reference (``provisional_result``):
    the reference is printed and is the QR's ``dossier_code``, marked "provisional". When the
    sender delivers the dossier, the back office's code is recorded against that reference.
    At the kiosk's look-up (scan the QR or type the reference) ``Outbox.find(reference)``
    gives the final code, whose status then comes from the back office; until delivery it
    says the dossier is still waiting to be sent. The mapping lives in the kiosk that took the
    dossier for ``keep_codes_days``. This project sends no SMS: a back office that wants to
    notify the citizen can use the phone number of the declaration, when the form has one.

A damaged outbox
    At open: a file that is not a database, a failed ``integrity_check`` or an entry that does
    not decrypt under the right key is moved aside as ``outbox.corrupt-<time>.sqlite`` (with
    its -wal and -shm, and a ``.reason`` file; nothing is deleted), staff are alerted (callback
    and log ERROR), a fresh outbox is built beside it, every entry of the old file that still
    reads and decrypts is copied into it under its own reference and key (salvage), and it is
    renamed into place complete. The kiosk keeps serving; another process that had the file
    open reconnects to the fresh one. A wrong key is not damage: the open fails with
    ``OutboxKeyError`` and the file is left exactly as it was.

Full disk
    ``put`` either commits the whole entry or raises ``OutboxFull`` / ``OutboxNotSaved`` with
    nothing written (SQLite rolls the transaction back). ``max_bytes`` caps the file through
    ``PRAGMA max_page_count`` (so the outbox never fills the disk the kiosk needs); the tests
    use it and ``RLIMIT_FSIZE`` in a subprocess to simulate a full disk without root.

Exceptions::

    KioskError
     └── OutboxError              (operator) the outbox cannot be opened or used
          ├── OutboxKeyError      no key, a malformed key, or not the key the outbox was
          │                       written with (entries kept untouched)
          ├── OutboxEntryDamaged  a stored dossier stopped decrypting after the open: the
          │                       sender parks it and alerts staff
          ├── OutboxDuplicateKey  (kiosk bug) an idempotency key put twice with another dossier
          └── OutboxNotSaved      (citizen) the dossier could not be saved; nothing was stored
               ├── OutboxFull     the disk, or the outbox's size cap, is full
               └── OutboxTooLarge (citizen) the attachments exceed ``max_entry_bytes``

SQLite errors are converted here; ``BlobError`` from kiosk/delivery/outbox/crypto.py never leaks
out.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from devices.base import Health
from kiosk.delivery.outbox.crypto import (
    BlobError,
    KeyFormatError,
    OutboxCipher,
    encode_key,
    generate_key,
    parse_key,
)
from kiosk.dossier.model import Applicant, Attachment, DossierSubmission, SubmissionResult
from kiosk.dossier.workdays import HolidayCalendar, add_working_days
from kiosk.errors import KioskError
from kiosk.infra.clock import VIETNAM_TZ, now_vietnam, to_vietnam_time
from kiosk.infra.durable import fsync_dir
from kiosk.infra.sqlite_store import SqliteStore, run_script, transaction

log = logging.getLogger(__name__)


ENV_KEY = "KIOSK_OUTBOX_KEY"


SCHEMA_VERSION = 1


DEFAULT_MAX_ENTRY_BYTES = 64 * 1024 * 1024


_REFERENCE_RE = re.compile(r"^(?P<kiosk>[A-Za-z0-9._-]{1,64})-(?P<day>[0-9]{6})-(?P<seq>[0-9]{6})$")


_KIOSK_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


_MAX_SEQ = 999_999


_DOSSIER_BLOB = "dossier"


_ERROR_BLOB = "error"


_DUE_SLACK_S = 0.001  # times go through datetimes (microseconds): a float may come back lower


MSG_NOT_SAVED = "Your dossier could not be saved at this kiosk. Please go to the counter for help."


MSG_TOO_LARGE = (
    "The scanned documents are too large to be saved. Please go to the counter for help."
)


# For the look-up screen, when a provisional reference is still waiting in the outbox.
MSG_STILL_WAITING = (
    "Your dossier is kept safely at this kiosk and will be sent automatically. Its final code "
    "is not known yet: please look it up again later."
)


class OutboxError(KioskError):
    """The outbox cannot be opened or used."""


class OutboxKeyError(OutboxError):
    """No key, a malformed key, or not the key the outbox was written with."""


class OutboxEntryDamaged(OutboxError):
    """A stored dossier does not decrypt or misses a page (found after the open)."""


class OutboxDuplicateKey(OutboxError):
    """An idempotency key already in the outbox, put again with a different dossier."""


class OutboxNotSaved(OutboxError):
    """The dossier could not be stored; nothing of it was written."""

    msgid = MSG_NOT_SAVED


class OutboxFull(OutboxNotSaved):
    """The disk, or the outbox's size cap, is full."""


class OutboxTooLarge(OutboxNotSaved):
    """The dossier's attachments exceed the outbox's per-dossier limit."""

    msgid = MSG_TOO_LARGE


def load_outbox_key(env: Mapping[str, str] | None, key_file: Path | None) -> bytes:
    """The outbox key: ``KIOSK_OUTBOX_KEY`` (base64 of 32 bytes) if set, else ``key_file``.

    When neither holds a key, a new random key is written to ``key_file`` (mode 0600, created
    atomically) and the log says so: that file must then be kept (and backed up) with the
    kiosk's other secrets, because the outbox cannot be read without it.
    """
    env = os.environ if env is None else env
    text = env.get(ENV_KEY, "")
    if text.strip():
        try:
            return parse_key(text)
        except KeyFormatError as e:
            raise OutboxKeyError(
                f"env {ENV_KEY}: {e}; expected the base64 text of 32 random bytes, e.g. from "
                "`python -c 'import os, base64; print(base64.b64encode(os.urandom(32)).decode())'`"
            ) from None
    if key_file is None:
        raise OutboxKeyError(f"no outbox key: set {ENV_KEY} or [outbox] key_file")
    key_file = Path(key_file)
    try:
        stored = key_file.read_text(encoding="ascii")
    except FileNotFoundError:
        return _create_key_file(key_file)
    except (OSError, UnicodeDecodeError) as e:
        raise OutboxKeyError(f"outbox key file {key_file}: cannot be read: {e}") from None
    _warn_if_exposed(key_file)
    try:
        return parse_key(stored)
    except KeyFormatError as e:
        raise OutboxKeyError(
            f"outbox key file {key_file}: {e}; it must hold the base64 text of 32 random bytes"
        ) from None


def _warn_if_exposed(key_file: Path) -> None:
    try:
        mode = key_file.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        log.warning(
            "outbox key file %s can be read by other users (mode %o): chmod 600 it",
            key_file,
            mode & 0o777,
        )


def _create_key_file(key_file: Path) -> bytes:
    key = generate_key()
    try:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".outbox-key-", dir=key_file.parent)  # mode 0600
        try:
            os.write(fd, (encode_key(key) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, key_file)  # atomic; fails if another process made one meanwhile
        except FileExistsError:
            return load_outbox_key({}, key_file)
        finally:
            os.unlink(tmp)
        fsync_dir(key_file.parent)
    except OSError as e:
        raise OutboxKeyError(f"cannot create the outbox key file {key_file}: {e}") from None
    log.warning(
        "No outbox key was configured: created a new random key in %s (mode 0600). The outbox "
        "can only be read with this key: keep and back it up with the kiosk's other secrets, "
        "or give your own with %s (base64 of 32 random bytes) or [outbox] key_file. Never put "
        "a key in the repository.",
        key_file,
        ENV_KEY,
    )
    return key


def format_reference(kiosk_id: str, day: date, seq: int) -> str:
    """``<kiosk id>-<YYMMDD>-<NNNNNN>``, e.g. ``KIOSK-01-261124-000123``."""
    return f"{kiosk_id}-{day:%y%m%d}-{seq:06d}"


def is_provisional_reference(text: object) -> bool:
    """True for text shaped like a provisional reference (a dossier code has 4 digits at the end,
    a reference 6, so the two cannot be confused)."""
    return isinstance(text, str) and bool(_REFERENCE_RE.match(text.strip()))


class EntryState(StrEnum):
    """Where a dossier is in the outbox."""

    PENDING = "pending"
    DELIVERED = "delivered"
    PARKED = "parked"


@dataclass(frozen=True)
class OutboxEntry:
    """One dossier of the outbox. ``id`` is None once a delivered dossier was purged (only its
    answer is kept); ``result`` is the back office's answer once delivered."""

    id: int | None
    reference: str
    idempotency_key: str
    procedure_code: str
    state: EntryState
    created_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error_kind: str | None = None
    last_error: str | None = None
    result: SubmissionResult | None = None
    delivered_at: datetime | None = None

    @property
    def purged(self) -> bool:
        """True when only the answer is left."""
        return self.id is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for staff tools: ``last_error`` may quote the dossier)."""
        return {
            "id": self.id,
            "reference": self.reference,
            "idempotency_key": self.idempotency_key,
            "procedure_code": self.procedure_code,
            "state": self.state.value,
            "created_at": _iso(self.created_at),
            "attempts": self.attempts,
            "next_attempt_at": _iso(self.next_attempt_at),
            "last_error_kind": self.last_error_kind,
            "last_error": self.last_error,
            "result": self.result.to_dict() if self.result else None,
            "delivered_at": _iso(self.delivered_at),
        }


@dataclass(frozen=True)
class OutboxStatus:
    """Counts for ``kiosk outbox status`` and monitoring."""

    pending: int
    delivered: int  # answers kept (delivered in the last keep_codes_days)
    parked: int
    awaiting_purge: int  # delivered dossiers whose content is still stored
    oldest_pending_age_s: float | None
    next_attempt_in_s: float | None
    parked_references: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "pending": self.pending,
            "delivered": self.delivered,
            "parked": self.parked,
            "awaiting_purge": self.awaiting_purge,
            "oldest_pending_age_s": _round(self.oldest_pending_age_s),
            "next_attempt_in_s": _round(self.next_attempt_in_s),
            "parked_references": self.parked_references,
            "quarantined": self.quarantined,
        }


@dataclass(frozen=True)
class SweepResult:
    """What ``Outbox.sweep`` removed."""

    purged: int
    forgotten: int


def provisional_result(
    entry: OutboxEntry, processing_days: int, fee_vnd: int, holidays: HolidayCalendar
) -> SubmissionResult:
    """What a receipt printed before the back office answered shows: the provisional reference
    as the code, the kiosk's own appointment estimate and the catalog's fee."""
    received = entry.created_at or now_vietnam()
    return SubmissionResult(
        dossier_code=entry.reference,
        received_at=received,
        appointment_date=add_working_days(received, processing_days, holidays),
        fee_vnd=fee_vnd,
        provisional=True,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    reference         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    idempotency_key   TEXT NOT NULL UNIQUE,
    fingerprint       TEXT NOT NULL,
    procedure_code    TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'parked')),
    created_at        TEXT NOT NULL,
    created_ts        REAL NOT NULL,
    size_bytes        INTEGER NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_attempt_ts   REAL,
    next_attempt_ts   REAL,
    last_error_kind   TEXT,
    alerted           INTEGER NOT NULL DEFAULT 0,
    result            TEXT,
    delivered_ts      REAL,
    purge_on_delivery INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entries_due ON entries(state, next_attempt_ts, id);
CREATE TABLE IF NOT EXISTS blobs (
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    sealed   BLOB NOT NULL,
    PRIMARY KEY (entry_id, name)
);
CREATE TABLE IF NOT EXISTS delivered (
    reference       TEXT PRIMARY KEY COLLATE NOCASE,
    idempotency_key TEXT NOT NULL,
    procedure_code  TEXT NOT NULL,
    created_at      TEXT,
    result          TEXT NOT NULL,
    delivered_ts    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS delivered_by_time ON delivered(delivered_ts);
CREATE TABLE IF NOT EXISTS reference_days (
    day      TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);
"""


_TABLES = {"meta", "entries", "blobs", "delivered", "reference_days"}


_ENTRY_COLUMNS = (
    "id, reference, idempotency_key, procedure_code, state, created_at, attempts, "
    "next_attempt_ts, last_error_kind, result, delivered_ts"
)


def _page_blob(attachment: int, page: int) -> str:
    return f"attachment/{attachment}/page/{page}"


@dataclass(frozen=True)
class _Page:
    blob: str
    name: str
    data: bytes


class Outbox:
    """The outbox on one SQLite file; safe across threads and processes.

    ``alert`` receives one-line messages for staff (no personal data); ``clock`` gives the
    time (timezone-aware; Vietnam time for references). ``max_bytes`` caps the file size.
    """

    def __init__(
        self,
        path: Path,
        key: bytes,
        kiosk_id: str,
        *,
        alert: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = now_vietnam,
        max_bytes: int | None = None,
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
        purge_after_hours: float = 24.0,
        keep_codes_days: float = 90.0,
    ) -> None:
        if not _KIOSK_ID_RE.match(kiosk_id or ""):
            raise OutboxError(f"kiosk id {kiosk_id!r}: 1 to 64 of A-Z a-z 0-9 . _ -")
        try:
            self._cipher = OutboxCipher(key)
        except KeyFormatError as e:
            raise OutboxKeyError(str(e)) from None
        self.path = Path(path)
        self.kiosk_id = kiosk_id
        self._alert = alert
        self._clock = clock
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.purge_after = timedelta(hours=purge_after_hours)
        self.keep_codes = timedelta(days=keep_codes_days)
        self._changed = threading.Condition()
        self._version = 0
        self._db = SqliteStore(
            self.path,
            label="outbox",
            prepare=self._create_schema,
            check=self._check_existing,
            salvage=self._salvage,
            configure=self._configure,
            alert=self._raise_alert,
            clock=self._now,
            busy_timeout_s=30.0,
            unavailable=OutboxError,
            locked=OutboxError,
        )
        self._db.open()

    @property
    def quarantined(self) -> Path | None:
        """Where the damaged file found at the open was moved; None if the file was sound."""
        return self._db.quarantined

    # --- connections and transactions (kiosk/infra/sqlite_store.py) ---

    def _configure(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA secure_delete=ON")
        if self.max_bytes is not None:
            (page_size,) = conn.execute("PRAGMA page_size").fetchone()
            conn.execute(f"PRAGMA max_page_count={max(1, int(self.max_bytes // page_size))}")

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._db.query(sql, params)

    def close(self) -> None:
        """Close every connection this object opened."""
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> datetime:
        return to_vietnam_time(self._clock())

    # --- change notification (the sender wakes on put) ---

    @property
    def version(self) -> int:
        """A counter that moves whenever this process changes the outbox."""
        with self._changed:
            return self._version

    def _notify(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait_for_change(self, version: int, timeout: float) -> int:
        """Wait up to ``timeout`` seconds unless the outbox changed since ``version``."""
        with self._changed:
            if self._version == version and timeout > 0:
                self._changed.wait(timeout)
            return self._version

    # --- opening: check, quarantine, salvage ---

    def _check_existing(self, conn: sqlite3.Connection) -> str | None:
        """None when the file (sound to SQLite) is a sound outbox; what is wrong when it is
        damaged (it is then quarantined).

        Raises OutboxKeyError for a file written with another key and OutboxError for one of a
        newer version: neither is damage, and the file is left as it is.
        """
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if not tables & _TABLES:
            return None  # an empty database: the schema is created next
        if not tables >= _TABLES:
            return f"tables missing: {', '.join(sorted(_TABLES - tables))}"
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        version = int(meta.get("schema_version", 0) or 0)
        if version > SCHEMA_VERSION:
            raise OutboxError(
                f"outbox {self.path} was written by a newer version (schema {version})"
            )
        key_check = meta.get("key_check")
        if not isinstance(key_check, bytes):
            return "the key check is missing"
        if not self._cipher.matches(key_check):
            raise OutboxKeyError(
                f"outbox {self.path} was written with another key: give the key it was "
                f"written with ({ENV_KEY} or [outbox] key_file); its entries are kept as "
                "they are"
            )
        bad = self._undecryptable(conn)
        if bad:
            return f"{len(bad)} entr{'y' if len(bad) == 1 else 'ies'} do not decrypt: " + (
                ", ".join(bad[:10])
            )
        return None

    def _undecryptable(self, conn: sqlite3.Connection) -> list[str]:
        """References of entries whose blobs are missing or do not open with this key."""
        bad: list[str] = []
        for entry_id, reference, state in conn.execute(
            "SELECT id, reference, state FROM entries ORDER BY id"
        ).fetchall():
            blobs = conn.execute(
                "SELECT name, sealed FROM blobs WHERE entry_id = ?", (entry_id,)
            ).fetchall()
            try:
                opened = {name: self._cipher.open(entry_id, name, s) for name, s in blobs}
                if state != EntryState.DELIVERED:
                    _check_blobs(opened)
            except (BlobError, ValueError, KeyError):
                bad.append(reference)
        return bad

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        run_script(conn, _SCHEMA)
        conn.executemany(
            "INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)",
            [
                ("schema_version", SCHEMA_VERSION),
                ("key_check", self._cipher.key_check()),
                ("kiosk_id", self.kiosk_id),
            ],
        )

    def _salvage(
        self, old: sqlite3.Connection | None, target: Path, fresh: sqlite3.Connection
    ) -> str:
        """Copy what still reads from the quarantined file into the fresh one; a summary."""
        recovered: list[str] = []
        lost: list[str] = []
        max_seq = 0
        today = self._now().date()
        if old is not None:
            max_seq = self._salvage_entries(old, fresh, today, recovered, lost)
            max_seq = max(max_seq, self._salvage_delivered(old, fresh, today))
        # References issued today by the old file must not be issued again. Unread ones are
        # below this floor: a kiosk cannot have taken ten dossiers a second since midnight.
        now = self._now()
        since_midnight = now.hour * 3600 + now.minute * 60 + now.second
        floor = max(max_seq, min(since_midnight * 10, _MAX_SEQ // 2))
        with transaction(fresh) as conn:
            conn.execute(
                "INSERT INTO reference_days (day, last_seq) VALUES (?, ?) "
                "ON CONFLICT (day) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
                (today.isoformat(), floor),
            )
        summary = f"{len(recovered)} waiting dossier(s) recovered"
        if lost:
            summary += f"; NOT recovered: {', '.join(lost[:20])}"
        return summary

    def _salvage_entries(
        self,
        old: sqlite3.Connection,
        fresh: sqlite3.Connection,
        today: date,
        recovered: list[str],
        lost: list[str],
    ) -> int:
        max_seq = 0
        try:
            rows = old.execute(
                "SELECT id, reference, idempotency_key, fingerprint, procedure_code, state, "
                "created_at, created_ts, size_bytes, attempts, last_error_kind FROM entries "
                "ORDER BY id"
            ).fetchall()
        except sqlite3.Error as e:
            lost.append(f"(the list of entries is unreadable: {e})")
            return 0
        for row in rows:
            old_id, reference, key, fingerprint, procedure, state = row[:6]
            max_seq = max(max_seq, _seq_of(reference, today))
            if state == EntryState.DELIVERED:
                continue
            try:
                blobs = {
                    name: self._cipher.open(old_id, name, sealed)
                    for name, sealed in old.execute(
                        "SELECT name, sealed FROM blobs WHERE entry_id = ?", (old_id,)
                    )
                }
                _check_blobs(blobs)
                with transaction(fresh) as conn:
                    exists = conn.execute(
                        "SELECT 1 FROM entries WHERE idempotency_key = ?", (key,)
                    ).fetchone()
                    if exists is None:
                        self._insert(
                            conn,
                            reference=reference,
                            key=key,
                            fingerprint=fingerprint,
                            procedure_code=procedure,
                            state=EntryState(state),
                            created_at=row[6],
                            created_ts=row[7],
                            size_bytes=row[8],
                            attempts=row[9],
                            error_kind=row[10],
                            blobs=blobs,
                        )
            except (sqlite3.Error, BlobError, ValueError, KeyError):
                lost.append(str(reference))
                continue
            recovered.append(str(reference))
        return max_seq

    def _salvage_delivered(
        self, old: sqlite3.Connection, fresh: sqlite3.Connection, today: date
    ) -> int:
        max_seq = 0
        try:
            rows = old.execute(
                "SELECT reference, idempotency_key, procedure_code, created_at, result, "
                "delivered_ts FROM delivered"
            ).fetchall()
            with transaction(fresh) as conn:
                for row in rows:
                    max_seq = max(max_seq, _seq_of(row[0], today))
                    conn.execute("INSERT OR IGNORE INTO delivered VALUES (?, ?, ?, ?, ?, ?)", row)
        except sqlite3.Error:
            pass
        return max_seq

    def _raise_alert(self, message: str) -> None:
        log.error("STAFF ALERT (outbox %s): %s", self.path, message)
        if self._alert is not None:
            try:
                self._alert(message)
            except Exception:  # noqa: BLE001 - an alert channel must not break the outbox
                log.exception("outbox alert callback failed")

    # --- put ---

    def put(self, submission: DossierSubmission) -> OutboxEntry:
        """Store the whole dossier durably and return its entry (provisional reference, key).

        Idempotent on ``submission.idempotency_key``: the same dossier again returns the first
        entry; another dossier under the same key raises OutboxDuplicateKey. On failure nothing
        is stored and OutboxNotSaved (or OutboxFull / OutboxTooLarge) says why.
        """
        pages = self._read_pages(submission)
        body = submission.to_dict()
        for i, attachment in enumerate(body["attachments"]):
            attachment["pages"] = [
                {"blob": _page_blob(i, n), "name": Path(p).name}
                for n, p in enumerate(attachment["pages"], start=1)
            ]
        dossier_json = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
        fingerprint = self._fingerprint(body, pages)
        blobs = {_DOSSIER_BLOB: dossier_json, **{p.blob: p.data for p in pages}}
        size = sum(len(b) for b in blobs.values())
        now = self._now()

        def op(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT id, fingerprint FROM entries WHERE idempotency_key = ?",
                (submission.idempotency_key,),
            ).fetchone()
            if row is not None:
                if row[1] != fingerprint:
                    raise OutboxDuplicateKey(
                        f"idempotency key {submission.idempotency_key} is already in the "
                        "outbox with a different dossier"
                    )
                return int(row[0])
            return self._insert(
                conn,
                reference=self._next_reference(conn, now.date()),
                key=submission.idempotency_key,
                fingerprint=fingerprint,
                procedure_code=submission.procedure_code,
                state=EntryState.PENDING,
                created_at=now.isoformat(),
                created_ts=now.timestamp(),
                size_bytes=size,
                attempts=0,
                error_kind=None,
                blobs=blobs,
            )

        try:
            entry_id = self._db.write(op, doing="the dossier could not be written")
        except (OutboxNotSaved, OutboxDuplicateKey):
            raise
        except OutboxError as e:  # SQLite failed, or the file cannot even be opened now
            raise self._not_saved(e) from e
        self._notify()
        entry = self._entry_by_id(entry_id)
        assert entry is not None
        return entry

    def _read_pages(self, submission: DossierSubmission) -> list[_Page]:
        total = 0
        pages: list[_Page] = []
        for i, attachment in enumerate(submission.attachments):
            for n, path in enumerate(attachment.pages, start=1):
                try:
                    size = Path(path).stat().st_size
                    total += size
                    if total > self.max_entry_bytes:
                        raise OutboxTooLarge(
                            f"the attachments exceed {self.max_entry_bytes} bytes "
                            f"(at {attachment.requirement_id} page {n}, {size} bytes)"
                        )
                    data = Path(path).read_bytes()
                except OSError as e:
                    raise OutboxNotSaved(
                        f"cannot read attachment {attachment.requirement_id} page {n} "
                        f"({path}): {e.strerror or e}"
                    ) from e
                pages.append(_Page(_page_blob(i, n), Path(path).name, data))
        return pages

    def _fingerprint(self, body: dict[str, Any], pages: list[_Page]) -> str:
        digests = {p.blob: self._cipher.fingerprint(p.data) for p in pages}
        content = json.loads(json.dumps(body))
        content.pop("idempotency_key", None)
        for attachment in content["attachments"]:
            attachment["pages"] = [digests[p["blob"]] for p in attachment["pages"]]
        canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return self._cipher.fingerprint(canonical.encode("utf-8"))

    def _next_reference(self, conn: sqlite3.Connection, day: date) -> str:
        (seq,) = conn.execute(
            "INSERT INTO reference_days (day, last_seq) VALUES (?, 1) "
            "ON CONFLICT (day) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
            (day.isoformat(),),
        ).fetchone()
        if seq > _MAX_SEQ:
            raise OutboxNotSaved(f"the outbox has issued {_MAX_SEQ} references on {day}")
        return format_reference(self.kiosk_id, day, seq)

    def _insert(
        self,
        conn: sqlite3.Connection,
        *,
        reference: str,
        key: str,
        fingerprint: str,
        procedure_code: str,
        state: EntryState,
        created_at: str,
        created_ts: float,
        size_bytes: int,
        attempts: int,
        error_kind: str | None,
        blobs: Mapping[str, bytes],
    ) -> int:
        cur = conn.execute(
            "INSERT INTO entries (reference, idempotency_key, fingerprint, procedure_code, "
            "state, created_at, created_ts, size_bytes, attempts, next_attempt_ts, "
            "last_error_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                reference,
                key,
                fingerprint,
                procedure_code,
                state.value,
                created_at,
                created_ts,
                size_bytes,
                attempts,
                created_ts if state is EntryState.PENDING else None,
                error_kind,
            ),
        )
        entry_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO blobs (entry_id, name, sealed) VALUES (?, ?, ?)",
            [
                (entry_id, name, self._cipher.seal(entry_id, name, data))
                for name, data in blobs.items()
            ],
        )
        return entry_id

    def _not_saved(self, err: OutboxError) -> OutboxNotSaved:
        cause = err.__cause__
        if getattr(cause, "sqlite_errorname", "") == "SQLITE_FULL":
            return OutboxFull(f"outbox {self.path} is full: {cause}")
        return OutboxNotSaved(str(err))

    # --- reading entries ---

    def _entry_from_row(self, row: tuple[Any, ...], error: str | None) -> OutboxEntry:
        eid, reference, key, procedure, state, created_at, attempts = row[:7]
        next_ts, kind, result, dts = row[7:]
        return OutboxEntry(
            id=eid,
            reference=reference,
            idempotency_key=key,
            procedure_code=procedure,
            state=EntryState(state),
            created_at=datetime.fromisoformat(created_at) if created_at else None,
            attempts=attempts,
            next_attempt_at=self._moment(next_ts),
            last_error_kind=kind,
            last_error=error,
            result=SubmissionResult.from_dict(json.loads(result)) if result else None,
            delivered_at=self._moment(dts),
        )

    @staticmethod
    def _moment(ts: float | None) -> datetime | None:
        return None if ts is None else datetime.fromtimestamp(ts, VIETNAM_TZ)

    def _error_text(self, entry_id: int) -> str | None:
        rows = self._read(
            "SELECT sealed FROM blobs WHERE entry_id = ? AND name = ?", (entry_id, _ERROR_BLOB)
        )
        if not rows:
            return None
        try:
            return self._cipher.open(entry_id, _ERROR_BLOB, rows[0][0]).decode("utf-8")
        except (BlobError, UnicodeDecodeError):
            return "(the error text does not decrypt)"

    def _entry_by_id(self, entry_id: int) -> OutboxEntry | None:
        rows = self._read(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE id = ?", (entry_id,))
        return self._entry_from_row(rows[0], self._error_text(entry_id)) if rows else None

    def get(self, entry_id: int) -> OutboxEntry | None:
        """The entry with this id, or None (unknown, or delivered and purged)."""
        return self._entry_by_id(entry_id)

    def find(self, reference: str) -> OutboxEntry | None:
        """The entry of a provisional reference (typed or scanned; case and spaces forgiven),
        also after its content was purged, as long as its answer is kept; None if unknown."""
        ref = reference.strip()
        rows = self._read(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE reference = ?", (ref,))
        if rows:
            return self._entry_from_row(rows[0], self._error_text(rows[0][0]))
        rows = self._read(
            "SELECT reference, idempotency_key, procedure_code, created_at, result, delivered_ts "
            "FROM delivered WHERE reference = ?",
            (ref,),
        )
        if not rows:
            return None
        reference, key, procedure, created_at, result, dts = rows[0]
        return OutboxEntry(
            id=None,
            reference=reference,
            idempotency_key=key,
            procedure_code=procedure,
            state=EntryState.DELIVERED,
            created_at=datetime.fromisoformat(created_at) if created_at else None,
            result=SubmissionResult.from_dict(json.loads(result)),
            delivered_at=self._moment(dts),
        )

    def entries(self, state: EntryState | None = None) -> list[OutboxEntry]:
        """The stored entries (oldest first), optionally of one state."""
        where, params = ("WHERE state = ?", (state.value,)) if state else ("", ())
        rows = self._read(f"SELECT {_ENTRY_COLUMNS} FROM entries {where} ORDER BY id", params)
        return [self._entry_from_row(r, self._error_text(r[0])) for r in rows]

    def wait_delivered(self, reference: str, timeout: float) -> OutboxEntry | None:
        """Wait up to ``timeout`` s for the entry to leave ``pending``; its latest state."""
        deadline = time.monotonic() + timeout
        while True:
            version = self.version
            entry = self.find(reference)
            remaining = deadline - time.monotonic()
            if entry is None or entry.state is not EntryState.PENDING or remaining <= 0:
                return entry
            # Another process may deliver it: look again at least every quarter second.
            self.wait_for_change(version, min(remaining, 0.25))

    def status(self) -> OutboxStatus:
        """Counts of pending, delivered and parked dossiers, and the oldest pending age."""
        now = self._now().timestamp()
        counts = dict(self._read("SELECT state, count(*) FROM entries GROUP BY state"))
        (oldest, next_ts) = self._read(
            "SELECT min(created_ts), min(next_attempt_ts) FROM entries WHERE state = 'pending'"
        )[0]
        (delivered,) = self._read("SELECT count(*) FROM delivered")[0]
        parked = [r[0] for r in self._read("SELECT reference FROM entries WHERE state = 'parked'")]
        return OutboxStatus(
            pending=counts.get("pending", 0),
            delivered=delivered,
            parked=counts.get("parked", 0),
            awaiting_purge=counts.get("delivered", 0),
            oldest_pending_age_s=None if oldest is None else max(0.0, now - oldest),
            next_attempt_in_s=None if next_ts is None else max(0.0, next_ts - now),
            parked_references=parked,
            quarantined=self._db.quarantined_files(),
        )

    def health(self) -> Health:
        """For ``kiosk doctor``: not OK while dossiers are parked or a damaged file was kept."""
        try:
            status = self.status()
        except OutboxError as e:
            return Health("outbox", False, str(e))
        age = status.oldest_pending_age_s
        detail = f"{status.pending} pending" + (f" (oldest {age:.0f} s)" if age else "")
        detail += f", {status.delivered} delivered, {status.parked} parked"
        if status.quarantined:
            detail += f"; damaged files kept aside: {', '.join(status.quarantined)}"
        return Health("outbox", status.parked == 0 and not status.quarantined, detail)

    def seconds_until_due(self) -> float | None:
        """Seconds until the next pending entry is due (0 if one is due now); None if none."""
        (next_ts,) = self._read("SELECT min(next_attempt_ts) FROM entries WHERE state = 'pending'")[
            0
        ]
        return None if next_ts is None else max(0.0, next_ts - self._now().timestamp())

    # --- after delivery ---

    def purge_delivered(self, entry_id: int) -> bool:
        """Delete a delivered dossier's content (its receipt is printed); True if done now.

        A dossier still pending is marked to be purged the moment it is delivered; a parked
        one is kept for staff. The answer stays in ``delivered`` for ``keep_codes_days``.
        """

        def op(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT state FROM entries WHERE id = ?", (entry_id,)).fetchone()
            if row is None:
                return False
            if row[0] == EntryState.DELIVERED:
                conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
                return True
            if row[0] == EntryState.PENDING:
                conn.execute("UPDATE entries SET purge_on_delivery = 1 WHERE id = ?", (entry_id,))
            return False

        try:
            return self._db.write(op, doing=f"cannot purge entry {entry_id}")
        finally:
            self._notify()

    def sweep(self) -> SweepResult:
        """Purge delivered dossiers older than ``purge_after_hours`` (receipt never confirmed)
        and forget answers older than ``keep_codes_days``."""
        now = self._now().timestamp()

        def op(conn: sqlite3.Connection) -> tuple[int, int]:
            purged = conn.execute(
                "DELETE FROM entries WHERE state = 'delivered' AND delivered_ts < ?",
                (now - self.purge_after.total_seconds(),),
            ).rowcount
            forgotten = conn.execute(
                "DELETE FROM delivered WHERE delivered_ts < ?",
                (now - self.keep_codes.total_seconds(),),
            ).rowcount
            conn.execute(
                "DELETE FROM reference_days WHERE day < ?",
                ((self._now().date() - timedelta(days=2)).isoformat(),),
            )
            return purged, forgotten

        purged, forgotten = self._db.write(op, doing="sweep failed")
        if purged or forgotten:
            log.info(
                "outbox sweep: %d delivered dossier(s) purged, %d answer(s) forgotten",
                purged,
                forgotten,
            )
        return SweepResult(purged, forgotten)

    def requeue(self, reference: str) -> OutboxEntry:
        """Staff send a parked dossier again (after fixing the cause); it is due at once."""
        now = self._now().timestamp()
        changed = self._db.write(
            lambda conn: (
                conn.execute(
                    "UPDATE entries SET state = 'pending', attempts = 0, next_attempt_ts = ?, "
                    "alerted = 0 WHERE reference = ? AND state = 'parked'",
                    (now, reference.strip()),
                ).rowcount
            ),
            doing=f"cannot requeue {reference}",
        )
        if not changed:
            raise OutboxError(f"{reference.strip()!r} is not a parked dossier of this outbox")
        self._notify()
        entry = self.find(reference)
        assert entry is not None
        return entry

    def make_due(self) -> int:
        """Make every pending entry due now (``flush``); how many are pending."""
        now = self._now().timestamp()
        count: int = self._db.write(
            lambda conn: (
                conn.execute(
                    "UPDATE entries SET next_attempt_ts = ? WHERE state = 'pending'", (now,)
                ).rowcount
            )
        )
        self._notify()
        return count

    # --- the sender's side ---

    def next_due(self) -> OutboxEntry | None:
        """The oldest pending entry whose next attempt is due."""
        rows = self._read(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE state = 'pending' "
            "AND next_attempt_ts <= ? ORDER BY id LIMIT 1",
            (self._now().timestamp() + _DUE_SLACK_S,),
        )
        return self._entry_from_row(rows[0], None) if rows else None

    def begin_attempt(self, entry_id: int) -> bool:
        """Count an attempt before sending (so a crash loop shows); False if not pending."""
        now = self._now().timestamp()
        return self._db.write(
            lambda conn: bool(
                conn.execute(
                    "UPDATE entries SET attempts = attempts + 1, last_attempt_ts = ? "
                    "WHERE id = ? AND state = 'pending'",
                    (now, entry_id),
                ).rowcount
            )
        )

    def _stored(self, entry_id: int) -> tuple[dict[str, Any], dict[str, bytes]]:
        """The stored dossier's JSON and its opened blobs; OutboxEntryDamaged if they do not
        decrypt or a page is missing."""
        rows = self._read("SELECT name, sealed FROM blobs WHERE entry_id = ?", (entry_id,))
        try:
            blobs = {name: self._cipher.open(entry_id, name, sealed) for name, sealed in rows}
            return _check_blobs(blobs), blobs
        except (BlobError, ValueError, KeyError) as e:
            raise OutboxEntryDamaged(f"outbox entry {entry_id}: {e}") from None

    @contextmanager
    def submission(self, entry_id: int, spool_dir: Path) -> Iterator[DossierSubmission]:
        """The stored dossier, its pages decrypted into a private folder under ``spool_dir``
        for the time of the ``with`` block (then deleted)."""
        body, blobs = self._stored(entry_id)
        spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{entry_id}-", dir=spool_dir))
        try:
            attachments = []
            for i, item in enumerate(body["attachments"]):
                paths = []
                for n, page in enumerate(item["pages"], start=1):
                    target = folder / str(i) / str(n) / page["name"]
                    target.parent.mkdir(parents=True)
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(blobs[page["blob"]])
                    paths.append(target)
                attachments.append(
                    Attachment(item["requirement_id"], item["title"], paths, item["on_file_ref"])
                )
            yield _submission_from(body, attachments)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def record_delivered(self, entry_id: int, result: SubmissionResult) -> bool:
        """Store the back office's answer and mark the entry delivered, in one transaction.

        Every other waiting entry becomes due now (the back office answers again). False if
        the entry was no longer pending (another sender recorded it first).
        """
        now = self._now().timestamp()

        def op(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT reference, idempotency_key, procedure_code, created_at, "
                "purge_on_delivery FROM entries WHERE id = ? AND state = 'pending'",
                (entry_id,),
            ).fetchone()
            if row is None:
                return False
            answer = json.dumps(result.to_dict(), ensure_ascii=False)
            if row[4]:
                conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
            else:
                conn.execute(
                    "UPDATE entries SET state = 'delivered', result = ?, delivered_ts = ?, "
                    "next_attempt_ts = NULL, last_error_kind = NULL WHERE id = ?",
                    (answer, now, entry_id),
                )
                conn.execute(
                    "DELETE FROM blobs WHERE entry_id = ? AND name = ?",
                    (entry_id, _ERROR_BLOB),
                )
            conn.execute(
                "INSERT OR REPLACE INTO delivered (reference, idempotency_key, "
                "procedure_code, created_at, result, delivered_ts) VALUES (?, ?, ?, ?, ?, ?)",
                (row[0], row[1], row[2], row[3], answer, now),
            )
            conn.execute(
                "UPDATE entries SET next_attempt_ts = ? "
                "WHERE state = 'pending' AND next_attempt_ts > ?",
                (now, now),
            )
            return True

        if not self._db.write(op, doing="cannot record delivery"):
            return False
        self._notify()
        return True

    def record_failure(
        self,
        entry_id: int,
        error: BaseException,
        *,
        park: bool,
        retry_in_s: float = 0.0,
    ) -> bool:
        """Record a failed attempt: parked for good, or pending again in ``retry_in_s``.

        True the first time this entry is reported (so staff are alerted once per entry).
        """
        now = self._now().timestamp()
        kind = type(error).__name__

        def op(conn: sqlite3.Connection) -> bool | None:
            row = conn.execute(
                "SELECT alerted FROM entries WHERE id = ? AND state = 'pending'", (entry_id,)
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE entries SET state = ?, last_error_kind = ?, next_attempt_ts = ?, "
                "alerted = 1 WHERE id = ?",
                (
                    EntryState.PARKED.value if park else EntryState.PENDING.value,
                    kind,
                    None if park else now + retry_in_s,
                    entry_id,
                ),
            )
            conn.execute(
                "INSERT OR REPLACE INTO blobs (entry_id, name, sealed) VALUES (?, ?, ?)",
                (
                    entry_id,
                    _ERROR_BLOB,
                    self._cipher.seal(entry_id, _ERROR_BLOB, str(error).encode("utf-8")),
                ),
            )
            return bool(row[0])

        alerted = self._db.write(op, doing="cannot record a failure")
        if alerted is None:
            return False
        self._notify()
        return not alerted

    def alert(self, message: str) -> None:
        """Tell staff (callback and log ERROR)."""
        self._raise_alert(message)


def _seq_of(reference: Any, today: date) -> int:
    m = _REFERENCE_RE.match(str(reference))
    if m is None or m["day"] != f"{today:%y%m%d}":
        return 0
    return int(m["seq"])


def _submission_from(body: dict[str, Any], attachments: list[Attachment]) -> DossierSubmission:
    a = body["applicant"]
    return DossierSubmission(
        procedure_code=body["procedure_code"],
        kiosk_id=body["kiosk_id"],
        applicant=Applicant(
            a["id_number"],
            a["full_name"],
            date.fromisoformat(a["date_of_birth"]) if a["date_of_birth"] else None,
            a["sex"],
            a["residence"],
        ),
        declaration=body["declaration"],
        attachments=attachments,
        created_at=datetime.fromisoformat(body["created_at"]),
        idempotency_key=body["idempotency_key"],
    )


def _check_blobs(blobs: Mapping[str, bytes]) -> dict[str, Any]:
    """The stored dossier JSON, after checking every page it names is there."""
    body: dict[str, Any] = json.loads(blobs[_DOSSIER_BLOB].decode("utf-8"))
    for item in body["attachments"]:
        for page in item["pages"]:
            if page["blob"] not in blobs:
                raise KeyError(page["blob"])
    return body
