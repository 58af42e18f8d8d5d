"""Passive authentication: every way a card can fail it, the trust store, the test PKI."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from support.emrtd_samples import DE_CSCA, DE_SOD

from devices.simulated.lds_builder import build_card, build_sod, demo_profile
from devices.simulated.test_pki import TestPKI, issue_document_signer, make_csca
from kiosk.emrtd.passive_auth import CscaMasterList, PassiveAuthStatus, TrustStore, verify
from kiosk.emrtd.sod import parse_sod
from kiosk.paths import CONFIG_DIR

AT = date(2025, 1, 1)


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI.generate()


@pytest.fixture(scope="module")
def trust(pki: TestPKI) -> TrustStore:
    return pki.trust_store()


@pytest.fixture(scope="module")
def card(pki: TestPKI):
    return build_card(demo_profile(), pki)


def test_authentic_card(card, trust):
    result = verify(parse_sod(card.sod), card.data_groups, trust, at=AT)
    assert result.status is PassiveAuthStatus.AUTHENTIC and result.authentic, result.reason
    assert result.checked_groups == [1, 2, 13, 14, 15] and result.failed_groups == []
    assert result.message_digest_valid and result.signature_valid and result.chain_valid
    assert "TEST CSCA" in (result.csca or "") and "Document Signer" in (result.signer or "")
    assert result.warnings == []


def test_sod_may_be_given_as_bytes(card, trust):
    assert verify(card.sod, card.data_groups, trust, at=AT).authentic


@pytest.mark.parametrize("group", [13, 2, 1])
def test_tampered_data_group_is_named(pki, trust, group):
    card = build_card(demo_profile(), pki, tamper_dg=group)
    result = verify(card.sod, card.data_groups, trust, at=AT)
    assert result.status is PassiveAuthStatus.TAMPERED
    assert result.failed_groups == [group]
    assert f"DG{group}" in result.reason
    assert result.signature_valid and result.chain_valid  # the SOD itself is fine


def test_data_group_missing_from_the_sod_is_tampering(card, trust):
    groups = dict(card.data_groups) | {3: b"\x63\x00"}
    result = verify(card.sod, groups, trust, at=AT)
    assert result.status is PassiveAuthStatus.TAMPERED and result.failed_groups == [3]


def test_untrusted_signer(pki, trust):
    card = build_card(demo_profile(), pki, untrusted=True)
    result = verify(card.sod, card.data_groups, trust, at=AT)
    assert result.status is PassiveAuthStatus.UNTRUSTED_SIGNER, result.reason
    assert result.signature_valid and result.chain_valid is False
    assert "no trusted CSCA" in result.reason and "UNTRUSTED" in result.reason


def test_wrong_message_digest(pki, card, trust):
    sod = build_sod(card.data_groups, pki.ds_cert, pki.ds_key, message_digest=b"\x00" * 32)
    result = verify(sod, card.data_groups, trust, at=AT)
    assert result.status is PassiveAuthStatus.TAMPERED
    assert result.message_digest_valid is False and result.failed_groups == []
    assert "messageDigest" in result.reason
    assert result.signature_valid  # the attributes are signed: only the digest is wrong


def test_bad_signature(pki, card, trust):
    sod = build_sod(card.data_groups, pki.ds_cert, pki.ds_key, corrupt_signature=True)
    result = verify(sod, card.data_groups, trust, at=AT)
    assert result.status is PassiveAuthStatus.TAMPERED and result.signature_valid is False
    assert "signature" in result.reason


def test_sod_signed_by_another_key_than_its_certificate(pki, card, trust):
    sod = build_sod(card.data_groups, pki.ds_cert, pki.untrusted_ds_key)
    result = verify(sod, card.data_groups, trust, at=AT)
    assert result.status is PassiveAuthStatus.TAMPERED and result.signature_valid is False


def test_document_signer_not_signed_by_the_csca_it_names(pki, card, trust):
    # names the trusted CSCA (issuer and authority key id) but is signed by another key
    forged_ds, forged_key = issue_document_signer(pki.csca_cert, pki.untrusted_csca_key)
    sod = build_sod(card.data_groups, forged_ds, forged_key)
    result = verify(sod, card.data_groups, trust, at=AT)
    assert result.status is PassiveAuthStatus.UNTRUSTED_SIGNER
    assert result.signature_valid and result.chain_valid is False
    assert "does not verify" in result.reason


@pytest.mark.parametrize("empty", [TrustStore(), None])
def test_no_trust_anchors_is_not_checked(card, empty):
    result = verify(card.sod, card.data_groups, empty, at=AT)
    assert result.status is PassiveAuthStatus.NOT_CHECKED
    assert "trust store" in result.reason
    assert result.checked_groups == [1, 2, 13, 14, 15] and result.signature_valid


def test_tampering_outranks_missing_trust_anchors(pki):
    card = build_card(demo_profile(), pki, tamper_dg=13)
    result = verify(card.sod, card.data_groups, TrustStore(), at=AT)
    assert result.status is PassiveAuthStatus.TAMPERED and result.failed_groups == [13]


def test_no_document_signer_certificate_is_not_checked(pki, card, trust):
    sod = build_sod(card.data_groups, pki.ds_cert, pki.ds_key, include_certificate=False)
    result = verify(sod, card.data_groups, trust, at=AT)
    assert result.status is PassiveAuthStatus.NOT_CHECKED and "Document Signer" in result.reason


def test_unparsable_sod_is_not_checked(card, trust):
    result = verify(b"\x77\x03\x30\x01\x00", card.data_groups, trust, at=AT)
    assert result.status is PassiveAuthStatus.NOT_CHECKED and "EF.SOD" in result.reason


def test_no_data_group_given_is_not_checked(card, trust):
    result = verify(card.sod, {}, trust, at=AT)
    assert result.status is PassiveAuthStatus.NOT_CHECKED and result.chain_valid


@pytest.mark.parametrize("pss", [False, True])
def test_rsa_document_signers(pki, card, trust, pss):
    ds, key = issue_document_signer(
        pki.csca_cert, pki.csca_key, key=rsa.generate_private_key(65537, 2048)
    )
    sod = build_sod(card.data_groups, ds, key, rsa_pss=pss)
    assert verify(sod, card.data_groups, trust, at=AT).authentic


def test_rsa_csca(card):
    csca, csca_key = make_csca(
        "RSA TEST CSCA — NOT FOR PRODUCTION", rsa.generate_private_key(65537, 2048)
    )
    ds, ds_key = issue_document_signer(csca, csca_key)
    sod = build_sod(card.data_groups, ds, ds_key, hash_name="sha512")
    assert verify(sod, card.data_groups, TrustStore.from_certificates([csca]), at=AT).authentic


def test_expired_document_signer_is_only_a_warning(pki, card, trust):
    old = (datetime(2015, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC))
    ds, key = issue_document_signer(pki.csca_cert, pki.csca_key, validity=old)
    result = verify(build_sod(card.data_groups, ds, key), card.data_groups, trust, at=AT)
    assert result.authentic
    assert any("expired on 2020-01-01" in warning for warning in result.warnings)


def test_real_german_sod_chains_to_the_german_csca():
    german = TrustStore.from_certificates([DE_CSCA])
    result = verify(DE_SOD, {}, german, at=date(2024, 6, 1))
    # no data groups (the passport is not public): everything else verifies
    assert result.status is PassiveAuthStatus.NOT_CHECKED
    assert result.reason.startswith("no data group")
    assert result.message_digest_valid and result.signature_valid and result.chain_valid
    assert "csca-germany" in (result.csca or "")
    tampered = verify(DE_SOD, {1: b"\x61\x00"}, german, at=date(2024, 6, 1))
    assert tampered.status is PassiveAuthStatus.TAMPERED and tampered.failed_groups == [1]


def test_real_german_sod_with_another_trust_store(trust):
    result = verify(DE_SOD, {}, trust, at=date(2024, 6, 1))
    assert result.signature_valid and result.chain_valid is False


# --- the trust store ------------------------------------------------------------------------


def _pem(certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _der(certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _master_list(certificates: list[bytes]) -> bytes:
    content = CscaMasterList(
        {"version": 0, "cert_list": [asn1_x509.Certificate.load(c) for c in certificates]}
    ).dump()
    return cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": {
                "version": "v3",
                "digest_algorithms": [{"algorithm": "sha256"}],
                "encap_content_info": {
                    "content_type": "2.23.136.1.1.2",
                    "content": core.ParsableOctetString(content),
                },
                "signer_infos": [],
            },
        }
    ).dump()


def test_trust_store_reads_pem_der_and_master_lists(tmp_path):
    cscas = [make_csca(f"Production-like CSCA {n}")[0] for n in range(4)]
    (tmp_path / "two.pem").write_bytes(_pem(cscas[0]) + _pem(cscas[1]))
    (tmp_path / "one.der").write_bytes(_der(cscas[2]))
    (tmp_path / "list.ml").write_bytes(_master_list([_der(cscas[3]), DE_CSCA]))
    (tmp_path / "README.md").write_text("not a certificate")
    (tmp_path / "notes.txt").write_text("neither")
    store = TrustStore.load(tmp_path)
    assert len(store) == 5 and store.problems == []
    names = {c.subject.native["common_name"] for c in store}
    assert names == {f"Production-like CSCA {n}" for n in range(4)} | {"csca-germany"}


def test_trust_store_master_list_setting_and_problems(tmp_path):
    folder = tmp_path / "trust"
    folder.mkdir()
    (folder / "junk.crt").write_bytes(b"\x30\x03\x02\x01\x01")
    master = tmp_path / "elsewhere.ml"
    master.write_bytes(_master_list([DE_CSCA]))
    store = TrustStore.load(folder, master_list=master)
    assert len(store) == 1 and len(store.problems) == 1 and "junk.crt" in store.problems[0]
    missing = TrustStore.load(tmp_path / "nowhere")
    assert len(missing) == 0 and "no such folder" in missing.problems[0]


def test_trust_store_refuses_test_cscas_unless_allowed(tmp_path, pki):
    (tmp_path / "csca.pem").write_bytes(_pem(pki.csca_cert))
    refused = TrustStore.load(tmp_path)
    assert len(refused) == 0 and "refused the test CSCA" in refused.problems[0]
    assert len(TrustStore.load(tmp_path, allow_test=True)) == 1


def test_trust_store_additions_as_the_kiosk_makes_them(tmp_path, pki):
    store = TrustStore()
    master = tmp_path / "list.ml"
    master.write_bytes(_master_list([DE_CSCA, _der(pki.csca_cert)]))
    store.add_master_list(master)
    assert len(store) == 1 and "refused" in store.problems[0]  # the test CSCA in a list
    store.add(pki.csca_cert)  # explicitly, as the simulated kiosk does
    assert len(store) == 2
    store.add_master_list(tmp_path / "missing.ml")
    assert len(store.problems) == 2


def test_shipped_trust_folder_holds_no_certificate():
    store = TrustStore.load(CONFIG_DIR / "trust", allow_test=True)
    assert len(store) == 0 and store.problems == []


def test_issuers_are_found_by_name_and_key_identifier(pki, trust):
    ds = asn1_x509.Certificate.load(_der(pki.ds_cert))
    assert [c.subject for c in trust.issuers_of(ds)] == [ds.issuer]
    other = asn1_x509.Certificate.load(_der(pki.untrusted_ds_cert))
    assert trust.issuers_of(other) == []


# --- the test PKI ---------------------------------------------------------------------------


def test_test_pki_is_kept_and_reused(tmp_path):
    first = TestPKI.load_or_create(tmp_path / "pki")
    second = TestPKI.load_or_create(tmp_path / "pki")
    assert second.csca_cert == first.csca_cert and second.ds_cert == first.ds_cert
    assert second.aa_key.private_numbers() == first.aa_key.private_numbers()
    assert (tmp_path / "pki" / "ds-key.pem").stat().st_mode & 0o077 == 0
    (tmp_path / "pki" / "ds.pem").unlink()  # incomplete: made again
    third = TestPKI.load_or_create(tmp_path / "pki")
    assert third.csca_cert != first.csca_cert
    subject = third.csca_cert.subject.rfc4514_string()
    assert "NOT FOR PRODUCTION" in subject and "C=VN" in subject
