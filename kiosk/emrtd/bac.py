"""Basic Access Control (ICAO 9303-11 §4.3; worked example in Appendix D).

    K_seed = SHA-1(mrz_key)[:16];  K_enc = KDF(K_seed, 1), K_mac = KDF(K_seed, 2)   (3DES)

    reader                                              chip
      GET CHALLENGE (00 84 00 00 08)             ─►
                                                 ◄─   RND.ICC (8 bytes)
      S = RND.IFD || RND.ICC || K.IFD
      EXTERNAL AUTHENTICATE E.IFD || M.IFD       ─►   E = 3DES-CBC(K_enc, S), M = MAC(K_mac, E)
                                                 ◄─   E.ICC || M.ICC
                                                      of R = RND.ICC || RND.IFD || K.ICC
      KS_seed = K.IFD xor K.ICC: KSenc = KDF(KS_seed, 1), KSmac = KDF(KS_seed, 2)
      SSC = RND.ICC[4:8] || RND.IFD[4:8]

``BACProtocol`` only moves the two APDUs; ``BACTerminal`` is the reader's crypto and the module
functions are shared with the simulated chip (devices/simulated/chip_bac.py). A wrong MRZ shows as
6300 (or 6982 / 63Cx) to EXTERNAL AUTHENTICATE, or as a card answer whose MAC or nonces do not
verify: both raise ``AccessDenied``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.emrtd.apdu import (
    INS_EXTERNAL_AUTHENTICATE,
    INS_GET_CHALLENGE,
    SW_AUTH_FAILED,
    SW_OK,
    SW_SECURITY_STATUS,
    CommandAPDU,
    Transmit,
    send,
    status_error,
)
from kiosk.emrtd.errors import AccessDenied, EmrtdError, MRZError
from kiosk.emrtd.keys import KENC, KMAC, kdf
from kiosk.emrtd.secure_messaging import (
    CIPHER_3DES,
    SecureMessaging,
    pad,
    retail_mac,
    tdes_decrypt,
    tdes_encrypt,
)

Rng = Callable[[int], bytes]

STEP = "bac"
NONCE_LENGTH = 8
KEY_LENGTH = 16
CRYPTOGRAM_LENGTH = 2 * NONCE_LENGTH + KEY_LENGTH + 8  # E (32 bytes) || M (8 bytes) = 40

_MRZ_KEY = re.compile(r"[A-Z0-9<]{9,}\d{13}")


def key_seed(mrz_key: str) -> bytes:
    """K_seed: the first 16 bytes of SHA-1 over the MRZ information (``mrz.mrz_key``)."""
    if not isinstance(mrz_key, str) or not _MRZ_KEY.fullmatch(mrz_key):
        raise MRZError("the BAC key needs document number, dates and check digits (mrz_key)")
    return hashlib.sha1(mrz_key.encode("ascii")).digest()[:16]


def document_keys(mrz_key: str) -> tuple[bytes, bytes]:
    """(K_enc, K_mac), the document basic access keys."""
    seed = key_seed(mrz_key)
    return kdf(seed, KENC, CIPHER_3DES), kdf(seed, KMAC, CIPHER_3DES)


def seal(k_enc: bytes, k_mac: bytes, plain: bytes) -> bytes:
    """E || M: 3DES-CBC (zero IV) of the 32 bytes, then the retail MAC of E (padded)."""
    encrypted = tdes_encrypt(k_enc, plain)
    return encrypted + retail_mac(k_mac, pad(encrypted))


def unseal(k_enc: bytes, k_mac: bytes, cryptogram: bytes) -> bytes | None:
    """The 32 plain bytes of E || M, or None if the MAC does not verify (wrong key)."""
    if len(cryptogram) != CRYPTOGRAM_LENGTH:
        return None
    encrypted, mac = cryptogram[:-8], cryptogram[-8:]
    if not hmac.compare_digest(retail_mac(k_mac, pad(encrypted)), mac):
        return None
    return tdes_decrypt(k_enc, encrypted)


def session_keys(k_ifd: bytes, k_icc: bytes) -> tuple[bytes, bytes]:
    """(KSenc, KSmac) from the two key halves exchanged."""
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_icc, strict=True))
    return kdf(seed, KENC, CIPHER_3DES), kdf(seed, KMAC, CIPHER_3DES)


def session_ssc(rnd_icc: bytes, rnd_ifd: bytes) -> int:
    """The initial SSC: the low 4 bytes of RND.ICC then of RND.IFD."""
    return int.from_bytes(rnd_icc[4:8] + rnd_ifd[4:8], "big")


def session(k_ifd: bytes, k_icc: bytes, rnd_icc: bytes, rnd_ifd: bytes) -> SecureMessaging:
    """The secure messaging both sides hold once BAC has succeeded."""
    ks_enc, ks_mac = session_keys(k_ifd, k_icc)
    return SecureMessaging(ks_enc, ks_mac, session_ssc(rnd_icc, rnd_ifd), CIPHER_3DES)


@dataclass
class BACResult:
    """What BAC leaves: the secure messaging that protects every following APDU."""

    sm: SecureMessaging


class BACTerminal:
    """The reader's side of BAC as pure crypto: no APDUs."""

    def __init__(self, mrz_key: str, *, rng: Rng = secrets.token_bytes) -> None:
        self.k_enc, self.k_mac = document_keys(mrz_key)
        self._rng = rng
        self.rnd_icc = b""
        self.rnd_ifd = b""
        self.k_ifd = b""

    def authenticate(self, rnd_icc: bytes) -> bytes:
        """EXTERNAL AUTHENTICATE's data for the chip's challenge (draws RND.IFD, then K.IFD)."""
        if len(rnd_icc) != NONCE_LENGTH:
            raise EmrtdError(f"GET CHALLENGE gave {len(rnd_icc)} bytes, not 8", step=STEP)
        self.rnd_icc = bytes(rnd_icc)
        self.rnd_ifd = self._rng(NONCE_LENGTH)
        self.k_ifd = self._rng(KEY_LENGTH)
        return seal(self.k_enc, self.k_mac, self.rnd_ifd + self.rnd_icc + self.k_ifd)

    def complete(self, answer: bytes) -> SecureMessaging:
        """Check the chip's E.ICC || M.ICC and derive the session; ``AccessDenied`` if false."""
        if len(answer) != CRYPTOGRAM_LENGTH:
            raise EmrtdError(
                f"EXTERNAL AUTHENTICATE answered {len(answer)} bytes, not 40", step=STEP
            )
        plain = unseal(self.k_enc, self.k_mac, answer)
        if plain is None:
            raise AccessDenied("the chip's BAC answer does not verify (wrong MRZ?)", step=STEP)
        rnd_icc, rnd_ifd, k_icc = plain[:8], plain[8:16], plain[16:]
        if not (
            hmac.compare_digest(rnd_icc, self.rnd_icc)
            and hmac.compare_digest(rnd_ifd, self.rnd_ifd)
        ):
            raise AccessDenied("the chip's BAC answer has other nonces", step=STEP)
        return session(self.k_ifd, k_icc, self.rnd_icc, self.rnd_ifd)


def _refused(sw: int) -> bool:
    return sw in (SW_AUTH_FAILED, SW_SECURITY_STATUS) or sw & 0xFFF0 == 0x63C0


class BACProtocol:
    """BAC over a transport: GET CHALLENGE, EXTERNAL AUTHENTICATE, then ``BACResult``."""

    def __init__(self, transmit: Transmit, mrz_key: str, *, rng: Rng = secrets.token_bytes):
        self._transmit = transmit
        self._terminal = BACTerminal(mrz_key, rng=rng)

    def run(self) -> BACResult:
        challenge = send(self._transmit, CommandAPDU(0x00, INS_GET_CHALLENGE, 0, 0, le=8))
        if challenge.sw != SW_OK:
            raise status_error(challenge.sw, STEP)
        data = self._terminal.authenticate(challenge.data)
        answer = send(
            self._transmit, CommandAPDU(0x00, INS_EXTERNAL_AUTHENTICATE, 0, 0, data, le=0x28)
        )
        if _refused(answer.sw):
            raise AccessDenied("the chip refused the MRZ key", sw=answer.sw, step=STEP)
        if answer.sw != SW_OK:
            raise status_error(answer.sw, STEP)
        return BACResult(self._terminal.complete(answer.data))
