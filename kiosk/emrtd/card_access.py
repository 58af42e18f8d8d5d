"""SecurityInfos: what EF.CardAccess (and DG14) say the chip supports (ICAO 9303-11 §9.2).

EF.CardAccess, in the MF and readable without access control, is a DER ``SET OF SecurityInfo``;
DG14 holds the same structure inside its ``6E`` template. Each SecurityInfo is a SEQUENCE whose
first element is the protocol OID; the OID decides how the rest is read::

    PACEInfo                      id-PACE-*-{3DES,AES}   version, parameterId OPTIONAL
    PACEDomainParameterInfo       id-PACE-{DH,ECDH}-{GM,IM,CAM}   AlgorithmIdentifier, parameterId
    ChipAuthenticationInfo        id-CA-*-{3DES,AES}     version, keyId OPTIONAL
    ChipAuthenticationPublicKeyInfo  id-PK-{DH,ECDH}     SubjectPublicKeyInfo, keyId OPTIONAL
    ActiveAuthenticationInfo      id-icao-mrtd-security-aaProtocolObject   version, signature OID
    TerminalAuthenticationInfo    id-TA                  version, efCVCA OPTIONAL
    UnknownSecurityInfo           anything else, kept raw (requiredData, optionalData)

The PACE OIDs carry the algorithm: ``PACE_ALGORITHMS`` maps each to its mapping (GM, IM, CAM),
key agreement (DH, ECDH) and cipher (3DES, AES-128/192/256). ``DOMAIN_PARAMETERS`` lists the
standardized domain parameter ids (the 9303-11 table, BSI TR-03110-3 A.2.1.1). ``choose_pace``
picks the option the kiosk implements best (pace.py: ECDH generic mapping).

Parsing raises only ``ParseError`` and ``TLVError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ecdsa import curves as ec_curves

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import ParseError, UnsupportedProtocol

# --- object identifiers ---------------------------------------------------------------------

BSI_DE = "0.4.0.127.0.7"
ID_PK = BSI_DE + ".2.2.1"
ID_PK_DH = ID_PK + ".1"
ID_PK_ECDH = ID_PK + ".2"
ID_TA = BSI_DE + ".2.2.2"
ID_CA = BSI_DE + ".2.2.3"
ID_CA_DH = ID_CA + ".1"
ID_CA_ECDH = ID_CA + ".2"
ID_PACE = BSI_DE + ".2.2.4"
ID_PACE_DH_GM = ID_PACE + ".1"
ID_PACE_ECDH_GM = ID_PACE + ".2"
ID_PACE_DH_IM = ID_PACE + ".3"
ID_PACE_ECDH_IM = ID_PACE + ".4"
ID_PACE_ECDH_CAM = ID_PACE + ".6"
ID_AA = "2.23.136.1.1.5"  # id-icao-mrtd-security-aaProtocolObject
ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"

# the last arc of a PACE or CA OID: the cipher and its key length in bits
_CIPHERS = {1: ("3DES", 112), 2: ("AES", 128), 3: ("AES", 192), 4: ("AES", 256)}
_MAPPINGS = {
    ID_PACE_DH_GM: ("GM", "DH"),
    ID_PACE_ECDH_GM: ("GM", "ECDH"),
    ID_PACE_DH_IM: ("IM", "DH"),
    ID_PACE_ECDH_IM: ("IM", "ECDH"),
    ID_PACE_ECDH_CAM: ("CAM", "ECDH"),
}


@dataclass(frozen=True)
class PACEAlgorithm:
    """What a PACE protocol OID stands for."""

    oid: str
    name: str  # e.g. "id-PACE-ECDH-GM-AES-CBC-CMAC-128"
    mapping: str  # "GM" | "IM" | "CAM"
    agreement: str  # "DH" | "ECDH"
    cipher: str  # "3DES" | "AES": the secure-messaging cipher
    key_length: int  # bits: 112 (two-key 3DES), 128, 192, 256

    @property
    def kdf_cipher(self) -> str:
        """The cipher name ``keys.kdf`` takes: "3DES", "AES128", "AES192" or "AES256"."""
        return "3DES" if self.cipher == "3DES" else f"AES{self.key_length}"


def _pace_algorithms() -> dict[str, PACEAlgorithm]:
    table: dict[str, PACEAlgorithm] = {}
    for base, (mapping, agreement) in _MAPPINGS.items():
        for arc, (cipher, bits) in _CIPHERS.items():
            if mapping == "CAM" and cipher == "3DES":
                continue  # 9303-11 defines CAM with AES only
            suffix = "3DES-CBC-CBC" if cipher == "3DES" else f"AES-CBC-CMAC-{bits}"
            oid = f"{base}.{arc}"
            name = f"id-PACE-{agreement}-{mapping}-{suffix}"
            table[oid] = PACEAlgorithm(oid, name, mapping, agreement, cipher, bits)
    return table


PACE_ALGORITHMS: dict[str, PACEAlgorithm] = _pace_algorithms()


@dataclass(frozen=True)
class DomainParameters:
    """A standardized PACE domain parameter set."""

    parameter_id: int
    name: str
    kind: str  # "ECP" (elliptic curve over GF(p)) or "GFP" (MODP group)
    bits: int
    curve: ec_curves.Curve | None = None  # the ecdsa curve, for ECP


def _domain_parameters() -> dict[int, DomainParameters]:
    modp = "MODP Group with {}-bit Prime Order Subgroup (RFC 5114)"
    table = {
        0: DomainParameters(0, "1024-bit " + modp.format(160), "GFP", 1024),
        1: DomainParameters(1, "2048-bit " + modp.format(224), "GFP", 2048),
        2: DomainParameters(2, "2048-bit " + modp.format(256), "GFP", 2048),
    }
    for parameter_id, name, curve in (
        (8, "NIST P-192 (secp192r1)", ec_curves.NIST192p),
        (9, "brainpoolP192r1", ec_curves.BRAINPOOLP192r1),
        (10, "NIST P-224 (secp224r1)", ec_curves.NIST224p),
        (11, "brainpoolP224r1", ec_curves.BRAINPOOLP224r1),
        (12, "NIST P-256 (secp256r1)", ec_curves.NIST256p),
        (13, "brainpoolP256r1", ec_curves.BRAINPOOLP256r1),
        (14, "brainpoolP320r1", ec_curves.BRAINPOOLP320r1),
        (15, "NIST P-384 (secp384r1)", ec_curves.NIST384p),
        (16, "brainpoolP384r1", ec_curves.BRAINPOOLP384r1),
        (17, "brainpoolP512r1", ec_curves.BRAINPOOLP512r1),
        (18, "NIST P-521 (secp521r1)", ec_curves.NIST521p),
    ):
        table[parameter_id] = DomainParameters(
            parameter_id, name, "ECP", curve.curve.p().bit_length(), curve
        )
    return table


DOMAIN_PARAMETERS: dict[int, DomainParameters] = _domain_parameters()


def domain_parameters(parameter_id: int | None) -> DomainParameters:
    """The standardized domain parameters ``parameter_id`` names (UnsupportedProtocol if none)."""
    found = DOMAIN_PARAMETERS.get(parameter_id) if parameter_id is not None else None
    if found is None:
        raise UnsupportedProtocol(f"no standardized PACE domain parameters with id {parameter_id}")
    return found


# --- SecurityInfos --------------------------------------------------------------------------


@dataclass(frozen=True)
class SecurityInfo:
    """One SecurityInfo; ``raw`` is its DER encoding (the whole SEQUENCE)."""

    protocol_oid: str
    raw: bytes = field(default=b"", kw_only=True, compare=False, repr=False)


@dataclass(frozen=True)
class PACEInfo(SecurityInfo):
    """PACEInfo ::= SEQUENCE { protocol, version INTEGER, parameterId INTEGER OPTIONAL }."""

    version: int
    parameter_id: int | None = None

    @property
    def algorithm(self) -> PACEAlgorithm:
        return PACE_ALGORITHMS[self.protocol_oid]


@dataclass(frozen=True)
class PACEDomainParameterInfo(SecurityInfo):
    """Explicit PACE domain parameters (AlgorithmIdentifier kept as DER) for a parameterId."""

    domain_parameter_algorithm: str
    domain_parameter: bytes  # the AlgorithmIdentifier, DER
    parameter_id: int | None = None


@dataclass(frozen=True)
class ChipAuthenticationInfo(SecurityInfo):
    """ChipAuthenticationInfo ::= SEQUENCE { protocol, version, keyId INTEGER OPTIONAL }."""

    version: int
    key_id: int | None = None


@dataclass(frozen=True)
class ChipAuthenticationPublicKeyInfo(SecurityInfo):
    """The chip's static key for Chip Authentication, as a SubjectPublicKeyInfo."""

    algorithm: str  # the SubjectPublicKeyInfo's algorithm OID (id-ecPublicKey, dhpublicnumber, ...)
    algorithm_parameters: bytes  # DER of the parameters (a named-curve OID, an INTEGER, ...)
    public_key: bytes  # the subjectPublicKey BIT STRING's bits (an EC point, a DH INTEGER)
    subject_public_key_info: bytes  # the whole SubjectPublicKeyInfo, DER
    key_id: int | None = None


@dataclass(frozen=True)
class ActiveAuthenticationInfo(SecurityInfo):
    """ActiveAuthenticationInfo ::= SEQUENCE { protocol, version, signatureAlgorithm OID }."""

    version: int
    signature_algorithm: str


@dataclass(frozen=True)
class TerminalAuthenticationInfo(SecurityInfo):
    """TerminalAuthenticationInfo ::= SEQUENCE { protocol, version, efCVCA FileID OPTIONAL }."""

    version: int
    ef_cvca: bytes | None = None  # the FileID SEQUENCE, DER


@dataclass(frozen=True)
class UnknownSecurityInfo(SecurityInfo):
    """A SecurityInfo this module does not interpret: requiredData and optionalData as DER."""

    required_data: bytes
    optional_data: bytes | None = None


# --- DER primitives -------------------------------------------------------------------------

TAG_INTEGER = 0x02
TAG_BIT_STRING = 0x03
TAG_OID = 0x06
TAG_SEQUENCE = 0x30
TAG_SET = 0x31
TAG_DG14 = 0x6E


def decode_oid(content: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's content octets (X.690 §8.19)."""
    if not content:
        raise ParseError("empty OBJECT IDENTIFIER")
    if content[-1] & 0x80:
        raise ParseError("OBJECT IDENTIFIER ends inside a subidentifier")
    arcs: list[int] = []
    value = 0
    start = True
    for byte in content:
        if start and byte == 0x80:
            raise ParseError("OBJECT IDENTIFIER subidentifier with a leading 0x80 byte")
        value = (value << 7) | (byte & 0x7F)
        start = not byte & 0x80
        if start:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])


def encode_oid(dotted: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER (no tag or length)."""
    try:
        arcs = [int(arc) for arc in dotted.split(".")]
    except ValueError as exc:
        raise ValueError(f"not an object identifier: {dotted!r}") from exc
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise ValueError(f"not an object identifier: {dotted!r}")
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return bytes(body)


def decode_integer(content: bytes, what: str = "INTEGER") -> int:
    """A DER INTEGER's value (two's complement); the empty encoding is an error."""
    if not content:
        raise ParseError(f"{what}: empty INTEGER")
    return int.from_bytes(content, "big", signed=True)


def _expect(item: tlv.TLV, tag: int, what: str) -> tlv.TLV:
    if item.tag != tag:
        raise ParseError(f"{what}: expected tag {tag:02X}, found {item.tag:X}")
    return item


def _small_int(item: tlv.TLV, what: str) -> int:
    value = decode_integer(_expect(item, TAG_INTEGER, what).value, what)
    if value < 0:
        raise ParseError(f"{what} is negative ({value})")
    return value


# --- the parsers ----------------------------------------------------------------------------


def _family(oid: str) -> str:
    """The OID without its last arc (id-PACE-ECDH-GM for id-PACE-ECDH-GM-AES-CBC-CMAC-128)."""
    return oid.rsplit(".", 1)[0]


def _pace_info(oid: str, rest: list[tlv.TLV], raw: bytes) -> PACEInfo:
    if len(rest) not in (1, 2):
        raise ParseError(f"PACEInfo has {len(rest) + 1} elements, expected 2 or 3")
    version = _small_int(rest[0], "PACEInfo version")
    parameter_id = _small_int(rest[1], "PACEInfo parameterId") if len(rest) == 2 else None
    return PACEInfo(oid, version, parameter_id, raw=raw)


def _algorithm_identifier(item: tlv.TLV, what: str) -> tuple[str, bytes]:
    """(algorithm OID, parameters DER or b"") of an AlgorithmIdentifier."""
    parts = _expect(item, TAG_SEQUENCE, what).children()
    if not parts:
        raise ParseError(f"{what}: empty AlgorithmIdentifier")
    algorithm = decode_oid(_expect(parts[0], TAG_OID, what).value)
    parameters = b"".join(part.encode() for part in parts[1:])
    return algorithm, parameters


def _pace_domain_parameter_info(
    oid: str, rest: list[tlv.TLV], raw: bytes
) -> PACEDomainParameterInfo:
    if len(rest) not in (1, 2):
        raise ParseError(f"PACEDomainParameterInfo has {len(rest) + 1} elements, expected 2 or 3")
    algorithm, _ = _algorithm_identifier(rest[0], "PACEDomainParameterInfo domainParameter")
    parameter_id = (
        _small_int(rest[1], "PACEDomainParameterInfo parameterId") if len(rest) == 2 else None
    )
    return PACEDomainParameterInfo(oid, algorithm, rest[0].encode(), parameter_id, raw=raw)


def _chip_authentication_info(oid: str, rest: list[tlv.TLV], raw: bytes) -> ChipAuthenticationInfo:
    if len(rest) not in (1, 2):
        raise ParseError(f"ChipAuthenticationInfo has {len(rest) + 1} elements, expected 2 or 3")
    version = _small_int(rest[0], "ChipAuthenticationInfo version")
    key_id = _small_int(rest[1], "ChipAuthenticationInfo keyId") if len(rest) == 2 else None
    return ChipAuthenticationInfo(oid, version, key_id, raw=raw)


def _chip_authentication_public_key_info(
    oid: str, rest: list[tlv.TLV], raw: bytes
) -> ChipAuthenticationPublicKeyInfo:
    what = "ChipAuthenticationPublicKeyInfo"
    if len(rest) not in (1, 2):
        raise ParseError(f"{what} has {len(rest) + 1} elements, expected 2 or 3")
    spki = _expect(rest[0], TAG_SEQUENCE, what)
    parts = spki.children()
    if len(parts) != 2:
        raise ParseError(f"{what}: SubjectPublicKeyInfo has {len(parts)} elements, expected 2")
    algorithm, parameters = _algorithm_identifier(parts[0], what)
    bits = _expect(parts[1], TAG_BIT_STRING, f"{what} subjectPublicKey").value
    if not bits or bits[0] != 0:
        raise ParseError(f"{what}: subjectPublicKey is not a whole number of bytes")
    key_id = _small_int(rest[1], f"{what} keyId") if len(rest) == 2 else None
    return ChipAuthenticationPublicKeyInfo(
        oid, algorithm, parameters, bits[1:], spki.encode(), key_id, raw=raw
    )


def _active_authentication_info(
    oid: str, rest: list[tlv.TLV], raw: bytes
) -> ActiveAuthenticationInfo:
    if len(rest) != 2:
        raise ParseError(f"ActiveAuthenticationInfo has {len(rest) + 1} elements, expected 3")
    version = _small_int(rest[0], "ActiveAuthenticationInfo version")
    signature = decode_oid(
        _expect(rest[1], TAG_OID, "ActiveAuthenticationInfo signatureAlgorithm").value
    )
    return ActiveAuthenticationInfo(oid, version, signature, raw=raw)


def _terminal_authentication_info(
    oid: str, rest: list[tlv.TLV], raw: bytes
) -> TerminalAuthenticationInfo:
    if len(rest) not in (1, 2):
        raise ParseError(
            f"TerminalAuthenticationInfo has {len(rest) + 1} elements, expected 2 or 3"
        )
    version = _small_int(rest[0], "TerminalAuthenticationInfo version")
    ef_cvca = (
        _expect(rest[1], TAG_SEQUENCE, "TerminalAuthenticationInfo efCVCA").encode()
        if len(rest) == 2
        else None
    )
    return TerminalAuthenticationInfo(oid, version, ef_cvca, raw=raw)


def parse_security_info(item: tlv.TLV) -> SecurityInfo:
    """One SecurityInfo SEQUENCE, read by its protocol OID."""
    raw = item.encode()
    parts = _expect(item, TAG_SEQUENCE, "SecurityInfo").children()
    if not parts:
        raise ParseError("SecurityInfo is an empty SEQUENCE")
    oid = decode_oid(_expect(parts[0], TAG_OID, "SecurityInfo protocol").value)
    rest = parts[1:]
    if oid in PACE_ALGORITHMS:
        return _pace_info(oid, rest, raw)
    if oid in _MAPPINGS:
        return _pace_domain_parameter_info(oid, rest, raw)
    if _family(oid) in (ID_CA_DH, ID_CA_ECDH) and int(oid.rsplit(".", 1)[1]) in _CIPHERS:
        return _chip_authentication_info(oid, rest, raw)
    if oid in (ID_PK_DH, ID_PK_ECDH):
        return _chip_authentication_public_key_info(oid, rest, raw)
    if oid == ID_AA:
        return _active_authentication_info(oid, rest, raw)
    if oid == ID_TA:
        return _terminal_authentication_info(oid, rest, raw)
    if not rest:
        raise ParseError(f"SecurityInfo {oid} has no requiredData")
    if len(rest) > 2:
        raise ParseError(f"SecurityInfo {oid} has {len(rest) + 1} elements, at most 3 expected")
    optional = rest[1].encode() if len(rest) == 2 else None
    return UnknownSecurityInfo(oid, rest[0].encode(), optional, raw=raw)


def parse_security_infos(data: bytes) -> list[SecurityInfo]:
    """The SecurityInfos of EF.CardAccess, EF.CardSecurity's content or DG14 (``6E`` accepted).

    Trailing bytes after the SET are allowed only as 00 or FF padding, which some chips leave.
    """
    data = bytes(data)
    if not data:
        raise ParseError("no SecurityInfos: the file is empty")
    outer, end = tlv.parse_one(data)
    if outer.tag == TAG_DG14:
        wrapper = outer
        outer, inner_end = tlv.parse_one(wrapper.value)
        if inner_end != len(wrapper.value):
            raise ParseError("DG14 holds more than its SecurityInfos")
    if data[end:].strip(b"\x00") and data[end:].strip(b"\xff"):
        raise ParseError(f"{len(data) - end} unexpected byte(s) after the SecurityInfos")
    _expect(outer, TAG_SET, "SecurityInfos")
    return [parse_security_info(item) for item in outer.children()]


def parse_card_access(data: bytes) -> list[SecurityInfo]:
    """EF.CardAccess (the same as ``parse_security_infos``; named for the file)."""
    return parse_security_infos(data)


# --- choosing -------------------------------------------------------------------------------


def pace_supported(info: PACEInfo) -> bool:
    """Whether pace.py can run this PACEInfo: ECDH generic mapping on a standardized curve."""
    algorithm = PACE_ALGORITHMS.get(info.protocol_oid)
    if algorithm is None or algorithm.mapping != "GM" or algorithm.agreement != "ECDH":
        return False
    parameters = DOMAIN_PARAMETERS.get(info.parameter_id) if info.parameter_id is not None else None
    return parameters is not None and parameters.kind == "ECP"


def _rank(info: PACEInfo) -> int:
    """Longer keys first; two-key 3DES (112 bits) thereby comes after every AES."""
    return PACE_ALGORITHMS[info.protocol_oid].key_length


def choose_pace(infos: list[SecurityInfo]) -> PACEInfo | None:
    """The best PACE option the kiosk implements: ECDH-GM, AES before 3DES, longer keys first.

    Among equals the first in the file wins. None when nothing offered is supported.
    """
    candidates = [i for i in infos if isinstance(i, PACEInfo) and pace_supported(i)]
    if not candidates:
        return None
    best = max(_rank(c) for c in candidates)
    return next(c for c in candidates if _rank(c) == best)
