"""Build the LDS files of a simulated CCCD: EF.COM, DG1, DG2, DG13, DG14, DG15 and EF.SOD.

The encoders write exactly the structures ``kiosk.emrtd.lds`` and ``kiosk.emrtd.sod`` read (the
tests check ``parse(build(x)) == x``):

    DG1    a CCCD TD1 MRZ: ``IDVNM`` + the last 9 digits of the ID + check digit, the 12-digit
           ID in the optional data followed by ``<<`` and the ID's check digit (as on issued
           cards), dates YYMMDD, ``VNM``, the name without diacritics (Đ → D)
    DG2    one ISO/IEC 19794-5 facial record around the JPEG photo
    DG13   SEQUENCE { version 1, UTF-8 OID, SET OF fields } (see datagroups/dg13.py)
    DG14   ActiveAuthenticationInfo (ecdsa-plain-SHA256), present when the AA key is EC
    DG15   the Active Authentication public key (SubjectPublicKeyInfo)
    EF.SOD CMS SignedData over an LDSSecurityObject of SHA-256 hashes, signed by a Document
           Signer (ECDSA, RSA PKCS#1 v1.5 or RSA-PSS) with contentType, messageDigest and
           signingTime signed attributes, the DS certificate included

``build_card(profile, pki)`` returns every file; its options make the bad cards the tests need:
``tamper_dg`` changes one byte of a data group after signing, ``untrusted`` signs with the
untrusted test pair, ``expired`` puts the card's expiry in the past. ``profile`` is any object
with the ``LDSProfile`` fields (``CardProfile`` of the simulator works: ``place_of_origin`` and
``place_of_residence`` are read as hometown and residence, sex may be "Nam"/"Nữ").
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from devices.simulated.test_pki import PrivateKey, TestPKI
from kiosk.emrtd.sod import LDSSecurityObject
from kiosk.emrtd.tlv import encode
from kiosk.paths import SAMPLES_DIR

DEMO_PORTRAIT = SAMPLES_DIR / "portrait-demo.jpg"
LDS_VERSION = "0107"
UNICODE_VERSION = "040000"
OID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
OID_ACTIVE_AUTHENTICATION = "2.23.136.1.1.5"
OID_ECDSA_PLAIN_SHA256 = "0.4.0.127.0.7.1.1.4.1.3"
OID_TEXT_UTF8 = "1.0.10646.1.0.8"
NO_EXPIRY = "Không thời hạn"
FIXED_SIGNING_TIME = datetime(2024, 6, 1, 8, 0, 0, tzinfo=UTC)

TAGS = {1: 0x61, 2: 0x75, 13: 0x6D, 14: 0x6E, 15: 0x6F}
FIDS = {1: 0x0101, 2: 0x0102, 13: 0x010D, 14: 0x010E, 15: 0x010F}
FID_COM, FID_SOD = 0x011E, 0x011D


@dataclass(frozen=True)
class LDSProfile:
    """The citizen on a simulated card, as DG1/DG2/DG13 store them."""

    id_number: str
    full_name: str
    date_of_birth: date
    sex: str  # "M" or "F" ("Nam" / "Nữ" also read)
    nationality: str = "Việt Nam"
    ethnicity: str = "Kinh"
    religion: str = "Không"
    hometown: str = ""
    residence: str = ""
    identifying_marks: str = ""
    date_of_issue: date | None = None
    date_of_expiry: date | None = None  # None: "Không thời hạn" (no expiry)
    father_name: str = ""
    mother_name: str = ""
    spouse_name: str = ""
    photo: bytes | None = None  # JPEG; None: assets/samples/portrait-demo.jpg


def demo_profile() -> LDSProfile:
    """A made-up citizen for the demo card (no real person)."""
    return LDSProfile(
        id_number="001090012345",
        full_name="Nguyễn Văn An",
        date_of_birth=date(1990, 5, 15),
        sex="M",
        hometown="Xã Đông Sơn, Huyện Đông Hưng, Tỉnh Thái Bình",
        residence="Số 12 đường Trần Phú, Phường Hà Đông, Thành phố Hà Nội",
        identifying_marks="Nốt ruồi C: 1cm trên trước đầu lông mày phải",
        date_of_issue=date(2021, 4, 10),
        date_of_expiry=date(2030, 5, 15),
        father_name="Nguyễn Văn Bình",
        mother_name="Trần Thị Cúc",
    )


def _attr(profile: Any, name: str, *aliases: str, default: Any = None) -> Any:
    for candidate in (name, *aliases):
        value = getattr(profile, candidate, None)
        if value not in (None, ""):
            return value
    return default


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def sex_letter(sex: str) -> str:
    """The MRZ's sex letter, M or F, from "M", "F", "Nam", "Nữ" (anything else: "<")."""
    sex = _nfc(sex).strip()
    return {"M": "M", "F": "F", "Nam": "M", "Nữ": "F"}.get(sex, "<")


def sex_text(sex: str) -> str:
    """Nam or Nữ, as DG13 and the card print the sex."""
    return {"M": "Nam", "F": "Nữ"}.get(sex_letter(sex), _nfc(sex))


def card_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


# --- DG1: the MRZ ---------------------------------------------------------------------------


def check_digit(field: str) -> str:
    """ICAO 9303-3 §4.9: weights 7, 3, 1; digits, A=10 … Z=35, '<' = 0."""
    total = 0
    for index, char in enumerate(field):
        if char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - 55
        else:
            value = 0
        total += value * (7, 3, 1)[index % 3]
    return str(total % 10)


def mrz_name(full_name: str, width: int = 30) -> str:
    """SURNAME<<GIVEN<NAMES without diacritics, padded or cut to ``width``."""
    text = _nfc(full_name).replace("Đ", "D").replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    words = ["".join(c if "A" <= c <= "Z" else "<" for c in w) for w in text.upper().split()]
    name = words[0] + "<<" + "<".join(words[1:]) if words else ""
    return (name + "<" * width)[:width]


def _yymmdd(value: date | None) -> str:
    return value.strftime("%y%m%d") if value else "<<<<<<"


def td1_mrz(profile: Any) -> str:
    """The 90-character TD1 MRZ of a CCCD (3 lines of 30, no line breaks)."""
    number = profile.id_number
    document = number[-9:]
    line1 = f"IDVNM{document}{check_digit(document)}{number}<<{check_digit(number)}"
    dob = _yymmdd(profile.date_of_birth)
    doe = _yymmdd(_attr(profile, "date_of_expiry"))
    body = f"{dob}{check_digit(dob)}{sex_letter(profile.sex)}{doe}{check_digit(doe)}VNM"
    body += "<" * 11
    composite = check_digit(line1[5:30] + body[0:7] + body[8:15] + body[18:29])
    line2 = body + composite
    line3 = mrz_name(profile.full_name)
    mrz = line1 + line2 + line3
    if len(line1) != 30 or len(line2) != 30:
        raise ValueError(f"MRZ lines of {len(line1)} and {len(line2)} characters")
    return mrz


def encode_dg1(mrz: str) -> bytes:
    return encode(0x61, encode(0x5F1F, mrz.encode("ascii")))


# --- EF.COM ---------------------------------------------------------------------------------


def encode_com(
    tags: list[int], lds_version: str = LDS_VERSION, unicode_version: str = UNICODE_VERSION
) -> bytes:
    return encode(
        0x60,
        encode(0x5F01, lds_version.encode("ascii"))
        + encode(0x5F36, unicode_version.encode("ascii"))
        + encode(0x5C, bytes(tags)),
    )


# --- DG2: the face --------------------------------------------------------------------------


@dataclass(frozen=True)
class FeaturePointSpec:
    type: int
    code: int
    x: int
    y: int


def image_size(image: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(image)) as picture:
        return picture.size


def encode_facial_record(
    image: bytes,
    *,
    width: int | None = None,
    height: int | None = None,
    image_data_type: int | None = None,
    gender: int = 0,
    feature_points: tuple[FeaturePointSpec, ...] = (),
    face_image_type: int = 1,  # full frontal
    colour_space: int = 1,  # 24-bit RGB
    source_type: int = 2,  # static photograph
    quality: int = 0,
) -> bytes:
    """An ISO/IEC 19794-5:2005 facial record holding one image."""
    if width is None or height is None:
        width, height = image_size(image)
    if image_data_type is None:
        image_data_type = 0 if image.startswith(b"\xff\xd8") else 1
    points = b"".join(
        bytes([p.type, p.code]) + p.x.to_bytes(2, "big") + p.y.to_bytes(2, "big") + b"\0\0"
        for p in feature_points
    )
    information = (
        len(feature_points).to_bytes(2, "big")
        + bytes([gender, 0, 0])  # gender, eye colour, hair colour: unspecified
        + (0).to_bytes(3, "big")  # feature mask
        + (0).to_bytes(2, "big")  # expression: unspecified
        + bytes(6)  # pose angles and their uncertainties
    )
    image_info = (
        bytes([face_image_type, image_data_type])
        + width.to_bytes(2, "big")
        + height.to_bytes(2, "big")
        + bytes([colour_space, source_type])
        + (0).to_bytes(2, "big")  # device type
        + quality.to_bytes(2, "big")
    )
    block = information + points + image_info + image
    face = (len(block) + 4).to_bytes(4, "big") + block
    header = b"FAC\x00" + b"010\x00" + (14 + len(face)).to_bytes(4, "big") + (1).to_bytes(2, "big")
    return header + face


def encode_dg2(image: bytes, **record: Any) -> bytes:
    """DG2 with one face; ``record`` goes to ``encode_facial_record``."""
    header = encode(
        0xA1,
        encode(0x80, b"\x01\x01")  # ICAO header version 1.1
        + encode(0x81, b"\x02")  # biometric type: facial features
        + encode(0x87, b"\x01\x01")  # format owner: ISO/IEC JTC 1/SC 37
        + encode(0x88, b"\x00\x08"),  # format type: face image
    )
    instance = encode(0x7F60, header + encode(0x5F2E, encode_facial_record(image, **record)))
    return encode(0x75, encode(0x7F61, encode(0x02, b"\x01") + instance))


# --- DG13 -----------------------------------------------------------------------------------


def _der_int(value: int) -> bytes:
    return encode(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def _der_oid(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


def encode_dg13(fields: dict[int, list[str]], *, version: int = 1) -> bytes:
    """DG13 from numbered fields; fields 13 and 14 nest their names in a SEQUENCE."""
    entries = []
    for number in sorted(fields):
        values = [encode(0x0C, _nfc(v).encode("utf-8")) for v in fields[number]]
        body = encode(0x30, b"".join(values)) if number in (13, 14) else b"".join(values)
        entries.append(encode(0x30, _der_int(number) + body))
    content = _der_int(version) + _der_oid(OID_TEXT_UTF8) + encode(0x31, b"".join(entries))
    return encode(0x6D, encode(0x30, content))


def dg13_fields(profile: Any) -> dict[int, list[str]]:
    """The DG13 fields of a profile (empty optional ones left out, as cards do)."""
    expiry = _attr(profile, "date_of_expiry")
    fields: dict[int, list[str]] = {
        1: [profile.id_number],
        2: [profile.full_name],
        3: [card_date(profile.date_of_birth)],
        4: [sex_text(profile.sex)],
        5: [_attr(profile, "nationality", default="Việt Nam")],
        6: [_attr(profile, "ethnicity", default="Kinh")],
        7: [_attr(profile, "religion", default="Không")],
        8: [_attr(profile, "hometown", "place_of_origin", default="")],
        9: [_attr(profile, "residence", "place_of_residence", default="")],
        10: [_attr(profile, "identifying_marks", default="")],
        12: [card_date(expiry) if expiry else NO_EXPIRY],
    }
    issue = _attr(profile, "date_of_issue")
    if issue:
        fields[11] = [card_date(issue)]
    father = _attr(profile, "father_name", default="")
    mother = _attr(profile, "mother_name", default="")
    if father or mother:
        fields[13] = [father, mother]
    spouse = _attr(profile, "spouse_name", default="")
    if spouse:
        fields[14] = [spouse]
    return fields


# --- DG14, DG15 -----------------------------------------------------------------------------


def encode_dg14_active_auth(signature_algorithm: str = OID_ECDSA_PLAIN_SHA256) -> bytes:
    """DG14 with one ActiveAuthenticationInfo (version 1)."""
    info = encode(
        0x30, _der_oid(OID_ACTIVE_AUTHENTICATION) + _der_int(1) + _der_oid(signature_algorithm)
    )
    return encode(0x6E, encode(0x31, info))


def encode_dg15(public_key: Any) -> bytes:
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encode(0x6F, spki)


# --- EF.SOD ---------------------------------------------------------------------------------


_HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
           "sha512": hashes.SHA512, "sha224": hashes.SHA224}  # fmt: skip


def encode_lds_security_object(
    data_groups: dict[int, bytes],
    hash_name: str = "sha256",
    *,
    lds_version: str | None = None,
    unicode_version: str = UNICODE_VERSION,
) -> bytes:
    """LDSSecurityObject: v0, or v1 with ldsVersionInfo when ``lds_version`` is given."""
    value: dict[str, Any] = {
        "version": 1 if lds_version else 0,
        "hash_algorithm": {"algorithm": hash_name},
        "data_group_hash_values": [
            {
                "data_group_number": n,
                "data_group_hash_value": hashlib.new(hash_name, data_groups[n]).digest(),
            }
            for n in sorted(data_groups)
        ],
    }
    if lds_version:
        value["lds_version_info"] = {"lds_version": lds_version, "unicode_version": unicode_version}
    return LDSSecurityObject(value).dump()


def _signature_algorithm(key: PrivateKey, hash_name: str, rsa_pss: bool) -> dict[str, Any]:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"algorithm": f"{hash_name}_ecdsa"}
    if rsa_pss:
        return {
            "algorithm": "rsassa_pss",
            "parameters": {
                "hash_algorithm": {"algorithm": hash_name},
                "mask_gen_algorithm": {
                    "algorithm": "mgf1",
                    "parameters": {"algorithm": hash_name},
                },
                "salt_length": hashlib.new(hash_name).digest_size,
                "trailer_field": "trailer_field_bc",
            },
        }
    return {"algorithm": f"{hash_name}_rsa"}


def _sign(key: PrivateKey, data: bytes, hash_name: str, rsa_pss: bool) -> bytes:
    algorithm = _HASHES[hash_name]()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(algorithm))
    if isinstance(key, rsa.RSAPrivateKey):
        if rsa_pss:
            scheme = padding.PSS(
                mgf=padding.MGF1(_HASHES[hash_name]()), salt_length=algorithm.digest_size
            )
            return key.sign(data, scheme, algorithm)
        return key.sign(data, padding.PKCS1v15(), algorithm)
    raise TypeError(f"cannot sign with a {type(key).__name__}")


def build_sod(
    data_groups: dict[int, bytes],
    ds_cert: x509.Certificate,
    ds_key: PrivateKey,
    *,
    hash_name: str = "sha256",
    rsa_pss: bool = False,
    lds_version: str | None = None,
    signing_time: datetime = FIXED_SIGNING_TIME,
    message_digest: bytes | None = None,
    corrupt_signature: bool = False,
    include_certificate: bool = True,
) -> bytes:
    """EF.SOD over ``data_groups`` signed by ``ds_key``.

    ``message_digest`` overrides the signed messageDigest (a wrong one, for tests);
    ``corrupt_signature`` flips a bit of the signature after signing.
    """
    econtent = encode_lds_security_object(data_groups, hash_name, lds_version=lds_version)
    digest = message_digest or hashlib.new(hash_name, econtent).digest()
    attributes = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": [OID_LDS_SECURITY_OBJECT]}),
            cms.CMSAttribute(
                {"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]}
            ),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
        ]
    )
    signature = _sign(ds_key, attributes.dump(), hash_name, rsa_pss)
    if corrupt_signature:
        signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
    certificate = asn1_x509.Certificate.load(ds_cert.public_bytes(serialization.Encoding.DER))
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": certificate.issuer,
                        "serial_number": certificate.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": hash_name},
            "signed_attrs": attributes,
            "signature_algorithm": _signature_algorithm(ds_key, hash_name, rsa_pss),
            "signature": signature,
        }
    )
    signed_data: dict[str, Any] = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": hash_name}],
        "encap_content_info": {
            "content_type": OID_LDS_SECURITY_OBJECT,
            "content": core.ParsableOctetString(econtent),
        },
        "signer_infos": [signer],
    }
    if include_certificate:
        signed_data["certificates"] = [certificate]
    content = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return encode(0x77, content.dump())


# --- the card -------------------------------------------------------------------------------


def tamper(data: bytes) -> bytes:
    """One byte changed near the end, keeping the file well-formed: the last ASCII letter or
    digit is swapped for another (a byte of text in DG1/DG13, of entropy-coded data in DG2)."""
    for index in range(len(data) - 1, -1, -1):
        byte = data[index]
        if 0x30 <= byte <= 0x39:
            replacement = 0x30 + (byte - 0x30 + 1) % 10
        elif 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A:
            replacement = byte ^ 0x20  # swap the letter's case
        else:
            continue
        return data[:index] + bytes([replacement]) + data[index + 1 :]
    raise ValueError("nothing to tamper with")


@dataclass(frozen=True)
class CardFiles:
    """Every file of one simulated card, and the AA private key the chip signs with."""

    com: bytes
    data_groups: dict[int, bytes]
    sod: bytes
    aa_key: PrivateKey
    mrz: str

    @property
    def by_fid(self) -> dict[int, bytes]:
        files = {FID_COM: self.com, FID_SOD: self.sod}
        files.update({FIDS[n]: data for n, data in self.data_groups.items()})
        return files


def build_card(
    profile: Any,
    pki: TestPKI,
    *,
    tamper_dg: int | None = None,
    untrusted: bool = False,
    expired: bool = False,
    today: date | None = None,
    aa_key: PrivateKey | None = None,
    lds_version: str | None = None,
) -> CardFiles:
    """The files of a card for ``profile``, signed by the test DS (see the module docstring)."""
    if expired:
        expiry = (today or date.today()) - timedelta(days=1)
        issue = _attr(profile, "date_of_issue")
        if issue is None or issue >= expiry:
            issue = expiry - timedelta(days=3650)
        profile = _Override(profile, date_of_expiry=expiry, date_of_issue=issue)
    aa_key = aa_key or pki.aa_key
    photo = _attr(profile, "photo", "photo_jpeg") or DEMO_PORTRAIT.read_bytes()
    mrz = td1_mrz(profile)
    groups = {
        1: encode_dg1(mrz),
        2: encode_dg2(photo, gender={"M": 1, "F": 2}.get(sex_letter(profile.sex), 0)),
        13: encode_dg13(dg13_fields(profile)),
        15: encode_dg15(aa_key.public_key()),
    }
    if isinstance(aa_key, ec.EllipticCurvePrivateKey):
        groups[14] = encode_dg14_active_auth()
    ds_cert, ds_key = (
        (pki.untrusted_ds_cert, pki.untrusted_ds_key) if untrusted else (pki.ds_cert, pki.ds_key)
    )
    sod = build_sod(groups, ds_cert, ds_key, lds_version=lds_version)
    if tamper_dg is not None:
        groups[tamper_dg] = tamper(groups[tamper_dg])
    com = encode_com([TAGS[n] for n in sorted(groups)])
    return CardFiles(com, dict(sorted(groups.items())), sod, aa_key, mrz)


class _Override:
    """A profile with some attributes replaced (profiles may be frozen dataclasses)."""

    def __init__(self, base: Any, **changes: Any) -> None:
        self._base = base
        self._changes = changes

    def __getattr__(self, name: str) -> Any:
        if name in self._changes:
            return self._changes[name]
        return getattr(self._base, name)
