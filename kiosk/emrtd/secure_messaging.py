"""Secure messaging (ICAO 9303-11 §9.8, ISO/IEC 7816-4 §10): both the reader and the card side.

One ``SecureMessaging`` holds the session keys and the send sequence counter (SSC) after BAC or
PACE. Every protected command and every protected response first increments the SSC.

    command   CLA|0C INS P1 P2  Lc'  [DO85 | DO87] [DO97] DO8E  Le'(00 or 0000)
    response  [DO85 | DO87] DO99 DO8E  SW1 SW2

    DO87  01 || E(KSenc, pad(data))   even INS          DO85  E(KSenc, pad(data))   odd INS (B1)
    DO97  Le (1 byte, 00 = 256; 2 bytes when Le > 256)  DO99  the status word
    DO8E  MAC(KSmac, pad(SSC || pad(header) || DO85/87 || DO97))    (command)
          MAC(KSmac, pad(SSC || DO85/87 || DO99))                    (response)

Cipher suites: "3DES" — two-key 3DES-CBC with a zero IV, ISO 9797-1 MAC algorithm 3 (retail MAC
with single DES), 8-byte SSC; "AES" — AES-CBC with IV = E(KSenc, SSC), AES-CMAC cut to 8 bytes,
16-byte SSC. Padding is ISO 9797-1 method 2 (80 00 ..) everywhere. A command with neither data nor
Le MACs SSC || pad(header) without a further block of padding (the header padding ends the input),
as JMRTD does.

``max_le``: the largest plain READ BINARY Le whose protected response fits a short response APDU
(256 data bytes + SW). The response is DO87 (tag, 2-byte length 81xx, 01, ciphertext) + DO99 (4) +
DO8E (10), so the ciphertext can be at most 256 - 14 - 4 = 238 bytes. Padding always adds 1 to a
block of bytes: 3DES: 29 blocks of 8 = 232 bytes carry at most 231 = 0xE7 plain bytes; AES: 14
blocks of 16 = 224 bytes carry at most 223 = 0xDF (224 plain bytes would pad to 240 and the
response to 258 bytes).

Errors: a response with a wrong MAC, without DO99 or DO8E, with a truncated TLV, bad padding or an
unknown data object raises ``SecureMessagingError`` and never returns data. On the card side the
error carries the status word the card should answer in plain (6987: SM objects missing, 6988:
SM objects incorrect). A response that is only an error status word (SW1 64..6F, no data) is
passed through as it is: chips answer SM errors and some others in plain.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kiosk.emrtd import tlv
from kiosk.emrtd.apdu import CommandAPDU, Transmit
from kiosk.emrtd.errors import EmrtdError, SecureMessagingError, TLVError

CIPHER_3DES = "3DES"
CIPHER_AES = "AES"

SW_OK = 0x9000
SW_SM_OBJECTS_MISSING = 0x6987
SW_SM_OBJECTS_INCORRECT = 0x6988
SW_WRONG_LENGTH = 0x6700

MAC_LENGTH = 8
SM_CLA_BITS = 0x0C

MAX_LE_3DES = 0xE7  # 231
MAX_LE_AES = 0xDF  # 223


# --- primitives ---------------------------------------------------------------------------


def pad(data: bytes, block_size: int = 8) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 80 then 00s up to a whole number of blocks."""
    padded = bytes(data) + b"\x80"
    return padded + bytes(-len(padded) % block_size)


def unpad(data: bytes, block_size: int = 8) -> bytes:
    """Remove method-2 padding; ``SecureMessagingError`` if there is none."""
    stripped = bytes(data).rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) >= block_size:
        raise SecureMessagingError("bad padding in decrypted data", sw=SW_SM_OBJECTS_INCORRECT)
    return stripped[:-1]


def _des3_key(key: bytes) -> bytes:
    if len(key) == 16:
        return bytes(key) + bytes(key[:8])
    if len(key) == 24:
        return bytes(key)
    raise ValueError(f"3DES key of {len(key)} bytes; 16 (K1 K2) or 24 expected")


def tdes_encrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    """3DES-CBC (two-key when ``key`` has 16 bytes) of whole blocks, no padding added."""
    encryptor = Cipher(TripleDES(_des3_key(key)), modes.CBC(iv)).encryptor()
    return encryptor.update(bytes(data)) + encryptor.finalize()


def tdes_decrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    decryptor = Cipher(TripleDES(_des3_key(key)), modes.CBC(iv)).decryptor()
    return decryptor.update(bytes(data)) + decryptor.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES (the 'retail MAC') of already padded ``data``.

    CBC-DES with K1 over every block, then the last block decrypted with K2 and encrypted with K1.
    """
    if len(data) % 8 or not data:
        raise ValueError("retail MAC input must be whole 8-byte blocks")
    if len(key) != 16:
        raise ValueError("retail MAC key must be 16 bytes (K1 K2)")
    k1, k2 = bytes(key[:8]), bytes(key[8:16])
    chained = Cipher(TripleDES(k1 * 3), modes.CBC(bytes(8))).encryptor()
    last = (chained.update(bytes(data)) + chained.finalize())[-8:]
    middle = Cipher(TripleDES(k2 * 3), modes.ECB()).decryptor().update(last)
    return Cipher(TripleDES(k1 * 3), modes.ECB()).encryptor().update(middle)


def aes_cmac(key: bytes, data: bytes, length: int = MAC_LENGTH) -> bytes:
    """AES-CMAC (NIST SP 800-38B) of ``data``, cut to ``length`` bytes."""
    mac = cmac.CMAC(algorithms.AES(bytes(key)))
    mac.update(bytes(data))
    return mac.finalize()[:length]


# --- command APDU parsing (plain bytes -> CommandAPDU) --------------------------------------


def parse_command(raw: bytes) -> CommandAPDU:
    """A command APDU of any ISO 7816-4 case; ``le`` is Ne (00 → 256, 0000 → 65536).

    ``ValueError`` when the bytes are no APDU (``CommandAPDU.parse`` does the parsing).
    """
    try:
        return CommandAPDU.parse(raw)
    except EmrtdError as exc:
        raise ValueError(str(exc)) from None


def _encode_le(le: int) -> bytes:
    """DO97's value: one byte up to 256 (256 and 0 → 00), else two bytes (65536 → 0000)."""
    if le <= 256:
        return bytes([le & 0xFF])
    return (le & 0xFFFF).to_bytes(2, "big")


def _decode_le(value: bytes) -> int:
    if len(value) == 1:
        return value[0] or 256
    if len(value) == 2:
        return int.from_bytes(value, "big") or 65536
    raise SecureMessagingError(f"DO97 of {len(value)} bytes", sw=SW_SM_OBJECTS_INCORRECT)


def _parse_dos(data: bytes, allowed: tuple[int, ...], side: str) -> tuple[list[tlv.TLV], bytes]:
    """The data objects before DO8E (checked against ``allowed`` order) and DO8E's value."""
    try:
        items = tlv.parse_all(data)
    except TLVError as error:
        raise SecureMessagingError(
            f"malformed secure messaging {side}: {error}", sw=SW_SM_OBJECTS_INCORRECT
        ) from error
    if not items or items[-1].tag != 0x8E:
        raise SecureMessagingError(
            f"secure messaging {side} without a MAC (DO8E)", sw=SW_SM_OBJECTS_MISSING
        )
    mac = items[-1].value
    if len(mac) != MAC_LENGTH:
        raise SecureMessagingError(f"DO8E of {len(mac)} bytes", sw=SW_SM_OBJECTS_INCORRECT)
    body = items[:-1]
    position = 0
    for item in body:
        while position < len(allowed) and item.tag not in _alternatives(allowed[position]):
            position += 1
        if position == len(allowed):
            raise SecureMessagingError(
                f"unexpected or misplaced data object {item.tag:X} in a {side}",
                sw=SW_SM_OBJECTS_INCORRECT,
            )
        position += 1
    return body, mac


def _alternatives(slot: int) -> tuple[int, ...]:
    return (0x85, 0x87) if slot in (0x85, 0x87) else (slot,)


# --- the session --------------------------------------------------------------------------


class SecureMessaging:
    """Session keys and SSC of one secure messaging session, for the reader or the card."""

    def __init__(self, ks_enc: bytes, ks_mac: bytes, ssc: int, cipher: str) -> None:
        if cipher == CIPHER_3DES:
            for key in (ks_enc, ks_mac):
                if len(key) != 16:
                    raise ValueError("3DES session keys must be 16 bytes (K1 K2)")
            self.block_size = 8
            self.max_le = MAX_LE_3DES
        elif cipher == CIPHER_AES:
            for key in (ks_enc, ks_mac):
                if len(key) not in (16, 24, 32):
                    raise ValueError("AES session keys must be 16, 24 or 32 bytes")
            self.block_size = 16
            self.max_le = MAX_LE_AES
        else:
            raise ValueError(f"cipher must be {CIPHER_3DES!r} or {CIPHER_AES!r}, not {cipher!r}")
        self.cipher = cipher
        self.ks_enc = bytes(ks_enc)
        self.ks_mac = bytes(ks_mac)
        self._modulus = 1 << (8 * self.block_size)
        self.ssc = ssc % self._modulus
        self._last_ins: int | None = None

    def __repr__(self) -> str:  # no keys in logs
        return f"SecureMessaging(cipher={self.cipher}, ssc={self.ssc_bytes.hex().upper()})"

    @property
    def ssc_bytes(self) -> bytes:
        """The SSC as the 8 (3DES) or 16 (AES) bytes that enter the MAC."""
        return self.ssc.to_bytes(self.block_size, "big")

    def _increment(self) -> None:
        self.ssc = (self.ssc + 1) % self._modulus

    # --- crypto with the session keys ------------------------------------------------------

    def _iv(self) -> bytes:
        if self.cipher == CIPHER_3DES:
            return bytes(8)
        return Cipher(algorithms.AES(self.ks_enc), modes.ECB()).encryptor().update(self.ssc_bytes)

    def _encrypt(self, data: bytes) -> bytes:
        padded = pad(data, self.block_size)
        if self.cipher == CIPHER_3DES:
            return tdes_encrypt(self.ks_enc, padded)
        encryptor = Cipher(algorithms.AES(self.ks_enc), modes.CBC(self._iv())).encryptor()
        return encryptor.update(padded) + encryptor.finalize()

    def _decrypt(self, ciphertext: bytes) -> bytes:
        if not ciphertext or len(ciphertext) % self.block_size:
            raise SecureMessagingError(
                f"cryptogram of {len(ciphertext)} bytes is not whole blocks",
                sw=SW_SM_OBJECTS_INCORRECT,
            )
        if self.cipher == CIPHER_3DES:
            plain = tdes_decrypt(self.ks_enc, ciphertext)
        else:
            decryptor = Cipher(algorithms.AES(self.ks_enc), modes.CBC(self._iv())).decryptor()
            plain = decryptor.update(ciphertext) + decryptor.finalize()
        return unpad(plain, self.block_size)

    def _mac(self, message: bytes, *, padded: bool = True) -> bytes:
        """The 8-byte MAC of SSC || message (padded unless the message already ends a block)."""
        data = self.ssc_bytes + message
        if padded:
            data = pad(data, self.block_size)
        if self.cipher == CIPHER_3DES:
            return retail_mac(self.ks_mac, data)
        return aes_cmac(self.ks_mac, data)

    def _command_mac(self, header: bytes, dos: bytes) -> bytes:
        return self._mac(pad(header, self.block_size) + dos, padded=bool(dos))

    def _cryptogram_do(self, ins: int, data: bytes) -> bytes:
        if ins & 1:
            return tlv.encode(0x85, self._encrypt(data))
        return tlv.encode(0x87, b"\x01" + self._encrypt(data))

    def _open_cryptogram(self, item: tlv.TLV) -> bytes:
        value = item.value
        if item.tag == 0x87:
            if not value or value[0] != 0x01:
                raise SecureMessagingError(
                    "DO87 without the padding indicator 01", sw=SW_SM_OBJECTS_INCORRECT
                )
            value = value[1:]
        return self._decrypt(value)

    # --- reader side -----------------------------------------------------------------------

    def protect(self, command: CommandAPDU) -> bytes:
        """The protected form of ``command`` (SSC incremented first)."""
        self._increment()
        header = bytes([command.cla | SM_CLA_BITS, command.ins, command.p1, command.p2])
        dos = b""
        if command.data:
            dos += self._cryptogram_do(command.ins, command.data)
        if command.le is not None:
            dos += tlv.encode(0x97, _encode_le(command.le))
        body = dos + tlv.encode(0x8E, self._command_mac(header, dos))
        # Le' is 00, or 0000 when the command or the expected answer needs extended length.
        extended = len(body) > 255 or (command.le is not None and command.le > 256)
        cla, ins, p1, p2 = header
        return CommandAPDU(cla, ins, p1, p2, body, le=65536 if extended else 256).encode()

    def unprotect(self, response: bytes) -> bytes:
        """The plain response (data + SW from DO99) of a protected one (SSC incremented first)."""
        self._increment()
        response = bytes(response)
        if len(response) < 2:
            raise SecureMessagingError(f"response of {len(response)} bytes has no status word")
        data, sw = response[:-2], int.from_bytes(response[-2:], "big")
        if not data:
            if 0x64 <= sw >> 8 <= 0x6F:
                return response  # an error status in plain: no data to trust
            raise SecureMessagingError("response without secure messaging objects", sw=sw)
        items, mac = _parse_dos(data, (0x87, 0x99), "response")
        macced = b"".join(item.encode() for item in items)
        if not hmac.compare_digest(self._mac(macced), mac):
            raise SecureMessagingError("response MAC does not verify", sw=sw)
        status = tlv.find(items, 0x99)
        if status is None:
            raise SecureMessagingError("response without its status word (DO99)", sw=sw)
        if len(status.value) != 2:
            raise SecureMessagingError(f"DO99 of {len(status.value)} bytes", sw=sw)
        cryptogram = next((item for item in items if item.tag in (0x85, 0x87)), None)
        plain = self._open_cryptogram(cryptogram) if cryptogram is not None else b""
        return plain + status.value

    def wrap(self, transmit: Transmit) -> Transmit:
        """A transport that protects every plain command APDU and unprotects every answer."""

        def secured(apdu: bytes) -> bytes:
            return self.unprotect(transmit(self.protect(parse_command(apdu))))

        return secured

    # --- card side -------------------------------------------------------------------------

    def unprotect_command(self, apdu: bytes) -> CommandAPDU:
        """The plain command inside a protected one (SSC incremented first), for the card."""
        try:
            command = parse_command(apdu)
        except ValueError as error:
            raise SecureMessagingError(str(error), sw=SW_WRONG_LENGTH) from error
        if command.cla & SM_CLA_BITS != SM_CLA_BITS:
            raise SecureMessagingError(
                f"CLA {command.cla:02X} is not a secure messaging class", sw=SW_SM_OBJECTS_MISSING
            )
        self._increment()
        if not command.data:
            raise SecureMessagingError("command without a MAC (DO8E)", sw=SW_SM_OBJECTS_MISSING)
        items, mac = _parse_dos(command.data, (0x87, 0x97), "command")
        header = bytes([command.cla, command.ins, command.p1, command.p2])
        macced = b"".join(item.encode() for item in items)
        if not hmac.compare_digest(self._command_mac(header, macced), mac):
            raise SecureMessagingError("command MAC does not verify", sw=SW_SM_OBJECTS_INCORRECT)
        data = b""
        le: int | None = None
        for item in items:
            if item.tag in (0x85, 0x87):
                if (item.tag == 0x85) != bool(command.ins & 1):
                    raise SecureMessagingError(
                        f"DO{item.tag:X} with INS {command.ins:02X}", sw=SW_SM_OBJECTS_INCORRECT
                    )
                data = self._open_cryptogram(item)
            elif item.tag == 0x97:
                le = _decode_le(item.value)
        self._last_ins = command.ins
        cla = command.cla & ~SM_CLA_BITS & 0xFF
        return CommandAPDU(cla, command.ins, command.p1, command.p2, data, le)

    def protect_response(self, data: bytes, sw: int) -> bytes:
        """The protected response for ``data`` and ``sw`` (SSC incremented first), for the card.

        The data go in DO85 when the command just unprotected had an odd INS, else in DO87.
        """
        self._increment()
        dos = b""
        if data:
            dos += self._cryptogram_do(self._last_ins or 0, data)
        dos += tlv.encode(0x99, sw.to_bytes(2, "big"))
        return dos + tlv.encode(0x8E, self._mac(dos)) + sw.to_bytes(2, "big")
