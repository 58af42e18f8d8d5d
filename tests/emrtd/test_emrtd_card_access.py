"""EF.CardAccess and DG14 SecurityInfos (ICAO 9303-11 §9.2): real files, the simulator's, junk.

Real-world samples are the ones gmrtd (github.com/gmrtd/gmrtd) tests with: an Austrian and a
German EF.CardAccess, DG14 of Austrian and Malaysian passports, and a German one with PACE on
brainpoolP384r1. The Appendix G.1 EF.CardAccess is ICAO 9303-11's.
"""

from __future__ import annotations

import contextlib

import pytest
from ecdsa import curves
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.simulated import cccd_card
from kiosk.emrtd.card_access import (
    ID_AA,
    ID_PACE_ECDH_GM,
    ID_PK_ECDH,
    ID_TA,
    PACE_ALGORITHMS,
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEDomainParameterInfo,
    PACEInfo,
    TerminalAuthenticationInfo,
    UnknownSecurityInfo,
    choose_pace,
    decode_oid,
    domain_parameters,
    encode_oid,
    pace_supported,
    parse_security_infos,
)
from kiosk.emrtd.errors import ParseError, TLVError, UnsupportedProtocol

GM_AES_128 = "0.4.0.127.0.7.2.2.4.2.2"
GM_AES_256 = "0.4.0.127.0.7.2.2.4.2.4"
GM_3DES = "0.4.0.127.0.7.2.2.4.2.1"
CAM_AES_128 = "0.4.0.127.0.7.2.2.4.6.2"
CAM_AES_256 = "0.4.0.127.0.7.2.2.4.6.4"
IM_AES_128 = "0.4.0.127.0.7.2.2.4.4.2"
DH_GM_AES_128 = "0.4.0.127.0.7.2.2.4.1.2"

# ICAO 9303-11 Appendix G.1 (also an Austrian passport's EF.CardAccess in gmrtd)
CARD_ACCESS_G1 = bytes.fromhex("31143012060A04007F0007020204020202010202010D")
# German eID/passport: ECDH-GM and ECDH-CAM, AES-128, brainpoolP256r1 (gmrtd card_access_test.go)
CARD_ACCESS_DE = bytes.fromhex(
    "31283012060a04007f0007020204020202010202010d3012060a04007f0007020204060202010202010d"
)
# GM and CAM with AES-256 on brainpoolP384r1 (gmrtd pace_test.go)
CARD_ACCESS_P384 = bytes.fromhex(
    "31283012060a04007f000702020402040201020201103012060a04007f00070202040604020102020110"
)
# A ChipAuthenticationPublicKeyInfo with a standardized domain parameter id (gmrtd)
SECURITY_INFOS_CAPK = bytes.fromhex(
    "31643062060904007F0007020201023052300C060704007F0007010202010D034200041872709494399E7470"
    "A6431BE25E83EEE24FEA568C2ED28DB48E05DB3A610DC884D256A40E35EFCB59BF6753D3A489D28C7A4D973C2D"
    "A138A6E7A4A08F68E16F02010D"
)
# An EF.DIR-style SecurityInfo under an OID this module does not know (gmrtd)
SECURITY_INFOS_UNKNOWN = bytes.fromhex(
    "3137303506052B1B01010D042C61094F07A000000247100161094F07A000000247200161094F07A00000024720"
    "0261094F07A0000002472003"
)
# DG14 of an Austrian passport (gmrtd dg14_test.go): TA, CA, PACE, CA public key (explicit curve)
DG14_AT = bytes.fromhex(
    "6e82017e3182017a300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04"
    "007f0007020204020202010202010d30820142060904007f000702020102308201333081ec06072a8648ce3d02"
    "013081e0020101302c06072a8648ce3d0101022100a9fb57dba1eea9bc3e660a909d838d726e3bf623d5262028"
    "2013481d1f6e5377304404207d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d904"
    "2026dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b60441048bd2aeb9cb7e57cb2c"
    "4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262547ef835c3dac4fd97f8461a14611dc9c27745132ded"
    "8e545c1d54c72f046997022100a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7"
    "020101034200041983917269ac877c0b61544c2c022000d2a5aba723e2d80141e648b40911dc3459761f27480e"
    "4b57181a53d8fe1190ea86c939ac14363178caffc621f0f905c3"
)
# DG14 of a Malaysian passport (gmrtd): CA public key, CA, TA; no PACE
DG14_MY = bytes.fromhex(
    "6e82016a3182016630820142060904007f000702020102308201333081ec06072a8648ce3d02013081e0020101"
    "302c06072a8648ce3d0101022100a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e53"
    "77304404207d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9042026dc5c6ce94a"
    "4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b60441048bd2aeb9cb7e57cb2c4b482ffc81b7af"
    "b9de27e1e3bd23c23a4453bd9ace3262547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f"
    "046997022100a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a702010103420004"
    "a04f85afdfc316fb5e9f33f94ca45837d20d9d91ad5002307c3f124b6ef5b92565d018a6b7f69db73976bfbb42"
    "78757405c64e96104d161649e8a94078eaefce300f060a04007f00070202030201020101300d060804007f0007"
    "020202020101"
)

SAMPLES = [
    CARD_ACCESS_G1,
    CARD_ACCESS_DE,
    CARD_ACCESS_P384,
    SECURITY_INFOS_CAPK,
    SECURITY_INFOS_UNKNOWN,
    DG14_AT,
    DG14_MY,
]


# --- the simulated chip and the worked example ---------------------------------------------


def test_the_simulated_cccd_card_access_offers_pace_ecdh_gm_aes128_on_brainpool_p256() -> None:
    infos = parse_security_infos(cccd_card.card_access_content())
    assert infos == [PACEInfo(GM_AES_128, 2, 13)]
    chosen = choose_pace(infos)
    assert chosen == PACEInfo(GM_AES_128, 2, 13)
    algorithm = chosen.algorithm
    assert algorithm.name == "id-PACE-ECDH-GM-AES-CBC-CMAC-128"
    assert (algorithm.mapping, algorithm.agreement, algorithm.cipher) == ("GM", "ECDH", "AES")
    assert (algorithm.key_length, algorithm.kdf_cipher) == (128, "AES128")
    assert domain_parameters(chosen.parameter_id).curve is curves.BRAINPOOLP256r1
    assert chosen.raw == cccd_card.card_access_content()[2:]


def test_icao_9303_11_appendix_g1_card_access() -> None:
    (info,) = parse_security_infos(CARD_ACCESS_G1)
    assert info == PACEInfo(GM_AES_128, 2, 13)
    assert choose_pace([info]) is info


# --- real-world samples ---------------------------------------------------------------------


def test_german_card_access_with_gm_and_cam_chooses_generic_mapping() -> None:
    infos = parse_security_infos(CARD_ACCESS_DE)
    assert infos == [PACEInfo(GM_AES_128, 2, 13), PACEInfo(CAM_AES_128, 2, 13)]
    assert infos[1].algorithm.mapping == "CAM"
    assert choose_pace(infos) == infos[0]
    assert choose_pace(list(reversed(infos))) == infos[0]


def test_card_access_on_brainpool_p384_with_aes256() -> None:
    infos = parse_security_infos(CARD_ACCESS_P384)
    assert infos == [PACEInfo(GM_AES_256, 2, 16), PACEInfo(CAM_AES_256, 2, 16)]
    chosen = choose_pace(infos)
    assert chosen == infos[0]
    assert chosen.algorithm.kdf_cipher == "AES256"
    assert domain_parameters(16).curve is curves.BRAINPOOLP384r1


def test_chip_authentication_public_key_info_with_a_parameter_id() -> None:
    (info,) = parse_security_infos(SECURITY_INFOS_CAPK)
    assert isinstance(info, ChipAuthenticationPublicKeyInfo)
    assert info.protocol_oid == ID_PK_ECDH
    assert info.algorithm == "0.4.0.127.0.7.1.2"  # BSI id-ecPublicKey
    assert info.algorithm_parameters == bytes.fromhex("02010D")
    assert info.public_key.hex().upper().startswith("041872709494399E")
    assert len(info.public_key) == 65
    assert info.key_id == 13
    assert info.subject_public_key_info[:2] == bytes.fromhex("3052")


def test_an_unknown_security_info_is_kept_raw() -> None:
    (info,) = parse_security_infos(SECURITY_INFOS_UNKNOWN)
    assert isinstance(info, UnknownSecurityInfo)
    assert info.protocol_oid == "1.3.27.1.1.13"
    assert info.required_data[:2] == bytes.fromhex("042C")
    assert info.optional_data is None
    assert info.raw == SECURITY_INFOS_UNKNOWN[2:]
    assert choose_pace([info]) is None


def test_dg14_of_an_austrian_passport() -> None:
    infos = parse_security_infos(DG14_AT)
    kinds = [type(info) for info in infos]
    assert kinds == [
        TerminalAuthenticationInfo,
        ChipAuthenticationInfo,
        PACEInfo,
        ChipAuthenticationPublicKeyInfo,
    ]
    ta, ca, pace, capk = infos
    assert (ta.protocol_oid, ta.version, ta.ef_cvca) == (ID_TA, 1, None)
    assert (ca.protocol_oid, ca.version, ca.key_id) == ("0.4.0.127.0.7.2.2.3.2.2", 1, None)
    assert pace == PACEInfo(GM_AES_128, 2, 13)
    assert capk.algorithm == "1.2.840.10045.2.1"  # id-ecPublicKey with explicit parameters
    assert capk.algorithm_parameters[:2] == bytes.fromhex("3081")
    assert capk.public_key.hex().startswith("041983917269ac87")
    assert capk.key_id is None


def test_dg14_of_a_malaysian_passport_has_no_pace() -> None:
    infos = parse_security_infos(DG14_MY)
    assert [type(i) for i in infos] == [
        ChipAuthenticationPublicKeyInfo,
        ChipAuthenticationInfo,
        TerminalAuthenticationInfo,
    ]
    assert choose_pace(infos) is None


def test_active_authentication_and_domain_parameter_infos() -> None:
    der = cccd_card
    aa = der.der_sequence(
        der.der_oid(ID_AA), der.der_integer(1), der.der_oid("1.2.840.10045.4.3.2")
    )
    domain = der.der_sequence(
        der.der_oid(ID_PACE_ECDH_GM),
        der.der_sequence(der.der_oid("0.4.0.127.0.7.1.2"), der.der_integer(13)),
        der.der_integer(7),
    )
    ta = der.der_sequence(
        der.der_oid(ID_TA), der.der_integer(2), der.der_sequence(der.der_tlv(0x04, b"\x01\x1c"))
    )
    infos = parse_security_infos(der.der_set_of(aa, domain, ta))
    by_type = {type(info): info for info in infos}
    assert by_type[ActiveAuthenticationInfo] == ActiveAuthenticationInfo(
        ID_AA, 1, "1.2.840.10045.4.3.2"
    )
    parameters = by_type[PACEDomainParameterInfo]
    assert parameters.protocol_oid == ID_PACE_ECDH_GM
    assert parameters.domain_parameter_algorithm == "0.4.0.127.0.7.1.2"
    assert parameters.parameter_id == 7
    assert by_type[TerminalAuthenticationInfo].ef_cvca == bytes.fromhex("3004" + "0402011C")


def test_trailing_padding_after_the_set_is_tolerated() -> None:
    assert parse_security_infos(CARD_ACCESS_G1 + bytes(6)) == parse_security_infos(CARD_ACCESS_G1)
    assert parse_security_infos(CARD_ACCESS_G1 + b"\xff" * 3) == [PACEInfo(GM_AES_128, 2, 13)]


# --- choosing -------------------------------------------------------------------------------


def test_choose_pace_prefers_aes_and_longer_keys_and_skips_what_it_cannot_run() -> None:
    gm_3des = PACEInfo(GM_3DES, 2, 13)
    gm_128 = PACEInfo(GM_AES_128, 2, 12)
    gm_256 = PACEInfo(GM_AES_256, 2, 13)
    assert choose_pace([gm_3des, gm_128]) == gm_128
    assert choose_pace([gm_128, gm_256, gm_3des]) == gm_256
    assert choose_pace([gm_3des]) == gm_3des
    unsupported = [
        PACEInfo(IM_AES_128, 2, 13),  # integrated mapping
        PACEInfo(CAM_AES_128, 2, 13),  # chip authentication mapping
        PACEInfo(DH_GM_AES_128, 2, 0),  # DH over a MODP group
        PACEInfo(GM_AES_128, 2, None),  # proprietary domain parameters
        PACEInfo(GM_AES_128, 2, 5),  # a reserved parameter id
    ]
    assert not any(pace_supported(info) for info in unsupported)
    assert choose_pace(unsupported) is None
    assert choose_pace([]) is None


def test_pace_oid_table() -> None:
    assert len(PACE_ALGORITHMS) == 19  # DH/ECDH × GM/IM × 4 ciphers + ECDH-CAM × 3 AES
    assert PACE_ALGORITHMS[GM_3DES].name == "id-PACE-ECDH-GM-3DES-CBC-CBC"
    assert PACE_ALGORITHMS[GM_3DES].kdf_cipher == "3DES"
    assert PACE_ALGORITHMS["0.4.0.127.0.7.2.2.4.1.3"].name == "id-PACE-DH-GM-AES-CBC-CMAC-192"
    assert PACE_ALGORITHMS["0.4.0.127.0.7.2.2.4.3.4"].name == "id-PACE-DH-IM-AES-CBC-CMAC-256"
    assert PACE_ALGORITHMS[CAM_AES_256].name == "id-PACE-ECDH-CAM-AES-CBC-CMAC-256"
    assert "0.4.0.127.0.7.2.2.4.6.1" not in PACE_ALGORITHMS


def test_standardized_domain_parameters() -> None:
    assert domain_parameters(12).curve is curves.NIST256p
    assert domain_parameters(13).curve is curves.BRAINPOOLP256r1
    assert domain_parameters(16).curve is curves.BRAINPOOLP384r1
    assert domain_parameters(17).curve is curves.BRAINPOOLP512r1
    assert domain_parameters(18).bits == 521
    assert domain_parameters(2).kind == "GFP"
    for reserved in (3, 7, 19, 31, None):
        with pytest.raises(UnsupportedProtocol):
            domain_parameters(reserved)


# --- malformed input ------------------------------------------------------------------------


def _set(*items: bytes) -> bytes:
    return cccd_card.der_tlv(0x31, b"".join(items))


def _seq(*items: bytes) -> bytes:
    return cccd_card.der_sequence(*items)


_OID, _INT, _TLV = cccd_card.der_oid, cccd_card.der_integer, cccd_card.der_tlv
_PACE_SEQ = _seq(_OID(GM_AES_128), _INT(2), _INT(13))

MALFORMED = {
    "empty file": (b"", ParseError),
    "truncated OID (gmrtd's invalid data)": (bytes.fromhex("0608"), TLVError),
    "DG14 without a SET inside": (bytes.fromhex("6E03060101"), ParseError),
    "DG14 with bytes after its SET": (_TLV(0x6E, _set(_PACE_SEQ) + b"\x00"), ParseError),
    "a SEQUENCE where the SET belongs": (_seq(_PACE_SEQ), ParseError),
    "a SET holding an INTEGER": (_set(_INT(1)), ParseError),
    "an empty SecurityInfo": (_set(_seq()), ParseError),
    "a SecurityInfo not starting with an OID": (_set(_seq(_INT(1), _INT(2))), ParseError),
    "PACEInfo without a version": (_set(_seq(_OID(GM_AES_128))), ParseError),
    "PACEInfo with four elements": (_set(_seq(_OID(GM_AES_128), *[_INT(2)] * 3)), ParseError),
    "version not an INTEGER": (_set(_seq(_OID(GM_AES_128), _TLV(0x04, b"\x02"))), ParseError),
    "negative version": (_set(_seq(_OID(GM_AES_128), _INT(-1))), ParseError),
    "empty INTEGER": (_set(_seq(_OID(GM_AES_128), _TLV(0x02, b""))), ParseError),
    "OID with a leading 80": (_set(_seq(_TLV(0x06, bytes.fromhex("2A8001")), _INT(1))), ParseError),
    "OID ending mid-arc": (_set(_seq(_TLV(0x06, bytes.fromhex("2A81")), _INT(1))), ParseError),
    "empty OID": (_set(_seq(_TLV(0x06, b""), _INT(1))), ParseError),
    "junk after the SET": (CARD_ACCESS_G1 + b"\x01", ParseError),
    "SET longer than the data": (b"\x31\x15" + CARD_ACCESS_G1[2:], TLVError),
    "unknown info with 3 fields": (_set(_seq(_OID("1.2"), *[_INT(1)] * 3)), ParseError),
    "unknown info without requiredData": (_set(_seq(_OID("1.2"))), ParseError),
    "CA public key without a BIT STRING": (
        _set(_seq(_OID(ID_PK_ECDH), _seq(_seq(_OID("1.2.840.10045.2.1")), _INT(1)))),
        ParseError,
    ),
    "CA public key with unused bits": (
        _set(_seq(_OID(ID_PK_ECDH), _seq(_seq(_OID("1.2")), _TLV(0x03, b"\x04\xf0")))),
        ParseError,
    ),
    "AA info without the signature OID": (_set(_seq(_OID(ID_AA), _INT(1))), ParseError),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_security_infos(case: str) -> None:
    data, error = MALFORMED[case]
    with pytest.raises(error):
        parse_security_infos(data)


def test_oid_round_trip_and_the_first_two_arcs() -> None:
    assert encode_oid(GM_AES_128).hex().upper() == "04007F00070202040202"
    assert decode_oid(bytes.fromhex("04007F00070202040202")) == GM_AES_128
    assert decode_oid(bytes.fromhex("8837")) == "2.999"
    assert decode_oid(bytes.fromhex("2B1B01010D")) == "1.3.27.1.1.13"


@given(st.lists(st.integers(0, 2**70), min_size=1, max_size=12), st.integers(0, 2))
def test_oid_encoding_round_trips(arcs: list[int], first: int) -> None:
    second = arcs[0] if first == 2 else arcs[0] % 40
    dotted = ".".join(str(a) for a in [first, second, *arcs[1:]])
    assert decode_oid(encode_oid(dotted)) == dotted


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_our_errors(data: bytes) -> None:
    with contextlib.suppress(ParseError, TLVError):
        parse_security_infos(data)


_KNOWN_OIDS = [GM_AES_128, CAM_AES_128, ID_PK_ECDH, ID_TA, ID_AA, ID_PACE_ECDH_GM, "1.2"]
_leaves = st.one_of(
    st.builds(_OID, st.sampled_from(_KNOWN_OIDS)),
    st.builds(_INT, st.integers(-(2**40), 2**40)),
    st.builds(_TLV, st.sampled_from([0x02, 0x03, 0x04, 0x05, 0x06]), st.binary(max_size=8)),
)
_der = st.recursive(
    _leaves,
    lambda inner: st.builds(lambda items: _seq(*items), st.lists(inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_der, max_size=4))
def test_well_formed_der_of_any_shape_raises_only_our_errors(items: list[bytes]) -> None:
    with contextlib.suppress(ParseError, TLVError):
        choose_pace(parse_security_infos(_set(*items)))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_mutated_real_samples_raise_only_our_errors(sample: bytes, data: st.DataObject) -> None:
    mutated = bytearray(sample)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        mutated[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(mutated)))
    for candidate in (bytes(mutated), bytes(mutated[:cut])):
        try:
            infos = parse_security_infos(candidate)
        except (ParseError, TLVError):
            continue
        choose_pace(infos)  # whatever parsed, choosing must not fail either
