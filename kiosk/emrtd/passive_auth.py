"""Passive authentication (ICAO 9303-11 §5.1): is the chip's data what the state signed?

``verify(sod, data_groups, trust, at=...)`` runs every check and reports them all:

    1. each data group read hashes to the value EF.SOD lists for it   (else TAMPERED, the DGs)
    2. messageDigest (signed attribute) = hash of the LDSSecurityObject; contentType matches
    3. the SignerInfo's signature over the signed attributes verifies with the key of the
       Document Signer (DS) certificate in EF.SOD                       (else TAMPERED)
    4. the DS certificate is signed by a CSCA of the trust store, found by issuer name and
       authority key identifier                                        (else UNTRUSTED_SIGNER)
    5. validity periods, as warnings only: an expired DS does not make a document invalid (a
       DS signs for a few months, its certificate lives as long as the documents it signed),
       and an expired card is the caller's finding, from DG1/DG13

Status, first match wins: TAMPERED (a hash, the messageDigest or the SOD signature is wrong);
NOT_CHECKED (something needed is missing or unusable: no CSCA in the trust store, no DS
certificate, an algorithm this kiosk lacks, no data group given); UNTRUSTED_SIGNER (the SOD
verifies, but with no trusted CSCA behind it); AUTHENTIC (``PassiveAuthStatus``; the kiosk maps
it to an identity's authenticity). ``verify`` never raises for bad data: it says why in
``reason``.

``TrustStore.load(folder)`` reads CSCA certificates (PEM or DER, one or many per file) and ICAO
CSCA master lists (CMS SignedData of CscaMasterList; the master list's own signature is not
checked: placing a file in the folder is the act of trust). Certificates that announce
themselves as test CSCAs ("NOT FOR PRODUCTION" in the common name) are refused unless
``allow_test=True``: see config/trust/README.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path

from asn1crypto import algos, cms, core, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import serialization

from kiosk.emrtd.datagroups.public_key import (
    PublicKey,
    digest,
    load_public_key,
    verify_ecdsa,
    verify_ecdsa_plain,
    verify_rsa_pkcs1,
    verify_rsa_pss,
)
from kiosk.emrtd.errors import EmrtdError, UnsupportedProtocol
from kiosk.emrtd.sod import ASN1_ERRORS, SOD, SignerInfo, parse_sod

log = logging.getLogger(__name__)


class PassiveAuthStatus(Enum):
    """What passive authentication concluded of the chip's data (first match wins, above)."""

    NOT_CHECKED = "not_checked"
    AUTHENTIC = "authentic"
    UNTRUSTED_SIGNER = "untrusted_signer"
    TAMPERED = "tampered"


PAStatus = PassiveAuthStatus

OID_CSCA_MASTER_LIST = "2.23.136.1.1.2"
TEST_MARK = "NOT FOR PRODUCTION"
_SKIPPED_SUFFIXES = {".md", ".txt", ".rst"}

_ECDSA = {
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}
_ECDSA_PLAIN = {  # BSI TR-03111 ecdsa-plain-SHA*
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}
_RSA_PKCS1 = {
    "1.2.840.113549.1.1.5": "sha1",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
}
OID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
OID_RSASSA_PSS = "1.2.840.113549.1.1.10"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"


# --- signatures -----------------------------------------------------------------------------


def verify_signature(
    key: PublicKey,
    algorithm: algos.SignedDigestAlgorithm,
    signature: bytes,
    data: bytes,
    *,
    digest_algorithm: str | None = None,
) -> bool:
    """Whether ``signature`` over ``data`` verifies under ``algorithm`` (RSA, RSA-PSS, ECDSA).

    ``digest_algorithm`` is the hash for the bare key OIDs (rsaEncryption, id-ecPublicKey) some
    SignerInfos use as signature algorithm. ``UnsupportedProtocol`` for an unknown algorithm.
    """
    oid = algorithm["algorithm"].dotted
    if oid in _ECDSA:
        return verify_ecdsa(key, signature, data, _ECDSA[oid])
    if oid in _ECDSA_PLAIN:
        return verify_ecdsa_plain(key, signature, data, _ECDSA_PLAIN[oid])
    if oid in _RSA_PKCS1:
        return verify_rsa_pkcs1(key, signature, data, _RSA_PKCS1[oid])
    if oid == OID_RSASSA_PSS:
        params = algorithm["parameters"]
        if isinstance(params, core.Void):
            hash_name, mgf_hash, salt = "sha1", "sha1", 20  # RFC 4055 defaults
        else:
            hash_name = params["hash_algorithm"]["algorithm"].native
            mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
            salt = params["salt_length"].native
        return verify_rsa_pss(key, signature, data, hash_name, mgf_hash, salt)
    if oid in (OID_RSA_ENCRYPTION, OID_EC_PUBLIC_KEY) and digest_algorithm:
        if oid == OID_RSA_ENCRYPTION:
            return verify_rsa_pkcs1(key, signature, data, digest_algorithm)
        return verify_ecdsa(key, signature, data, digest_algorithm)
    raise UnsupportedProtocol(f"signature algorithm {oid} is not supported")


def certificate_signed_by(certificate: asn1_x509.Certificate, issuer_key: PublicKey) -> bool:
    """Whether ``certificate``'s signature verifies with ``issuer_key``."""
    return verify_signature(
        issuer_key,
        certificate["signature_algorithm"],
        bytes(certificate["signature_value"].native),
        certificate["tbs_certificate"].dump(),
    )


def describe(certificate: asn1_x509.Certificate) -> str:
    try:
        return certificate.subject.human_friendly
    except ASN1_ERRORS:
        return "(unreadable subject)"


def is_test_certificate(certificate: asn1_x509.Certificate) -> bool:
    """A test CSCA announces itself with "NOT FOR PRODUCTION" in its subject."""
    try:
        return TEST_MARK in certificate.subject.human_friendly.upper()
    except ASN1_ERRORS:
        return False


# --- the trust store ------------------------------------------------------------------------


class _CertificateSet(core.SetOf):
    _child_spec = asn1_x509.Certificate


class CscaMasterList(core.Sequence):
    """CscaMasterList ::= SEQUENCE { version INTEGER, certList SET OF Certificate }."""

    _fields = [("version", core.Integer), ("cert_list", _CertificateSet)]


def _touch(certificate: asn1_x509.Certificate) -> asn1_x509.Certificate:
    """Parse what the checks use now, so a broken certificate fails at load time."""
    _ = certificate.subject.native, certificate.issuer.native, certificate.serial_number
    _ = certificate.public_key.dump(), certificate["signature_algorithm"]["algorithm"].dotted
    return certificate


def _as_asn1(
    certificate: bytes | crypto_x509.Certificate | asn1_x509.Certificate,
) -> asn1_x509.Certificate:
    if isinstance(certificate, asn1_x509.Certificate):
        return _touch(certificate)
    if isinstance(certificate, crypto_x509.Certificate):
        certificate = certificate.public_bytes(serialization.Encoding.DER)
    return _touch(asn1_x509.Certificate.load(bytes(certificate), strict=True))


def _master_list_certificates(info: cms.ContentInfo) -> list[asn1_x509.Certificate]:
    encap = info["content"]["encap_content_info"]
    if encap["content_type"].dotted != OID_CSCA_MASTER_LIST:
        raise ValueError(f"CMS content {encap['content_type'].dotted} is not a CSCA master list")
    master_list = CscaMasterList.load(bytes(encap["content"].native), strict=True)
    return [_touch(certificate) for certificate in master_list["cert_list"]]


def _read_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    if pem.detect(data):
        return [
            _as_asn1(der)
            for kind, _headers, der in pem.unarmor(data, multiple=True)
            if kind == "CERTIFICATE"
        ]
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native == "signed_data":
            return _master_list_certificates(info)
    except ASN1_ERRORS:
        pass
    return [_as_asn1(data)]


class TrustStore:
    """The CSCA certificates the kiosk trusts; ``problems`` lists files it could not use."""

    def __init__(
        self, certificates: Iterable[asn1_x509.Certificate] = (), problems: Iterable[str] = ()
    ) -> None:
        self._certificates = list(certificates)
        self.problems = list(problems)

    @classmethod
    def from_certificates(
        cls, certificates: Iterable[bytes | crypto_x509.Certificate | asn1_x509.Certificate]
    ) -> TrustStore:
        """A store of the given CSCAs (DER, ``cryptography`` or asn1crypto certificates)."""
        return cls(_as_asn1(certificate) for certificate in certificates)

    @classmethod
    def load(
        cls,
        folder: str | Path,
        *,
        master_list: str | Path | None = None,
        allow_test: bool = False,
    ) -> TrustStore:
        """Every certificate in ``folder`` (PEM, DER, CSCA master lists; README and *.md, *.txt
        skipped) and in the ``master_list`` file. Files that cannot be used are listed in
        ``problems`` (and logged), not raised: an empty store makes passive authentication
        NOT_CHECKED, which the caller reports."""
        folder = Path(folder)
        paths: list[Path] = []
        problems: list[str] = []
        if folder.is_dir():
            paths = [
                path
                for path in sorted(folder.iterdir())
                if path.is_file()
                and not path.name.startswith(".")
                and not path.name.upper().startswith("README")
                and path.suffix.lower() not in _SKIPPED_SUFFIXES
            ]
        else:
            problems.append(f"{folder}: no such folder")
        if master_list:
            paths.append(Path(master_list))
        certificates: list[asn1_x509.Certificate] = []
        for path in paths:
            try:
                found = _read_certificates(path.read_bytes())
            except (OSError, *ASN1_ERRORS) as exc:
                problems.append(f"{path.name}: not a certificate or CSCA master list ({exc})")
                continue
            for certificate in found:
                if is_test_certificate(certificate) and not allow_test:
                    problems.append(f"{path.name}: refused the test CSCA {describe(certificate)!r}")
                    continue
                certificates.append(certificate)
        for problem in problems:
            log.warning("trust store: %s", problem)
        return cls(certificates, problems)

    def add(self, certificate: bytes | crypto_x509.Certificate | asn1_x509.Certificate) -> None:
        """Trust one more CSCA (given explicitly: test CSCAs are accepted here)."""
        self._certificates.append(_as_asn1(certificate))

    def add_master_list(self, path: str | Path) -> None:
        """Trust the CSCAs of a master list file (or PEM/DER); problems recorded, not raised."""
        try:
            found = _read_certificates(Path(path).read_bytes())
        except (OSError, *ASN1_ERRORS) as exc:
            self.problems.append(f"{Path(path).name}: not a CSCA master list ({exc})")
            log.warning("trust store: %s", self.problems[-1])
            return
        for certificate in found:
            if is_test_certificate(certificate):
                self.problems.append(f"{Path(path).name}: refused {describe(certificate)!r}")
                log.warning("trust store: %s", self.problems[-1])
            else:
                self._certificates.append(certificate)

    @property
    def certificates(self) -> tuple[asn1_x509.Certificate, ...]:
        return tuple(self._certificates)

    def __len__(self) -> int:
        return len(self._certificates)

    def __iter__(self) -> Iterator[asn1_x509.Certificate]:
        return iter(self._certificates)

    def issuers_of(self, certificate: asn1_x509.Certificate) -> list[asn1_x509.Certificate]:
        """The CSCAs that may have issued ``certificate``: by name, then by key identifier."""
        try:
            issuer = certificate.issuer
            key_id = certificate.authority_key_identifier
        except ASN1_ERRORS:
            return []
        by_name, by_key = [], []
        for anchor in self._certificates:
            try:
                anchor_key = anchor.key_identifier
                same_name = anchor.subject == issuer
            except ASN1_ERRORS:
                continue
            keys_differ = key_id is not None and anchor_key is not None and key_id != anchor_key
            if same_name and not keys_differ:
                by_name.append(anchor)
            elif key_id is not None and anchor_key == key_id:
                by_key.append(anchor)
        return by_name + by_key


# --- the verdict ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PassiveAuthResult:
    """What passive authentication found; ``reason`` says why the status is not AUTHENTIC."""

    status: PassiveAuthStatus
    reason: str = ""
    failed_groups: list[int] = field(default_factory=list)
    checked_groups: list[int] = field(default_factory=list)  # hashes that matched
    message_digest_valid: bool | None = None
    signature_valid: bool | None = None  # the SOD's signature, with the DS key
    chain_valid: bool | None = None  # the DS certificate, by a trusted CSCA
    signer: str | None = None  # the DS certificate's subject
    csca: str | None = None  # the CSCA that issued it
    warnings: list[str] = field(default_factory=list)

    @property
    def authentic(self) -> bool:
        return self.status is PassiveAuthStatus.AUTHENTIC


@dataclass
class _Findings:
    at: date
    tampered: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    untrusted: list[str] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    checked: list[int] = field(default_factory=list)
    message_digest_valid: bool | None = None
    signature_valid: bool | None = None
    chain_valid: bool | None = None
    signer: str | None = None
    csca: str | None = None
    warnings: list[str] = field(default_factory=list)

    def result(self) -> PassiveAuthResult:
        if self.tampered:
            status, reasons = PassiveAuthStatus.TAMPERED, self.tampered
        elif self.not_checked:
            status, reasons = PassiveAuthStatus.NOT_CHECKED, self.not_checked
        elif self.untrusted:
            status, reasons = PassiveAuthStatus.UNTRUSTED_SIGNER, self.untrusted
        else:
            status, reasons = PassiveAuthStatus.AUTHENTIC, []
        return PassiveAuthResult(
            status=status,
            reason="; ".join(reasons),
            failed_groups=sorted(self.failed),
            checked_groups=sorted(self.checked),
            message_digest_valid=self.message_digest_valid,
            signature_valid=self.signature_valid,
            chain_valid=self.chain_valid,
            signer=self.signer,
            csca=self.csca,
            warnings=self.warnings,
        )


def _check_hashes(sod: SOD, data_groups: dict[int, bytes], found: _Findings) -> None:
    if not data_groups:
        found.not_checked.append("no data group was given to check against EF.SOD")
        return
    try:
        hashes = {n: digest(sod.hash_algorithm, bytes(data)) for n, data in data_groups.items()}
    except UnsupportedProtocol as exc:
        found.not_checked.append(f"data group hashes: {exc}")
        return
    for number in sorted(hashes):
        expected = sod.data_group_hashes.get(number)
        if expected is None:
            found.failed.append(number)
            found.tampered.append(f"DG{number} is not listed in EF.SOD")
        elif hashes[number] != expected:
            found.failed.append(number)
            found.tampered.append(f"DG{number} does not match its hash in EF.SOD")
        else:
            found.checked.append(number)


def _signed_bytes(sod: SOD, signer: SignerInfo, found: _Findings) -> bytes:
    """What the signature covers; checks messageDigest and contentType on the way."""
    if signer.signed_attributes is None:
        return sod.encapsulated_content  # no signed attributes: the signature is over eContent
    if signer.content_type is not None and signer.content_type != sod.content_type:
        found.tampered.append(
            f"contentType attribute {signer.content_type} differs from {sod.content_type}"
        )
    if signer.message_digest is None:
        found.message_digest_valid = False
        found.tampered.append("the SOD's signed attributes have no messageDigest")
    else:
        try:
            found.message_digest_valid = (
                digest(signer.digest_algorithm, sod.encapsulated_content) == signer.message_digest
            )
        except UnsupportedProtocol as exc:
            found.not_checked.append(f"messageDigest: {exc}")
        else:
            if not found.message_digest_valid:
                found.tampered.append("messageDigest does not match the LDSSecurityObject")
    return signer.signed_attributes


def _check_signature(sod: SOD, found: _Findings) -> asn1_x509.Certificate | None:
    signer = sod.signer_info
    signed = _signed_bytes(sod, signer, found)
    certificate = sod.document_signer(signer)
    if certificate is None and len(sod.certificates) == 1:
        certificate = sod.certificates[0]
        found.warnings.append("the SignerInfo does not name the certificate in EF.SOD; used it")
    if certificate is None:
        found.not_checked.append("EF.SOD carries no Document Signer certificate")
        return None
    found.signer = describe(certificate)
    try:
        key = load_public_key(certificate.public_key)
        found.signature_valid = verify_signature(
            key,
            signer.signature_algorithm,
            signer.signature,
            signed,
            digest_algorithm=signer.digest_algorithm,
        )
    except (EmrtdError, *ASN1_ERRORS) as exc:
        found.not_checked.append(f"the SOD's signature could not be checked: {exc}")
        return certificate
    if not found.signature_valid:
        found.tampered.append("the SOD's signature does not verify with its Document Signer key")
    return certificate


def _check_chain(certificate: asn1_x509.Certificate, trust: TrustStore, found: _Findings) -> None:
    if not len(trust):
        found.not_checked.append("no CSCA certificate in the trust store")
        return
    candidates = trust.issuers_of(certificate)
    if not candidates:
        try:
            issuer = certificate.issuer.human_friendly
        except ASN1_ERRORS:
            issuer = "(unreadable)"
        found.chain_valid = False
        found.untrusted.append(f"no trusted CSCA issued the Document Signer (issuer {issuer})")
        return
    problems: list[str] = []
    for csca in candidates:
        try:
            if certificate_signed_by(certificate, load_public_key(csca.public_key)):
                found.chain_valid = True
                found.csca = describe(csca)
                _check_validity(csca, "CSCA", found)
                return
            problems.append(f"signature does not verify with {describe(csca)}")
        except (EmrtdError, *ASN1_ERRORS) as exc:
            problems.append(f"{describe(csca)}: {exc}")
    found.chain_valid = False
    found.untrusted.append("the Document Signer certificate: " + "; ".join(problems))


def _check_validity(certificate: asn1_x509.Certificate, role: str, found: _Findings) -> None:
    at = found.at
    try:
        start = certificate.not_valid_before.date()
        end = certificate.not_valid_after.date()
    except ASN1_ERRORS:
        found.warnings.append(f"{role} certificate validity unreadable")
        return
    if at < start:
        found.warnings.append(f"{role} certificate is valid only from {start.isoformat()}")
    elif at > end:
        found.warnings.append(
            f"{role} certificate expired on {end.isoformat()} (this alone does not invalidate "
            "the document)"
        )


def verify(
    sod: SOD | bytes,
    data_groups: dict[int, bytes],
    trust: TrustStore | None,
    *,
    at: date,
) -> PassiveAuthResult:
    """Passive authentication of ``data_groups`` (DG number → file bytes) against ``sod``."""
    found = _Findings(at)
    if not isinstance(sod, SOD):
        try:
            sod = parse_sod(bytes(sod))
        except EmrtdError as exc:
            found.not_checked.append(f"EF.SOD does not parse: {exc}")
            return found.result()
    _check_hashes(sod, data_groups, found)
    try:
        certificate = _check_signature(sod, found)
    except ASN1_ERRORS as exc:
        found.not_checked.append(f"EF.SOD's signer could not be read: {exc}")
        certificate = None
    if certificate is not None:
        _check_validity(certificate, "Document Signer", found)
        _check_chain(certificate, trust if trust is not None else TrustStore(), found)
    return found.result()
