"""Active Authentication (ICAO 9303-11 §6.1): the chip proves it holds the key of DG15.

The reader sends INTERNAL AUTHENTICATE (``00 88 00 00``, an 8-byte random nonce, Le 00) under
secure messaging; the chip signs the nonce with its private key:

* RSA: ISO/IEC 9796-2 digital signature scheme 1, partial message recovery. The chip builds
  ``F = 6A ‖ M1 ‖ H(M1 ‖ nonce) ‖ trailer`` (as long as the modulus), ``BC`` as the trailer for
  SHA-1, or ``xxCC`` naming the hash (``34CC`` SHA-256, ``36CC`` SHA-384, ``35CC`` SHA-512,
  ``38CC`` SHA-224, ``33CC`` SHA-1), and returns ``F^d mod n``. The reader recovers F with the
  public key, finds M1 after the header nibble ``A``, and checks the hash.
* ECDSA: the plain signature ``r ‖ s`` (BSI TR-03111) over the nonce; the hash is the one DG14's
  ActiveAuthenticationInfo names (ecdsa-plain-SHA*), SHA-256 when DG14 says nothing. A
  DER-encoded signature is accepted too.

``ActiveAuthProtocol(transmit, key).run()`` moves the APDU; ``verify_response`` is the crypto;
``sign_challenge`` is the card side, for the simulated chip.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from kiosk.emrtd.apdu import INS_INTERNAL_AUTHENTICATE, CommandAPDU, Transmit, send
from kiosk.emrtd.datagroups.public_key import (
    EcdsaKey,
    PublicKey,
    hash_algorithm,
    verify_ecdsa,
    verify_ecdsa_plain,
)
from kiosk.emrtd.errors import UnsupportedProtocol

NONCE_LENGTH = 8
STEP = "active_auth"

TRAILER_IMPLICIT_SHA1 = 0xBC
_HASH_IDS = {0x33: "sha1", 0x34: "sha256", 0x35: "sha512", 0x36: "sha384", 0x38: "sha224"}
_HASH_TRAILERS = {name: bytes([ident, 0xCC]) for ident, name in _HASH_IDS.items()}

# DG14 ActiveAuthenticationInfo signatureAlgorithm → hash (BSI TR-03111 ecdsa-plain-*)
ECDSA_PLAIN_HASHES = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}
DEFAULT_ECDSA_HASH = "sha256"


@dataclass(frozen=True)
class ActiveAuthResult:
    verified: bool
    algorithm: str  # "RSA ISO/IEC 9796-2 SHA-1", "ECDSA brainpoolP256r1 SHA-256", …
    nonce: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    reason: str = ""  # why not verified

    @property
    def valid(self) -> bool:
        return self.verified


def internal_authenticate(nonce: bytes) -> CommandAPDU:
    """INTERNAL AUTHENTICATE with the 8-byte nonce; Le 00 (up to 256 bytes back)."""
    if len(nonce) != NONCE_LENGTH:
        raise ValueError(f"the Active Authentication nonce is {NONCE_LENGTH} bytes")
    return CommandAPDU(0x00, INS_INTERNAL_AUTHENTICATE, 0x00, 0x00, bytes(nonce), le=256)


def _hash_label(name: str) -> str:
    return name.upper().replace("SHA", "SHA-")


def _verify_rsa(key: rsa.RSAPublicKey, nonce: bytes, signature: bytes) -> ActiveAuthResult:
    numbers = key.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    label = "RSA ISO/IEC 9796-2"

    def fail(reason: str, hash_name: str | None = None) -> ActiveAuthResult:
        name = f"{label} {_hash_label(hash_name)}" if hash_name else label
        return ActiveAuthResult(False, name, nonce, signature, reason)

    value = int.from_bytes(signature, "big")
    if not signature or len(signature) > size or not 0 < value < numbers.n:
        return fail("signature is not a number below the modulus")
    recovered = pow(value, numbers.e, numbers.n).to_bytes(size, "big")
    if recovered[0] & 0xC0 != 0x40:
        return fail("recovered message has no ISO/IEC 9796-2 header")
    if recovered[-1] == TRAILER_IMPLICIT_SHA1:
        hash_name, trailer = "sha1", 1
    elif recovered[-1] == 0xCC and recovered[-2] in _HASH_IDS:
        hash_name, trailer = _HASH_IDS[recovered[-2]], 2
    else:
        return fail(f"unknown ISO/IEC 9796-2 trailer {recovered[-2:].hex()}")
    hash_size = hashlib.new(hash_name).digest_size
    start = next((i + 1 for i, byte in enumerate(recovered) if byte & 0x0F == 0x0A), None)
    end = size - trailer - hash_size
    if start is None or start > end:
        return fail("recovered message has no room for M1", hash_name)
    m1 = recovered[start:end]
    expected = recovered[end : size - trailer]
    if hashlib.new(hash_name, m1 + nonce).digest() != expected:
        return fail("the hash in the signature does not match the nonce", hash_name)
    return ActiveAuthResult(True, f"{label} {_hash_label(hash_name)}", nonce, signature)


def _verify_ec(
    key: ec.EllipticCurvePublicKey | EcdsaKey, nonce: bytes, signature: bytes, hash_name: str
) -> ActiveAuthResult:
    curve = key.curve.name if isinstance(key, ec.EllipticCurvePublicKey) else key.curve_name
    label = f"ECDSA {curve} {_hash_label(hash_name)}"
    if verify_ecdsa_plain(key, signature, nonce, hash_name) or (
        signature[:1] == b"\x30" and verify_ecdsa(key, signature, nonce, hash_name)
    ):
        return ActiveAuthResult(True, label, nonce, signature)
    return ActiveAuthResult(False, label, nonce, signature, "the ECDSA signature does not verify")


def verify_response(
    key: PublicKey | Any, nonce: bytes, signature: bytes, *, signature_algorithm: str | None = None
) -> ActiveAuthResult:
    """Check the chip's answer to ``nonce`` with the DG15 key (a key or a ``lds.DG15``).

    ``signature_algorithm`` is DG14's ActiveAuthenticationInfo OID (ECDSA only).
    """
    key = getattr(key, "public_key", key)
    nonce, signature = bytes(nonce), bytes(signature)
    if isinstance(key, rsa.RSAPublicKey):
        return _verify_rsa(key, nonce, signature)
    if isinstance(key, ec.EllipticCurvePublicKey | EcdsaKey):
        hash_name = DEFAULT_ECDSA_HASH
        if signature_algorithm is not None:
            if signature_algorithm not in ECDSA_PLAIN_HASHES:
                raise UnsupportedProtocol(
                    f"Active Authentication algorithm {signature_algorithm} is not supported"
                )
            hash_name = ECDSA_PLAIN_HASHES[signature_algorithm]
        return _verify_ec(key, nonce, signature, hash_name)
    raise UnsupportedProtocol(f"Active Authentication with a {type(key).__name__} key")


class ActiveAuthProtocol:
    """Send INTERNAL AUTHENTICATE through ``transmit`` (secured) and check the answer."""

    def __init__(
        self,
        transmit: Transmit,
        key: PublicKey | Any,
        *,
        signature_algorithm: str | None = None,
        rng: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self.transmit = transmit
        self.key = key
        self.signature_algorithm = signature_algorithm
        self.rng = rng

    def run(self) -> ActiveAuthResult:
        nonce = self.rng(NONCE_LENGTH)
        answer = send(self.transmit, internal_authenticate(nonce), STEP).check(STEP)
        return verify_response(
            self.key, nonce, answer, signature_algorithm=self.signature_algorithm
        )


def run_active_auth(
    transmit: Transmit,
    key: PublicKey | Any,
    *,
    signature_algorithm: str | None = None,
    rng: Callable[[int], bytes] = secrets.token_bytes,
) -> ActiveAuthResult:
    """``ActiveAuthProtocol(...).run()`` in one call; card errors raise ``CardStatusError``."""
    return ActiveAuthProtocol(transmit, key, signature_algorithm=signature_algorithm, rng=rng).run()


# --- the card side --------------------------------------------------------------------------


def sign_challenge(
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    nonce: bytes,
    *,
    hash_name: str | None = None,
    rng: Callable[[int], bytes] = secrets.token_bytes,
) -> bytes:
    """What a chip answers to INTERNAL AUTHENTICATE (the simulator's half of the protocol).

    RSA: ISO/IEC 9796-2 scheme 1 with SHA-1 and trailer BC by default (``hash_name`` picks
    another hash, with its two-byte trailer). EC: plain r‖s, SHA-256 by default.
    """
    nonce = bytes(nonce)
    if isinstance(private_key, rsa.RSAPrivateKey):
        hash_name = hash_name or "sha1"
        numbers = private_key.private_numbers()
        modulus = numbers.public_numbers.n
        if modulus.bit_length() % 8:
            raise ValueError("the RSA modulus must be a whole number of bytes")
        size = modulus.bit_length() // 8
        trailer = bytes([TRAILER_IMPLICIT_SHA1]) if hash_name == "sha1" else None
        trailer = trailer or _HASH_TRAILERS.get(hash_name)
        if trailer is None:
            raise ValueError(f"no ISO/IEC 9796-2 trailer for {hash_name}")
        hash_size = hashlib.new(hash_name).digest_size
        m1 = rng(size - 1 - hash_size - len(trailer))
        block = b"\x6a" + m1 + hashlib.new(hash_name, m1 + nonce).digest() + trailer
        return pow(int.from_bytes(block, "big"), numbers.d, modulus).to_bytes(size, "big")
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        der = private_key.sign(nonce, ec.ECDSA(hash_algorithm(hash_name or DEFAULT_ECDSA_HASH)))
        r, s = decode_dss_signature(der)
        size = (private_key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise TypeError(f"cannot sign with a {type(private_key).__name__}")
