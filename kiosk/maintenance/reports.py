"""The plain records ``MaintenanceConsole`` returns: what a technician reads on the screens.

Every text in them is English for the log and the audit; the screens translate the fixed
words and show the figures. None holds personal data: the outbox view lists parked dossiers by
their outbox reference, procedure and error kind, never the applicant or the error text (which
may quote the dossier).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DeviceReport:
    """One device: up or down, what it is (driver, model or firmware where it tells), and its
    own words (``detail``); ``paper`` only for the printer."""

    name: str  # card_reader, camera, printer, backoffice
    up: bool
    driver: str
    detail: str
    paper: str | None = None


@dataclass(frozen=True)
class StepTiming:
    """One step of a device test and how long it took."""

    step: str
    ok: bool
    ms: float
    detail: str = ""


@dataclass(frozen=True)
class DeviceTest:
    """A device test's steps in order; ``ok`` when every step passed."""

    device: str
    steps: tuple[StepTiming, ...]

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def total_ms(self) -> float:
        return sum(step.ms for step in self.steps)


@dataclass(frozen=True)
class CameraCheck:
    """One analysed camera frame: the sharpness figure (higher is sharper; None when no page
    was found), the page's corners in frame pixels, and the frame itself for the preview."""

    sharpness: float | None
    sharp_enough: bool
    corners: tuple[tuple[float, float], ...] | None
    frame: object  # the BGR frame (numpy), for the preview
    width: int
    height: int
    guidance_msgid: str | None


@dataclass(frozen=True)
class ParkedDossier:
    reference: str
    procedure_code: str
    attempts: int
    reason: str  # the error kind: rejected, bad_request, ...
    since: str  # dd/mm/yyyy HH:MM


@dataclass(frozen=True)
class OutboxView:
    pending: int
    parked: int
    delivered: int
    oldest_pending_age_s: float | None
    next_attempt_in_s: float | None
    parked_dossiers: tuple[ParkedDossier, ...] = ()
    quarantined: tuple[str, ...] = ()


@dataclass(frozen=True)
class CounterView:
    number: int
    name: str
    open: bool
    serving: str | None  # the ticket number being served


@dataclass(frozen=True)
class QueueView:
    waiting: dict[str, int] = field(default_factory=dict)  # service code -> tickets waiting
    service_names: dict[str, str] = field(default_factory=dict)
    counters: tuple[CounterView, ...] = ()
