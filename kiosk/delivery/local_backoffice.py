"""A back office on a local SQLite file, kept only until the tests and the submit benchmark that
use it move to the reference server (issue 13 removes it).

It gives dossier codes (Thông tư 01/2018/TT-VPCP, one daily sequence per agency, unique under
concurrency), computes the appointment date in working days and takes the fee from the catalog,
copies the attachments into its own folder with their SHA-256, and keeps each dossier's status
history, which staff move along with ``advance``. SQLite and file system errors are converted to
the errors of kiosk/delivery/backoffice.py and never leak out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from devices.base import Health
from kiosk.catalog.procedures import Catalog, CatalogError, Procedure
from kiosk.delivery.backoffice import (
    BackOfficeError,
    BackOfficeUnavailable,
    DossierNotFound,
    IdempotencyConflict,
    InvalidTransition,
    SubmissionRejected,
)
from kiosk.dossier.model import (
    DossierState,
    DossierStatus,
    DossierSubmission,
    StatusEvent,
    SubmissionResult,
    format_dossier_code,
    is_agency_code,
    parse_dossier_code,
)
from kiosk.dossier.rules import TRANSITIONS, dossier_problems
from kiosk.dossier.workdays import HolidayCalendar, add_working_days
from kiosk.infra.clock import now_vietnam, to_vietnam_time
from kiosk.infra.durable import fsync_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dossiers (
    code             TEXT PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    fingerprint      TEXT NOT NULL,
    procedure_code   TEXT NOT NULL,
    kiosk_id         TEXT NOT NULL,
    applicant_id     TEXT NOT NULL,
    body             TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    appointment_date TEXT NOT NULL,
    fee_vnd          INTEGER NOT NULL,
    state            TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
    dossier_code   TEXT NOT NULL REFERENCES dossiers(code),
    requirement_id TEXT NOT NULL,
    page           INTEGER NOT NULL,
    stored_name    TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    size           INTEGER NOT NULL,
    PRIMARY KEY (dossier_code, requirement_id, page)
);
CREATE TABLE IF NOT EXISTS status_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_code TEXT NOT NULL REFERENCES dossiers(code),
    at           TEXT NOT NULL,
    state        TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS status_history_by_code ON status_history(dossier_code, id);
CREATE TABLE IF NOT EXISTS daily_sequence (
    agency_code TEXT NOT NULL,
    day         TEXT NOT NULL,
    last_seq    INTEGER NOT NULL,
    PRIMARY KEY (agency_code, day)
);
"""


_INSERT_EVENT = "INSERT INTO status_history (dossier_code, at, state, note) VALUES (?, ?, ?, ?)"


_CHUNK = 1 << 16


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy ``src`` to ``dst`` durably; the SHA-256 and size of what was written."""
    h = hashlib.sha256()
    size = 0
    with src.open("rb") as fin, dst.open("xb") as fout:
        while chunk := fin.read(_CHUNK):
            h.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return h.hexdigest(), size


@dataclass(frozen=True)
class _PageHash:
    requirement_id: str
    page: int
    source: Path
    sha256: str


class LocalBackOffice:
    """The back office on a local SQLite file (WAL, synchronous=FULL); safe across threads."""

    def __init__(
        self,
        db_path: Path,
        agency_code: str,
        catalog: Catalog,
        holidays: HolidayCalendar,
        attachments_dir: Path,
        clock: Callable[[], datetime] = now_vietnam,
    ) -> None:
        if not is_agency_code(agency_code):
            raise BackOfficeError(
                f"agency code {agency_code!r} is not a QCVN 102:2016 code like 000.00.08.H21"
            )
        self.db_path = Path(db_path)
        self.agency_code = agency_code
        self.catalog = catalog
        self.holidays = holidays
        self.attachments_dir = Path(attachments_dir)
        self._clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            self.attachments_dir.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as e:
            raise BackOfficeUnavailable(
                f"cannot open the local back office at {db_path}: {e}"
            ) from e

    # --- storage plumbing ---

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.db_path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken at once (BEGIN IMMEDIATE): writers run one at a time."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # also when COMMIT itself failed
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close every connection this object opened."""
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> LocalBackOffice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> datetime:
        return to_vietnam_time(self._clock())

    # --- submit ---

    def submit(self, dossier: DossierSubmission) -> SubmissionResult:
        """Register the dossier and answer its code, appointment date and fee (idempotent)."""
        try:
            pages = self._hash_pages(dossier)
            fingerprint = self._fingerprint(dossier, pages)
            first = self._answer_for_key(self._conn(), dossier.idempotency_key, fingerprint)
            if first is not None:
                return first
            procedure = self._validate(dossier, pages)
            return self._store(dossier, procedure, pages, fingerprint)
        except sqlite3.Error as e:
            raise BackOfficeUnavailable(f"local back office storage failed: {e}") from e
        except OSError as e:
            raise BackOfficeUnavailable(f"local back office cannot store files: {e}") from e

    def _hash_pages(self, dossier: DossierSubmission) -> list[_PageHash]:
        pages: list[_PageHash] = []
        problems: list[str] = []
        for i, attachment in enumerate(dossier.attachments):
            for n, page in enumerate(attachment.pages, start=1):
                try:
                    digest = _sha256_file(page)
                except OSError as e:
                    problems.append(
                        f"attachments[{i}].pages[{n - 1}]: cannot read {page}: {e.strerror or e}"
                    )
                    continue
                pages.append(_PageHash(attachment.requirement_id, n, page, digest))
        if problems:
            raise SubmissionRejected(problems)
        return pages

    @staticmethod
    def _fingerprint(dossier: DossierSubmission, pages: list[_PageHash]) -> str:
        body = dossier.to_dict()
        body.pop("idempotency_key")
        digests = iter(p.sha256 for p in pages)
        for attachment in body["attachments"]:
            attachment["pages"] = [next(digests) for _ in attachment["pages"]]
        canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def _answer_for_key(
        self, conn: sqlite3.Connection, key: str, fingerprint: str
    ) -> SubmissionResult | None:
        row = conn.execute(
            "SELECT code, fingerprint, received_at, appointment_date, fee_vnd "
            "FROM dossiers WHERE idempotency_key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        code, stored_fingerprint, received_at, appointment, fee = row
        if stored_fingerprint != fingerprint:
            raise IdempotencyConflict(
                f"idempotency key {key} was used for dossier {code} with a different body"
            )
        return SubmissionResult(
            code, datetime.fromisoformat(received_at), date.fromisoformat(appointment), fee
        )

    def _validate(self, dossier: DossierSubmission, pages: list[_PageHash]) -> Procedure:
        problems: list[str] = []
        try:
            procedure = self.catalog.get(dossier.procedure_code)
        except CatalogError:
            raise SubmissionRejected(
                [f"procedure_code: {dossier.procedure_code!r} is not in the catalog"]
            ) from None
        if not dossier.kiosk_id:
            problems.append("kiosk_id: missing")
        problems += dossier_problems(dossier, procedure)
        if problems:
            raise SubmissionRejected(problems)
        return procedure

    def _store(
        self,
        dossier: DossierSubmission,
        procedure: Procedure,
        pages: list[_PageHash],
        fingerprint: str,
    ) -> SubmissionResult:
        folder: Path | None = None
        try:
            with self._write() as conn:
                # Another thread or process may have stored the same key meanwhile.
                first = self._answer_for_key(conn, dossier.idempotency_key, fingerprint)
                if first is not None:
                    return first
                received_at = self._now()
                day = received_at.date()
                (seq,) = conn.execute(
                    "INSERT INTO daily_sequence (agency_code, day, last_seq) VALUES (?, ?, 1) "
                    "ON CONFLICT (agency_code, day) DO UPDATE SET last_seq = last_seq + 1 "
                    "RETURNING last_seq",
                    (self.agency_code, day.isoformat()),
                ).fetchone()
                if seq > 9999:
                    raise SubmissionRejected([f"the daily sequence of {day} is exhausted"])
                code = format_dossier_code(self.agency_code, day, seq)
                appointment = add_working_days(
                    received_at, procedure.processing_days, self.holidays
                )
                conn.execute(
                    "INSERT INTO dossiers (code, idempotency_key, fingerprint, procedure_code, "
                    "kiosk_id, applicant_id, body, received_at, appointment_date, fee_vnd, state) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        code,
                        dossier.idempotency_key,
                        fingerprint,
                        procedure.code,
                        dossier.kiosk_id,
                        dossier.applicant.id_number,
                        dossier.to_json(),
                        received_at.isoformat(),
                        appointment.isoformat(),
                        procedure.fee_vnd,
                        DossierState.RECEIVED.value,
                    ),
                )
                conn.execute(
                    _INSERT_EVENT,
                    (
                        code,
                        received_at.isoformat(),
                        DossierState.RECEIVED.value,
                        f"kiosk {dossier.kiosk_id}",
                    ),
                )
                folder = self.attachments_dir / code
                self._copy_attachments(conn, code, folder, pages)
        except BaseException:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        return SubmissionResult(code, received_at, appointment, procedure.fee_vnd)

    def _copy_attachments(
        self, conn: sqlite3.Connection, code: str, folder: Path, pages: list[_PageHash]
    ) -> None:
        # A folder under a code not yet committed is left over from a crash: start afresh.
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for page in pages:
            name = f"{page.requirement_id}-{page.page:02d}{page.source.suffix.lower()}"
            target = folder / name
            try:
                digest, size = _copy_hashed(page.source, target)
                check = _sha256_file(target)
            except OSError as e:
                raise BackOfficeUnavailable(f"cannot store attachment {page.source}: {e}") from e
            if digest != page.sha256 or check != page.sha256:
                raise SubmissionRejected(
                    [f"attachment {page.source} changed while it was being stored"]
                )
            conn.execute(
                "INSERT INTO attachments (dossier_code, requirement_id, page, stored_name, "
                "sha256, size) VALUES (?, ?, ?, ?, ?, ?)",
                (code, page.requirement_id, page.page, f"{code}/{name}", digest, size),
            )
        fsync_dir(folder)
        fsync_dir(self.attachments_dir)

    # --- lookup and staff actions ---

    def lookup(self, code: str) -> DossierStatus:
        """The status and history of the dossier with this code."""
        canonical = str(parse_dossier_code(code))
        try:
            return self._status(self._conn(), canonical)
        except sqlite3.Error as e:
            raise BackOfficeUnavailable(f"local back office storage failed: {e}") from e

    def _status(self, conn: sqlite3.Connection, code: str) -> DossierStatus:
        row = conn.execute(
            "SELECT procedure_code, appointment_date FROM dossiers WHERE code = ?", (code,)
        ).fetchone()
        if row is None:
            raise DossierNotFound(f"no dossier {code}")
        events = [
            StatusEvent(datetime.fromisoformat(at), DossierState(state), note)
            for at, state, note in conn.execute(
                "SELECT at, state, note FROM status_history WHERE dossier_code = ? ORDER BY id",
                (code,),
            )
        ]
        return DossierStatus.of(code, events, row[0], date.fromisoformat(row[1]))

    def advance(self, code: str, state: DossierState | str, note: str = "") -> DossierStatus:
        """Staff move a dossier to ``state``; InvalidTransition if it cannot follow."""
        canonical = str(parse_dossier_code(code))
        try:
            new_state = DossierState(state)
        except ValueError:
            raise InvalidTransition(f"{state!r} is not a dossier state") from None
        try:
            with self._write() as conn:
                row = conn.execute(
                    "SELECT state FROM dossiers WHERE code = ?", (canonical,)
                ).fetchone()
                if row is None:
                    raise DossierNotFound(f"no dossier {canonical}")
                current = DossierState(row[0])
                if new_state not in TRANSITIONS[current]:
                    allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
                    raise InvalidTransition(
                        f"{canonical}: cannot go from {current.value} to {new_state.value} "
                        f"(allowed: {allowed})"
                    )
                conn.execute(
                    _INSERT_EVENT,
                    (canonical, self._now().isoformat(), new_state.value, note),
                )
                conn.execute(
                    "UPDATE dossiers SET state = ? WHERE code = ?", (new_state.value, canonical)
                )
            return self._status(self._conn(), canonical)
        except sqlite3.Error as e:
            raise BackOfficeUnavailable(f"local back office storage failed: {e}") from e

    def verify_attachments(self, code: str) -> list[str]:
        """Re-hash a dossier's stored attachments; the problems found (empty when intact)."""
        canonical = str(parse_dossier_code(code))
        try:
            conn = self._conn()
            found = conn.execute("SELECT 1 FROM dossiers WHERE code = ?", (canonical,)).fetchone()
            if found is None:
                raise DossierNotFound(f"no dossier {canonical}")
            rows = conn.execute(
                "SELECT stored_name, sha256 FROM attachments WHERE dossier_code = ? "
                "ORDER BY requirement_id, page",
                (canonical,),
            ).fetchall()
        except sqlite3.Error as e:
            raise BackOfficeUnavailable(f"local back office storage failed: {e}") from e
        problems = []
        for stored_name, digest in rows:
            path = self.attachments_dir / stored_name
            try:
                actual = _sha256_file(path)
            except OSError as e:
                problems.append(f"{stored_name}: missing or unreadable ({e.strerror or e})")
                continue
            if actual != digest:
                problems.append(f"{stored_name}: content changed (SHA-256 {actual} != {digest})")
        return problems

    def stored_attachments(self, code: str) -> list[dict[str, Any]]:
        """The stored files of a dossier: requirement, page, path, SHA-256 and size."""
        canonical = str(parse_dossier_code(code))
        try:
            rows = (
                self._conn()
                .execute(
                    "SELECT requirement_id, page, stored_name, sha256, size FROM attachments "
                    "WHERE dossier_code = ? ORDER BY requirement_id, page",
                    (canonical,),
                )
                .fetchall()
            )
        except sqlite3.Error as e:
            raise BackOfficeUnavailable(f"local back office storage failed: {e}") from e
        return [
            {
                "requirement_id": r,
                "page": p,
                "path": self.attachments_dir / name,
                "sha256": h,
                "size": s,
            }
            for r, p, name, h, s in rows
        ]

    def health(self) -> Health:
        """OK when the database answers and the attachments folder is writable."""
        try:
            (count,) = self._conn().execute("SELECT count(*) FROM dossiers").fetchone()
        except sqlite3.Error as e:
            return Health("backoffice", False, f"local back office database failed: {e}")
        if not os.access(self.attachments_dir, os.W_OK):
            return Health(
                "backoffice", False, f"attachments folder {self.attachments_dir} is not writable"
            )
        return Health("backoffice", True, f"local stand-in at {self.db_path}: {count} dossiers")
