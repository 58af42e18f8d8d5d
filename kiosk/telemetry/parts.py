"""``PartsCollector``: what the kiosk's parts hold, read from its ``Services`` at each scrape.

    kiosk_device_up{device}                        each part's health: 1 up, 0 down
                                                   (card_reader, camera, printer, backoffice)
    kiosk_printer_paper_state{state}               the printer's status, one-hot over
                                                   ok / near_end / out / unknown
    kiosk_outbox_depth{state}                      dossiers in the outbox: pending, parked,
                                                   delivered (their content not purged yet)
    kiosk_outbox_oldest_pending_age_seconds        0 when nothing is pending
    kiosk_queue_waiting{service}                   today's waiting tickets, per service code
    kiosk_queue_estimated_wait_seconds{service}    the wait of a ticket taken now (whole
                                                   minutes, as the queue screen shows; absent
                                                   while no open counter serves the service)
    kiosk_scrape_errors_total{part}                reads that failed: health, printer,
                                                   outbox, queue

The devices, the paper and the outbox are read by kiosk/fleet/readings.py, the same reading
the heartbeat sends to the back office. Each part is read on its own: one that fails is
logged, counted in ``kiosk_scrape_errors_total`` and left out of this scrape (the paper shows
``unknown``); the scrape itself always answers. Scrapes are read one at a time, so two
Prometheus servers do not make the devices answer twice at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from kiosk.fleet.readings import PAPER_STATES, read_devices, read_outbox, read_paper

if TYPE_CHECKING:
    from kiosk.flow.services import Services

log = logging.getLogger(__name__)

PARTS = ("health", "printer", "outbox", "queue")


class PartsCollector:
    """A prometheus_client collector over one kiosk's ``Services``."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._errors = dict.fromkeys(PARTS, 0)

    def describe(self) -> Iterable[Metric]:
        """The families this collector gives (no samples): no read at registration."""
        return [*_device_up(), *_paper(), *_outbox(), *_queue(), self._scrape_errors()]

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            families: list[Metric] = []
            reads: tuple[tuple[str, Callable[[], list[Metric]]], ...] = (
                ("health", self._health),
                ("printer", self._printer),
                ("outbox", self._outbox),
                ("queue", self._queue),
            )
            for part, read in reads:
                try:
                    families += read()
                except Exception as exc:  # noqa: BLE001 - a part's fault never breaks a scrape
                    self._errors[part] += 1
                    log.warning("metrics: reading the %s failed: %s", part, exc)
                    if part == "printer":
                        families += _paper("unknown")
            families.append(self._scrape_errors())
            return families

    # ------------------------------------------------------------------ each part
    def _health(self) -> list[Metric]:
        up = _device_up()[0]
        for device in read_devices(self.services):
            up.add_metric([device.name], 1 if device.up else 0)
        return [up]

    def _printer(self) -> list[Metric]:
        return _paper(read_paper(self.services))

    def _outbox(self) -> list[Metric]:
        status = read_outbox(self.services)
        depth, age = _outbox()
        depth.add_metric(["pending"], status.pending)
        depth.add_metric(["parked"], status.parked)
        depth.add_metric(["delivered"], status.awaiting_purge)
        age.add_metric([], status.oldest_pending_age_s)
        return [depth, age]

    def _queue(self) -> list[Metric]:
        tickets = self.services.tickets
        waiting_now = tickets.waiting_by_service()
        waiting, wait = _queue()
        for service in self.services.catalog.services():
            code = service.code
            waiting.add_metric([code], waiting_now.get(code, 0))
            _, minutes = tickets.estimate(code)
            if minutes is not None:
                wait.add_metric([code], minutes * 60.0)
        return [waiting, wait]

    def _scrape_errors(self) -> Metric:
        errors = CounterMetricFamily(
            "kiosk_scrape_errors",
            "Reads of the kiosk's parts that failed during a scrape, by part",
            labels=["part"],
        )
        for part in PARTS:
            errors.add_metric([part], self._errors[part])
        return errors


# ---------------------------------------------------------------------- the families
def _device_up() -> list[GaugeMetricFamily]:
    return [
        GaugeMetricFamily(
            "kiosk_device_up",
            "1 when the device (or the back office) answers its health check, else 0",
            labels=["device"],
        )
    ]


def _paper(state: str | None = None) -> list[Metric]:
    """The paper gauge, one-hot on ``state`` (no samples for None)."""
    paper = GaugeMetricFamily(
        "kiosk_printer_paper_state",
        "The receipt printer's paper: 1 for the state it is in (ok, near_end, out, unknown)",
        labels=["state"],
    )
    if state is not None:
        state = state if state in PAPER_STATES else "unknown"
        for name in PAPER_STATES:
            paper.add_metric([name], 1 if name == state else 0)
    return [paper]


def _outbox() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(
            "kiosk_outbox_depth",
            "Dossiers in the outbox by state (delivered: content not purged yet)",
            labels=["state"],
        ),
        GaugeMetricFamily(
            "kiosk_outbox_oldest_pending_age_seconds",
            "Age of the oldest dossier waiting to reach the back office (0: none waits)",
        ),
    )


def _queue() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(
            "kiosk_queue_waiting",
            "Today's tickets waiting to be called, by service",
            labels=["service"],
        ),
        GaugeMetricFamily(
            "kiosk_queue_estimated_wait_seconds",
            "Estimated wait of a ticket taken now, by service (absent: no open counter)",
            labels=["service"],
        ),
    )
