"""``KioskMetrics``: the kiosk's Prometheus metrics, in a registry of its own.

Each kiosk owns its ``CollectorRegistry`` (never prometheus_client's global one), so tests and
two kiosks in one process do not clash. Names follow Prometheus: the ``kiosk_`` prefix, base
units (seconds), ``_total`` for counters. Label values come from closed sets only::

    kiosk_up, kiosk_build_info{version,kiosk_id}, kiosk_start_time_seconds
    kiosk_sessions_total{journey,outcome}           SessionEnded (kiosk/flow/events.py)
    kiosk_session_duration_seconds{journey}         from the first step to welcome again
    kiosk_step_duration_seconds{step}               each visit of a step (not welcome)
    kiosk_chip_reads_total{result}                  ChipReadFinished
    kiosk_document_reads_total{kind,result}         CardScanFinished (kind: qr, mrz)
    kiosk_maintenance_mode, kiosk_out_of_service    0/1, following the kiosk's ServiceState
                                                    (``follow``)

and, read from the kiosk's parts at scrape time (``read_from(services)``, parts.py): device
health, printer paper, outbox depth and age, queue waiting and estimated waits, scrape errors.

``watch(session, events)`` subscribes to the session's step changes (timings) and to the
flow's events (counts). A listener never raises: a fault in counting is logged, and the
citizen's session goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from kiosk.fleet.status import kiosk_version
from kiosk.flow.events import (
    CardScanFinished,
    CardScanResult,
    ChipReadFinished,
    ChipReadResult,
    Events,
    SessionEnded,
    SessionOutcome,
)
from kiosk.session.state import Journey, Session, Step
from kiosk.staff.service_state import ServiceMode, ServiceState
from kiosk.telemetry.parts import PartsCollector

if TYPE_CHECKING:
    from kiosk.flow.services import Services

log = logging.getLogger(__name__)

#: A session lasts from a minute (a queue number) to a quarter of an hour (a long form).
SESSION_BUCKETS = (15.0, 30.0, 60.0, 90.0, 120.0, 180.0, 300.0, 450.0, 600.0, 900.0, 1200.0, 1800.0)
#: A step lasts seconds (consent, a ticket) to minutes (a form, the documents).
STEP_BUCKETS = (2.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)

#: The outcomes each journey can end with (each series exists from the start, at 0).
JOURNEY_OUTCOMES: dict[Journey, tuple[SessionOutcome, ...]] = {
    Journey.DOSSIER: (
        SessionOutcome.SUBMITTED,
        SessionOutcome.CANCELLED,
        SessionOutcome.TIMED_OUT,
        SessionOutcome.DECLINED,
    ),
    Journey.QUEUE: (SessionOutcome.TICKET, SessionOutcome.CANCELLED, SessionOutcome.TIMED_OUT),
    Journey.LOOKUP: (SessionOutcome.LOOKUP, SessionOutcome.CANCELLED, SessionOutcome.TIMED_OUT),
}
SCAN_KINDS = ("qr", "mrz")


class KioskMetrics:
    """One kiosk's metrics; ``registry`` is what ``serve_metrics`` exposes."""

    def __init__(self, kiosk_id: str, *, version: str | None = None) -> None:
        self.registry = CollectorRegistry()
        self._parts: PartsCollector | None = None
        r = self.registry
        Gauge("kiosk_up", "1 while the kiosk's software runs", registry=r).set(1)
        Info("kiosk_build", "The kiosk's software version and kiosk id", registry=r).info(
            {"version": version or kiosk_version(), "kiosk_id": kiosk_id}
        )
        Gauge(
            "kiosk_start_time_seconds", "When the kiosk started, in Unix seconds", registry=r
        ).set_to_current_time()
        self.sessions = Counter(
            "kiosk_sessions_total",
            "Citizen sessions ended, by journey and outcome",
            ["journey", "outcome"],
            registry=r,
        )
        self.session_duration = Histogram(
            "kiosk_session_duration_seconds",
            "How long a citizen's session lasted, from its first step back to welcome",
            ["journey"],
            buckets=SESSION_BUCKETS,
            registry=r,
        )
        self.step_duration = Histogram(
            "kiosk_step_duration_seconds",
            "How long a citizen stayed at a step, each visit",
            ["step"],
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self.chip_reads = Counter(
            "kiosk_chip_reads_total",
            "Chip reads of citizen ID cards, by result",
            ["result"],
            registry=r,
        )
        self.document_reads = Counter(
            "kiosk_document_reads_total",
            "Camera reads of the card's QR code or MRZ, by kind and result",
            ["kind", "result"],
            registry=r,
        )
        self.maintenance = Gauge(
            "kiosk_maintenance_mode", "1 while staff have the kiosk in maintenance mode", registry=r
        )
        self.out_of_service = Gauge(
            "kiosk_out_of_service", "1 while the kiosk is out of service for citizens", registry=r
        )
        for journey, outcomes in JOURNEY_OUTCOMES.items():
            self.session_duration.labels(journey.value)
            for outcome in outcomes:
                self.sessions.labels(journey.value, outcome.value)
        for step in Step:
            if step is not Step.WELCOME:
                self.step_duration.labels(step.value)
        for chip_result in ChipReadResult:
            self.chip_reads.labels(chip_result.value)
        for kind in SCAN_KINDS:
            for scan_result in CardScanResult:
                self.document_reads.labels(kind, scan_result.value)

    # ------------------------------------------------------------------ the kiosk's parts
    def read_from(self, services: Services) -> None:
        """Read device health, paper, outbox and queue from ``services`` at each scrape."""
        if self._parts is not None:
            self.registry.unregister(self._parts)
        self._parts = PartsCollector(services)
        self.registry.register(self._parts)

    # ------------------------------------------------------------------ states set by the kiosk
    def set_maintenance(self, on: bool) -> None:
        self.maintenance.set(1 if on else 0)

    def set_out_of_service(self, on: bool) -> None:
        self.out_of_service.set(1 if on else 0)

    def follow(self, state: ServiceState) -> None:
        """Keep the maintenance and out-of-service gauges on the kiosk's ``ServiceState``."""

        def show(current: ServiceState) -> None:
            self.set_maintenance(current.mode is ServiceMode.MAINTENANCE)
            self.set_out_of_service(current.out_of_service)

        show(state)
        state.subscribe(show)

    # ------------------------------------------------------------------ what the flow reports
    def watch(
        self, session: Session, events: Events, *, clock: Callable[[], float] | None = None
    ) -> None:
        """Count what happens in ``session`` and what the flow's ``events`` report; durations
        by ``clock`` (the session's own, monotonic seconds; default ``time.monotonic``)."""
        timer = _SessionTimer(self, clock or time.monotonic)
        session.subscribe(_never_raises(timer.step_changed))
        events.subscribe(SessionEnded, _never_raises(timer.session_ended))
        events.subscribe(ChipReadFinished, _never_raises(self._chip_read))
        events.subscribe(CardScanFinished, _never_raises(self._card_scanned))

    def _chip_read(self, event: ChipReadFinished) -> None:
        self.chip_reads.labels(event.result.value).inc()

    def _card_scanned(self, event: CardScanFinished) -> None:
        if event.kind in SCAN_KINDS:
            self.document_reads.labels(event.kind, event.result.value).inc()


class _SessionTimer:
    """Times one session and its steps with a monotonic clock."""

    def __init__(self, metrics: KioskMetrics, clock: Callable[[], float]) -> None:
        self._metrics = metrics
        self._clock = clock
        self._session_start: float | None = None
        self._step_start: float | None = None

    def step_changed(self, session: Session, old: Step, new: Step) -> None:
        if old is new:
            return
        now = self._clock()
        if old is Step.WELCOME:
            self._session_start = now  # kept until the next start: SessionEnded reads it
        elif self._step_start is not None:
            self._metrics.step_duration.labels(old.value).observe(max(0.0, now - self._step_start))
        self._step_start = None if new is Step.WELCOME else now

    def session_ended(self, event: SessionEnded) -> None:
        journey = event.journey.value
        self._metrics.sessions.labels(journey, event.outcome.value).inc()
        if self._session_start is not None:
            seconds = max(0.0, self._clock() - self._session_start)
            self._metrics.session_duration.labels(journey).observe(seconds)


def _never_raises(listener: Callable[..., None]) -> Callable[..., None]:
    """``listener`` with its faults logged: counting must never break a citizen's session."""

    def guarded(*args: object) -> None:
        try:
            listener(*args)
        except Exception:  # noqa: BLE001
            log.exception("metrics: counting failed (the session goes on)")

    return guarded
