"""The chip's side of Basic Access Control for the simulated CCCD (ICAO 9303-11 §4.3).

``BACChip.handle(command)`` answers GET CHALLENGE (84) and EXTERNAL AUTHENTICATE (82) and
returns (data, status word, secure messaging or None); the secure messaging comes back once the
reader has proved it knows the MRZ key, and from then on the card protects its answers with it.

    GET CHALLENGE           P1P2 0000, Le 08      → RND.ICC (8 random bytes)                9000
    EXTERNAL AUTHENTICATE   P1P2 0000, 40 bytes   → E.ICC || M.ICC and the session           9000
                            MAC or RND.ICC wrong  → 6300; no challenge pending → 6985

A challenge serves one EXTERNAL AUTHENTICATE, right or wrong, as on real chips. The crypto is
kiosk.emrtd.bac's, the same the reader uses; the tests replay ICAO 9303-11 Appendix D.3 on both.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Protocol

from kiosk.emrtd.bac import (
    CRYPTOGRAM_LENGTH,
    KEY_LENGTH,
    NONCE_LENGTH,
    document_keys,
    seal,
    session,
    unseal,
)
from kiosk.emrtd.secure_messaging import SecureMessaging

INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82

SW_OK = 0x9000
SW_AUTH_FAILED = 0x6300
SW_WRONG_LENGTH = 0x6700
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_WRONG_P1P2 = 0x6A86
SW_INS_NOT_SUPPORTED = 0x6D00

Answer = tuple[bytes, int, SecureMessaging | None]


class Command(Protocol):
    """What ``handle`` reads of a command APDU: kiosk.emrtd.apdu's (with ``le``) or the
    simulator's cccd_card one (with ``ne``). Not imported here, so cccd_card may import this."""

    @property
    def cla(self) -> int: ...
    @property
    def ins(self) -> int: ...
    @property
    def p1(self) -> int: ...
    @property
    def p2(self) -> int: ...
    @property
    def data(self) -> bytes: ...


def _ne(command: Command) -> int | None:
    """Ne of either APDU class: the simulator's ``ne``, or kiosk's ``le`` (0 meaning 256)."""
    if hasattr(command, "ne"):
        return command.ne  # type: ignore[attr-defined]
    le = getattr(command, "le", None)
    return None if le is None else (le or 256)


class BACChip:
    """BAC as the chip does it, for one document's MRZ key (``kiosk.emrtd.mrz.mrz_key``)."""

    def __init__(self, mrz_key: str, rng: Callable[[int], bytes] = secrets.token_bytes) -> None:
        self.k_enc, self.k_mac = document_keys(mrz_key)
        self._rng = rng
        self.challenge: bytes | None = None

    def handle(self, cmd: Command) -> Answer:
        if cmd.ins == INS_GET_CHALLENGE:
            return self._get_challenge(cmd)
        if cmd.ins == INS_EXTERNAL_AUTHENTICATE:
            return self._external_authenticate(cmd)
        return b"", SW_INS_NOT_SUPPORTED, None

    def _get_challenge(self, cmd: Command) -> Answer:
        if cmd.p1 or cmd.p2:
            return b"", SW_WRONG_P1P2, None
        if cmd.data or _ne(cmd) != NONCE_LENGTH:
            return b"", SW_WRONG_LENGTH, None
        self.challenge = self._rng(NONCE_LENGTH)
        return self.challenge, SW_OK, None

    def _external_authenticate(self, cmd: Command) -> Answer:
        if cmd.p1 or cmd.p2:
            return b"", SW_WRONG_P1P2, None
        rnd_icc, self.challenge = self.challenge, None
        if rnd_icc is None:
            return b"", SW_CONDITIONS_NOT_SATISFIED, None
        ne = _ne(cmd)
        if len(cmd.data) != CRYPTOGRAM_LENGTH or (ne is not None and ne < CRYPTOGRAM_LENGTH):
            return b"", SW_WRONG_LENGTH, None
        plain = unseal(self.k_enc, self.k_mac, cmd.data)
        if plain is None or plain[8:16] != rnd_icc:
            return b"", SW_AUTH_FAILED, None
        rnd_ifd, k_ifd = plain[:8], plain[16:]
        k_icc = self._rng(KEY_LENGTH)
        answer = seal(self.k_enc, self.k_mac, rnd_icc + rnd_ifd + k_icc)
        return answer, SW_OK, session(k_ifd, k_icc, rnd_icc, rnd_ifd)
