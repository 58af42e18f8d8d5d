"""Key derivation for BAC, PACE and secure messaging (ICAO 9303-11 §9.7.1).

    keydata = H(secret || counter)     counter: 32-bit big-endian, KENC=1, KMAC=2, KPI=3

    cipher   hash     key
    3DES     SHA-1    bytes 1..16 (K1 || K2), each byte's parity bit adjusted (odd parity)
    AES128   SHA-1    bytes 1..16
    AES192   SHA-256  bytes 1..24
    AES256   SHA-256  bytes 1..32

The secret is BAC's K_seed, the XOR of K.IFD and K.ICC after BAC, PACE's shared secret, or (with
KPI) the PACE password.
"""

from __future__ import annotations

import hashlib

KENC, KMAC, KPI = 1, 2, 3

CIPHERS = ("3DES", "AES128", "AES192", "AES256")


def adjust_parity(key: bytes) -> bytes:
    """Each byte with its lowest bit set so that the byte has an odd number of one bits (DES)."""
    out = bytearray()
    for byte in key:
        high = byte & 0xFE
        out.append(high | (bin(high).count("1") + 1) % 2)
    return bytes(out)


def kdf(secret: bytes, counter: int, cipher: str) -> bytes:
    """The key for ``counter`` (KENC, KMAC, KPI) of ``cipher`` ("3DES", "AES128", ...)."""
    if cipher not in CIPHERS:
        raise ValueError(f"unknown cipher {cipher!r}; one of {', '.join(CIPHERS)}")
    if not 0 <= counter < 2**32:
        raise ValueError(f"counter {counter} does not fit 32 bits")
    data = bytes(secret) + counter.to_bytes(4, "big")
    if cipher == "3DES":
        return adjust_parity(hashlib.sha1(data).digest()[:16])
    if cipher == "AES128":
        return hashlib.sha1(data).digest()[:16]
    digest = hashlib.sha256(data).digest()
    return digest[:24] if cipher == "AES192" else digest
