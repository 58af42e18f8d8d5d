"""Reading the citizen's card for a session: reader → chip protocols → checks → ``Identity``.

``ChipService.read(id_number)`` waits for a card on the configured reader, opens it with the CAN
(the last 6 digits of the typed ID number), reads DG1/DG2/DG13 (and DG14/DG15), runs passive
authentication against the trusted CSCAs and applies the kiosk's rules:

- a data group that fails its hash (TAMPERED), or a chip that fails active authentication, is
  refused; staff are alerted;
- an expired card is refused;
- a signer that chains to no trusted CSCA is accepted with a warning or refused, per
  ``[card_reader] untrusted_signer``;
- the chip's ID number must be the one typed.

The raw files are dropped once the ``Identity`` is built: only what the dossier needs is kept,
and, when the caller brought a back office's presence challenge (``aa_challenge``), the
``ChipPresence`` that proves the citizen's card is on this reader (the challenge signed by the
chip in the same session, DG13, DG14, DG15 and EF.SOD), for the papers on file
(kiosk/flow/papers_on_file.py). It is kept out of logs and reprs and wiped once sent.
The trust store holds the CSCAs of ``trust_dir`` (and a master list); in simulated mode only, it
also holds the generated TEST CSCA of the simulated cards.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from devices.card_reader.interface import NoCard
from kiosk.emrtd.errors import EmrtdError
from kiosk.emrtd.reader import AccessKey, ReadStep, read_chip
from kiosk.identity.id_number import can_from_id_number, normalise_id_number
from kiosk.identity.model import Authenticity, Identity, IdentitySource

log = logging.getLogger(__name__)

MSG_UNTRUSTED_WARNING = (
    "The card was read, but its issuer could not be verified at this kiosk. "
    "Staff will check your card at the counter."
)


class CardNotAuthentic(EmrtdError):
    """The chip's data does not match its signature, or the chip is a clone."""

    msgid = (
        "The data on this card could not be verified. Please go to the counter, "
        "where staff will help you."
    )


class CardExpired(EmrtdError):
    """The card's validity has ended."""

    msgid = (
        "This card has expired. Please go to the counter, or renew your card at the police office."
    )


class SignerNotTrusted(EmrtdError):
    """The card's signer is not trusted and the kiosk is set to refuse such cards."""

    msgid = "This card's issuer could not be verified at this kiosk. Please go to the counter."


class WrongCard(EmrtdError):
    """The chip holds another ID number than the one typed."""

    msgid = "The card on the reader does not match the ID number you typed. Please check both."


@dataclass(repr=False)
class ChipPresence:
    """What proves to the back office that this card is on the reader now (presence.py):
    its ``challenge`` signed by the chip (``aa_signature``; None for a chip without Active
    Authentication), with the files that let the server check the signature and the data."""

    challenge: bytes
    aa_signature: bytes | None
    dg13: bytes
    dg14: bytes | None
    dg15: bytes | None
    sod: bytes

    def __repr__(self) -> str:  # the files are personal data: never in a log line
        return f"ChipPresence(active_auth={self.aa_signature is not None})"

    @property
    def wiped(self) -> bool:
        return not self.sod

    def wipe(self) -> None:
        """Forget the card's files (sent, or no longer needed)."""
        self.challenge = self.dg13 = self.sod = b""
        self.aa_signature = self.dg14 = self.dg15 = None


@dataclass
class ChipOutcome:
    """What the session keeps from a card read, plus what it tells the citizen and the log."""

    identity: Identity
    protocol: str
    passive: str
    active: str | None
    warning_msgid: str | None
    apdus: int
    presence: ChipPresence | None = field(default=None, repr=False)


Progress = Callable[[str, int, int], None]
WAIT_SLICE_S = 0.25  # how often a wait for the card looks whether the citizen is still there


class ChipService:
    """The card reader and the trust anchors, and the rules for accepting a card."""

    def __init__(
        self,
        card_reader: Any,
        trust: Any,
        *,
        untrusted_signer: str = "warn",
        alert: Callable[[str], None] | None = None,
        today: Callable[[], date] = date.today,
        wait_s: float = 20.0,
    ) -> None:
        self.wait_s = wait_s  # how long "place your card" waits for a card
        self.card_reader = card_reader
        self.trust = trust
        self.untrusted_signer = untrusted_signer
        self.alert = alert or (lambda message: None)
        self.today = today

    def read(
        self,
        id_number: str,
        progress: Progress | None = None,
        *,
        timeout_s: float | None = None,
        mrz_key: str | None = None,
        aa_challenge: bytes | None = None,
        check: Callable[[], None] | None = None,
    ) -> ChipOutcome:
        """Read the card of ``id_number`` (its CAN opens PACE; ``mrz_key``, from the MRZ read
        by the camera, also opens a BAC-only chip). With ``aa_challenge`` (a back office's
        8-byte presence challenge) the chip signs it, and ``outcome.presence`` carries the proof.

        ``check()`` is called while waiting for the card (every ``WAIT_SLICE_S``) and before each
        step of the read; whatever it raises (the citizen left) stops the read at once.
        """
        number = normalise_id_number(id_number)
        key = AccessKey(can=can_from_id_number(number), mrz_key=mrz_key)

        def listener(step: ReadStep, index: int, total: int) -> None:
            if check is not None:
                check()
            if progress is not None:
                progress(step.value, index, total)

        connection = self._wait_for_card(self.wait_s if timeout_s is None else timeout_s, check)
        try:
            result = read_chip(
                connection.transmit,
                key,
                self.trust,
                listener=listener,
                aa_challenge=aa_challenge,
            )
        finally:
            connection.close()
        try:
            outcome = self._judge(result, number)
            if aa_challenge is not None:
                outcome.presence = presence_from(result, aa_challenge)
            return outcome
        finally:
            result.wipe()

    def _wait_for_card(self, timeout_s: float, check: Callable[[], None] | None) -> Any:
        """The reader's wait for a card, in slices with ``check()`` between them, so that a
        citizen who walks away does not hold the kiosk's worker for the whole wait."""
        if check is None:
            return self.card_reader.wait_for_card(timeout_s)
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while True:
            check()
            remaining = deadline - time.monotonic()
            try:
                return self.card_reader.wait_for_card(max(min(WAIT_SLICE_S, remaining), 0.0))
            except NoCard as exc:
                if time.monotonic() >= deadline:
                    raise NoCard(f"no card on the reader after {timeout_s:g} s") from exc

    def _judge(self, result: Any, typed_number: str) -> ChipOutcome:
        from kiosk.emrtd.passive_auth import PAStatus

        passive = result.passive
        status = passive.status
        if status is PAStatus.TAMPERED:
            groups = ", ".join(f"DG{n}" for n in passive.failed_groups)
            self.alert(f"card refused: data groups {groups} fail passive authentication")
            raise CardNotAuthentic(f"tampered data groups: {groups}")
        if result.active is not None and not result.active.valid:
            self.alert("card refused: active authentication failed (possible clone)")
            raise CardNotAuthentic("active authentication failed")
        identity = identity_from_chip(result, status)
        if identity.id_number != typed_number:
            identity.wipe()
            raise WrongCard("chip ID number differs from the typed one")
        expiry = date_of_expiry(result)
        if expiry is not None and expiry < self.today():
            identity.wipe()
            raise CardExpired(f"card expired on {expiry.isoformat()}")
        warning = None
        if status is PAStatus.UNTRUSTED_SIGNER or status is PAStatus.NOT_CHECKED:
            if self.untrusted_signer == "refuse":
                identity.wipe()
                raise SignerNotTrusted(f"passive authentication: {status.value}")
            warning = MSG_UNTRUSTED_WARNING
            log.warning("card accepted with an unverified signer: %s", status.value)
        return ChipOutcome(
            identity=identity,
            protocol=result.protocol,
            passive=status.value,
            active=None if result.active is None else "verified",
            warning_msgid=warning,
            apdus=result.stats.apdus,
        )


def presence_from(result: Any, challenge: bytes) -> ChipPresence | None:
    """The presence proof of a read whose Active Authentication signed ``challenge`` (copies
    of the files, taken before ``result.wipe()``); None without DG13 or EF.SOD."""
    groups = result.data_groups
    sod = result.files.get("SOD")
    if 13 not in groups or not sod:
        return None
    active = result.active
    signed = active is not None and active.verified and bytes(active.nonce) == bytes(challenge)
    return ChipPresence(
        challenge=bytes(challenge),
        aa_signature=bytes(active.signature) if signed else None,
        dg13=bytes(groups[13]),
        dg14=bytes(groups[14]) if 14 in groups else None,
        dg15=bytes(groups[15]) if 15 in groups else None,
        sod=bytes(sod),
    )


def date_of_expiry(result: Any) -> date | None:
    dg13 = result.dg13
    if dg13 is not None and getattr(dg13, "date_of_expiry", None):
        return dg13.date_of_expiry
    dg1 = result.dg1
    if dg1 is not None and getattr(dg1, "date_of_expiry", None):
        yymmdd = dg1.date_of_expiry
        try:
            return date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
        except ValueError:
            return None
    return None


def identity_from_chip(result: Any, status: Any) -> Identity:
    """The session's identity from DG13 (and DG1, DG2); authenticity from passive auth."""
    from kiosk.emrtd.passive_auth import PAStatus

    authenticity = {
        PAStatus.AUTHENTIC: Authenticity.AUTHENTIC,
        PAStatus.UNTRUSTED_SIGNER: Authenticity.UNTRUSTED_SIGNER,
        PAStatus.TAMPERED: Authenticity.TAMPERED,
    }.get(status, Authenticity.NOT_CHECKED)
    dg13 = result.dg13
    number = getattr(dg13, "id_number", None) if dg13 is not None else None
    if not number and result.dg1 is not None:
        from kiosk.emrtd.mrz import cccd_id_number

        number = cccd_id_number(result.dg1)
    if not number:
        raise CardNotAuthentic("the chip holds no ID number")
    sex = getattr(dg13, "sex", None) if dg13 is not None else None
    if sex is not None:
        sex = {"Nam": "M", "Nữ": "F"}.get(sex, sex)
    dob = getattr(dg13, "date_of_birth", None) if dg13 is not None else None
    return Identity(
        id_number=number,
        source=IdentitySource.CHIP,
        authenticity=authenticity,
        full_name=getattr(dg13, "full_name", None) if dg13 is not None else None,
        date_of_birth=dob if isinstance(dob, date) else None,
        birth_year=dob.year if isinstance(dob, date) else None,
        sex=sex,
        nationality=getattr(dg13, "nationality", None) if dg13 is not None else None,
        residence=getattr(dg13, "residence", None) if dg13 is not None else None,
        photo=bytearray(result.face_image) if result.face_image else None,
    )
