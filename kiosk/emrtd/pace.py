"""PACE, the reader side: ECDH generic mapping (ICAO 9303-11 §4.4, worked example Appendix G.1).

The exchange, after EF.CardAccess told which PACE the chip offers (card_access.py)::

    MSE:Set AT         00 22 C1 A4  80 <protocol OID>  83 <1 MRZ | 2 CAN>  [84 <parameterId>]
    GA 1 (chained)     10 86 00 00  7C{}              → 7C{80 z}       s = D(K_pi, z), CBC, IV 0
    GA 2 (chained)     10 86 00 00  7C{81 PK_map,IFD}  → 7C{82 PK_map,IC}
                       H = SK_map,IFD × PK_map,IC;  G' = s × G + H
    GA 3 (chained)     10 86 00 00  7C{83 PK_IFD}      → 7C{84 PK_IC}   (both on G')
                       K = x(SK_IFD × PK_IC);  KSenc = KDF(K, 1), KSmac = KDF(K, 2)
    GA 4               00 86 00 00  7C{85 T_IFD}       → 7C{86 T_IC}
                       T_IFD = MAC(KSmac, 7F49{06 OID, 86 PK_IC}), T_IC the same over PK_IFD

MAC is AES-CMAC truncated to 8 bytes (AES), or the ISO 9797-1 MAC algorithm 3 retail MAC with
padding method 2 (3DES). Points travel uncompressed (04 || X || Y). Both sides then start
secure messaging with SSC 0.

The module is split the usual way: ``PACEAPDUSender`` only moves APDUs, ``PACEProtocol`` does
the crypto and returns a ``PACEResult`` holding the new ``SecureMessaging``; the primitives
below it (nonce, mapping, agreement, tokens) are shared with the simulated chip
(devices/simulated/chip_pace.py). Errors: a wrong CAN/MRZ (63xx or a bad chip token) is
``AccessDenied``; malformed answers are ``ParseError``/``TLVError``; other status words are
``CardStatusError``; a PACE variant other than ECDH-GM is ``UnsupportedProtocol``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeAlias

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from ecdsa import curves as ec_curves
from ecdsa import ellipticcurve

from kiosk.emrtd import tlv
from kiosk.emrtd.apdu import INS_GENERAL_AUTHENTICATE, INS_MSE, CommandAPDU, Transmit, send
from kiosk.emrtd.apdu import status_error as _status_error
from kiosk.emrtd.card_access import (
    PACE_ALGORITHMS,
    PACEAlgorithm,
    PACEInfo,
    domain_parameters,
    encode_oid,
)
from kiosk.emrtd.errors import AccessDenied, EmrtdError, ParseError, UnsupportedProtocol
from kiosk.emrtd.keys import KENC, KMAC, KPI, kdf
from kiosk.emrtd.secure_messaging import (
    SecureMessaging,
    aes_cmac,
    pad,
    retail_mac,
    tdes_decrypt,
    tdes_encrypt,
)

Rng = Callable[[int], bytes]
Point: TypeAlias = ellipticcurve.PointJacobi  # ecdsa ships no types

CLA_PLAIN = 0x00
CLA_CHAINING = 0x10
P1_MSE_SET_AT = 0xC1
P2_MUTUAL_AUTHENTICATION = 0xA4

TAG_DYNAMIC_AUTH = 0x7C
TAG_ENCRYPTED_NONCE = 0x80
TAG_MAPPING_IFD = 0x81
TAG_MAPPING_IC = 0x82
TAG_EPHEMERAL_IFD = 0x83
TAG_EPHEMERAL_IC = 0x84
TAG_TOKEN_IFD = 0x85
TAG_TOKEN_IC = 0x86
TAG_PUBLIC_KEY = 0x7F49
TAG_EC_POINT = 0x86

TOKEN_LENGTH = 8
NONCE_LENGTH = 16


class PasswordType(Enum):
    """The password reference of MSE:Set AT (DO 83)."""

    MRZ = 1
    CAN = 2


@dataclass
class PACEResult:
    """A successful PACE: secure messaging (SSC 0) and the chip's ephemeral public key."""

    sm: SecureMessaging
    chip_ephemeral_public: bytes  # PK_IC, uncompressed point: what Chip Authentication needs
    protocol_oid: str


# --- passwords and block ciphers ------------------------------------------------------------


def pace_password_key(
    password: bytes | str, password_type: PasswordType, cipher: str = "AES128"
) -> bytes:
    """K_pi = KDF(K, KPI), where K is SHA-1 of the MRZ key string or the CAN's ASCII.

    For ``MRZ`` the password is the ``mrz.mrz_key`` string (document number, date of birth,
    date of expiry, each with its check digit); bytes are taken as that string, encoded.
    ``cipher`` is the ``keys.kdf`` cipher of the chosen PACE algorithm.
    """
    secret = password.encode("ascii") if isinstance(password, str) else bytes(password)
    if password_type is PasswordType.MRZ:
        secret = hashlib.sha1(secret).digest()
    elif password_type is not PasswordType.CAN:
        raise ValueError(f"unsupported password type {password_type!r}")
    return kdf(secret, KPI, cipher)


def _block_size(cipher: str) -> int:
    if cipher not in ("AES", "3DES"):
        raise ValueError(f"unknown block cipher {cipher!r}")
    return 16 if cipher == "AES" else 8


def _aes_cbc(key: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key), modes.CBC(bytes(16)))


def decrypt_nonce(k_pi: bytes, encrypted: bytes, cipher: str) -> bytes:
    """s = D(K_pi, z): CBC with a zero IV; z must be whole blocks."""
    if not encrypted or len(encrypted) % _block_size(cipher):
        raise ParseError(f"encrypted nonce of {len(encrypted)} bytes is not whole {cipher} blocks")
    if cipher == "3DES":
        return tdes_decrypt(k_pi, encrypted)
    decryptor = _aes_cbc(k_pi).decryptor()
    return decryptor.update(encrypted) + decryptor.finalize()


def encrypt_nonce(k_pi: bytes, nonce: bytes, cipher: str) -> bytes:
    """z = E(K_pi, s): the chip's side of ``decrypt_nonce``; s must be whole blocks."""
    if not nonce or len(nonce) % _block_size(cipher):
        raise ValueError(f"a nonce of {len(nonce)} bytes is not whole {cipher} blocks")
    if cipher == "3DES":
        return tdes_encrypt(k_pi, nonce)
    encryptor = _aes_cbc(k_pi).encryptor()
    return encryptor.update(nonce) + encryptor.finalize()


def mac(key: bytes, data: bytes, cipher: str) -> bytes:
    """The PACE MAC: AES-CMAC cut to 8 bytes, or the 3DES retail MAC (padded)."""
    if _block_size(cipher) == 16:
        return aes_cmac(key, data, TOKEN_LENGTH)
    return retail_mac(key, pad(data, 8))


# --- elliptic curves ------------------------------------------------------------------------


def field_length(curve: ec_curves.Curve) -> int:
    """Bytes in one coordinate (FE2OS length)."""
    return (curve.curve.p().bit_length() + 7) // 8


def _is_infinity(point: object) -> bool:
    return point is ellipticcurve.INFINITY or point == ellipticcurve.INFINITY


def encode_point(point: Point, curve: ec_curves.Curve) -> bytes:
    """Uncompressed point: 04 || X || Y, each coordinate at the field's length."""
    size = field_length(curve)
    return b"\x04" + point.x().to_bytes(size, "big") + point.y().to_bytes(size, "big")


def decode_point(data: bytes, curve: ec_curves.Curve, what: str = "public key") -> Point:
    """An uncompressed point that lies on ``curve`` (else ParseError: no invalid-curve points)."""
    size = field_length(curve)
    if len(data) != 1 + 2 * size or data[0] != 0x04:
        raise ParseError(f"{what}: not an uncompressed point of {1 + 2 * size} bytes")
    x = int.from_bytes(data[1 : 1 + size], "big")
    y = int.from_bytes(data[1 + size :], "big")
    p = curve.curve.p()
    if x >= p or y >= p or not curve.curve.contains_point(x, y):
        raise ParseError(f"{what}: the point is not on {curve.name}")
    return ellipticcurve.PointJacobi(curve.curve, x, y, 1, curve.order)


def random_scalar(rng: Rng, curve: ec_curves.Curve) -> int:
    """A private key in [1, n-1] from ``rng`` (rejection sampling, top bits masked)."""
    order = curve.order
    bits = order.bit_length()
    for _ in range(1000):
        candidate = int.from_bytes(rng((bits + 7) // 8), "big") & ((1 << bits) - 1)
        if 1 <= candidate < order:
            return candidate
    raise ValueError("the random source keeps giving numbers outside [1, n-1]")


def public_key(private: int, generator: Point) -> Point:
    return generator * private


def mapping_point(private: int, other_public: Point) -> Point:
    """H = SK_map × PK_map of the other side (generic mapping's ECDH)."""
    shared = other_public * private
    if _is_infinity(shared):
        raise ParseError("the mapping key agreement gave the point at infinity")
    return shared


def map_generator(nonce: bytes, shared: Point, curve: ec_curves.Curve) -> Point:
    """G' = s × G + H: the generic mapping for ECDH (9303-11 §4.4)."""
    mapped = curve.generator * int.from_bytes(nonce, "big") + shared
    if _is_infinity(mapped):
        raise ParseError("the mapped generator is the point at infinity")
    return ellipticcurve.PointJacobi(curve.curve, mapped.x(), mapped.y(), 1, curve.order)


def shared_secret(private: int, other_public: Point, curve: ec_curves.Curve) -> bytes:
    """K = x(SK × PK_other), at the field's length."""
    point = other_public * private
    if _is_infinity(point):
        raise ParseError("the key agreement gave the point at infinity")
    return point.x().to_bytes(field_length(curve), "big")


def public_key_data_object(protocol_oid: str, point: bytes) -> bytes:
    """7F49 { 06 <protocol OID>, 86 <uncompressed point> }: what the tokens authenticate."""
    body = tlv.encode(0x06, encode_oid(protocol_oid)) + tlv.encode(TAG_EC_POINT, point)
    return tlv.encode(TAG_PUBLIC_KEY, body)


def authentication_token(ks_mac: bytes, protocol_oid: str, point: bytes, cipher: str) -> bytes:
    """T = MAC(KSmac, 7F49{OID, the other side's ephemeral public key})."""
    return mac(ks_mac, public_key_data_object(protocol_oid, point), cipher)


def dynamic_authentication_data(*objects: tuple[int, bytes]) -> bytes:
    """7C { tag value ... }: the data field of GENERAL AUTHENTICATE and of its answer."""
    return tlv.encode(TAG_DYNAMIC_AUTH, b"".join(tlv.encode(t, v) for t, v in objects))


def read_dynamic_authentication_data(data: bytes, tag: int, step: str) -> bytes:
    """The value of ``tag`` in a 7C template (ParseError if the template or the DO is missing)."""
    outer, end = tlv.parse_one(data)
    if outer.tag != TAG_DYNAMIC_AUTH or end != len(data):
        raise ParseError(f"expected one 7C template, got tag {outer.tag:X}", step=step)
    found = outer.child(tag)
    if found is None:
        raise ParseError(f"the 7C template lacks DO {tag:02X}", step=step)
    return found.value


# --- APDUs ----------------------------------------------------------------------------------


def mse_set_at(protocol_oid: str, password_type: PasswordType, parameter_id: int | None) -> bytes:
    """The data field of MSE:Set AT for PACE."""
    data = tlv.encode(0x80, encode_oid(protocol_oid)) + tlv.encode(
        0x83, bytes([password_type.value])
    )
    if parameter_id is not None:
        size = max(1, (parameter_id.bit_length() + 7) // 8)
        data += tlv.encode(0x84, parameter_id.to_bytes(size, "big"))
    return data


class PACEAPDUSender:
    """Moves PACE's APDUs; raises on error status words, nothing else."""

    def __init__(self, transmit: Transmit) -> None:
        self.transmit = transmit

    def mse_set_at(
        self, protocol_oid: str, password_type: PasswordType, parameter_id: int | None
    ) -> None:
        step = "pace.mse_set_at"
        data = mse_set_at(protocol_oid, password_type, parameter_id)
        command = CommandAPDU(CLA_PLAIN, INS_MSE, P1_MSE_SET_AT, P2_MUTUAL_AUTHENTICATION, data)
        answer = send(self.transmit, command, step)
        if answer.sw != 0x9000:
            raise _status_error(answer.sw, step)

    def general_authenticate(self, data: bytes, *, last: bool, step: str) -> bytes:
        """One GENERAL AUTHENTICATE (CLA 10 unless ``last``); the response data."""
        cla = CLA_PLAIN if last else CLA_CHAINING
        command = CommandAPDU(cla, INS_GENERAL_AUTHENTICATE, 0x00, 0x00, data, le=256)
        answer = send(self.transmit, command, step)
        if answer.sw >> 8 == 0x63:
            raise AccessDenied("the chip refused the PACE password", sw=answer.sw, step=step)
        if answer.sw != 0x9000:
            raise _status_error(answer.sw, step)
        return answer.data


# --- the protocol ---------------------------------------------------------------------------


class PACEProtocol:
    """PACE with ECDH generic mapping, as the inspection system (the kiosk) runs it.

    ``rng(n)`` gives n random bytes (tests inject the Appendix G.1 keys): the mapping private key
    is drawn first, then the key-agreement private key. ``send_parameter_id`` adds DO 84 to
    MSE:Set AT, for chips that offer several domain parameters.
    """

    def __init__(
        self,
        transmit: Transmit,
        info: PACEInfo,
        password: bytes | str,
        password_type: PasswordType,
        *,
        rng: Rng = secrets.token_bytes,
        send_parameter_id: bool = False,
    ) -> None:
        self.sender = PACEAPDUSender(transmit)
        self.info = info
        self.password = password
        self.password_type = password_type
        self.rng = rng
        self.send_parameter_id = send_parameter_id

    def _algorithm(self) -> tuple[PACEAlgorithm, ec_curves.Curve]:
        algorithm = PACE_ALGORITHMS.get(self.info.protocol_oid)
        if algorithm is None or algorithm.mapping != "GM" or algorithm.agreement != "ECDH":
            name = algorithm.name if algorithm else self.info.protocol_oid
            raise UnsupportedProtocol(f"PACE {name} is not implemented (only ECDH-GM)")
        parameters = domain_parameters(self.info.parameter_id)
        if parameters.curve is None:
            raise UnsupportedProtocol(f"PACE on {parameters.name} is not implemented")
        return algorithm, parameters.curve

    def run(self) -> PACEResult:
        """The whole exchange; errors carry the PACE step that failed in ``step``."""
        self.step = "pace.setup"
        try:
            return self._run()
        except EmrtdError as exc:
            if exc.step is None:
                exc.step = self.step
            raise

    def _run(self) -> PACEResult:
        algorithm, curve = self._algorithm()
        oid, cipher = self.info.protocol_oid, algorithm.cipher
        k_pi = pace_password_key(self.password, self.password_type, algorithm.kdf_cipher)
        parameter_id = self.info.parameter_id if self.send_parameter_id else None
        self.step = "pace.mse_set_at"
        self.sender.mse_set_at(oid, self.password_type, parameter_id)

        step = self.step = "pace.nonce"
        answer = self.sender.general_authenticate(
            dynamic_authentication_data(), last=False, step=step
        )
        z = read_dynamic_authentication_data(answer, TAG_ENCRYPTED_NONCE, step)
        nonce = decrypt_nonce(k_pi, z, cipher)

        step = self.step = "pace.map"
        map_private = random_scalar(self.rng, curve)
        map_public = encode_point(public_key(map_private, curve.generator), curve)
        answer = self.sender.general_authenticate(
            dynamic_authentication_data((TAG_MAPPING_IFD, map_public)), last=False, step=step
        )
        chip_map = decode_point(
            read_dynamic_authentication_data(answer, TAG_MAPPING_IC, step), curve, "PK_map,IC"
        )
        generator = map_generator(nonce, mapping_point(map_private, chip_map), curve)

        step = self.step = "pace.key_agreement"
        own_private = random_scalar(self.rng, curve)
        own_public = encode_point(public_key(own_private, generator), curve)
        answer = self.sender.general_authenticate(
            dynamic_authentication_data((TAG_EPHEMERAL_IFD, own_public)), last=False, step=step
        )
        chip_public = read_dynamic_authentication_data(answer, TAG_EPHEMERAL_IC, step)
        chip_point = decode_point(chip_public, curve, "PK_IC")
        if chip_public == own_public:
            raise ParseError("the chip echoed the terminal's ephemeral public key", step=step)
        secret = shared_secret(own_private, chip_point, curve)
        ks_enc = kdf(secret, KENC, algorithm.kdf_cipher)
        ks_mac = kdf(secret, KMAC, algorithm.kdf_cipher)

        step = self.step = "pace.mutual_authentication"
        token = authentication_token(ks_mac, oid, chip_public, cipher)
        answer = self.sender.general_authenticate(
            dynamic_authentication_data((TAG_TOKEN_IFD, token)), last=True, step=step
        )
        chip_token = read_dynamic_authentication_data(answer, TAG_TOKEN_IC, step)
        expected = authentication_token(ks_mac, oid, own_public, cipher)
        if not hmac.compare_digest(chip_token, expected):
            raise AccessDenied("the chip's authentication token does not verify", step=step)
        return PACEResult(SecureMessaging(ks_enc, ks_mac, 0, cipher), chip_public, oid)
