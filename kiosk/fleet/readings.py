"""What the kiosk's parts say about themselves, read one way for every watcher.

The heartbeat (status.py) and the Prometheus metrics (kiosk/telemetry/parts.py) both read the
kiosk's ``Services`` through these functions, so the fleet page and Prometheus never disagree
on what "up", "paper" or "outbox depth" mean::

    read_devices(services)   the card reader, camera, printer and back office: up, mode, detail
    read_paper(services)     the printer's paper: ok, near_end, out or unknown
    read_outbox(services)    pending, parked, delivered-not-purged, the oldest pending age

``read_devices`` never raises (a health check that fails is that device down, as in
``Services.health``); ``read_paper`` and ``read_outbox`` raise what the part raised, and each
caller decides what a failed read shows (the metrics count it, the heartbeat says "unknown").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from devices.base import Health
    from kiosk.delivery.outbox.store import OutboxStatus
    from kiosk.flow.services import Services

#: The parts whose health is watched, by the name the metrics and the heartbeat give them.
DEVICE_PARTS: Final = ("card_reader", "camera", "printer", "backoffice")
PaperReading = Literal["ok", "near_end", "out", "unknown"]
PAPER_STATES: Final[tuple[PaperReading, ...]] = ("ok", "near_end", "out", "unknown")
_MAX_DETAIL: Final = 300


@dataclass(frozen=True)
class DeviceReading:
    """One part's health: ``name`` from DEVICE_PARTS, ``mode`` from config (simulated, pcsc,
    opencv, network, …; the back office: embedded or remote), ``detail`` English for staff."""

    name: str
    up: bool
    mode: str
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "up": self.up, "mode": self.mode, "detail": self.detail}


@dataclass(frozen=True)
class OutboxReading:
    """The outbox's counts; ``oldest_pending_age_s`` is 0.0 when nothing is pending."""

    pending: int
    parked: int
    awaiting_purge: int
    oldest_pending_age_s: float


@runtime_checkable
class OutboxWithStatus(Protocol):
    """The outbox's counts (kiosk/delivery/outbox/store.py ``Outbox.status``)."""

    def status(self) -> OutboxStatus: ...


def device_mode(services: Services, name: str) -> str:
    """How the config says the part is provided."""
    config = services.config
    if name == "card_reader":
        return config.card_reader.mode
    if name == "camera":
        return config.camera.mode
    if name == "printer":
        return config.printer.mode
    if name == "backoffice":
        return "remote" if config.backoffice.url else "embedded"
    return "unknown"


def _health(part: object) -> Health:
    from devices.base import Health

    try:
        health = part.health()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - a health check that fails is a device down
        return Health(type(part).__name__, False, f"health check failed: {exc}")
    if not isinstance(health, Health):
        return Health(type(part).__name__, False, "health check gave no answer")
    return health


def read_devices(services: Services, parts: tuple[str, ...] = DEVICE_PARTS) -> list[DeviceReading]:
    """Each of ``parts`` (names of DEVICE_PARTS) asked for its health, in that order; never
    raises."""
    readings = []
    for name in parts:
        health = _health(getattr(services, name))
        detail = " ".join(str(health.detail).split())[:_MAX_DETAIL]
        readings.append(DeviceReading(name, bool(health.ok), device_mode(services, name), detail))
    return readings


def read_paper(services: Services) -> PaperReading:
    """The printer's paper as its status says (a value outside PAPER_STATES is "unknown")."""
    paper = services.printer.status().paper
    return paper if paper in PAPER_STATES else "unknown"


def read_outbox(services: Services) -> OutboxReading:
    """The outbox's counts; TypeError when the outbox gives no ``status()``."""
    outbox = services.outbox
    if not isinstance(outbox, OutboxWithStatus):
        raise TypeError(f"{type(outbox).__name__} gives no status()")
    status = outbox.status()
    return OutboxReading(
        pending=status.pending,
        parked=status.parked,
        awaiting_purge=status.awaiting_purge,
        oldest_pending_age_s=float(status.oldest_pending_age_s or 0.0),
    )
