"""Basic Access Control, reader (kiosk/emrtd/bac.py) and chip (devices/simulated/chip_bac.py):
ICAO 9303-11 Appendix D.2 and D.3 replayed on both sides, then D.4 on the session they open."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

import pytest

from devices.simulated.cccd_card import CommandAPDU as SimCommandAPDU
from devices.simulated.chip_bac import BACChip
from kiosk.emrtd.apdu import CommandAPDU, Transmit
from kiosk.emrtd.bac import (
    BACProtocol,
    BACResult,
    document_keys,
    key_seed,
    seal,
    session_keys,
    session_ssc,
    unseal,
)
from kiosk.emrtd.errors import AccessDenied, CardStatusError, EmrtdError, MRZError
from kiosk.emrtd.mrz import mrz_key
from kiosk.emrtd.secure_messaging import SecureMessaging, parse_command

H = bytes.fromhex

# ICAO 9303-11 Appendix D.2: the MRZ information and the document basic access keys
MRZ_KEY = "L898902C<369080619406236"
K_SEED = H("239AB9CB282DAF66231DC5A4DF6BFBAE")
K_ENC = H("AB94FDECF2674FDFB9B391F85D7F76F2")
K_MAC = H("7962D9ECE03D1ACD4C76089DCE131543")

# Appendix D.3: authentication and establishment of session keys
RND_ICC = H("4608F91988702212")
RND_IFD = H("781723860C06C226")
K_IFD = H("0B795240CB7049B01C19B33E32804F0B")
S = RND_IFD + RND_ICC + K_IFD
E_IFD = H("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
M_IFD = H("5F1448EEA8AD90A7")
EXTERNAL_AUTHENTICATE = H("0082000028") + E_IFD + M_IFD + H("28")
E_ICC = H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F")
M_ICC = H("2F2D235D074D7449")
RESP_DATA = E_ICC + M_ICC
R = H("4608F91988702212781723860C06C2260B4F80323EB3191CB04970CB4052790B")
K_ICC = H("0B4F80323EB3191CB04970CB4052790B")
KS_SEED = H("0036D272F5C350ACAC50C3F572D23600")
KS_ENC = H("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = H("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC = 0x887022120C06C226

# Appendix D.4, first exchange on the new session: SELECT EF.COM
D4_SELECT = H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")
D4_SELECT_ANSWER = H("990290008E08FA855A5D4C50A8ED9000")


def feed(*values: bytes) -> Callable[[int], bytes]:
    """An rng that hands out the given values in order, checking the sizes asked for."""
    queue = list(values)

    def rng(size: int) -> bytes:
        value = queue.pop(0)
        assert len(value) == size
        return value

    return rng


class ScriptedCard:
    """A card that expects exact command bytes and answers from a script."""

    def __init__(self, script: Iterable[tuple[bytes, bytes]]) -> None:
        self.script = list(script)
        self.sent: list[bytes] = []

    def __call__(self, apdu: bytes) -> bytes:
        expected, answer = self.script[len(self.sent)]
        self.sent.append(apdu)
        assert apdu.hex().upper() == expected.hex().upper()
        return answer


def chip_transport(chip: BACChip, sessions: list[SecureMessaging]) -> Transmit:
    """The chip behind raw APDUs, as the simulator will plug it in."""

    def transmit(apdu: bytes) -> bytes:
        data, sw, sm = chip.handle(SimCommandAPDU.parse(apdu))
        if sm is not None:
            sessions.append(sm)
        return data + sw.to_bytes(2, "big")

    return transmit


# --- Appendix D.2 -------------------------------------------------------------------------


def test_document_keys_icao_9303_11_appendix_d2() -> None:
    assert mrz_key("L898902C", "690806", "940623") == MRZ_KEY
    assert key_seed(MRZ_KEY) == K_SEED
    assert document_keys(MRZ_KEY) == (K_ENC, K_MAC)


@pytest.mark.parametrize("bad", ["", "L898902C<3690806", "l898902c<369080619406236", "x" * 24])
def test_key_seed_wants_an_mrz_key(bad: str) -> None:
    with pytest.raises(MRZError):
        key_seed(bad)


# --- Appendix D.3, step by step -----------------------------------------------------------


def test_cryptograms_icao_9303_11_appendix_d3() -> None:
    assert seal(K_ENC, K_MAC, S) == E_IFD + M_IFD
    assert unseal(K_ENC, K_MAC, E_IFD + M_IFD) == S
    assert unseal(K_ENC, K_MAC, RESP_DATA) == R
    assert seal(K_ENC, K_MAC, R) == RESP_DATA
    assert bytes(a ^ b for a, b in zip(K_IFD, K_ICC, strict=True)) == KS_SEED
    assert session_keys(K_IFD, K_ICC) == (KS_ENC, KS_MAC)
    assert session_ssc(RND_ICC, RND_IFD) == SSC


def test_reader_icao_9303_11_appendix_d3_against_a_scripted_card() -> None:
    card = ScriptedCard(
        [
            (H("0084000008"), RND_ICC + H("9000")),
            (EXTERNAL_AUTHENTICATE, RESP_DATA + H("9000")),
            (D4_SELECT, D4_SELECT_ANSWER),
        ]
    )
    result = BACProtocol(card, MRZ_KEY, rng=feed(RND_IFD, K_IFD)).run()
    assert isinstance(result, BACResult)
    assert (result.sm.ks_enc, result.sm.ks_mac, result.sm.ssc) == (KS_ENC, KS_MAC, SSC)
    assert result.sm.cipher == "3DES"
    # Appendix D.4 continues on this very session
    assert result.sm.wrap(card)(H("00A4020C02011E")) == H("9000")
    assert len(card.sent) == 3


@pytest.mark.parametrize("apdu_class", ["kiosk", "simulator"])
def test_chip_icao_9303_11_appendix_d3_against_a_scripted_reader(apdu_class: str) -> None:
    def command(raw: bytes) -> CommandAPDU | SimCommandAPDU:
        return parse_command(raw) if apdu_class == "kiosk" else SimCommandAPDU.parse(raw)

    chip = BACChip(MRZ_KEY, rng=feed(RND_ICC, K_ICC))
    assert chip.handle(command(H("0084000008"))) == (RND_ICC, 0x9000, None)
    data, sw, sm = chip.handle(command(EXTERNAL_AUTHENTICATE))
    assert (data, sw) == (RESP_DATA, 0x9000)
    assert sm is not None
    assert (sm.ks_enc, sm.ks_mac, sm.ssc, sm.cipher) == (KS_ENC, KS_MAC, SSC, "3DES")
    # Appendix D.4 on the card side of this session
    assert sm.unprotect_command(D4_SELECT) == CommandAPDU(0x00, 0xA4, 0x02, 0x0C, H("011E"))
    assert sm.protect_response(b"", 0x9000) == D4_SELECT_ANSWER


# --- reader against chip --------------------------------------------------------------------


def test_reader_against_chip_with_random_values() -> None:
    key = mrz_key("203001234", "030515", "280515")
    chip = BACChip(key)
    sessions: list[SecureMessaging] = []
    result = BACProtocol(chip_transport(chip, sessions), key).run()
    (card_sm,) = sessions
    assert (result.sm.ks_enc, result.sm.ks_mac, result.sm.ssc) == (
        card_sm.ks_enc,
        card_sm.ks_mac,
        card_sm.ssc,
    )
    for _ in range(3):
        received = card_sm.unprotect_command(result.sm.protect(CommandAPDU(0, 0xB0, 0, 0, le=4)))
        assert received.le == 4
        assert result.sm.unprotect(card_sm.protect_response(b"\x60\x14\x5f\x01", 0x9000)) == H(
            "60145F019000"
        )


def test_two_runs_open_different_sessions() -> None:
    key = mrz_key("203001234", "030515", "280515")
    chip = BACChip(key)
    first = BACProtocol(chip_transport(chip, []), key).run().sm
    second = BACProtocol(chip_transport(chip, []), key).run().sm
    assert first.ks_enc != second.ks_enc and first.ssc != second.ssc


def test_wrong_mrz_is_refused_by_the_chip() -> None:
    chip = BACChip(mrz_key("203001234", "030515", "280515"))
    sessions: list[SecureMessaging] = []
    wrong = mrz_key("203001234", "030515", "280516")
    with pytest.raises(AccessDenied) as caught:
        BACProtocol(chip_transport(chip, sessions), wrong).run()
    assert caught.value.sw == 0x6300
    assert sessions == []


@pytest.mark.parametrize("sw", ["6300", "6982", "63C2"])
def test_refusal_status_words_mean_access_denied(sw: str) -> None:
    card = ScriptedCard([(H("0084000008"), RND_ICC + H("9000")), (EXTERNAL_AUTHENTICATE, H(sw))])
    with pytest.raises(AccessDenied):
        BACProtocol(card, MRZ_KEY, rng=feed(RND_IFD, K_IFD)).run()


def test_a_card_answer_that_does_not_verify_is_refused() -> None:
    tampered = bytearray(RESP_DATA)
    tampered[-1] ^= 0x01  # M.ICC
    card = ScriptedCard(
        [
            (H("0084000008"), RND_ICC + H("9000")),
            (EXTERNAL_AUTHENTICATE, bytes(tampered) + H("9000")),
        ]
    )
    with pytest.raises(AccessDenied):
        BACProtocol(card, MRZ_KEY, rng=feed(RND_IFD, K_IFD)).run()


def test_a_card_answer_for_other_nonces_is_refused() -> None:
    # a well-formed answer under the right keys, but echoing another RND.IFD (a replay)
    other = seal(K_ENC, K_MAC, RND_ICC + secrets.token_bytes(8) + K_ICC)
    card = ScriptedCard(
        [(H("0084000008"), RND_ICC + H("9000")), (EXTERNAL_AUTHENTICATE, other + H("9000"))]
    )
    with pytest.raises(AccessDenied, match="nonces"):
        BACProtocol(card, MRZ_KEY, rng=feed(RND_IFD, K_IFD)).run()


def test_card_without_bac_gives_a_status_error_not_access_denied() -> None:
    card = ScriptedCard([(H("0084000008"), H("6D00"))])
    with pytest.raises(CardStatusError) as caught:
        BACProtocol(card, MRZ_KEY).run()
    assert not isinstance(caught.value, AccessDenied)
    assert caught.value.sw == 0x6D00


@pytest.mark.parametrize(
    "script",
    [
        [(H("0084000008"), H("01029000"))],  # short challenge
        [
            (H("0084000008"), RND_ICC + H("9000")),
            (EXTERNAL_AUTHENTICATE, RESP_DATA[:-1] + H("9000")),
        ],
    ],
)
def test_odd_lengths_are_emrtd_errors(script: list[tuple[bytes, bytes]]) -> None:
    with pytest.raises(EmrtdError):
        BACProtocol(ScriptedCard(script), MRZ_KEY, rng=feed(RND_IFD, K_IFD)).run()


# --- the chip's rules ------------------------------------------------------------------------


def test_chip_external_authenticate_needs_a_fresh_challenge() -> None:
    chip = BACChip(MRZ_KEY, rng=feed(RND_ICC, K_ICC))
    assert chip.handle(parse_command(EXTERNAL_AUTHENTICATE))[1] == 0x6985
    chip.handle(parse_command(H("0084000008")))
    assert chip.handle(parse_command(EXTERNAL_AUTHENTICATE))[1] == 0x9000
    assert chip.handle(parse_command(EXTERNAL_AUTHENTICATE))[1] == 0x6985  # no replay


def test_chip_challenge_is_spent_by_a_failed_attempt() -> None:
    chip = BACChip(MRZ_KEY, rng=feed(RND_ICC))
    chip.handle(parse_command(H("0084000008")))
    wrong = bytearray(EXTERNAL_AUTHENTICATE)
    wrong[10] ^= 0x01
    assert chip.handle(parse_command(bytes(wrong)))[1] == 0x6300
    assert chip.handle(parse_command(EXTERNAL_AUTHENTICATE))[1] == 0x6985


@pytest.mark.parametrize(
    ("apdu", "sw"),
    [
        ("0084000004", 0x6700),
        ("0084010008", 0x6A86),
        ("00840000", 0x6700),
        ("00B0000004", 0x6D00),
    ],
)
def test_chip_refuses_malformed_commands(apdu: str, sw: int) -> None:
    assert BACChip(MRZ_KEY).handle(parse_command(H(apdu)))[1:] == (sw, None)


def test_chip_external_authenticate_with_a_wrong_length() -> None:
    chip = BACChip(MRZ_KEY)
    chip.handle(parse_command(H("0084000008")))
    short = CommandAPDU(0, 0x82, 0, 0, E_IFD, le=0x28)
    assert chip.handle(short)[1] == 0x6700
