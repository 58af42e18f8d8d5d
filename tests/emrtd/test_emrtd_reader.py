"""Reading a whole card in-process: the reader's steps against the simulated CCCD."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from devices.base import CardRemoved
from devices.simulated.cccd_card import SimulatedCCCD
from devices.simulated.lds_builder import build_card, demo_profile
from devices.simulated.profiles import build_chip
from devices.simulated.test_pki import TestPKI
from kiosk.emrtd.errors import AccessDenied, NotAnEmrtd, ParseError, SecureMessagingError
from kiosk.emrtd.reader import AccessKey, ReadStep, read_chip


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    TestPKI.load_or_create(folder)
    return folder


@pytest.fixture(scope="module")
def trust(pki_dir: Path):  # type: ignore[no-untyped-def]
    return TestPKI.load_or_create(pki_dir).trust_store()


def key_for(chip: SimulatedCCCD) -> AccessKey:
    return AccessKey(can=chip.profile.can)


def test_demo_card_reads_and_authenticates(pki_dir: Path, trust) -> None:  # type: ignore[no-untyped-def]
    chip = build_chip("demo", pki_dir)
    steps: list[tuple[ReadStep, int, int]] = []
    result = read_chip(chip.process, key_for(chip), trust, listener=lambda *a: steps.append(a))
    assert result.protocol == "PACE"
    assert result.passive.status.value == "authentic"
    assert result.active is not None and result.active.valid
    assert result.dg13.full_name == "Nguyễn Văn An"
    assert result.dg13.id_number == "001090012345"
    assert result.dg1.document_number == "090012345"
    assert result.face_mime == "image/jpeg"
    assert Image.open(io.BytesIO(result.face_image)).size[0] > 100
    assert [s[0] for s in steps][:3] == [ReadStep.CARD_ACCESS, ReadStep.ACCESS, ReadStep.SELECT]
    assert [s[1] for s in steps] == list(range(1, len(steps) + 1))
    assert result.block_size == 223
    assert result.stats.apdus == chip.apdu_count


def test_files_larger_than_32_kib_are_read_with_odd_read_binary(pki_dir: Path, trust) -> None:  # type: ignore[no-untyped-def]
    noise = Image.effect_noise((420, 560), 90).convert("RGB")
    buf = io.BytesIO()
    noise.save(buf, format="JPEG", quality=95)
    photo = buf.getvalue()
    assert len(photo) > 40_000
    files = build_card(replace(demo_profile(), photo=photo), TestPKI.load_or_create(pki_dir))
    chip = build_chip("demo", pki_dir)
    for fid, content in files.by_fid.items():
        chip.emrtd.files[fid].content = content
    seen: list[int] = []
    process = chip.process

    def spy(apdu: bytes) -> bytes:
        seen.append(apdu[1])
        return process(apdu)

    result = read_chip(spy, key_for(chip), trust)
    assert result.face_image == photo
    assert result.passive.status.value == "authentic"
    assert len(result.data_groups[2]) > 32 * 1024
    assert 0xB1 in seen  # secured commands keep their INS: the odd READ BINARY was used


def test_bac_only_card_needs_the_mrz(pki_dir: Path, trust) -> None:  # type: ignore[no-untyped-def]
    chip = build_chip("bac-only", pki_dir)
    result = read_chip(chip.process, AccessKey(mrz_key=chip.mrz_key), trust)
    assert result.protocol == "BAC"
    assert result.block_size == 231
    assert result.passive.status.value == "authentic"
    mrz = chip.mrz
    lines = "\n".join(mrz[i : i + 30] for i in range(0, 90, 30))
    assert AccessKey.from_mrz(lines).mrz_key == chip.mrz_key


def test_wrong_can_is_access_denied(pki_dir: Path, trust) -> None:  # type: ignore[no-untyped-def]
    chip = build_chip("demo", pki_dir)
    with pytest.raises(AccessDenied) as err:
        read_chip(chip.process, AccessKey(can="000000"), trust)
    assert "12-digit ID number" in err.value.user_message()


def test_tampered_data_group_is_named(pki_dir: Path, trust) -> None:  # type: ignore[no-untyped-def]
    chip = build_chip("tampered", pki_dir)
    result = read_chip(chip.process, key_for(chip), trust)
    assert result.passive.status.value == "tampered"
    assert result.passive.failed_groups == [13]


def test_card_pulled_mid_read(pki_dir: Path, trust) -> None:  # type: ignore[no-untyped-def]
    chip = build_chip("pulled", pki_dir)
    with pytest.raises(CardRemoved):
        read_chip(chip.process, key_for(chip), trust)


def test_a_response_with_a_bad_mac_is_an_error_not_data(pki_dir: Path, trust) -> None:  # type: ignore[no-untyped-def]
    chip = build_chip("demo", pki_dir)
    count = {"n": 0}

    def flip(apdu: bytes) -> bytes:
        answer = chip.process(apdu)
        count["n"] += 1
        if count["n"] == 12 and len(answer) > 12:  # a secured READ BINARY answer
            answer = answer[:5] + bytes([answer[5] ^ 0x01]) + answer[6:]
        return answer

    with pytest.raises(SecureMessagingError):
        read_chip(flip, key_for(chip), trust)


def test_truncated_file_is_a_parse_error(pki_dir: Path, trust) -> None:  # type: ignore[no-untyped-def]
    chip = build_chip("demo", pki_dir)
    dg1 = chip.emrtd.files[0x0101]
    dg1.content = dg1.content[:-10]  # the header still promises 10 more bytes
    with pytest.raises(ParseError) as err:
        read_chip(chip.process, key_for(chip), trust)
    assert err.value.step == "read_dg1"


def test_a_card_that_is_not_an_emrtd(pki_dir: Path, trust) -> None:  # type: ignore[no-untyped-def]
    def bank_card(apdu: bytes) -> bytes:
        return b"\x6a\x82"  # no such file, no such application

    with pytest.raises(NotAnEmrtd) as err:
        read_chip(bank_card, AccessKey(can="012345"), trust)
    assert "CCCD" in err.value.user_message()


def test_a_second_read_of_the_same_card_without_reset(pki_dir: Path, trust) -> None:  # type: ignore[no-untyped-def]
    chip = build_chip("demo", pki_dir)
    read_chip(chip.process, key_for(chip), trust)
    again = read_chip(chip.process, key_for(chip), trust)
    assert again.passive.status.value == "authentic"
