"""The identify step: the typed ID number, the card's QR or MRZ through the camera, the chip.

Phases (``IdentifyPhase``, owned by the session)::

    NUMBER ──scan_card──▶ SCANNING ──number found──▶ READING ──chip read──▶ CONFIRM
       ▲  ──read_card─────────────────────────────▶    │                      │
       └──────────── failure (a notice) ◀──────────────┘       "not me" ──────┘

``confirm_chip_identity`` ("this is me") identifies the citizen and, when the chip proved the
card is here, asks the back office for the citizen's papers on file. The BAC key read from the
MRZ and the chip's proof of presence live in the session and are wiped with it. Each camera
scan and each chip read ends with a ``CardScanFinished`` / ``ChipReadFinished`` event naming how
it ended (``card_scan_result``, ``chip_read_result``), for the kiosk's metrics.
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk.errors import KioskError
from kiosk.flow import papers_on_file
from kiosk.flow.context import FlowContext
from kiosk.flow.events import (
    CardScanFinished,
    CardScanResult,
    ChipReadFinished,
    ChipReadResult,
    NumberScanned,
    ReadProgress,
)
from kiosk.flow.runner import CitizenGone
from kiosk.identity.id_number import normalise_id_number
from kiosk.identity.model import Identity
from kiosk.session.state import IdentifyPhase, Step

log = logging.getLogger(__name__)


class IdentifyJourney:
    """Who the citizen is: typed, scanned from the card, or read from the chip."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx

    def _phase(self, phase: IdentifyPhase) -> None:
        if self.ctx.session.step is Step.IDENTIFY:
            self.ctx.session.enter_phase(phase)

    def enter_id_number(self, raw: str) -> bool:
        """The citizen goes on with the typed number alone; True when accepted."""
        try:
            identity = Identity.from_typed_number(raw)
        except KioskError as exc:
            self.ctx.fail(exc)
            return False
        self.ctx.session.identified(identity)
        return True

    def scan_card(self, kind: str, *, seconds: float = 12.0) -> None:
        """Read the card's QR ("qr") or MRZ ("mrz") with the camera, then its chip.

        Frames are tried for up to ``seconds``; the ID number found (``NumberScanned``) and,
        from the MRZ, the BAC key go to ``read_card``; a failure is a notice, back to NUMBER.
        """
        from kiosk.camera.card_scan import scan_card_with_camera

        ctx = self.ctx
        self._phase(IdentifyPhase.SCANNING)

        def work() -> Any:
            try:
                scan = scan_card_with_camera(ctx.services.camera, kind, seconds=seconds)
            except Exception as exc:
                scanned(card_scan_result(exc))
                raise
            scanned(CardScanResult.OK)
            return scan

        def scanned(result: CardScanResult) -> None:
            if kind in ("qr", "mrz"):
                ctx.emit_from_worker(CardScanFinished("qr" if kind == "qr" else "mrz", result))

        def found(scan: Any) -> None:
            if ctx.session.step is not Step.IDENTIFY:
                return
            ctx.session.data.mrz_key = scan.mrz_key
            ctx.events.emit(NumberScanned(scan.id_number))
            self.read_card(scan.id_number)

        def failed(exc: BaseException) -> None:
            self._phase(IdentifyPhase.NUMBER)
            ctx.fail(exc, Step.IDENTIFY)

        ctx.run(work, found, failed)

    def read_card(self, raw: str) -> bool:
        """Read the card on the reader with the CAN from the number (in the background).

        False (and a notice) when the number is not a valid ID number. Else the phase is
        READING, with ``ReadProgress`` events; then CONFIRM with the chip's identity in
        ``session.data.chip_candidate``, or NUMBER with a notice saying what to do.
        """
        ctx = self.ctx
        try:
            number = normalise_id_number(raw)
        except KioskError as exc:
            ctx.fail(exc)
            return False
        mrz_key = ctx.session.data.mrz_key
        token = ctx.token
        self._phase(IdentifyPhase.READING)

        def progress(name: str, index: int, total: int) -> None:
            ctx.emit_from_worker(ReadProgress(name, index, total))

        def work() -> Any:
            # The back office's challenge, signed by the chip in the same session: proof that
            # the card is here, for the citizen's papers on file (none if it does not answer).
            challenge = papers_on_file.request_challenge(ctx.services.backoffice)
            try:
                outcome = ctx.services.chip.read(
                    number, progress, mrz_key=mrz_key, aa_challenge=challenge, check=token.check
                )
            except Exception as exc:
                ctx.emit_from_worker(ChipReadFinished(chip_read_result(exc)))
                raise
            ctx.emit_from_worker(ChipReadFinished(chip_read_result(None, outcome)))
            return outcome

        def finished(outcome: Any) -> None:
            if ctx.session.step is not Step.IDENTIFY:  # the citizen went back meanwhile
                wipe_outcome(outcome)
                return
            ctx.session.chip_read(outcome.identity, outcome.presence)
            log.info(
                "card read: %s, passive authentication %s, %d APDUs",
                outcome.protocol,
                outcome.passive,
                outcome.apdus,
            )
            self._phase(IdentifyPhase.CONFIRM)
            if outcome.warning_msgid:
                ctx.notify(outcome.warning_msgid, error=False)

        def failed(exc: BaseException) -> None:
            self._phase(IdentifyPhase.NUMBER)
            ctx.fail(exc, Step.IDENTIFY)

        ctx.run(work, finished, failed, left=wipe_outcome)
        return True

    def confirm_chip_identity(self) -> None:
        """The citizen confirms the photo and name read from the chip are theirs."""
        ctx = self.ctx
        session = ctx.session
        candidate = session.data.chip_candidate
        if candidate is None:
            return
        session.identified(candidate)
        presence = session.take_presence()
        if presence is None:
            return

        def work() -> Any:
            return papers_on_file.fetch(ctx.services.backoffice, presence, candidate.id_number)

        def found(papers: Any) -> None:
            if session.data.identity is candidate:  # still the same citizen
                session.data.papers = papers

        ctx.run(work, found, lambda exc: log.warning("papers on file: %s", exc))

    def reject_chip_identity(self) -> None:
        """ "Not me": forget what the chip gave; back to the number."""
        self.ctx.session.drop_chip_candidate()
        self._phase(IdentifyPhase.NUMBER)


def wipe_outcome(outcome: Any) -> None:
    """Overwrite a chip read nobody will use (the citizen left or went back)."""
    outcome.identity.wipe()
    if outcome.presence is not None:
        outcome.presence.wipe()


def chip_read_result(exc: BaseException | None, outcome: Any = None) -> ChipReadResult:
    """How a chip read ended: its failure ``exc``, else its ``outcome`` (a ``ChipOutcome``)."""
    from devices.base import CardError, CardRemoved, DeviceUnavailable
    from devices.card_reader.interface import NoCard
    from kiosk.emrtd.errors import AccessDenied, EmrtdError
    from kiosk.identity import chip_service as chip

    if exc is None:
        unverified = outcome is not None and outcome.warning_msgid is not None
        return ChipReadResult.OK_UNVERIFIED if unverified else ChipReadResult.OK
    kinds: tuple[tuple[type[BaseException], ChipReadResult], ...] = (
        (CitizenGone, ChipReadResult.ABANDONED),
        (NoCard, ChipReadResult.NO_CARD),
        (AccessDenied, ChipReadResult.ACCESS_DENIED),
        (chip.CardNotAuthentic, ChipReadResult.NOT_AUTHENTIC),
        (chip.CardExpired, ChipReadResult.EXPIRED),
        (chip.SignerNotTrusted, ChipReadResult.SIGNER_REFUSED),
        (chip.WrongCard, ChipReadResult.WRONG_CARD),
        (DeviceUnavailable, ChipReadResult.READER_ERROR),
        (CardRemoved, ChipReadResult.CARD_ERROR),
        (CardError, ChipReadResult.CARD_ERROR),
        (EmrtdError, ChipReadResult.CARD_ERROR),
    )
    return next((result for kind, result in kinds if isinstance(exc, kind)), ChipReadResult.ERROR)


def card_scan_result(exc: BaseException | None) -> CardScanResult:
    """How a scan of the card's QR or MRZ ended: its failure ``exc``, or None (read)."""
    from devices.base import DeviceError
    from kiosk.camera.card_scan import ScanFailed

    if exc is None:
        return CardScanResult.OK
    if isinstance(exc, ScanFailed):
        return CardScanResult.NOT_FOUND
    if isinstance(exc, DeviceError):
        return CardScanResult.CAMERA_ERROR
    if isinstance(exc, KioskError):  # the vision's errors: an MRZ that fails its checks, ...
        return CardScanResult.UNREADABLE
    return CardScanResult.ERROR
