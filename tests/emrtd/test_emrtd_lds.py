"""LDS files: EF.COM, DG1, DG2 (19794-5 face), DG13 (Vietnam), DG14, DG15, and Active Auth.

The simulator's builder (devices/simulated/lds_builder.py) writes the files; the parsers must
read back exactly what it wrote, and real-world-shaped samples where public ones exist.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date

import cv2
import ecdsa
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from support.emrtd_samples import DE_SOD, EF_COM_9303_10

from devices.simulated.cccd_card import CardProfile
from devices.simulated.lds_builder import (
    DEMO_PORTRAIT,
    FeaturePointSpec,
    LDSProfile,
    build_card,
    demo_profile,
    encode_com,
    encode_dg2,
    encode_dg13,
    encode_dg14_active_auth,
    encode_dg15,
    encode_facial_record,
    mrz_name,
    tamper,
    td1_mrz,
)
from devices.simulated.test_pki import TestPKI
from kiosk.emrtd import tlv
from kiosk.emrtd.active_auth import (
    ActiveAuthProtocol,
    internal_authenticate,
    sign_challenge,
    verify_response,
)
from kiosk.emrtd.errors import CardStatusError, EmrtdError, ParseError, UnsupportedProtocol
from kiosk.emrtd.lds import (
    FILES,
    EcdsaKey,
    decode_face_image,
    dg1_mrz,
    file_for_dg,
    load_public_key,
    mrz_lines,
    parse_com,
    parse_date,
    parse_dg1,
    parse_dg2,
    parse_dg13,
    parse_dg14,
    parse_dg15,
)
from kiosk.emrtd.sod import parse_sod


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI.generate()


@pytest.fixture(scope="module")
def photo() -> bytes:
    return DEMO_PORTRAIT.read_bytes()


def full_profile(**changes: object) -> LDSProfile:
    profile = replace(
        demo_profile(),
        id_number="079303001234",
        full_name="Lê Thị Hồng Nhung",
        date_of_birth=date(2003, 2, 28),
        sex="F",
        ethnicity="Tày",
        religion="Phật giáo",
        spouse_name="Phạm Quốc Việt",
        identifying_marks="Sẹo chấm C: 1cm dưới sau cánh mũi trái",
    )
    return replace(profile, **changes)


# --- the file table -----------------------------------------------------------------------


def test_file_table_has_the_ids_and_tags_of_9303_10():
    table = {f.name: (f.fid, f.tag) for f in FILES}
    assert table["EF.COM"] == (0x011E, 0x60)
    assert table["DG1"] == (0x0101, 0x61)
    assert table["DG2"] == (0x0102, 0x75)
    assert table["DG13"] == (0x010D, 0x6D)
    assert table["DG14"] == (0x010E, 0x6E)
    assert table["DG15"] == (0x010F, 0x6F)
    assert table["EF.SOD"] == (0x011D, 0x77)
    assert table["EF.CardAccess"] == (0x011C, None)
    assert file_for_dg(13).sfi == 0x0D
    with pytest.raises(ParseError):
        file_for_dg(17)


# --- EF.COM -------------------------------------------------------------------------------


def test_ef_com_example_of_9303_10():
    com = parse_com(EF_COM_9303_10)
    assert (com.lds_version, com.unicode_version) == ("0106", "040000")
    assert com.lds_version_text == "1.6"
    assert com.tags == (0x61, 0x75)
    assert com.data_groups == [1, 2]


def test_ef_com_round_trip():
    com = parse_com(encode_com([0x61, 0x75, 0x6D, 0x6E, 0x6F]))
    assert com.lds_version == "0107" and com.data_groups == [1, 2, 13, 14, 15]


@pytest.mark.parametrize(
    "data",
    [
        bytes.fromhex("55021234"),  # not tag 60
        bytes.fromhex("60155F010530313036305F36063034303030305C026175"),  # 5F01 of 5 bytes
        bytes.fromhex("60135F0104303130365F360534303030305C026175"),  # 5F36 of 5 bytes
        bytes.fromhex("600E5F0104303130365F3606303430303030"),  # no tag list
        b"",
    ],
)
def test_ef_com_malformed(data):
    with pytest.raises(EmrtdError):
        parse_com(data)


# --- DG1 ----------------------------------------------------------------------------------


def test_dg1_round_trip_cccd_td1(pki):
    card = build_card(demo_profile(), pki)
    mrz = dg1_mrz(card.data_groups[1])
    assert mrz == card.mrz
    assert mrz_lines(mrz) == [
        "IDVNM0900123450001090012345<<1",
        "9005156M3005154VNM<<<<<<<<<<<6",
        "NGUYEN<<VAN<AN<<<<<<<<<<<<<<<<",
    ]
    info = parse_dg1(card.data_groups[1])
    assert info.valid and info.format == "TD1"
    assert (info.document_number, info.date_of_birth, info.date_of_expiry) == (
        "090012345",
        "900515",
        "300515",
    )
    assert info.optional_data.startswith("001090012345")


def test_mrz_name_drops_diacritics_and_d_bar():
    assert mrz_name("Đặng Thị Ánh Tuyết") == "DANG<<THI<ANH<TUYET" + "<" * 11
    assert len(mrz_name("Nguyễn " * 10)) == 30


def test_dg1_rejects_a_non_mrz():
    with pytest.raises(ParseError):
        parse_dg1(tlv.encode(0x61, tlv.encode(0x5F1F, b"IDVNM123")))
    with pytest.raises(ParseError):
        dg1_mrz(tlv.encode(0x61, tlv.encode(0x5F1F, "É".encode() * 45)))
    with pytest.raises(ParseError):
        mrz_lines("X" * 89)


# --- DG2 ----------------------------------------------------------------------------------


def test_dg2_round_trip_with_the_demo_portrait(photo):
    points = (FeaturePointSpec(1, 0x31, 190, 280), FeaturePointSpec(1, 0x32, 290, 280))
    dg2 = parse_dg2(encode_dg2(photo, gender=2, feature_points=points, quality=77))
    face = dg2.face
    assert dg2.image == photo and dg2.mime_type == "image/jpeg"
    assert (face.width, face.height, face.gender, face.quality) == (480, 640, 2, 77)
    assert [(p.type, p.code, p.x, p.y) for p in face.feature_points] == [
        (1, 0x31, 190, 280),
        (1, 0x32, 290, 280),
    ]
    assert face.header[0x81] == b"\x02" and face.header[0x88] == b"\x00\x08"
    array = decode_face_image(dg2.image)
    assert array.shape == (640, 480, 3) and array.dtype == np.uint8


def test_dg2_jpeg2000_face_is_typed_and_decoded():
    picture = np.full((64, 48, 3), (40, 90, 200), np.uint8)
    ok, jp2 = cv2.imencode(".jp2", picture)
    assert ok
    dg2 = parse_dg2(encode_dg2(jp2.tobytes()))
    assert dg2.mime_type == "image/jp2" and dg2.face.image_data_type == 1
    decoded = decode_face_image(dg2.image)
    assert decoded.shape == (64, 48, 3)
    assert np.abs(decoded.astype(int) - picture).max() < 12


def test_dg2_two_faces_in_one_record(photo):
    record = encode_facial_record(photo)
    face_block = record[14:]
    two = b"FAC\x00010\x00" + (14 + 2 * len(face_block)).to_bytes(4, "big") + b"\x00\x02"
    two += face_block * 2
    dg2 = tlv.encode(
        0x75,
        tlv.encode(
            0x7F61,
            tlv.encode(0x02, b"\x01") + tlv.encode(0x7F60, tlv.encode(0x5F2E, two)),
        ),
    )
    parsed = parse_dg2(dg2)
    assert len(parsed.faces) == 2 and parsed.faces[1].image == photo


def test_dg2_data_block_that_is_not_19794_5_falls_back_to_the_image(photo):
    block = b"\xa1\x03\x80\x01\x00" + photo  # e.g. an ISO/IEC 39794-5 record
    dg2 = tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x7F60, tlv.encode(0x5F2E, block))))
    face = parse_dg2(dg2).face
    assert face.record_format == "unknown" and face.image == photo


@pytest.mark.parametrize(
    "mangle",
    [
        lambda dg2: dg2.replace(b"\x02\x01\x01", b"\x02\x01\x02", 1),  # count says 2
        lambda dg2: dg2.replace(b"\x5f\x2e", b"\x5f\x2f", 1),  # no data block
    ],
)
def test_dg2_structure_errors(photo, mangle):
    with pytest.raises(EmrtdError):
        parse_dg2(mangle(encode_dg2(photo)))


def test_dg2_facial_record_whose_length_leaves_no_image(photo):
    record = bytearray(encode_facial_record(photo))
    record[14:18] = (20 + 12).to_bytes(4, "big")  # the face block: no room for the image
    dg2 = tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x7F60, tlv.encode(0x5F2E, record))))
    with pytest.raises(ParseError):
        parse_dg2(dg2)


def test_decode_face_image_refuses_garbage_and_huge_pictures(photo):
    with pytest.raises(ParseError):
        decode_face_image(b"\xff\xd8\xff\xe0 not really a jpeg")
    sof = photo.index(b"\xff\xc0")
    huge = bytearray(photo)
    for side in (5000, 60000):  # more pixels than a face needs; a decompression bomb
        huge[sof + 5 : sof + 9] = side.to_bytes(2, "big") * 2  # height, width in SOF0
        with pytest.raises(ParseError, match="refused"):
            decode_face_image(bytes(huge))


# --- DG13 ---------------------------------------------------------------------------------


def test_dg13_round_trip_every_field(pki):
    profile = full_profile()
    dg13 = parse_dg13(build_card(profile, pki).data_groups[13])
    assert dg13.id_number == "079303001234"
    assert dg13.full_name == "Lê Thị Hồng Nhung"
    assert dg13.date_of_birth == date(2003, 2, 28)
    assert dg13.sex == "Nữ"
    assert dg13.nationality == "Việt Nam"
    assert (dg13.ethnicity, dg13.religion) == ("Tày", "Phật giáo")
    assert dg13.hometown == profile.hometown and dg13.residence == profile.residence
    assert dg13.identifying_marks == profile.identifying_marks
    assert (dg13.date_of_issue, dg13.date_of_expiry) == (date(2021, 4, 10), date(2030, 5, 15))
    assert (dg13.father_name, dg13.mother_name) == ("Nguyễn Văn Bình", "Trần Thị Cúc")
    assert dg13.spouse_name == "Phạm Quốc Việt"
    assert dg13.unknown == {} and dg13.version == 1
    assert dg13.text(3) == "28/02/2003"


def test_dg13_with_the_simulators_card_profile(pki):
    profile = CardProfile(
        id_number="001090012345",
        full_name="Nguyễn Văn An",
        date_of_birth=date(1990, 5, 15),
        sex="Nam",
        place_of_origin="Thái Bình",
        place_of_residence="Hà Nội",
        date_of_issue=date(2021, 4, 10),
        date_of_expiry=date(2030, 5, 15),
    )
    card = build_card(profile, pki)
    dg13 = parse_dg13(card.data_groups[13])
    assert (dg13.hometown, dg13.residence, dg13.sex) == ("Thái Bình", "Hà Nội", "Nam")
    assert parse_dg1(card.data_groups[1]).sex == "M"


def test_dg13_keeps_later_fields_raw_and_normalizes_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ngọc Ánh")
    fields = {1: ["001190000001"], 2: [decomposed], 15: ["Hộ chiếu B1234567"], 16: ["123456789"]}
    dg13 = parse_dg13(encode_dg13(fields))
    assert dg13.full_name == "Nguyễn Thị Ngọc Ánh"
    assert unicodedata.is_normalized("NFC", dg13.full_name)
    assert dg13.unknown == {15: ["Hộ chiếu B1234567"], 16: ["123456789"]}
    assert dg13.date_of_birth is None and dg13.father_name is None


def test_dg13_no_expiry_text_gives_no_date():
    dg13 = parse_dg13(encode_dg13({1: ["001190000001"], 12: ["Không thời hạn"]}))
    assert dg13.date_of_expiry is None and dg13.text(12) == "Không thời hạn"


def test_dg13_flat_layout_and_other_string_types():
    def field(number: int, value: bytes) -> bytes:
        return tlv.encode(0x30, tlv.encode(0x02, bytes([number])) + value)

    flat = tlv.encode(
        0x6D,
        field(1, tlv.encode(0x13, b"001190000001"))  # PrintableString
        + field(2, tlv.encode(0x0C, b"\xff\xfe bad utf-8"))  # kept as bytes
        + field(13, tlv.encode(0x0C, b"Cha") + tlv.encode(0x0C, "Mẹ".encode()))
        + field(4, b""),  # a field without a value
    )
    dg13 = parse_dg13(flat)
    assert dg13.id_number == "001190000001"
    assert dg13.full_name is None and dg13.fields[2] == [b"\xff\xfe bad utf-8"]
    assert (dg13.father_name, dg13.mother_name) == ("Cha", "Mẹ")
    assert dg13.sex is None and dg13.fields[4] == []


@pytest.mark.parametrize(
    "data",
    [
        tlv.encode(0x6D, b""),  # no field
        tlv.encode(0x6E, tlv.encode(0x30, b"")),  # not DG13
        tlv.encode(0x6D, tlv.encode(0x30, bytes.fromhex("020101060628D316010008"))),  # no SET
        tlv.encode(0x6D, b"\x30\x05\x02\x01"),  # truncated
    ],
)
def test_dg13_malformed(data):
    with pytest.raises(EmrtdError):
        parse_dg13(data)


def test_dg13_nested_too_deep_is_a_parse_error():
    inner = tlv.encode(0x30, tlv.encode(0x02, b"\x01") + tlv.encode(0x0C, b"x"))
    for _ in range(12):
        inner = tlv.encode(0x31, inner)
    with pytest.raises(ParseError):
        parse_dg13(tlv.encode(0x6D, inner))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15/05/1990", date(1990, 5, 15)),
        ("1/2/2003", date(2003, 2, 1)),
        ("15-05-1990", date(1990, 5, 15)),
        ("15051990", date(1990, 5, 15)),
        ("31/02/1990", None),
        ("00/00/1950", None),
        ("Không thời hạn", None),
        (None, None),
    ],
)
def test_card_dates(text, expected):
    assert parse_date(text) == expected


# --- builder details ------------------------------------------------------------------------


def test_builder_tamper_changes_one_byte_and_keeps_the_file_parseable(pki):
    card = build_card(demo_profile(), pki)
    for number, data in card.data_groups.items():
        changed = tamper(data)
        assert len(changed) == len(data)
        assert sum(a != b for a, b in zip(changed, data, strict=True)) == 1, number
    assert parse_dg13(tamper(card.data_groups[13])).mother_name == "Trần Thị CúC"


def test_builder_expired_card_and_files_by_fid(pki):
    card = build_card(demo_profile(), pki, expired=True, today=date(2026, 3, 1))
    assert parse_dg13(card.data_groups[13]).date_of_expiry == date(2026, 2, 28)
    assert parse_dg1(card.data_groups[1]).date_of_expiry == "260228"
    assert set(card.by_fid) == {0x011E, 0x011D, 0x0101, 0x0102, 0x010D, 0x010E, 0x010F}
    assert parse_com(card.com).data_groups == [1, 2, 13, 14, 15]
    assert sorted(parse_sod(card.sod).data_group_hashes) == [1, 2, 13, 14, 15]


def test_td1_mrz_without_expiry_uses_fillers():
    mrz = td1_mrz(full_profile(date_of_expiry=None))
    assert mrz[38:45] == "<<<<<<0"


# --- DG14, DG15 -----------------------------------------------------------------------------


def test_dg14_active_authentication_info():
    dg14 = parse_dg14(encode_dg14_active_auth())
    assert dg14.active_authentication_algorithm == "0.4.0.127.0.7.1.1.4.1.3"
    assert dg14.infos is not None and len(dg14.infos) == 1


def test_dg14_malformed():
    with pytest.raises(EmrtdError):
        parse_dg14(tlv.encode(0x6E, tlv.encode(0x30, b"")))


def test_dg15_rsa_and_ec_keys_round_trip():
    rsa_key = rsa.generate_private_key(65537, 1024).public_key()
    dg15 = parse_dg15(encode_dg15(rsa_key))
    assert dg15.algorithm == "RSA" and dg15.public_key.public_numbers() == rsa_key.public_numbers()
    ec_key = ec.generate_private_key(ec.BrainpoolP256R1()).public_key()
    dg15 = parse_dg15(encode_dg15(ec_key))
    assert (dg15.algorithm, dg15.curve) == ("EC", "brainpoolP256r1")
    assert dg15.public_key.public_numbers() == ec_key.public_numbers()


def test_dg15_key_with_explicit_brainpool_parameters_from_a_real_document_signer():
    # the German DS certificate in EF.SOD encodes brainpoolP384r1 with explicit parameters
    certificate = parse_sod(DE_SOD).certificates[0]
    spki = certificate.public_key.dump()
    assert b"\x06\x07\x2a\x86\x48\xce\x3d\x01\x01" in spki  # prime-field: explicit curve
    dg15 = parse_dg15(tlv.encode(0x6F, spki))
    assert dg15.curve == "brainpoolP384r1"


def test_dg15_on_a_curve_cryptography_lacks_uses_ecdsa():
    signing = ecdsa.SigningKey.generate(curve=ecdsa.curves.BRAINPOOLP224r1)
    key = load_public_key(signing.get_verifying_key().to_der())
    assert isinstance(key, EcdsaKey) and key.curve_name == "brainpoolP224r1"


def test_dg15_malformed():
    with pytest.raises(ParseError):
        parse_dg15(tlv.encode(0x6F, tlv.encode(0x30, b"\x02\x01\x01")))
    with pytest.raises(EmrtdError):
        parse_dg15(tlv.encode(0x6F, b""))


# --- Active Authentication with the DG15 key ------------------------------------------------


NONCE = bytes.fromhex("0123456789ABCDEF")


@pytest.mark.parametrize("hash_name", ["sha1", "sha256"])
def test_active_auth_rsa_iso9796_2(hash_name):
    key = rsa.generate_private_key(65537, 1024)
    signature = sign_challenge(key, NONCE, hash_name=hash_name)
    result = verify_response(key.public_key(), NONCE, signature)
    assert result.verified, result.reason
    assert result.algorithm == f"RSA ISO/IEC 9796-2 {hash_name.upper().replace('SHA', 'SHA-')}"
    recovered = pow(int.from_bytes(signature, "big"), 65537, key.public_key().public_numbers().n)
    block = recovered.to_bytes(128, "big")
    assert block[0] == 0x6A and block[-1:] in (b"\xbc", b"\xcc")
    assert not verify_response(key.public_key(), bytes(8), signature).verified


@pytest.mark.parametrize("curve", [ec.BrainpoolP256R1(), ec.SECP256R1()])
def test_active_auth_ecdsa_plain_signature(curve):
    key = ec.generate_private_key(curve)
    signature = sign_challenge(key, NONCE)
    assert len(signature) == 64
    assert verify_response(key.public_key(), NONCE, signature).verified
    dg15 = parse_dg15(encode_dg15(key.public_key()))
    assert verify_response(
        dg15, NONCE, signature, signature_algorithm="0.4.0.127.0.7.1.1.4.1.3"
    ).verified


def test_active_auth_ecdsa_on_an_ecdsa_package_curve():
    signing = ecdsa.SigningKey.generate(curve=ecdsa.curves.BRAINPOOLP224r1)
    key = load_public_key(signing.get_verifying_key().to_der())
    import hashlib

    signature = signing.sign(NONCE, hashfunc=hashlib.sha256)  # plain r‖s
    assert verify_response(key, NONCE, signature).verified
    assert not verify_response(key, NONCE[::-1], signature).verified


def test_active_auth_wrong_signatures_are_reported_not_raised():
    rsa_key = rsa.generate_private_key(65537, 1024)
    good = sign_challenge(rsa_key, NONCE)
    flipped = good[:-1] + bytes([good[-1] ^ 1])
    assert not verify_response(rsa_key.public_key(), NONCE, flipped).verified
    assert not verify_response(rsa_key.public_key(), NONCE, b"").verified
    assert not verify_response(rsa_key.public_key(), NONCE, b"\xff" * 129).verified
    ec_key = ec.generate_private_key(ec.BrainpoolP256R1())
    signature = sign_challenge(ec_key, NONCE)
    assert not verify_response(ec_key.public_key(), NONCE, signature[::-1]).verified
    other = ec.generate_private_key(ec.BrainpoolP256R1()).public_key()
    result = verify_response(other, NONCE, signature)
    assert not result.verified and "does not verify" in result.reason


def test_active_auth_unknown_dg14_algorithm():
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(UnsupportedProtocol):
        verify_response(key.public_key(), NONCE, b"\x01" * 64, signature_algorithm="1.2.3")


def test_active_auth_protocol_over_a_scripted_chip(pki):
    sent: list[bytes] = []

    def chip(apdu: bytes) -> bytes:
        sent.append(apdu)
        return sign_challenge(pki.aa_key, apdu[5:13]) + b"\x90\x00"

    dg15 = parse_dg15(encode_dg15(pki.aa_key.public_key()))
    result = ActiveAuthProtocol(chip, dg15, rng=lambda n: NONCE[:n]).run()
    assert result.verified and result.nonce == NONCE
    assert sent == [bytes.fromhex("0088000008") + NONCE + b"\x00"]
    assert internal_authenticate(NONCE).encode() == sent[0]


def test_active_auth_card_error_is_raised(pki):
    with pytest.raises(CardStatusError):
        ActiveAuthProtocol(lambda apdu: b"\x69\x82", pki.aa_key.public_key()).run()
