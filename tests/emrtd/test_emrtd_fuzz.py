"""Fuzzing the chip-data parsers: whatever a card sends, they raise only ``EmrtdError``s.

Arbitrary bytes, random TLV trees in the right outer tag, and valid files (built by the
simulator, or public samples) with bytes flipped, inserted, deleted or cut off. A parser that
lets any other exception escape (IndexError, UnicodeDecodeError, asn1crypto's ValueError, …)
fails the test. ``verify`` must not raise at all, whatever EF.SOD it is given. At most 300
examples per test, no deadline (no timed assertions), so the file stays fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.emrtd_samples import DE_SOD, EF_COM_9303_10

from devices.simulated.lds_builder import DEMO_PORTRAIT, build_card, demo_profile, encode_dg2
from devices.simulated.test_pki import TestPKI
from kiosk.emrtd import tlv
from kiosk.emrtd.errors import EmrtdError
from kiosk.emrtd.lds import (
    decode_face_image,
    parse_com,
    parse_dg1,
    parse_dg2,
    parse_dg13,
    parse_dg14,
    parse_dg15,
)
from kiosk.emrtd.passive_auth import PassiveAuthResult, verify
from kiosk.emrtd.sod import parse_sod

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(FUZZ, max_examples=60)

_PKI = TestPKI.generate()
_CARD = build_card(demo_profile(), _PKI)
_SMALL_DG2 = encode_dg2(b"\xff\xd8\xff\xe0" + bytes(range(256)) + b"\xff\xd9", width=8, height=8)
TRUST = _PKI.trust_store()

SAMPLES: dict[str, tuple[Callable[[bytes], Any], list[bytes]]] = {
    "EF.COM": (parse_com, [_CARD.com, EF_COM_9303_10]),
    "DG1": (parse_dg1, [_CARD.data_groups[1]]),
    "DG2": (parse_dg2, [_SMALL_DG2]),
    "DG13": (parse_dg13, [_CARD.data_groups[13]]),
    "DG14": (parse_dg14, [_CARD.data_groups[14]]),
    "DG15": (parse_dg15, [_CARD.data_groups[15]]),
    "EF.SOD": (parse_sod, [_CARD.sod, DE_SOD]),
}
OUTER_TAGS = {"EF.COM": 0x60, "DG1": 0x61, "DG2": 0x75, "DG13": 0x6D, "DG14": 0x6E,
              "DG15": 0x6F, "EF.SOD": 0x77}  # fmt: skip


def only_emrtd_errors(parser: Callable[[bytes], Any], data: bytes) -> None:
    with contextlib.suppress(EmrtdError):
        parser(data)


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a few random edits: flips, overwrites, inserts, deletes, a cut."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "set", "insert", "delete", "cut"]))
        if edit == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "set":
            data[at] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF]))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


def tlv_trees(max_leaves: int = 25) -> st.SearchStrategy[bytes]:
    """Random well-formed BER-TLV: the universal ASN.1 tags DG13 and the SOD use, nested."""
    leaf = st.builds(
        tlv.encode,
        st.sampled_from([0x02, 0x04, 0x06, 0x0C, 0x13, 0x16, 0x1E, 0x5F1F, 0x80]),
        st.binary(max_size=12),
    )
    return st.recursive(
        leaf,
        lambda children: st.builds(
            lambda tag, items: tlv.encode(tag, b"".join(items)),
            st.sampled_from([0x30, 0x31, 0xA0, 0x7F61, 0x7F60, 0xA1]),
            st.lists(children, max_size=4),
        ),
        max_leaves=max_leaves,
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
@FUZZ
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes(name, data):
    only_emrtd_errors(SAMPLES[name][0], data)


@pytest.mark.parametrize("name", sorted(SAMPLES))
@FUZZ
@given(data=st.data())
def test_mutated_valid_files(name, data):
    parser, originals = SAMPLES[name]
    original = data.draw(st.sampled_from(originals))
    parser(original)  # the unmutated file parses
    only_emrtd_errors(parser, data.draw(mutated(original)))


@pytest.mark.parametrize("name", sorted(SAMPLES))
@FUZZ
@given(tree=st.lists(tlv_trees(), max_size=3))
def test_random_tlv_trees_in_the_right_wrapper(name, tree):
    parser = SAMPLES[name][0]
    only_emrtd_errors(parser, tlv.encode(OUTER_TAGS[name], b"".join(tree)))


@FUZZ
@given(data=st.binary(max_size=200))
def test_tlv_parsing(data):
    try:
        for item in tlv.parse_all(data):
            if item.constructed:
                item.children()
    except EmrtdError:
        pass


@FUZZ
@given(value=st.binary(max_size=70000))
def test_tlv_round_trip(value):
    tag = 0x5F1F
    item, end = tlv.parse_one(tlv.encode(tag, value))
    assert (item.tag, item.value, end) == (tag, value, len(tlv.encode(tag, value)))


@FEW
@given(data=st.data())
def test_passive_auth_never_raises_on_a_mutated_sod(data):
    sod = data.draw(mutated(_CARD.sod))
    result = verify(sod, _CARD.data_groups, TRUST, at=date(2025, 1, 1))
    assert isinstance(result, PassiveAuthResult)


@FEW
@given(data=st.data())
def test_face_decoding_raises_only_parse_errors(data):
    image = data.draw(mutated(DEMO_PORTRAIT.read_bytes()))
    only_emrtd_errors(decode_face_image, image)
