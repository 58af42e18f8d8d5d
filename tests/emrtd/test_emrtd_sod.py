"""EF.SOD: the CMS SignedData around the LDSSecurityObject, built by the simulator and real."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives.asymmetric import rsa
from support.emrtd_samples import DE_SOD

from devices.simulated.lds_builder import build_sod, encode_lds_security_object
from devices.simulated.test_pki import TestPKI, issue_document_signer
from kiosk.emrtd import tlv
from kiosk.emrtd.errors import EmrtdError, ParseError
from kiosk.emrtd.sod import OID_LDS_SECURITY_OBJECT, LDSSecurityObject, parse_sod

GROUPS = {1: b"\x61\x03DG1", 2: b"\x75\x03DG2", 13: b"\x6d\x04DG13"}


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI.generate()


def test_sod_built_by_the_simulator_parses_back(pki):
    sod = parse_sod(build_sod(GROUPS, pki.ds_cert, pki.ds_key))
    assert sod.version == 0 and sod.hash_algorithm == "sha256"
    assert sod.data_group_hashes == {n: hashlib.sha256(d).digest() for n, d in GROUPS.items()}
    assert sod.content_type == OID_LDS_SECURITY_OBJECT
    assert (sod.lds_version, sod.unicode_version) == (None, None)
    assert sod.encapsulated_content == encode_lds_security_object(GROUPS)
    signer = sod.signer_info
    assert signer.digest_algorithm == "sha256"
    assert signer.signature_algorithm_oid == "1.2.840.10045.4.3.2"  # ecdsa-with-SHA256
    assert signer.message_digest == hashlib.sha256(sod.encapsulated_content).digest()
    assert signer.content_type == OID_LDS_SECURITY_OBJECT
    assert signer.signing_time == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    assert signer.serial_number == pki.ds_cert.serial_number
    assert len(sod.certificates) == 1 and sod.document_signer() is sod.certificates[0]


def test_signed_attributes_are_the_der_set_the_signature_covers(pki):
    sod = parse_sod(build_sod(GROUPS, pki.ds_cert, pki.ds_key))
    raw = sod.signer_info.signed_attributes
    assert raw is not None and raw[0] == 0x31
    attributes = cms.CMSAttributes.load(raw)
    assert {a["type"].native for a in attributes} == {
        "content_type",
        "message_digest",
        "signing_time",
    }
    assert attributes.dump(force=True) == raw  # already DER: sorted SET OF


def test_lds_security_object_v1_and_rsa_signatures(pki):
    ds, key = issue_document_signer(
        pki.csca_cert, pki.csca_key, key=rsa.generate_private_key(65537, 2048)
    )
    for pss, oid in ((False, "1.2.840.113549.1.1.12"), (True, "1.2.840.113549.1.1.10")):
        sod = parse_sod(
            build_sod(GROUPS, ds, key, rsa_pss=pss, hash_name="sha384", lds_version="0108")
        )
        assert (sod.version, sod.lds_version, sod.unicode_version) == (1, "0108", "040000")
        assert sod.hash_algorithm == "sha384" and len(sod.data_group_hashes[1]) == 48
        assert sod.signer_info.signature_algorithm_oid == oid


def test_sod_without_certificates(pki):
    sod = parse_sod(build_sod(GROUPS, pki.ds_cert, pki.ds_key, include_certificate=False))
    assert sod.certificates == () and sod.document_signer() is None


def test_real_german_sod_parses():
    sod = parse_sod(DE_SOD)
    assert (sod.version, sod.hash_algorithm) == (1, "sha384")
    assert sorted(sod.data_group_hashes) == [1, 2, 3, 14]
    assert sod.data_group_hashes[1].hex().startswith("2daffeb0f67656ae")
    assert (sod.lds_version, sod.unicode_version) == ("0108", "040000")
    signer = sod.signer_info
    assert signer.digest_algorithm == "sha384"
    assert signer.signature_algorithm_oid == "1.2.840.10045.4.3.3"  # ecdsa-with-SHA384
    assert signer.message_digest == hashlib.sha384(sod.encapsulated_content).digest()
    assert signer.signing_time is None
    certificate = sod.document_signer()
    assert certificate is not None
    assert certificate.subject.native["common_name"] == "Document Signer Passport"
    assert certificate.issuer.native["common_name"] == "csca-germany"


def _content_info(sod: bytes) -> bytes:
    return tlv.parse_one(sod)[0].value


@pytest.mark.parametrize(
    "mangle",
    [
        lambda sod: b"",
        lambda sod: tlv.encode(0x78, _content_info(sod)),  # not tag 77
        lambda sod: sod[:-10],  # truncated
        lambda sod: tlv.encode(0x77, b"\x30\x03\x02\x01\x01"),  # not a ContentInfo
        lambda sod: tlv.encode(  # ContentInfo of id-data, not SignedData
            0x77, cms.ContentInfo({"content_type": "data", "content": b"x"}).dump()
        ),
        lambda sod: tlv.encode(0x77, _content_info(sod) + b"\x00\x00"),  # trailing junk
    ],
)
def test_malformed_sod(pki, mangle):
    good = build_sod(GROUPS, pki.ds_cert, pki.ds_key)
    with pytest.raises(EmrtdError):
        parse_sod(mangle(good))


def _sod_around(econtent: bytes, signer_infos: list) -> bytes:
    info = cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": {
                "version": "v3",
                "digest_algorithms": [{"algorithm": "sha256"}],
                "encap_content_info": {
                    "content_type": OID_LDS_SECURITY_OBJECT,
                    "content": cms.ParsableOctetString(econtent),
                },
                "signer_infos": signer_infos,
            },
        }
    )
    return tlv.encode(0x77, info.dump())


@pytest.mark.parametrize(
    "hashes_",
    [
        [(1, b"a" * 32), (1, b"b" * 32)],  # DG1 twice
        [(17, b"a" * 32)],  # there is no DG17
        [(0, b"a" * 32)],
    ],
)
def test_lds_security_object_with_bad_data_group_numbers(hashes_):
    econtent = LDSSecurityObject(
        {
            "version": 0,
            "hash_algorithm": {"algorithm": "sha256"},
            "data_group_hash_values": [
                {"data_group_number": n, "data_group_hash_value": h} for n, h in hashes_
            ],
        }
    ).dump()
    with pytest.raises(ParseError):
        parse_sod(_sod_around(econtent, []))


def test_sod_without_signer_info():
    with pytest.raises(ParseError, match="SignerInfo"):
        parse_sod(_sod_around(encode_lds_security_object(GROUPS), []))
