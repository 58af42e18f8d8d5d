"""The citizen's identity as the kiosk knows it.

An ``Identity`` comes from one source (typed on the keypad, the card's chip, its QR code or its
MRZ) and says how far it can be trusted (``Authenticity``). Only the chip, after passive
authentication, gives ``AUTHENTIC``; a typed number is ``NOT_CHECKED``. ``wipe()`` overwrites the
photo bytes and drops every field, for the end of a session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from kiosk.identity.id_number import (
    normalise_id_number,
    parse_id_number,
)
from kiosk.infra.text import nfc


class IdentitySource(Enum):
    TYPED = "typed"
    CHIP = "chip"
    QR = "qr"
    MRZ = "mrz"


class Authenticity(Enum):
    NOT_CHECKED = "not_checked"
    AUTHENTIC = "authentic"
    UNTRUSTED_SIGNER = "untrusted_signer"
    TAMPERED = "tampered"


@dataclass
class Identity:
    """Who the citizen is, from one source, with how far it can be trusted."""

    id_number: str
    source: IdentitySource
    authenticity: Authenticity = Authenticity.NOT_CHECKED
    full_name: str | None = None
    date_of_birth: date | None = None
    birth_year: int | None = None
    sex: str | None = None
    nationality: str | None = None
    residence: str | None = None
    photo: bytearray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.full_name is not None:
            self.full_name = nfc(self.full_name)
        if self.residence is not None:
            self.residence = nfc(self.residence)

    @classmethod
    def from_typed_number(cls, raw: str, *, today: date | None = None) -> Identity:
        """An identity from a number typed on the keypad: structure checked, nothing proven."""
        facts = parse_id_number(raw, today=today)
        return cls(
            id_number=normalise_id_number(raw, today=today),
            source=IdentitySource.TYPED,
            sex=facts.sex,
            birth_year=facts.birth_year,
        )

    @classmethod
    def from_card_qr(cls, card: Any) -> Identity:
        """An identity from the card's QR code (``kiosk.vision.cccd_qr.CCCDQR``): read from
        print, so not authenticated."""
        return cls(
            id_number=card.id_number,
            source=IdentitySource.QR,
            full_name=card.full_name,
            date_of_birth=card.date_of_birth,
            birth_year=card.date_of_birth.year,
            sex=card.sex_letter,
            nationality="VNM",
            residence=card.residence,
        )

    def age_on(self, day: date) -> int | None:
        """Age in whole years on ``day``; from the year alone when the full date is unknown."""
        if self.date_of_birth is not None:
            dob = self.date_of_birth
            return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
        if self.birth_year is not None:
            return day.year - self.birth_year - 1  # the youngest the year allows
        return None

    def masked_id(self) -> str:
        """The ID number with all but the last 4 digits hidden, for screens others can see."""
        return "•" * (len(self.id_number) - 4) + self.id_number[-4:]

    def wipe(self) -> None:
        """Overwrite the photo in place and drop every personal field."""
        if self.photo is not None:
            self.photo[:] = bytes(len(self.photo))
        self.photo = None
        self.id_number = ""
        self.full_name = self.residence = self.nationality = self.sex = None
        self.date_of_birth = None
        self.birth_year = None
