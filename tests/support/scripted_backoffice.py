"""Test helper: a back office in memory whose failures a test scripts, for tests of the kiosk's
side of delivery (the outbox and its sender) rather than of the back office itself.

    office = ScriptedBackOffice(catalog, holidays)
    OutboxSender(outbox, office).flush(5)
    office.stored()            # [(idempotency key, dossier code)], by code: each dossier once?
    office.pages(code)         # the pages as they arrived: requirement, page, SHA-256, size

It answers as the reference server (backoffice/dossiers.py) does, on the same shared code:

- a code from ``format_dossier_code`` (agency, day of receipt, a daily sequence), the
  appointment in working days (``add_working_days``) and the fee, both from the catalog;
- idempotent on ``dossier.idempotency_key``: the same dossier again (pages compared by
  SHA-256) gets the first answer, another dossier under the key is ``IdempotencyConflict``;
- the dossier checked by ``kiosk.dossier.rules.dossier_problems`` against its procedure, and an
  unknown procedure refused, as ``SubmissionRejected`` with the server's problem lines;
- a page that cannot be read is refused before anything is kept, as ``HttpBackOffice`` does.

What a test scripts: ``down`` (every call fails as on a closed port), ``hold()`` and
``release()`` (calls wait, as on a server that accepted the connection and says nothing; after
``hang_s`` they fail as a read timeout). What it records: ``calls`` (the key of every submit,
in order, failed ones included), ``entered`` (set at each submit) and what it stored.

tests/backoffice/test_backoffice.py runs the same scenarios against this and the reference
server, so the two keep answering alike.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from devices.base import Health
from kiosk.catalog.procedures import Catalog, CatalogError
from kiosk.delivery.backoffice import (
    BackOfficeUnavailable,
    DossierNotFound,
    IdempotencyConflict,
    SubmissionRejected,
)
from kiosk.dossier.model import (
    DossierState,
    DossierStatus,
    DossierSubmission,
    StatusEvent,
    SubmissionResult,
    format_dossier_code,
    parse_dossier_code,
)
from kiosk.dossier.rules import dossier_problems
from kiosk.dossier.workdays import HolidayCalendar, add_working_days
from kiosk.infra.clock import now_vietnam, to_vietnam_time

AGENCY = "000.00.08.H21"


@dataclass(frozen=True)
class ReceivedPage:
    """One page as it reached the back office."""

    requirement_id: str
    page: int  # from 1, within its document
    sha256: str
    size: int


@dataclass(frozen=True)
class ReceivedDossier:
    key: str
    fingerprint: str
    procedure_code: str
    pages: tuple[ReceivedPage, ...]
    result: SubmissionResult


def _read_pages(dossier: DossierSubmission) -> list[list[ReceivedPage]]:
    """Each attachment's pages hashed; SubmissionRejected naming every page that cannot be
    read (the problem lines of ``kiosk.delivery.http_client.dossier_upload``)."""
    pages: list[list[ReceivedPage]] = []
    problems: list[str] = []
    for i, attachment in enumerate(dossier.attachments):
        mine = []
        for n, path in enumerate(attachment.pages):
            try:
                data = path.read_bytes()
            except OSError as e:
                problems.append(f"attachments[{i}].pages[{n}]: cannot read {path}: {e.strerror}")
                continue
            digest = hashlib.sha256(data).hexdigest()
            mine.append(ReceivedPage(attachment.requirement_id, n + 1, digest, len(data)))
        pages.append(mine)
    if problems:
        raise SubmissionRejected(problems)
    return pages


def _fingerprint(dossier: DossierSubmission, pages: list[list[ReceivedPage]]) -> str:
    """The dossier without its key, pages as their SHA-256 (the server's fingerprint)."""
    body = dossier.to_dict()
    body.pop("idempotency_key")
    for entry, mine in zip(body["attachments"], pages, strict=True):
        entry["pages"] = [p.sha256 for p in mine]
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ScriptedBackOffice:
    """The kiosk's ``BackOffice`` protocol in memory; safe to call from several threads."""

    def __init__(
        self,
        catalog: Catalog,
        holidays: HolidayCalendar,
        *,
        agency_code: str = AGENCY,
        clock: Callable[[], datetime] = now_vietnam,
        hang_s: float = 20.0,
    ) -> None:
        self.catalog = catalog
        self.holidays = holidays
        self.agency_code = agency_code
        self.hang_s = hang_s
        self.down = False
        self.calls: list[str] = []
        self.entered = threading.Event()
        self._clock = clock
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._by_key: dict[str, ReceivedDossier] = {}
        self._by_code: dict[str, ReceivedDossier] = {}
        self._last_seq: dict[date, int] = {}

    # --- the script ---

    def hold(self) -> None:
        """From now on, calls wait for ``release()`` (or fail after ``hang_s``)."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def _arrive(self) -> None:
        if not self._open.wait(self.hang_s):
            raise BackOfficeUnavailable(f"no answer within {self.hang_s:g} s")
        if self.down:
            raise BackOfficeUnavailable("connection refused")

    # --- what was received ---

    def stored(self) -> list[tuple[str, str]]:
        """(idempotency key, dossier code) of each stored dossier, by code."""
        with self._lock:
            return sorted(((r.key, code) for code, r in self._by_code.items()), key=lambda x: x[1])

    def pages(self, code: str) -> list[ReceivedPage]:
        """The pages of dossier ``code`` as they arrived, in document and page order."""
        with self._lock:
            return list(self._by_code[str(parse_dossier_code(code))].pages)

    # --- the BackOffice protocol ---

    def submit(self, dossier: DossierSubmission) -> SubmissionResult:
        with self._lock:
            self.calls.append(dossier.idempotency_key)
        self.entered.set()
        self._arrive()
        pages = _read_pages(dossier)
        fingerprint = _fingerprint(dossier, pages)
        with self._lock:
            first = self._by_key.get(dossier.idempotency_key)
            if first is not None:
                if first.fingerprint != fingerprint:
                    raise IdempotencyConflict(
                        f"idempotency key {dossier.idempotency_key} was used for dossier "
                        f"{first.result.dossier_code} with a different body"
                    )
                return first.result
            try:
                procedure = self.catalog.get(dossier.procedure_code)
            except CatalogError:
                raise SubmissionRejected(
                    [f"procedure_code: {dossier.procedure_code!r} is not in the catalog"]
                ) from None
            problems = dossier_problems(dossier, procedure)
            if problems:
                raise SubmissionRejected(problems)
            received_at = to_vietnam_time(self._clock())
            day = received_at.date()
            seq = self._last_seq.get(day, 0) + 1
            if seq > 9999:
                raise SubmissionRejected([f"the daily sequence of {day} is exhausted"])
            self._last_seq[day] = seq
            result = SubmissionResult(
                format_dossier_code(self.agency_code, day, seq),
                received_at,
                add_working_days(received_at, procedure.processing_days, self.holidays),
                procedure.fee_vnd,
            )
            stored = ReceivedDossier(
                dossier.idempotency_key,
                fingerprint,
                procedure.code,
                tuple(p for mine in pages for p in mine),
                result,
            )
            self._by_key[stored.key] = stored
            self._by_code[result.dossier_code] = stored
            return result

    def lookup(self, code: str) -> DossierStatus:
        canonical = str(parse_dossier_code(code))
        self._arrive()
        with self._lock:
            stored = self._by_code.get(canonical)
        if stored is None:
            raise DossierNotFound(f"no dossier has the code {canonical}")
        received = StatusEvent(stored.result.received_at, DossierState.RECEIVED, "")
        return DossierStatus.of(
            canonical, [received], stored.procedure_code, stored.result.appointment_date
        )

    def health(self) -> Health:
        if self.down:
            return Health("backoffice", False, "scripted back office: down")
        with self._lock:
            count = len(self._by_code)
        return Health("backoffice", True, f"scripted back office: {count} dossiers")
