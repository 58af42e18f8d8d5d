"""A TEST public-key infrastructure for the simulated CCCD: CSCA, Document Signer, AA key.

NOT FOR PRODUCTION. The certificates say so in their common name, and
``kiosk.emrtd.passive_auth.TrustStore.load`` refuses them unless told ``allow_test=True``:
they must never be placed in config/trust/.

    TEST CSCA            self-signed, C=VN, ECDSA brainpoolP384r1 / SHA-384, CA, keyCertSign
     └── TEST DS         Document Signer, ECDSA brainpoolP256r1, signs EF.SOD with SHA-256
    UNTRUSTED CSCA/DS    the same again with other keys: a signer no trust store knows
    AA key               the chip's Active Authentication key (ECDSA brainpoolP256r1), for DG15

``TestPKI.load_or_create(folder)`` keeps them as PEM files in ``folder`` and reuses them, so the
simulator and a reader in another process share one PKI; creation is serialized with a lock
file and each file is written atomically. Validity dates are fixed (not "now"): the tests do
not depend on the day they run. ``issue_document_signer`` makes odd signers for tests (another
issuer key, other dates).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from kiosk.emrtd.passive_auth import TrustStore

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CSCA_NAME = "TEST CSCA motcua-kiosk — NOT FOR PRODUCTION"
DS_NAME = "TEST Document Signer motcua-kiosk — NOT FOR PRODUCTION"
UNTRUSTED_CSCA_NAME = "UNTRUSTED TEST CSCA motcua-kiosk — NOT FOR PRODUCTION"
UNTRUSTED_DS_NAME = "UNTRUSTED TEST DS motcua-kiosk — NOT FOR PRODUCTION"
ORGANIZATION = "motcua-kiosk test PKI"

CSCA_VALIDITY = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2045, 1, 1, tzinfo=UTC))
DS_VALIDITY = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))

_FILES = (
    "csca.pem",
    "csca-key.pem",
    "ds.pem",
    "ds-key.pem",
    "untrusted-csca.pem",
    "untrusted-csca-key.pem",
    "untrusted-ds.pem",
    "untrusted-ds-key.pem",
    "aa-key.pem",
)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _signature_hash(key: PrivateKey) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def make_csca(
    common_name: str = CSCA_NAME,
    key: PrivateKey | None = None,
    validity: tuple[datetime, datetime] = CSCA_VALIDITY,
) -> tuple[x509.Certificate, PrivateKey]:
    """A self-signed CSCA certificate (ECDSA brainpoolP384r1 unless ``key`` is given)."""
    key = key or ec.generate_private_key(ec.BrainpoolP384R1())
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, _signature_hash(key))
    )
    return certificate, key


def issue_document_signer(
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    *,
    common_name: str = DS_NAME,
    key: PrivateKey | None = None,
    validity: tuple[datetime, datetime] = DS_VALIDITY,
) -> tuple[x509.Certificate, PrivateKey]:
    """A Document Signer certificate naming ``issuer``, signed with ``issuer_key``.

    Pass another CA's key as ``issuer_key`` to make a DS that claims a CSCA it was not signed
    by (its name and authority key identifier still point at ``issuer``).
    """
    key = key or ec.generate_private_key(ec.BrainpoolP256R1())
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(issuer_key, _signature_hash(issuer_key))
    )
    return certificate, key


@dataclass
class TestPKI:
    """The test CSCA, its Document Signer, an untrusted pair, and the chip's AA key."""

    __test__ = False  # not a pytest test class

    csca_cert: x509.Certificate
    csca_key: PrivateKey
    ds_cert: x509.Certificate
    ds_key: PrivateKey
    untrusted_csca_cert: x509.Certificate
    untrusted_csca_key: PrivateKey
    untrusted_ds_cert: x509.Certificate
    untrusted_ds_key: PrivateKey
    aa_key: PrivateKey

    @classmethod
    def generate(cls) -> TestPKI:
        """A fresh PKI, in memory."""
        csca, csca_key = make_csca()
        ds, ds_key = issue_document_signer(csca, csca_key)
        other, other_key = make_csca(UNTRUSTED_CSCA_NAME)
        other_ds, other_ds_key = issue_document_signer(
            other, other_key, common_name=UNTRUSTED_DS_NAME
        )
        return cls(
            csca, csca_key, ds, ds_key, other, other_key, other_ds, other_ds_key,
            ec.generate_private_key(ec.BrainpoolP256R1()),
        )  # fmt: skip

    @classmethod
    def load_or_create(cls, folder: str | Path) -> TestPKI:
        """The PKI kept in ``folder``; created there (once, under a lock) when absent."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder / ".lock"):
            if all((folder / name).is_file() for name in _FILES):
                return cls._load(folder)
            pki = cls.generate()
            pki.save(folder)
            return pki

    @classmethod
    def _load(cls, folder: Path) -> TestPKI:
        def cert(name: str) -> x509.Certificate:
            return x509.load_pem_x509_certificate((folder / name).read_bytes())

        def key(name: str) -> PrivateKey:
            loaded = serialization.load_pem_private_key((folder / name).read_bytes(), None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
                raise ValueError(f"{folder / name}: not an EC or RSA private key")
            return loaded

        return cls(
            cert("csca.pem"), key("csca-key.pem"), cert("ds.pem"), key("ds-key.pem"),
            cert("untrusted-csca.pem"), key("untrusted-csca-key.pem"),
            cert("untrusted-ds.pem"), key("untrusted-ds-key.pem"), key("aa-key.pem"),
        )  # fmt: skip

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        items: list[tuple[str, bytes]] = []
        for name, certificate in (
            ("csca.pem", self.csca_cert),
            ("ds.pem", self.ds_cert),
            ("untrusted-csca.pem", self.untrusted_csca_cert),
            ("untrusted-ds.pem", self.untrusted_ds_cert),
        ):
            items.append((name, certificate.public_bytes(serialization.Encoding.PEM)))
        for name, key in (
            ("csca-key.pem", self.csca_key),
            ("ds-key.pem", self.ds_key),
            ("untrusted-csca-key.pem", self.untrusted_csca_key),
            ("untrusted-ds-key.pem", self.untrusted_ds_key),
            ("aa-key.pem", self.aa_key),
        ):
            items.append(
                (
                    name,
                    key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ),
                )
            )
        for name, data in items:
            _write_atomically(folder / name, data)

    def trust_store(self) -> TrustStore:
        """A trust store holding only this test CSCA (for tests and the simulated kiosk)."""
        from kiosk.emrtd.passive_auth import TrustStore

        return TrustStore.from_certificates([self.csca_cert])


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.chmod(0o600 if b"PRIVATE KEY" in data else 0o644)
    os.replace(temporary, path)
