"""Public keys as eMRTDs store them (DG15, DS and CSCA certificates), and signature checks.

A SubjectPublicKeyInfo becomes a ``cryptography`` key. Many states encode EC keys with explicit
domain parameters (ICAO 9303-11 asks for them in DG15/certificates; e.g. the Austrian and German
document signers use explicit brainpool parameters), which ``cryptography`` refuses: the
parameters are compared with the known curves (NIST, SEC, brainpool, from the ``ecdsa``
package) and the key is rebuilt on the named curve. A curve that ``cryptography`` does not
implement (brainpoolP224r1, brainpoolP320r1, …) is verified with ``ecdsa`` instead (``EcdsaKey``).

The ``verify_*`` functions return True/False and never raise on a bad signature; a key or
algorithm they cannot use raises ``ParseError`` / ``UnsupportedProtocol``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import ecdsa
from asn1crypto import keys as asn1_keys
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from ecdsa import curves as ecdsa_curves
from ecdsa.util import sigdecode_der

from kiosk.emrtd.errors import ParseError, UnsupportedProtocol

# the curves both libraries know, by the OpenSSL name ``ecdsa`` gives them
_CRYPTOGRAPHY_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "prime192v1": ec.SECP192R1,
    "secp224r1": ec.SECP224R1,
    "prime256v1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
    "secp256k1": ec.SECP256K1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
    "brainpoolP512r1": ec.BrainpoolP512R1,
}
_CURVE_ALIASES = {"secp256r1": "prime256v1", "secp192r1": "prime192v1"}

_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class EcdsaKey:
    """An EC public key on a curve ``cryptography`` lacks; verified with the ``ecdsa`` package."""

    curve_name: str
    verifying_key: ecdsa.VerifyingKey

    @property
    def key_size(self) -> int:
        return self.verifying_key.curve.order.bit_length()


PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | EcdsaKey


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    """A ``cryptography`` hash by its asn1crypto/hashlib name (sha1 … sha512)."""
    try:
        return HASHES[name]()
    except KeyError:
        raise UnsupportedProtocol(f"hash algorithm {name!r} is not supported") from None


def digest(name: str, data: bytes) -> bytes:
    if name not in HASHES:
        raise UnsupportedProtocol(f"hash algorithm {name!r} is not supported")
    return hashlib.new(name, data).digest()


def curve_name(key: PublicKey) -> str | None:
    """The curve's name (``brainpoolP256r1``, ``secp256r1``, …), None for RSA."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.curve.name
    if isinstance(key, EcdsaKey):
        return key.curve_name
    return None


def _ecdsa_curve_by_oid(dotted: str) -> ecdsa_curves.Curve | None:
    oid = tuple(int(arc) for arc in dotted.split("."))
    return next((curve for curve in ecdsa_curves.curves if curve.oid == oid), None)


def _point_xy(point: bytes, p: int) -> tuple[int, int | None]:
    size = (p.bit_length() + 7) // 8
    if len(point) == 1 + 2 * size and point[0] == 0x04:
        return int.from_bytes(point[1 : 1 + size], "big"), int.from_bytes(point[1 + size :], "big")
    if len(point) == 1 + size and point[0] in (0x02, 0x03):
        return int.from_bytes(point[1:], "big"), None
    raise ParseError("EC base point is neither compressed nor uncompressed")


def _match_explicit(specified: asn1_keys.SpecifiedECDomain) -> ecdsa_curves.Curve:
    if specified["field_id"]["field_type"].native != "prime_field":
        raise UnsupportedProtocol("EC key over a binary field")
    p = specified["field_id"]["parameters"].native
    a = int.from_bytes(specified["curve"]["a"].native, "big")
    b = int.from_bytes(specified["curve"]["b"].native, "big")
    gx, gy = _point_xy(specified["base"].native, p)
    order = specified["order"].native
    for curve in ecdsa_curves.curves:
        fp = getattr(curve.curve, "p", None)
        if fp is None or not callable(getattr(curve.curve, "a", None)):
            continue  # Edwards curves
        if (fp(), curve.curve.a() % fp(), curve.curve.b(), curve.order) != (p, a % p, b, order):
            continue
        if curve.generator.x() == gx and (gy is None or curve.generator.y() == gy):
            return curve
    raise UnsupportedProtocol("EC key on explicit domain parameters of no known curve")


def _ec_key(curve: ecdsa_curves.Curve, point: bytes) -> PublicKey:
    name = _CURVE_ALIASES.get(curve.openssl_name, curve.openssl_name)
    cls = _CRYPTOGRAPHY_CURVES.get(name)
    try:
        if cls is not None:
            return ec.EllipticCurvePublicKey.from_encoded_point(cls(), point)
        return EcdsaKey(name, ecdsa.VerifyingKey.from_string(point, curve=curve))
    except (ValueError, ecdsa.errors.MalformedPointError, AssertionError) as exc:
        raise ParseError(f"EC public key is not a point of {name}: {exc}") from None


def load_public_key(spki: bytes | asn1_keys.PublicKeyInfo) -> PublicKey:
    """A SubjectPublicKeyInfo (DER or asn1crypto) → an RSA or EC public key (see the docstring)."""
    try:
        info = (
            spki
            if isinstance(spki, asn1_keys.PublicKeyInfo)
            else asn1_keys.PublicKeyInfo.load(bytes(spki), strict=True)
        )
        algorithm = info["algorithm"]["algorithm"].native
        if algorithm in ("rsa", "rsassa_pss"):
            numbers = info["public_key"].parsed
            modulus, exponent = numbers["modulus"].native, numbers["public_exponent"].native
            if modulus <= 0 or exponent <= 0 or modulus.bit_length() < 512:
                raise ParseError("RSA public key with a bad modulus or exponent")
            return rsa.RSAPublicNumbers(exponent, modulus).public_key()
        if algorithm != "ec":
            raise UnsupportedProtocol(f"public key algorithm {algorithm!r} is not supported")
        parameters = info["algorithm"]["parameters"]
        point = bytes(info["public_key"].native)
        if parameters.name == "named":
            curve = _ecdsa_curve_by_oid(parameters.chosen.dotted)
            if curve is None:
                raise UnsupportedProtocol(f"EC curve {parameters.chosen.dotted} is not supported")
            return _ec_key(curve, point)
        if parameters.name == "specified":
            return _ec_key(_match_explicit(parameters.chosen), point)
        raise UnsupportedProtocol("EC key with implicitly-CA parameters")
    except (*_ASN1_ERRORS, UnsupportedAlgorithm) as exc:
        raise ParseError(f"public key does not parse: {exc}") from None


def public_key_der(key: PublicKey) -> bytes:
    """The key as a DER SubjectPublicKeyInfo (named curve)."""
    if isinstance(key, EcdsaKey):
        raise UnsupportedProtocol(f"{key.curve_name} keys cannot be re-encoded here")
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def verify_ecdsa(key: PublicKey, signature_der: bytes, data: bytes, hash_name: str) -> bool:
    """ECDSA over ``data`` with a DER-encoded (r, s) signature."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        try:
            key.verify(signature_der, data, ec.ECDSA(hash_algorithm(hash_name)))
        except (InvalidSignature, ValueError):
            return False
        return True
    if isinstance(key, EcdsaKey):
        try:
            return bool(
                key.verifying_key.verify_digest(
                    signature_der,
                    digest(hash_name, data),
                    sigdecode=sigdecode_der,
                    allow_truncate=True,
                )
            )
        except (ecdsa.BadSignatureError, ecdsa.der.UnexpectedDER, ValueError, AssertionError):
            return False
    return False


def verify_ecdsa_plain(key: PublicKey, signature: bytes, data: bytes, hash_name: str) -> bool:
    """ECDSA with the plain r‖s encoding of BSI TR-03111 (each half the order's length)."""
    if not signature or len(signature) % 2:
        return False
    half = len(signature) // 2
    r = int.from_bytes(signature[:half], "big")
    s = int.from_bytes(signature[half:], "big")
    if r == 0 or s == 0:
        return False
    return verify_ecdsa(key, encode_dss_signature(r, s), data, hash_name)


def verify_rsa_pkcs1(key: PublicKey, signature: bytes, data: bytes, hash_name: str) -> bool:
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, data, padding.PKCS1v15(), hash_algorithm(hash_name))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_rsa_pss(
    key: PublicKey, signature: bytes, data: bytes, hash_name: str, mgf_hash: str, salt_length: int
) -> bool:
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    scheme = padding.PSS(mgf=padding.MGF1(hash_algorithm(mgf_hash)), salt_length=salt_length)
    try:
        key.verify(signature, data, scheme, hash_algorithm(hash_name))
    except (InvalidSignature, ValueError):
        return False
    return True
