"""The simulated cards, by name, and how to build a complete chip for each.

A profile is a citizen (``devices/simulated/card_reader.PROFILES``) and a behaviour:

    demo              a plausible citizen with a photo, PACE-CAN and BAC, signed by the TEST CSCA
    elderly, young    other citizens (the elderly one is served with priority)
    tampered          the demo card with one byte of DG13 changed after signing
    expired           the demo card, expired yesterday
    untrusted-signer  signed by a document signer whose CSCA the kiosk does not trust
    bac-only          no EF.CardAccess, no PACE: only BAC with the MRZ
    pulled            leaves the reader in the middle of reading DG2

``build_chip(name, pki_dir)`` returns a ``SimulatedCCCD`` holding real files (lds_builder), the
PACE and BAC card sides and an active-authentication key; the TEST PKI in ``pki_dir`` is created
once and shared by every process that uses the same folder (simulator and reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.simulated.card_reader import PROFILES
from devices.simulated.cccd_card import (
    INS_EXTERNAL_AUTHENTICATE,
    INS_GENERAL_AUTHENTICATE,
    INS_GET_CHALLENGE,
    INS_INTERNAL_AUTHENTICATE,
    INS_MSE,
    SimulatedCCCD,
)

PULL_AFTER_APDUS = 14  # past PACE and EF.COM, inside DG2


@dataclass(frozen=True)
class ChipBehaviour:
    person: str = "demo"
    tamper_dg: int | None = None
    expired: bool = False
    untrusted: bool = False
    bac_only: bool = False
    pull_after: int | None = None


BEHAVIOURS: dict[str, ChipBehaviour] = {
    "demo": ChipBehaviour(),
    "elderly": ChipBehaviour(person="elderly"),
    "young": ChipBehaviour(person="young"),
    "tampered": ChipBehaviour(tamper_dg=13),
    "expired": ChipBehaviour(expired=True),
    "untrusted-signer": ChipBehaviour(untrusted=True),
    "bac-only": ChipBehaviour(bac_only=True),
    "pulled": ChipBehaviour(pull_after=PULL_AFTER_APDUS),
}

FAMILY = {
    "demo": ("Nguyễn Văn Bình", "Trần Thị Lan", ""),
    "elderly": ("Trần Văn Cường", "Phạm Thị Hoa", "Lê Văn Dũng"),
    "young": ("Lê Văn Minh", "Đỗ Thị Mai", ""),
}


def profile_names() -> list[str]:
    return sorted(BEHAVIOURS)


def chip_profile(name: str) -> ChipBehaviour:
    try:
        return BEHAVIOURS[name]
    except KeyError:
        known = ", ".join(profile_names())
        raise ValueError(f"unknown simulated card profile {name!r} (known: {known})") from None


def _lds_profile(person: Any, family: tuple[str, str, str]) -> Any:
    from devices.simulated.lds_builder import LDSProfile

    return LDSProfile(
        id_number=person.id_number,
        full_name=person.full_name,
        date_of_birth=person.date_of_birth,
        sex=person.sex,
        nationality=person.nationality,
        hometown=person.place_of_origin,
        residence=person.place_of_residence,
        date_of_issue=person.date_of_issue,
        date_of_expiry=person.date_of_expiry,
        father_name=family[0],
        mother_name=family[1],
        spouse_name=family[2],
    )


def build_chip(name: str, pki_dir: Path) -> SimulatedCCCD:
    """A complete simulated CCCD of the named profile, signed with the TEST PKI in ``pki_dir``."""
    from devices.simulated.chip_bac import BACChip
    from devices.simulated.chip_pace import PACEChip
    from devices.simulated.lds_builder import build_card
    from devices.simulated.test_pki import TestPKI
    from kiosk.emrtd.active_auth import sign_challenge
    from kiosk.emrtd.errors import MRZError
    from kiosk.emrtd.mrz import parse_mrz
    from kiosk.emrtd.pace import PasswordType

    behaviour = chip_profile(name)
    person = PROFILES[behaviour.person]
    pki = TestPKI.load_or_create(pki_dir)
    files = build_card(
        _lds_profile(person, FAMILY[behaviour.person]),
        pki,
        tamper_dg=behaviour.tamper_dg,
        untrusted=behaviour.untrusted,
        expired=behaviour.expired,
    )
    chip = SimulatedCCCD(person)
    for fid, content in files.by_fid.items():
        ef = chip.emrtd.files.get(fid)
        if ef is None:
            from devices.simulated.cccd_card import ElementaryFile

            ef = chip.emrtd.add(ElementaryFile(f"EF {fid:04X}", fid, fid & 0x1F))
        ef.content = content
    chip.mrz = files.mrz  # type: ignore[attr-defined]
    try:
        mrz_key: str | None = parse_mrz(files.mrz).mrz_key
    except MRZError:  # a card without expiry date ("không thời hạn") has no BAC key here
        mrz_key = None
    chip.mrz_key = mrz_key  # type: ignore[attr-defined]
    if mrz_key is not None:
        chip.add_protocol(BACChip(mrz_key), (INS_GET_CHALLENGE, INS_EXTERNAL_AUTHENTICATE))
    if behaviour.bac_only:
        del chip.mf.files[0x011C]  # no EF.CardAccess: a reader must fall back to BAC
    else:
        others = {PasswordType.MRZ: mrz_key} if mrz_key else None
        pace = PACEChip(person.can, PasswordType.CAN, other_passwords=others)
        chip.add_protocol(pace, (INS_MSE, INS_GENERAL_AUTHENTICATE))
    aa_key = files.aa_key
    chip.aa_signer = lambda nonce: sign_challenge(aa_key, nonce)
    chip.handlers[INS_INTERNAL_AUTHENTICATE] = chip._internal_authenticate
    if behaviour.pull_after is not None:
        original_power_on = chip.power_on

        def power_on_then_pull() -> bytes:
            atr = original_power_on()
            chip.remove_after(behaviour.pull_after or 0)
            return atr

        chip.power_on = power_on_then_pull  # type: ignore[method-assign]
        chip.remove_after(behaviour.pull_after)
    return chip


def profile_info(name: str, chip: SimulatedCCCD) -> dict[str, Any]:
    """What a tester types to read this card: the ID number, the CAN and the MRZ."""
    mrz = getattr(chip, "mrz", "")
    return {
        "profile": name,
        "id_number": chip.profile.id_number,
        "can": chip.profile.can,
        "mrz": "\n".join(mrz[i : i + 30] for i in range(0, len(mrz), 30)),
        "full_name": chip.profile.full_name,
    }
