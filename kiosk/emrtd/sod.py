"""EF.SOD, the Document Security Object (ICAO 9303-10 §4.6.2, 9303-11 §5.1 / RFC 5652).

    77  EF.SOD
      ContentInfo { id-signedData, SignedData {
        version, digestAlgorithms,
        encapContentInfo { id-icao-mrtd-security-ldsSecurityObject (2.23.136.1.1.1),
          eContent OCTET STRING: LDSSecurityObject {
            version (0, or 1 with ldsVersionInfo), hashAlgorithm,
            dataGroupHashValues SEQUENCE OF { dataGroupNumber, dataGroupHashValue },
            ldsVersionInfo { ldsVersion "0108", unicodeVersion "040000" } OPTIONAL } },
        certificates [0] (the Document Signer certificate, usually),
        signerInfos { sid (issuer+serial or subjectKeyIdentifier), digestAlgorithm,
          signedAttrs [0] { contentType, messageDigest, signingTime, … },
          signatureAlgorithm (RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA), signature } } }

``parse_sod`` reads all of it with asn1crypto and keeps what passive authentication needs: the
hashes, the eContent bytes (what messageDigest covers), each SignerInfo's signed attributes
re-tagged as the DER ``SET OF`` the signature covers (RFC 5652 §5.4), and the certificates
(asn1crypto objects, parsed lazily: a certificate ``cryptography`` or asn1crypto cannot use is
reported by ``passive_auth``, not here). Only ``TLVError``/``ParseError`` are raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509

from kiosk.emrtd import tlv
from kiosk.emrtd.datagroups import unwrap
from kiosk.emrtd.errors import EmrtdError, ParseError

TAG_SOD = 0x77
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"

# the asn1crypto exceptions of a malformed structure (its parsing is lazy: any access may raise)
ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, UnicodeDecodeError)


class DataGroupHash(core.Sequence):
    _fields = [
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashValues(core.SequenceOf):
    _child_spec = DataGroupHash


class LDSVersionInfo(core.Sequence):
    _fields = [
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class LDSSecurityObject(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LDSVersionInfo, {"optional": True}),
    ]


@dataclass(frozen=True)
class SignerInfo:
    """One CMS SignerInfo, with the bytes its signature covers."""

    digest_algorithm: str  # "sha256" (asn1crypto name; the dotted OID if unknown)
    signature_algorithm: algos.SignedDigestAlgorithm = field(repr=False)
    signature: bytes = field(repr=False)
    signed_attributes: bytes | None = field(repr=False)  # DER SET OF Attribute (tag 31)
    message_digest: bytes | None = field(repr=False)
    content_type: str | None
    signing_time: datetime | None
    issuer: asn1_x509.Name | None = field(default=None, repr=False)  # sid: issuerAndSerialNumber
    serial_number: int | None = None
    subject_key_identifier: bytes | None = None  # sid: subjectKeyIdentifier

    @property
    def signature_algorithm_oid(self) -> str:
        return self.signature_algorithm["algorithm"].dotted

    def identifies(self, certificate: asn1_x509.Certificate) -> bool:
        """Whether ``certificate`` is the one this SignerInfo's sid names."""
        try:
            if self.subject_key_identifier is not None:
                return certificate.key_identifier == self.subject_key_identifier
            return (
                certificate.serial_number == self.serial_number
                and certificate.issuer == self.issuer
            )
        except ASN1_ERRORS:
            return False


@dataclass(frozen=True)
class SOD:
    """EF.SOD, parsed. ``data_group_hashes`` maps DG numbers to their hash values."""

    raw: bytes = field(repr=False)
    version: int
    hash_algorithm: str  # "sha256" (asn1crypto name; the dotted OID if unknown)
    data_group_hashes: dict[int, bytes] = field(repr=False)
    lds_version: str | None
    unicode_version: str | None
    content_type: str  # eContentType, dotted
    encapsulated_content: bytes = field(repr=False)  # the LDSSecurityObject DER
    certificates: tuple[asn1_x509.Certificate, ...] = field(repr=False)
    signer_infos: tuple[SignerInfo, ...]

    @property
    def signer_info(self) -> SignerInfo:
        return self.signer_infos[0]

    def document_signer(self, signer: SignerInfo | None = None) -> asn1_x509.Certificate | None:
        """The certificate the SignerInfo names (the only one, if the sid matches none)."""
        signer = signer or self.signer_info
        for certificate in self.certificates:
            if signer.identifies(certificate):
                return certificate
        return None


def _single_value(attribute: cms.CMSAttribute, name: str) -> core.Asn1Value:
    values = attribute["values"]
    if len(values) != 1:
        raise ParseError(f"signed attribute {name} has {len(values)} values, CMS wants one")
    return values[0]


def _signer_info(info: cms.SignerInfo) -> SignerInfo:
    sid = info["sid"]
    issuer = serial = key_id = None
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = sid.chosen["serial_number"].native
    else:
        key_id = bytes(sid.chosen.native)
    attrs = info["signed_attrs"]
    raw_attrs = message_digest = content_type = signing_time = None
    if not isinstance(attrs, core.Void):
        seen: set[str] = set()
        for attribute in attrs:
            oid = attribute["type"].dotted
            if oid in seen:
                raise ParseError(f"signed attribute {oid} appears twice")
            seen.add(oid)
            if oid == OID_MESSAGE_DIGEST:
                message_digest = bytes(_single_value(attribute, "messageDigest").native)
            elif oid == OID_CONTENT_TYPE:
                content_type = _single_value(attribute, "contentType").dotted
            elif oid == OID_SIGNING_TIME:
                signing_time = _single_value(attribute, "signingTime").native
        raw_attrs = bytes([0x31]) + tlv.encode_length(len(attrs.contents)) + attrs.contents
    algorithm = info["signature_algorithm"]
    algorithm["algorithm"].dotted  # noqa: B018 (parse it now: a bad OID is a bad SOD)
    return SignerInfo(
        digest_algorithm=info["digest_algorithm"]["algorithm"].native,
        signature_algorithm=algorithm,
        signature=bytes(info["signature"].native),
        signed_attributes=raw_attrs,
        message_digest=message_digest,
        content_type=content_type,
        signing_time=signing_time,
        issuer=issuer,
        serial_number=serial,
        subject_key_identifier=key_id,
    )


def _parse(raw: bytes, content_info: bytes) -> SOD:
    info = cms.ContentInfo.load(content_info, strict=True)
    if info["content_type"].dotted != OID_SIGNED_DATA:
        raise ParseError(f"EF.SOD holds {info['content_type'].dotted}, not SignedData")
    signed = info["content"]
    encap = signed["encap_content_info"]
    content_type = encap["content_type"].dotted
    if isinstance(encap["content"], core.Void):
        raise ParseError("EF.SOD has no eContent (the LDSSecurityObject)")
    econtent = bytes(encap["content"].native)
    lds = LDSSecurityObject.load(econtent, strict=True)
    hashes: dict[int, bytes] = {}
    for item in lds["data_group_hash_values"]:
        number = item["data_group_number"].native
        if not 1 <= number <= 16:
            raise ParseError(f"LDSSecurityObject lists data group {number}")
        if number in hashes:
            raise ParseError(f"LDSSecurityObject lists DG{number} twice")
        hashes[number] = bytes(item["data_group_hash_value"].native)
    version_info = lds["lds_version_info"]
    lds_version = unicode_version = None
    if not isinstance(version_info, core.Void):
        lds_version = version_info["lds_version"].native
        unicode_version = version_info["unicode_version"].native
    certificate_set = signed["certificates"]
    certificates = (
        ()
        if isinstance(certificate_set, core.Void)
        else tuple(choice.chosen for choice in certificate_set if choice.name == "certificate")
    )
    signers = tuple(_signer_info(si) for si in signed["signer_infos"])
    if not signers:
        raise ParseError("EF.SOD has no SignerInfo")
    return SOD(
        raw=raw,
        version=lds["version"].native,
        hash_algorithm=lds["hash_algorithm"]["algorithm"].native,
        data_group_hashes=hashes,
        lds_version=lds_version,
        unicode_version=unicode_version,
        content_type=content_type,
        encapsulated_content=econtent,
        certificates=certificates,
        signer_infos=signers,
    )


def parse_sod(data: bytes) -> SOD:
    """EF.SOD (tag 77) → ``SOD``; ``ParseError`` when it is not an ICAO SignedData."""
    data = bytes(data)
    outer = unwrap(data, TAG_SOD, "EF.SOD")
    try:
        return _parse(data, outer.value)
    except EmrtdError:
        raise
    except ASN1_ERRORS as exc:
        raise ParseError(f"EF.SOD does not parse: {exc}") from None
