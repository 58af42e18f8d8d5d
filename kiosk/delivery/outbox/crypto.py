"""Encryption at rest for the outbox: AES-256-GCM per blob, bound to its entry and name.

Every blob of the outbox (a dossier's JSON, each attachment page, an error text that may quote
personal data) is sealed on its own with a fresh random 96-bit nonce; the associated data is
``motcua-outbox/v1|<entry id>|<blob name>``, so a blob copied into another entry or under
another name fails to open instead of being read as something else. A sealed blob is
``nonce (12 bytes) || ciphertext || tag (16 bytes)``.

The key is 32 random bytes, written in config or the environment as base64. A key check (a
known text sealed under entry 0) lets the outbox tell "wrong key" (keep everything, say so)
from "this blob is damaged" (corruption). Dossier fingerprints (to make ``put`` idempotent) are
HMAC-SHA256 under a subkey derived with HKDF, so they reveal nothing about the content.

Exceptions: ``BlobError`` (a blob does not open: wrong key, damaged or moved) and
``KeyFormatError`` (not a base64 32-byte key); both are plain ``ValueError``s that
kiosk/delivery/outbox/store.py turns into its own errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_AAD_PREFIX = b"motcua-outbox/v1|"
_KEY_CHECK_NAME = "key-check"
_KEY_CHECK_TEXT = b"motcua-kiosk outbox key check v1"


class BlobError(ValueError):
    """A sealed blob does not open (wrong key, damaged bytes, or moved to another entry)."""


class KeyFormatError(ValueError):
    """Text that is not a base64-encoded 32-byte key."""


def generate_key() -> bytes:
    """A new random 256-bit key."""
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    """The key as base64 text (what a key file or ``KIOSK_OUTBOX_KEY`` holds)."""
    return base64.b64encode(key).decode("ascii")


def parse_key(text: str) -> bytes:
    """A key from its base64 text (standard or URL-safe alphabet, spaces around ignored)."""
    cleaned = "".join(text.split())
    if not cleaned:
        raise KeyFormatError("the key is empty")
    try:
        alphabet = b"-_" if ("-" in cleaned or "_" in cleaned) else None
        key = base64.b64decode(cleaned, altchars=alphabet, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError("the key is not base64 text") from None
    if len(key) != KEY_BYTES:
        raise KeyFormatError(f"the key is {len(key)} bytes; AES-256 needs {KEY_BYTES}")
    return key


def _aad(entry_id: int, name: str) -> bytes:
    return _AAD_PREFIX + f"{entry_id}|{name}".encode()


class OutboxCipher:
    """Seals and opens the outbox's blobs with one AES-256-GCM key."""

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
            raise KeyFormatError(f"the outbox key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(bytes(key))
        self._mac_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"motcua-outbox fingerprint"
        ).derive(bytes(key))

    def seal(self, entry_id: int, name: str, plaintext: bytes) -> bytes:
        """``nonce || ciphertext+tag`` of ``plaintext``, bound to ``entry_id`` and ``name``."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, _aad(entry_id, name))

    def open(self, entry_id: int, name: str, sealed: bytes) -> bytes:
        """The plaintext of a sealed blob; BlobError if it does not authenticate."""
        if not isinstance(sealed, bytes) or len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise BlobError(f"blob {name!r} of entry {entry_id} is truncated")
        try:
            return self._aead.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(entry_id, name)
            )
        except InvalidTag:
            raise BlobError(
                f"blob {name!r} of entry {entry_id} does not authenticate (damaged or moved)"
            ) from None

    def key_check(self) -> bytes:
        """A sealed known text: stored once, it tells later whether a key is the right one."""
        return self.seal(0, _KEY_CHECK_NAME, _KEY_CHECK_TEXT)

    def matches(self, key_check: bytes) -> bool:
        """True when ``key_check`` was made with this key."""
        try:
            return hmac.compare_digest(self.open(0, _KEY_CHECK_NAME, key_check), _KEY_CHECK_TEXT)
        except BlobError:
            return False

    def fingerprint(self, data: bytes) -> str:
        """A keyed digest of ``data`` (HMAC-SHA256, hex): equal content, equal fingerprint."""
        return hmac.new(self._mac_key, data, hashlib.sha256).hexdigest()
